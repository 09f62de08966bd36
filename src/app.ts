import type { ServerConfig } from './config/load.js';
import { hostPort } from './lib/ip.js';
import { HealthBoard } from './health/board.js';
import { monitors } from './health/monitors/index.js';
import { healthStateView, type TargetStates } from './health/view.js';
import { ConfigError } from './lib/errors.js';
import { collectLoadGarbage } from './lib/heap.js';
import type { Logger } from './observability/log.js';
import { DnsServer } from './server/dns-server.js';
import { planHealth, type HealthPlan } from './server/health-checks.js';
import { loadServices, serviceNames, type LoadedServices } from './server/load-services.js';
import { loadZones, type LoadedZones } from './server/load-zones.js';
import { PersistenceStores } from './steering/persistence-store.js';
import { memberStatus, type MemberStatus } from './server/member-status.js';
import { StatusApiHolder } from './server/status-api.js';
import type { StateView } from './steering/types.js';
import {
  agentStateView,
  NO_AGENTS,
  startAgentListener,
  type AgentListener,
  type AgentSnapshot,
} from './server/agents.js';

/** Produces a validated configuration: from a file, or from command-line flags. */
export type ConfigSource = () => Promise<ServerConfig>;

/** Everything a configuration load produces, checked. */
export interface Loaded {
  readonly config: ServerConfig;
  readonly loaded: LoadedZones;
  readonly services: LoadedServices;
  readonly health: HealthPlan;
}

/** Loads configuration, zones, services and health checks; throws ConfigError listing every problem. */
export async function loadAll(
  source: ConfigSource,
  stores?: PersistenceStores,
  announced: AgentSnapshot = NO_AGENTS,
): Promise<Loaded> {
  const config = await source();
  const loaded = await loadZones(config.zones, serviceNames(config));
  const { services, problems } = loadServices(config, loaded.zones, stores, announced.nodes);
  const { plan, problems: healthProblems } = planHealth(config);
  problems.push(...healthProblems);
  if (problems.length > 0) throw new ConfigError(problems);
  return { config, loaded, services, health: plan };
}

/** Logs a failed load once, one line per problem. */
export function logLoadFailure(log: Logger, error: unknown, what: string): void {
  if (error instanceof ConfigError) {
    for (const problem of error.problems)
      log.error({ problem }, `${what}: ${problem.file}:${problem.line}: ${problem.reason}`);
  } else {
    log.error({ err: error }, `${what}: ${String(error)}`);
  }
}

/** Runs the health checks of this node and logs each state change once. */
export function createBoard(
  log: Logger,
  onResult?: ConstructorParameters<typeof HealthBoard>[0]['onResult'],
): HealthBoard {
  return new HealthBoard({
    now: Date.now,
    random: Math.random,
    createMonitor: (spec) => monitors.get(spec.type)!.create(spec.settings),
    onTransition: (t) => {
      log.info(
        { target: t.id, from: t.from, to: t.to, reason: t.reason },
        `health ${t.id}: ${t.from} -> ${t.to} (${t.reason})`,
      );
    },
    ...(onResult ? { onResult } : {}),
  });
}

/** One serving process: loads, listens, reloads on request, stops. */
export interface App {
  /** Re-reads everything; keeps serving the old data if anything is wrong. Resolves true on success. */
  reload(): Promise<boolean>;
  /** The state view answers are decided on now (for status and explain). */
  state(): StateView;
  /** Takes the nodes that announce themselves now (from this process's listener, or the primary). */
  setAgents(snapshot: AgentSnapshot): void;
  /** Every member with its live state, as `steerdns status` shows it. */
  status(): MemberStatus[];
  close(): Promise<void>;
}

/** Where this process gets health from: its own checks, or the primary's (a worker). */
export type HealthSource =
  { readonly kind: 'local' } | { readonly kind: 'remote'; readonly targets: TargetStates };

/** Where health and agent announcements come from; by default this process gathers both. */
export interface AppOptions {
  readonly health?: HealthSource;
  /** `local`: receive announcements here when configured; `remote`: the primary sends them. */
  readonly agents?: 'local' | 'remote';
  /** Nodes already known (a worker started after the primary heard them). */
  readonly initialAgents?: AgentSnapshot;
}

/** Loads the configuration and zones and starts answering. Rejects if either is bad. */
export async function startApp(
  source: ConfigSource,
  log: Logger,
  options: AppOptions = {},
): Promise<App> {
  const healthSource = options.health ?? { kind: 'local' };
  // Persistence outlives reloads: a returning resolver keeps its member across them.
  const stores = new PersistenceStores();
  let agents = options.initialAgents ?? NO_AGENTS;
  let current = await loadAll(source, stores, agents);
  for (const warning of current.loaded.warnings)
    log.warn(`${warning.file}:${warning.line}: ${warning.reason}`);
  const board = healthSource.kind === 'local' ? createBoard(log) : undefined;
  const targets: TargetStates = board ?? (healthSource as { targets: TargetStates }).targets;
  const compose = (l: Loaded): StateView =>
    healthStateView(
      l.health.targetOf,
      targets,
      agentStateView(l.services.byKey.values(), agents, l.services.staticState),
    );
  let view = compose(current);
  collectLoadGarbage();
  if (board) {
    board.setChecks(current.health.checks);
    await board.firstRound(current.health.startupGraceMs);
  }
  const server = new DnsServer(
    current.config,
    current.loaded.zones,
    current.services,
    log,
    () => view,
  );
  await server.start();
  const setAgents = (snapshot: AgentSnapshot): void => {
    const joinedOrLeft = snapshot.membership !== agents.membership;
    agents = snapshot;
    if (joinedOrLeft) {
      const { config, loaded } = current;
      const { services, problems } = loadServices(config, loaded.zones, stores, agents.nodes);
      if (problems.length > 0) {
        logLoadFailure(log, new ConfigError(problems), 'announced members not applied');
      } else {
        current = { ...current, services };
        server.reload(config, loaded.zones, services);
      }
    }
    view = compose(current);
  };
  let listener: AgentListener | undefined;
  const followAgentsConfig = async (): Promise<void> => {
    if (options.agents === 'remote') return;
    const wanted = current.config.agents;
    if (wanted && listener) await listener.update(wanted);
    else if (wanted) listener = await startAgentListener(wanted, log, setAgents);
    else if (listener) {
      await listener.close();
      listener = undefined;
      setAgents(NO_AGENTS);
    }
  };
  await followAgentsConfig();
  const status = (): MemberStatus[] => memberStatus(current, targets, view);
  // Workers leave the operator interface to the primary.
  const api = options.agents === 'remote' ? undefined : new StatusApiHolder(status, log);
  await api?.follow(current.config.api?.listen);
  log.info(
    {
      listen: current.config.listen.map((l) => hostPort(l.host, l.port)),
      zones: current.loaded.zones.zones.size,
      checks: current.health.checks.length,
    },
    'ready',
  );
  return {
    async reload() {
      try {
        const next = await loadAll(source, stores, agents);
        board?.setChecks(next.health.checks);
        current = next;
        view = compose(next);
        server.reload(next.config, next.loaded.zones, next.services);
        await followAgentsConfig();
        await api?.follow(next.config.api?.listen);
        const serials = [...next.loaded.zones.zones.values()].map((zone) => zone.serial);
        log.info({ zones: next.loaded.zones.zones.size, serials }, 'reloaded');
        return true;
      } catch (error) {
        logLoadFailure(log, error, 'reload rejected, still serving the previous configuration');
        return false;
      } finally {
        // The old snapshot, or the rejected load, is garbage now either way.
        collectLoadGarbage();
      }
    },
    state: () => view,
    setAgents,
    status,
    async close() {
      await api?.close();
      await server.close();
      await listener?.close();
      await board?.stop();
    },
  };
}
