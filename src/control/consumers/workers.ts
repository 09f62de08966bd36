import cluster, { type Worker } from 'node:cluster';
import { ExplainError, type ExplainRequest } from '../../answer/explain.js';
import { noProtectionStats, type ProtectionStats } from '../../answer/protection.js';
import { addQueryTotals, noQueryTotals, type QueryTotals } from '../../answer/query-counters.js';
import type { Logger } from '../../observability/log.js';
import type { ExplainOutcome } from '../../server/status-api.js';
import type { BoundDns } from '../../server/dns-server.js';
import { sameDns } from '../../server/listening.js';
import {
  shareChange,
  shareSnapshot,
  type PrimaryMessage,
  type WorkerMessage,
} from '../messages.js';
import type { ControlNode } from '../node.js';
import type { ReplicationBatch, Replicator } from '../replication.js';
import { workerOutbox } from './worker-outbox.js';
import type { SampledDecision } from '../decisions.js';

const RESTART_DELAY_MS = 1000;
const STOP_GRACE_MS = 10_000;

/** A worker ended before it answered: the server cannot start. */
export class WorkerStartError extends Error {
  readonly code = 'STEERDNS_ERR_WORKER_START';
}

/** How long a scrape waits for a worker's fresh counters before it takes its last report. */
const REPORT_TIMEOUT_MS = 1000;

/** How long a worker has to explain a query. */
const EXPLAIN_TIMEOUT_MS = 5000;

/** The workers of a primary, fed with the node's snapshot and every change after it. */
export interface WorkersConsumer {
  /** Explains a query on a worker's state (the workers hold the zones; the primary an outline). */
  explain(request: ExplainRequest): Promise<ExplainOutcome>;
  /** Where the workers answer (all on the same addresses). */
  bound(): BoundDns;
  /** Sends rows written outside the node (by a peer node) to every worker. */
  replicate(batch: ReplicationBatch): void;
  /** The rate-limit and cookie counters of every worker, summed (workers that ended included). */
  protectionStats(): Readonly<ProtectionStats>;
  /**
   * The query counters of every worker, summed, workers that ended included (their last
   * report): the reports so far, each at most a second old.
   */
  queryTotals(): QueryTotals;
  /** Asks every worker for its counters now; resolves when all answered (at most a second). */
  refreshQueryTotals(): Promise<void>;
  /** Stops every worker (each drains its listeners, then ends). */
  stop(): Promise<void>;
}

/**
 * Forks `count` workers that share the listening sockets (cluster shares UDP handles, and
 * TCP ones with SCHED_NONE), sends each the node's snapshot when it comes online and every
 * change after (a configuration to one worker at a time: see `worker-outbox.ts`), relays replicated rows between them (keeping a copy in `replicator` for
 * workers that start later), restarts a worker that dies, and resolves once all answer.
 * The decisions the workers sample go to `onDecision`.
 */
export async function startWorkers(
  node: ControlNode,
  count: number,
  log: Logger,
  replicator: Replicator,
  onDecision: (decision: SampledDecision) => void = () => undefined,
): Promise<WorkersConsumer> {
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  const workers = new Set<Worker>();
  let stopping = false;
  let started = false;
  let bound: BoundDns = { udp: [], tcp: [] };
  // Workers that listen (said hello): the others get the snapshot when they do.
  const listening = new Set<Worker>();
  const broadcast = (message: PrimaryMessage, except?: Worker): void => {
    for (const worker of listening)
      if (worker !== except && worker.isConnected()) worker.send(message);
  };
  // Changes go through the outbox: configurations reach one worker at a time.
  const outbox = workerOutbox<Worker>({
    send: (worker, message) => {
      if (worker.isConnected()) worker.send(message);
    },
    onLate: (worker, version) => {
      log.warn(
        { worker: worker.process.pid, version },
        `worker ${worker.process.pid} has not applied configuration ${version} yet; the next worker reloads meanwhile`,
      );
    },
  });
  const ready = new Set<Worker>();
  const explaining = new Map<number, (message: WorkerMessage & { type: 'explained' }) => void>();
  let nextExplain = 0;
  const explain = (request: ExplainRequest): Promise<ExplainOutcome> => {
    const id = ++nextExplain;
    const candidates = [...ready].filter((worker) => worker.isConnected());
    const worker = candidates[id % Math.max(1, candidates.length)];
    if (!worker) return Promise.reject(new Error('no worker is ready to explain'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        explaining.delete(id);
        reject(
          new Error(`worker ${worker.process.pid} did not explain within ${EXPLAIN_TIMEOUT_MS} ms`),
        );
      }, EXPLAIN_TIMEOUT_MS);
      explaining.set(id, (message) => {
        clearTimeout(timer);
        explaining.delete(id);
        if (message.explanation) resolve(message.explanation);
        else resolve(new ExplainError(message.error?.message ?? 'the worker could not explain'));
      });
      worker.send({ type: 'explain', id, request } satisfies PrimaryMessage);
    });
  };
  const protection = new Map<Worker, ProtectionStats>();
  const retired = noProtectionStats();
  const queries = new Map<Worker, QueryTotals>();
  const retiredQueries = noQueryTotals();
  const reported = new Map<Worker, (() => void)[]>();
  const askReport = (worker: Worker): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(resolve, REPORT_TIMEOUT_MS);
      const waiting = reported.get(worker) ?? [];
      reported.set(worker, waiting);
      waiting.push(() => {
        clearTimeout(timer);
        resolve();
      });
      if (waiting.length === 1) worker.send({ type: 'report' } satisfies PrimaryMessage);
    });
  const unsubscribe = node.subscribe((snapshot, change) => {
    outbox.change({ type: 'change', version: snapshot.version, change: shareChange(change) });
  });
  const fork = (): Promise<BoundDns> =>
    new Promise((resolve, reject) => {
      const worker = cluster.fork();
      workers.add(worker);
      worker.on('message', (message: WorkerMessage) => {
        if (message.type === 'hello') {
          listening.add(worker);
          outbox.add(worker);
          worker.send({ type: 'snapshot', snapshot: shareSnapshot(node.snapshot()) });
          for (const batch of replicator.snapshot())
            if (batch.rows.length > 0) worker.send({ type: 'replicate', batch });
        }
        if (message.type === 'ready') {
          ready.add(worker);
          resolve(message.dns);
        }
        if (message.type === 'explained') explaining.get(message.id)?.(message);
        if (message.type === 'protection') protection.set(worker, message.stats);
        if (message.type === 'decision') onDecision(message.decision);
        if (message.type === 'queries') {
          queries.set(worker, message.totals);
          const waiting = reported.get(worker) ?? [];
          reported.delete(worker);
          for (const done of waiting) done();
        }
        if (message.type === 'replicate') {
          replicator.receive(message.batch);
          broadcast(message, worker);
        }
        if (message.type === 'reloaded') outbox.done(worker, message.version);
        if (message.type === 'rejected') {
          outbox.done(worker, message.version);
          log.error(
            { worker: worker.process.pid, version: message.version },
            `worker ${worker.process.pid} could not apply configuration ${message.version}: ${message.reason}`,
          );
        }
      });
      worker.on('exit', (code, signal) => {
        // What an ended worker counted stays in the sums.
        const last = protection.get(worker);
        if (last) addInto(retired, last);
        protection.delete(worker);
        const lastQueries = queries.get(worker);
        if (lastQueries) addQueryTotals(retiredQueries, lastQueries);
        queries.delete(worker);
        for (const done of reported.get(worker) ?? []) done();
        reported.delete(worker);
        workers.delete(worker);
        listening.delete(worker);
        outbox.remove(worker);
        ready.delete(worker);
        reject(
          new WorkerStartError(
            `worker ${worker.process.pid} exited (${signal || String(code)}) before it was ready`,
          ),
        );
        // A worker that cannot start at all (its own error is on stderr) is not retried.
        if (stopping || !started) return;
        log.error({ worker: worker.process.pid, code, signal }, 'worker died; restarting it');
        setTimeout(() => {
          if (stopping) return;
          fork().then(
            (dns) => {
              if (!sameDns(dns, bound))
                log.error({ dns, expected: bound }, 'restarted worker listens elsewhere');
            },
            (error: unknown) => {
              log.error({ err: error }, 'worker restart failed');
            },
          );
        }, RESTART_DELAY_MS).unref();
      });
    });
  try {
    bound = await forkAll(count, node.snapshot().config.listen, fork);
  } catch (error) {
    stopping = true;
    unsubscribe();
    for (const worker of workers) worker.kill('SIGKILL');
    throw error;
  }
  started = true;
  log.info({ workers: count }, 'all workers ready');
  return {
    explain,
    bound: () => bound,
    replicate(batch) {
      broadcast({ type: 'replicate', batch });
    },
    protectionStats() {
      const sum = { ...retired };
      for (const stats of protection.values()) addInto(sum, stats);
      return sum;
    },
    async refreshQueryTotals() {
      await Promise.all([...ready].filter((w) => w.isConnected()).map((w) => askReport(w)));
    },
    queryTotals() {
      const sum = noQueryTotals();
      addQueryTotals(sum, retiredQueries);
      for (const totals of queries.values()) addQueryTotals(sum, totals);
      return sum;
    },
    async stop() {
      stopping = true;
      unsubscribe();
      await Promise.all([...workers].map(stopWorker));
    },
  };
}

/** Adds every counter of `more` into `sum`. */
function addInto(sum: ProtectionStats, more: Readonly<ProtectionStats>): void {
  for (const key of Object.keys(sum) as (keyof ProtectionStats)[]) sum[key] += more[key];
}

function stopWorker(worker: Worker): Promise<void> {
  return new Promise<void>((resolve) => {
    if (worker.isDead()) {
      resolve();
      return;
    }
    const timer = setTimeout(() => {
      worker.kill('SIGKILL');
    }, STOP_GRACE_MS);
    worker.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    worker.send({ type: 'stop' } satisfies PrimaryMessage);
  });
}

/**
 * Forks `count` workers; resolves where they listen, the same for all of them. With port 0
 * on some listen address, the first worker starts alone: it finds a port free for both
 * UDP and TCP (see listenPair), and the others then bind UDP port 0 on the same address,
 * which cluster answers with the first worker's socket, and TCP on its port.
 */
async function forkAll(
  count: number,
  listen: readonly { readonly port: number }[],
  fork: () => Promise<BoundDns>,
): Promise<BoundDns> {
  const first = listen.some((l) => l.port === 0) ? [await fork()] : [];
  const rest = await Promise.all(Array.from({ length: count - first.length }, fork));
  const all = [...first, ...rest];
  const stray = all.find((dns) => !sameDns(dns, all[0]!));
  if (stray)
    throw new WorkerStartError(
      `workers listen on different addresses: ${JSON.stringify(all[0])} and ${JSON.stringify(stray)}`,
    );
  return all[0]!;
}
