/**
 * Wiring only: which producers and consumers a process runs around its control node.
 * One process alone, a primary with workers, and a worker are three sets of them.
 */
import { ControlNode, type NodeSnapshot } from './control/node.js';
import { loadAll, type ConfigSource, type Loaded } from './control/load.js';
import { configReloader, type ConfigReloader } from './control/producers/config.js';
import { startHealthProducer } from './control/producers/health.js';
import { startAgentsProducer } from './control/producers/agents.js';
import { startReferralProducer } from './control/producers/referral.js';
import { startSitesProducer } from './control/producers/sites.js';
import { startClusterProducer } from './control/producers/cluster.js';
import { startClusterOperator } from './control/producers/cluster-operator.js';
import { startClusterHealth } from './control/producers/cluster-health.js';
import { linkToPrimary, type Channel } from './control/producers/primary.js';
import { startDnsConsumer } from './control/consumers/dns.js';
import { statusRows } from './control/consumers/status.js';
import { startApiConsumer, type ApiInputs } from './api/consumer.js';
import { startWorkers, type WorkersConsumer } from './control/consumers/workers.js';
import { persistenceTable } from './control/persistence-table.js';
import { DecisionLog, type SampledDecision } from './control/decisions.js';
import { startReplicator, type ReplicationBatch, type Replicator } from './control/replication.js';
import { startPeerReplication, type NodeTables } from './control/peer-replication.js';
import { ExplainError } from './answer/explain.js';
import type { ReloadOutcome } from './control/producers/config.js';
import type { ClusterProducer } from './control/producers/cluster.js';
import { noProtectionStats, type ProtectionStats } from './answer/protection.js';
import { noQueryTotals, type QueryTotals } from './answer/query-counters.js';
import { createNodeMetrics, type NodeMetrics } from './metrics/node-metrics.js';
import { STEERDNS_VERSION } from './lib/version.js';
import { wireKey } from './dns/name.js';
import { collectLoadGarbage } from './lib/heap.js';
import type { Logger } from './observability/log.js';
import type { BoundDns } from './server/dns-server.js';
import { listeningReporter, type Listening } from './server/listening.js';
import type { MemberStatus } from './server/member-status.js';
import { serviceNames } from './server/load-services.js';
import type { ZoneSet } from './zone/zone-set.js';

export { loadAll, logLoadFailure, type ConfigSource, type Loaded } from './control/load.js';

/** A running steerdns process. */
export interface App {
  /** Re-reads everything; keeps serving the old configuration if anything is wrong. */
  reload(): Promise<boolean>;
  /** The node's snapshot now (for status and explain). */
  snapshot(): NodeSnapshot;
  /** Every member with its live state, as `steerdns status` shows it. */
  status(): MemberStatus[];
  /** Where every listener is bound. */
  listening(): Listening;
  /** The last sampled decisions (real queries, explained on the live state), newest first. */
  decisions(): SampledDecision[];
  close(): Promise<void>;
}

/**
 * What a primary keeps of a load. It validates configurations and serves the operator
 * interface but never answers queries, so of the zones it keeps only what placing the
 * services needs: with a large zone, it would otherwise hold one more copy of it than
 * there are workers.
 */
function outline(loaded: Loaded): ZoneSet {
  return loaded.loaded.zones.outline(serviceNames(loaded.config).map((name) => wireKey(name)));
}

/** The workers, and the node's tables as peer nodes share them. */
interface WorkersWithTables extends WorkersConsumer {
  /** The primary's copy: rows of the workers go to `send`, a peer's rows to every worker. */
  peerTables(send: (batch: ReplicationBatch) => void): NodeTables;
}

/**
 * The workers of a primary, with the primary's copy of the node's replicated tables: it
 * answers nothing itself, but hands a worker that starts (or restarts) the rows so far,
 * and passes rows between its workers and the peer nodes (cluster.replication).
 */
async function startWorkersWithTables(
  node: ControlNode,
  count: number,
  log: Logger,
  onDecision: (decision: SampledDecision) => void,
): Promise<WorkersWithTables> {
  let toPeers: (batch: ReplicationBatch) => void = () => undefined;
  const replicator = startReplicator([persistenceTable(node.persistence)], (batch) => {
    toPeers(batch);
  });
  const relay: Replicator = {
    receive(batch) {
      replicator.receive(batch);
      toPeers(batch);
    },
    snapshot: () => replicator.snapshot(),
    stop: () => {
      replicator.stop();
    },
  };
  const workers = await startWorkers(node, count, log, relay, onDecision);
  return {
    explain: (request) => workers.explain(request),
    bound: () => workers.bound(),
    replicate: (batch) => {
      workers.replicate(batch);
    },
    protectionStats: () => workers.protectionStats(),
    queryTotals: () => workers.queryTotals(),
    refreshQueryTotals: () => workers.refreshQueryTotals(),
    peerTables(send) {
      toPeers = send;
      return {
        snapshot: () => replicator.snapshot(),
        receive(batch) {
          replicator.receive(batch);
          workers.replicate(batch);
        },
        stop: () => undefined,
      };
    },
    async stop() {
      await workers.stop();
      replicator.stop();
    },
  };
}

/** What the metrics read of the processes that answer: this one, or its workers. */
interface Answering {
  queryTotals(): QueryTotals;
  refreshQueryTotals?(): Promise<void>;
  protectionStats(): Readonly<ProtectionStats>;
}

/** The metrics of a node (docs/metrics.md), reading `answering()` once it answers. */
function nodeMetrics(node: ControlNode, answering: () => Answering | undefined): NodeMetrics {
  return createNodeMetrics({
    snapshot: () => node.snapshot(),
    queries: () => answering()?.queryTotals() ?? noQueryTotals(),
    refresh: async () => {
      await answering()?.refreshQueryTotals?.();
    },
    protection: () => answering()?.protectionStats() ?? noProtectionStats(),
    persistence: () => [...node.persistence.all()].map(([service, store]) => [service, store.size]),
    version: STEERDNS_VERSION,
  });
}

/** The tables of a node that answers itself (`workers: 1`), shared with peer nodes. */
function ownTables(node: ControlNode, send: (batch: ReplicationBatch) => void): NodeTables {
  const replicator = startReplicator([persistenceTable(node.persistence)], send);
  return {
    snapshot: () => replicator.snapshot(),
    receive: (batch) => {
      replicator.receive(batch);
    },
    stop: () => {
      replicator.stop();
    },
  };
}

/** The parts of a process the operator interface uses that start after it does. */
interface LateParts {
  healthDone?: boolean;
  started?: boolean;
  pool?: WorkersWithTables | undefined;
  dns?: { protectionStats(): ReturnType<WorkersConsumer['protectionStats']> };
  reload?: () => Promise<ReloadOutcome>;
  cluster?: ClusterProducer | undefined;
  referral?: { stats(): Readonly<Record<string, unknown>> };
  sites?: { status(): unknown };
  readonly decisions: DecisionLog;
}

/**
 * What the operator interface reads of a process, each part once it has started; `metrics`
 * is served at /metrics when `metrics.enabled` is set at start (the answer path follows reloads).
 */
function apiInputs(
  node: ControlNode,
  workers: number,
  late: LateParts,
  metrics: NodeMetrics,
): ApiInputs {
  return {
    metrics: node.snapshot().config.metrics.enabled ? metrics : undefined,
    decisionTotals: metrics.decisionTotals,
    // A primary holds only an outline of the zones: a worker explains.
    explain:
      workers > 1
        ? (request) =>
            late.pool
              ? late.pool.explain(request)
              : new ExplainError('the workers are still loading the zones; ask again shortly')
        : undefined,
    // With workers, each counts its own and reports it every second: the primary sums them.
    counters: () => late.dns?.protectionStats(),
    // GET /status has the map protocol's accepted and dropped messages of each role it plays,
    // and a site's DSSP peers, counters and hand-off tables (docs/sites.md).
    sections: () => {
      const stats = late.referral?.stats() ?? {};
      const site = late.sites?.status();
      return {
        ...(Object.keys(stats).length > 0 ? { referral: stats } : {}),
        ...(site === undefined ? {} : { sites: site }),
      };
    },
    decisions: () => late.decisions.list(),
    reload: () =>
      late.reload
        ? late.reload()
        : Promise.resolve({
            ok: false,
            problems: [{ file: 'steerdns', line: 0, reason: 'the server is still starting' }],
          }),
    ready: () => ({
      zones: late.dns !== undefined && late.started === true,
      health: late.healthDone === true,
    }),
    forget: (service, key) => {
      const store = node.persistence.get(service);
      if (store?.get(key) === undefined) return false;
      store.delete(key);
      // A primary's own deletions travel to peer nodes only: its workers are told here.
      late.pool?.replicate({
        table: 'persistence',
        rows: [{ service, changes: [{ key, deleted: true }] }],
      });
      return true;
    },
    clusterKeys: () => {
      const prefix = node.snapshot().config.cluster?.prefix;
      return late.cluster && prefix !== undefined
        ? { client: late.cluster.client, prefix }
        : undefined;
    },
  };
}

/**
 * Starts a steerdns server: alone (`workers: 1`), or as the primary of `workers` worker
 * processes that answer while it runs the checks, receives the announcements and serves
 * the operator interface. Rejects if the configuration is bad or a listener cannot bind.
 */
export async function startApp(source: ConfigSource, log: Logger): Promise<App> {
  const loaded = await loadAll(source);
  for (const warning of loaded.loaded.warnings)
    log.warn(`${warning.file}:${warning.line}: ${warning.reason}`);
  const workers = loaded.config.workers;
  const keep = workers > 1 ? outline : (l: Loaded): ZoneSet => l.loaded.zones;
  const node = new ControlNode(loaded.config, keep(loaded));
  collectLoadGarbage();
  let answering: Answering | undefined;
  const metrics = nodeMetrics(node, () => answering);
  const health = startHealthProducer(node, log, undefined, (id, result) => {
    metrics.checked(id, result);
  });
  const stops: (() => Promise<void>)[] = [() => health.stop()];
  const stopAll = async (): Promise<void> => {
    for (const stop of stops.splice(0).reverse()) await stop();
  };
  try {
    // The operator interface first: /healthz answers and /readyz says 503 while the first
    // round of checks runs and the workers load the zones.
    const decisions = new DecisionLog();
    const record = (decision: SampledDecision): void => {
      decisions.add(decision);
    };
    const late: LateParts = { decisions };
    const api = await startApiConsumer(node, log, apiInputs(node, workers, late, metrics));
    stops.push(() => api.stop());
    await health.firstRound();
    late.healthDone = true;
    const pool = workers > 1 ? await startWorkersWithTables(node, workers, log, record) : undefined;
    late.pool = pool;
    const dns = pool ?? (await startDnsConsumer(node, log, record));
    late.dns = dns;
    answering = dns;
    stops.push(() => dns.stop());
    const agents = await startAgentsProducer(node, log);
    stops.push(() => agents.stop());
    const referral = await startReferralProducer(node, log);
    stops.push(() => referral.stop());
    late.referral = referral;
    const sites = await startSitesProducer(node, log);
    stops.push(() => sites.stop());
    late.sites = sites;
    const listening = (): Listening => ({
      dns: dns.bound(),
      api: api.bound(),
      agents: agents.bound(),
      referral: referral.bound(),
      ...(sites.bound() ? { sites: sites.bound()! } : {}),
    });
    const report = listeningReporter(log);
    report(listening());
    const done = workers > 1 ? 'reload accepted; the workers apply it' : 'reloaded';
    const reloader = countedReloads(configReloader(node, source, log, keep, done), metrics);
    late.reload = async () => {
      const outcome = await reloader.reloadOutcome();
      report(listening());
      return outcome;
    };
    // Persistence entries shared with the other nodes: the listener's address is registered.
    const replication = loaded.config.cluster?.replication;
    const peers =
      replication &&
      (await startPeerReplication(replication, loaded.config.cluster.node, log, (send) =>
        pool ? pool.peerTables(send) : ownTables(node, send),
      ));
    if (peers) stops.push(() => peers.stop());
    // Last to start, first to stop: the service address goes before the listeners do.
    const cluster = await startClusterProducer(node, log, () => dns.bound(), peers?.address);
    if (cluster && peers) {
      peers.follow(cluster);
      const lagReport = setInterval(() => {
        cluster.setReplicationLag(peers.lag());
      }, 1000);
      lagReport.unref();
      stops.push(() => {
        clearInterval(lagReport);
        return Promise.resolve();
      });
    }
    late.cluster = cluster;
    if (cluster) {
      stops.push(() => cluster.stop());
      const shared = startClusterHealth(node, cluster, health, log);
      stops.push(() => shared.stop());
    }
    if (cluster) {
      // Overrides and a pushed configuration in etcd apply before the node says it is ready.
      const operator = await startClusterOperator(node, cluster, log, source, async (from) => {
        const outcome = await reloader.reloadFrom(from);
        report(listening());
        return outcome;
      });
      stops.push(() => {
        operator.stop();
        return Promise.resolve();
      });
    }
    const snapshot = node.snapshot();
    late.started = true;
    log.info(
      { zones: snapshot.zones.zones.size, checks: snapshot.config.health.checks.length, workers },
      'ready',
    );
    return {
      async reload() {
        const ok = await reloader.reload();
        report(listening());
        return ok;
      },
      snapshot: () => node.snapshot(),
      status: () => statusRows(node.snapshot()),
      listening,
      decisions: () => decisions.list(),
      close: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** `reloader`, with every outcome counted in `metrics` (steerdns_reloads_total). */
function countedReloads(reloader: ConfigReloader, metrics: NodeMetrics): ConfigReloader {
  return {
    async reload() {
      const ok = await reloader.reload();
      metrics.reloaded(ok);
      return ok;
    },
    async reloadOutcome() {
      const outcome = await reloader.reloadOutcome();
      metrics.reloaded(outcome.ok);
      return outcome;
    },
    async reloadFrom(from) {
      const outcome = await reloader.reloadFrom(from);
      metrics.reloaded(outcome.ok);
      return outcome;
    },
  };
}

/**
 * One round of every health check of a configuration, from this machine, without serving:
 * `steerdns status --config`. Waits for a first result of every check (at most the
 * start-up grace, or one interval and timeout of the slowest check).
 */
export async function checkOnce(source: ConfigSource, log: Logger): Promise<MemberStatus[]> {
  const loaded = await loadAll(source);
  const node = new ControlNode(loaded.config, loaded.loaded.zones);
  const health = startHealthProducer(node, log);
  try {
    const { checks, startupGraceMs } = loaded.config.health;
    const slowest = Math.max(0, ...checks.map((c) => c.tracker.intervalMs + c.timeoutMs));
    await health.firstRound(Math.max(startupGraceMs, slowest));
    return statusRows(node.snapshot());
  } finally {
    await health.stop();
  }
}

/** A worker process: what it needs of `process` and cluster, given by main.ts. */
export interface WorkerProcess {
  readonly channel: Channel;
}

/** A running worker: ends when the primary says stop. */
export interface WorkerApp {
  readonly stopped: Promise<void>;
  close(): Promise<void>;
}

/**
 * A worker: its node is fed by the primary (configuration, health, agents), it answers
 * DNS from it, and it shares the persistence table with the other workers.
 */
export async function startWorkerApp(worker: WorkerProcess, log: Logger): Promise<WorkerApp> {
  const link = linkToPrimary(worker.channel, log, (node) =>
    startReplicator([persistenceTable(node.persistence)], (batch) => {
      worker.channel.send({ type: 'replicate', batch });
    }),
  );
  const node = await link.node;
  const dns = await startDnsConsumer(node, log, (decision) => {
    worker.channel.send({ type: 'decision', decision });
  });
  log.info({ dns: dns.bound(), version: node.snapshot().version }, 'ready');
  worker.channel.send({ type: 'ready', dns: dns.bound() });
  // The primary's status shows every worker's rate-limit and cookie counters, summed.
  let reported = '';
  const protection = setInterval(() => {
    const stats = { ...dns.protectionStats() };
    const text = JSON.stringify(stats);
    if (text === reported) return;
    reported = text;
    worker.channel.send({ type: 'protection', stats });
  }, 1000);
  protection.unref();
  const queries = reportQueries(worker.channel, dns);
  return {
    stopped: link.stopped,
    async close() {
      clearInterval(protection);
      queries.stop();
      link.replicator()?.stop();
      await dns.stop();
    },
  };
}

/**
 * A worker's query counters to the primary: every second when they changed (what a worker
 * counted before it ends stays in the primary's sums), and at once when asked (a scrape).
 */
function reportQueries(
  channel: Channel,
  dns: { queryTotals(): QueryTotals; queriesCounted(): number },
): { stop(): void } {
  let reported = -1;
  const report = (): void => {
    reported = dns.queriesCounted();
    channel.send({ type: 'queries', totals: dns.queryTotals() });
  };
  const timer = setInterval(() => {
    if (dns.queriesCounted() !== reported) report();
  }, 1000);
  timer.unref();
  channel.on('message', (message) => {
    if (message.type === 'report') report();
  });
  return {
    stop: () => {
      clearInterval(timer);
    },
  };
}

/** Where a worker answers: what it reports to the primary. */
export type { BoundDns };
