import cluster, { type Worker } from 'node:cluster';
import { collectLoadGarbage } from '../lib/heap.js';
import { createBoard, loadAll, logLoadFailure, type ConfigSource, type Loaded } from '../app.js';
import { wireKey } from '../dns/name.js';
import type { TrackerSettings, TrackerState } from '../health/tracker.js';
import type { Logger } from '../observability/log.js';
import {
  agentStateView,
  NO_AGENTS,
  startAgentListener,
  type AgentListener,
  type AgentSnapshot,
} from './agents.js';
import { healthStateView } from '../health/view.js';
import { PersistenceStores } from '../steering/persistence-store.js';
import { loadServices, serviceNames } from './load-services.js';
import { memberStatus, type MemberStatus } from './member-status.js';
import { StatusApiHolder } from './status-api.js';

/** Messages between the supervisor and its workers. */
export type WorkerMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'reload' }
  | { readonly type: 'stop' }
  /** Health results from the primary, which alone runs the checks. */
  | { readonly type: 'health'; readonly batch: [string, TrackerState, TrackerSettings][] }
  /** The nodes announcing themselves, heard by the primary alone. */
  | { readonly type: 'agents'; readonly snapshot: AgentSnapshot };

/** How long results are gathered before they go to the workers; transitions go at once. */
const HEALTH_BATCH_MS = 50;

/** The primary process of a multi-worker server. */
export interface Supervisor {
  /** Validates the new configuration, then tells every worker to load it. */
  reload(): Promise<boolean>;
  /** Stops every worker (drain: listeners close, then the process ends). */
  stop(): Promise<void>;
}

const RESTART_DELAY_MS = 1000;

/** A worker ended before it answered: the server cannot start. */
export class WorkerStartError extends Error {
  readonly code = 'STEERDNS_ERR_WORKER_START';
}
const STOP_GRACE_MS = 10_000;

/**
 * What the primary keeps of a load. It validates configurations and serves the status
 * interface but never answers queries, so of the zones it keeps only what placing the
 * services needs: with a large zone, the primary would otherwise hold one more copy of
 * it than there are workers.
 */
function outlined(loaded: Loaded): Loaded {
  const zones = loaded.loaded.zones.outline(
    serviceNames(loaded.config).map((name) => wireKey(name)),
  );
  const { services } = loadServices(loaded.config, zones);
  return { ...loaded, loaded: { ...loaded.loaded, zones }, services };
}

/**
 * Forks `count` workers that share the listening sockets (UDP handles are shared by
 * cluster; TCP is accepted by the workers themselves), restarts a worker that dies, and
 * resolves once all of them are answering.
 */
export async function startSupervisor(
  count: number,
  source: ConfigSource,
  log: Logger,
): Promise<Supervisor> {
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  let stopping = false;
  const workers = new Set<Worker>();
  // Checks run once per node, here; workers receive the results.
  // Nothing keeps the full load: only its outline (see `outlined`).
  const first = outlined(await loadAll(source));
  // On the next turn: until this frame moves on, it still holds the full load.
  setImmediate(collectLoadGarbage);
  let current = first;
  const pending = new Map<string, [string, TrackerState, TrackerSettings]>();
  const lastHealth = new Map<string, string>();
  let flushTimer: NodeJS.Timeout | undefined;
  const flush = (): void => {
    clearTimeout(flushTimer);
    flushTimer = undefined;
    if (pending.size === 0) return;
    const message: WorkerMessage = { type: 'health', batch: [...pending.values()] };
    pending.clear();
    for (const worker of workers) if (worker.isConnected()) worker.send(message);
  };
  const board = createBoard(log, (id, state) => {
    const settings = board.settings(id);
    if (!settings) return;
    pending.set(id, [id, state, settings]);
    const changed = lastHealth.get(id) !== state.health;
    lastHealth.set(id, state.health);
    if (changed) flush();
    else flushTimer ??= setTimeout(flush, HEALTH_BATCH_MS);
  });
  const snapshot = (): WorkerMessage => ({
    type: 'health',
    batch: board
      .entries()
      .map((e): [string, TrackerState, TrackerSettings] => [e.id, e.state, e.spec.tracker]),
  });
  board.setChecks(first.health.checks);
  await board.firstRound(first.health.startupGraceMs);
  let agents: AgentSnapshot = NO_AGENTS;
  const sendAgents = (snapshot: AgentSnapshot): void => {
    agents = snapshot;
    const message: WorkerMessage = { type: 'agents', snapshot };
    for (const worker of workers) if (worker.isConnected()) worker.send(message);
  };
  let listener: AgentListener | undefined = first.config.agents
    ? await startAgentListener(first.config.agents, log, sendAgents)
    : undefined;
  const followAgentsConfig = async (config: typeof first.config): Promise<void> => {
    if (config.agents && listener) await listener.update(config.agents);
    else if (config.agents) listener = await startAgentListener(config.agents, log, sendAgents);
    else if (listener) {
      await listener.close();
      listener = undefined;
      sendAgents(NO_AGENTS);
    }
  };
  const fork = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const worker = cluster.fork();
      workers.add(worker);
      worker.once('online', () => {
        worker.send(snapshot());
        if (agents.nodes.length > 0) worker.send({ type: 'agents', snapshot: agents });
      });
      worker.on('message', (message: WorkerMessage) => {
        if (message.type === 'ready') resolve();
      });
      worker.on('exit', (code, signal) => {
        workers.delete(worker);
        reject(
          new WorkerStartError(
            `worker ${worker.process.pid} exited (${signal || String(code)}) before it was ready`,
          ),
        );
        // A worker that cannot start at all (its own error is on stderr) is not retried.
        if (stopping || !started) return;
        log.error({ worker: worker.process.pid, code, signal }, 'worker died; restarting it');
        setTimeout(() => {
          if (!stopping)
            fork().catch((error: unknown) => {
              log.error({ err: error }, 'worker restart failed');
            });
        }, RESTART_DELAY_MS).unref();
      });
    });
  let started = false;
  try {
    await Promise.all(Array.from({ length: count }, fork));
  } catch (error) {
    stopping = true;
    for (const worker of workers) worker.kill('SIGKILL');
    await board.stop();
    await listener?.close();
    throw error;
  }
  started = true;
  log.info({ workers: count }, 'all workers ready');
  // The primary answers the operator interface: it alone has the checks and the agents.
  const statusStores = new PersistenceStores();
  const status = (): MemberStatus[] => {
    const { config, loaded } = current;
    const { services } = loadServices(config, loaded.zones, statusStores, agents.nodes);
    const view = healthStateView(
      current.health.targetOf,
      board,
      agentStateView(services.byKey.values(), agents, services.staticState),
    );
    return memberStatus({ ...current, services }, board, view);
  };
  const api = new StatusApiHolder(status, log);
  await api.follow(first.config.api?.listen);
  return {
    async reload() {
      try {
        const next = await loadAll(source, undefined, agents);
        board.setChecks(next.health.checks);
        await followAgentsConfig(next.config);
        await api.follow(next.config.api?.listen);
        current = outlined(next);
      } catch (error) {
        logLoadFailure(log, error, 'reload rejected, still serving the previous configuration');
        return false;
      } finally {
        setImmediate(collectLoadGarbage);
      }
      for (const worker of workers) worker.send({ type: 'reload' } satisfies WorkerMessage);
      return true;
    },
    async stop() {
      stopping = true;
      clearTimeout(flushTimer);
      await board.stop();
      await listener?.close();
      await api.close();
      await Promise.all(
        [...workers].map(
          (worker) =>
            new Promise<void>((resolve) => {
              const timer = setTimeout(() => {
                worker.kill('SIGKILL');
              }, STOP_GRACE_MS);
              worker.once('exit', () => {
                clearTimeout(timer);
                resolve();
              });
              worker.send({ type: 'stop' } satisfies WorkerMessage);
            }),
        ),
      );
    },
  };
}
