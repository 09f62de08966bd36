import type { CompiledApi } from '../config/compile-api.js';
import { explainOn, statusRows } from '../control/consumers/status.js';
import type { ControlNode } from '../control/node.js';
import type { ReloadOutcome } from '../control/producers/config.js';
import { hostPort } from '../lib/ip.js';
import type { DecisionTotals } from '../observability/decision-totals.js';
import type { Logger } from '../observability/log.js';
import type { MetricsExposition } from '../observability/metrics-exposition.js';
import type { SampledDecision } from '../control/decisions.js';
import type { DnsCounters, ExplainOnLiveState, StatusSections } from '../server/status-api.js';
import { etcdOverrides, type ClusterKeys } from './override-etcd.js';
import { startFileOverrides } from './override-file.js';
import type { OverrideStore } from './override-store.js';
import type { Operator, Readiness } from './operator.js';
import type { ApiContext } from './context.js';
import { startApiServer, type ApiServer } from './server.js';
import { DecisionWindow } from './shares.js';

/** What the process gives the operator interface besides its node. */
export interface ApiInputs {
  /** Explains on the live state; default: on this process's node. */
  readonly explain?: ExplainOnLiveState | undefined;
  /** This process's DNS counters (rate limiting, cookies), for GET /status. */
  readonly counters?: DnsCounters | undefined;
  readonly metrics?: MetricsExposition | undefined;
  /** Cumulative decisions per member (every worker): for shareLastMinute. */
  readonly decisionTotals?: DecisionTotals | undefined;
  /** Re-reads the configuration as SIGHUP does (POST /api/v1/reload). */
  readonly reload?: (() => Promise<ReloadOutcome>) | undefined;
  /** Zones loaded, first health round done (GET /readyz). @default always ready */
  readonly ready?: (() => Readiness) | undefined;
  /** Forgets a persistence entry in every process of the node. @default this node's table only */
  readonly forget?: ((service: string, key: string) => boolean) | undefined;
  /** More top-level sections of GET /status (`referral`). */
  readonly sections?: StatusSections | undefined;
  /** The decisions log: the last sampled real queries, explained (GET /api/v1/decisions). */
  readonly decisions?: (() => readonly SampledDecision[]) | undefined;
  /** The etcd client of a clustered node, once it has joined: overrides are written there. */
  readonly clusterKeys?: ClusterKeys | undefined;
}

/** The operator interface of a node, following `api:` across reloads. */
export interface ApiConsumer {
  /** Where it is bound, `host:port`; undefined when not served. */
  bound(): string | undefined;
  stop(): Promise<void>;
}

/** What makes a new listener necessary: the address or the TLS files. */
const bindingOf = (api: CompiledApi | undefined): string | undefined =>
  api && JSON.stringify([api.listen.host, api.listen.port, api.tls?.cert, api.tls?.key]);

const NOT_RELOADABLE = (): Promise<ReloadOutcome> =>
  Promise.resolve({
    ok: false,
    problems: [{ file: 'api', line: 0, reason: 'this process cannot reload' }],
  });

/** The overrides store of the node: etcd when clustered, else the state file. */
async function overridesFor(
  node: ControlNode,
  log: Logger,
  inputs: ApiInputs,
): Promise<OverrideStore> {
  const config = node.snapshot().config;
  if (config.cluster !== undefined)
    return etcdOverrides(node, inputs.clusterKeys ?? (() => undefined));
  const initial = config.api!.stateFile;
  return startFileOverrides(node, () => node.snapshot().config.api?.stateFile ?? initial, log);
}

/**
 * Serves the operator interface (src/api/server.ts) on `api.listen` while it is configured,
 * rebinding when the address or TLS files change on a reload; every other `api:` setting
 * (tokens, metricsAuth, stateFile) is read from the live configuration at each request.
 * Overrides set through it are kept in `api.stateFile` (read back now), or in etcd when the
 * node is in a cluster.
 */
export async function startApiConsumer(
  node: ControlNode,
  log: Logger,
  inputs: ApiInputs = {},
): Promise<ApiConsumer> {
  const window = inputs.decisionTotals && new DecisionWindow(inputs.decisionTotals);
  let overrides: OverrideStore | undefined;
  // /api/v1 has a node behind it once `api:` is configured (at start, or by a reload): the
  // overrides store is opened then, and its state file read.
  let operator: Operator | undefined;
  const openOperator = async (): Promise<void> => {
    if (operator) return;
    overrides = await overridesFor(node, log, inputs);
    operator = {
      snapshot: () => node.snapshot(),
      ready: inputs.ready ?? (() => ({ zones: true, health: true })),
      decisions: () => window?.decisions(),
      sampled: inputs.decisions ?? (() => []),
      overrides,
      reload: inputs.reload ?? NOT_RELOADABLE,
      persistence: node.persistence,
      forget:
        inputs.forget ??
        ((service, key) => {
          const store = node.persistence.get(service);
          if (store?.get(key) === undefined) return false;
          store.delete(key);
          return true;
        }),
    };
  };
  const context: ApiContext = {
    log,
    settings: () => node.snapshot().config.api,
    status: () => {
      const snapshot = node.snapshot();
      return {
        members: statusRows(snapshot),
        dns: inputs.counters?.(),
        cluster: snapshot.cluster,
        ...inputs.sections?.(),
      };
    },
    explain: inputs.explain ?? explainOn(node),
    metrics: inputs.metrics,
    get operator() {
      return operator;
    },
  };
  let server: ApiServer | undefined;
  let serving: CompiledApi | undefined;
  const start = (api: CompiledApi): Promise<ApiServer> =>
    startApiServer(context, api.listen, api.tls);
  const follow = async (api: CompiledApi | undefined): Promise<void> => {
    if (server && bindingOf(api) === bindingOf(serving)) return;
    if (api) await openOperator();
    const old = server;
    const oldApi = serving;
    const samePort =
      old !== undefined &&
      api !== undefined &&
      api.listen.port !== 0 &&
      oldApi !== undefined &&
      api.listen.host === old.listen.host &&
      api.listen.port === old.listen.port;
    if (samePort) {
      // The address the old listener holds (new TLS files, or the port it was given for 0):
      // it must go first; if the new one cannot start, the old one comes back and the
      // reload is rejected.
      await old.close();
      server = undefined;
      try {
        server = await start(api);
        serving = api;
      } catch (error) {
        server = await start(oldApi);
        throw error;
      }
      return;
    }
    // Elsewhere, the new listener binds before the old one closes: a failed bind changes nothing.
    const started = api && (await start(api));
    server = started;
    serving = started && api;
    await old?.close();
  };
  await follow(node.snapshot().config.api);
  let following = Promise.resolve();
  const unsubscribe = node.subscribe((snapshot, change) => {
    if (change.kind !== 'config') return undefined;
    const applied = following.then(() => follow(snapshot.config.api));
    following = applied.catch(() => undefined);
    return applied;
  });
  return {
    bound: () => server && hostPort(server.listen.host, server.listen.port),
    async stop() {
      unsubscribe();
      await following;
      window?.stop();
      overrides?.stop();
      const old = server;
      server = undefined;
      await old?.close();
    },
  };
}
