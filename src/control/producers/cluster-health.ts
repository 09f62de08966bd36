import { createHash } from 'node:crypto';
import { PrefixView } from '../../cluster/prefix-view.js';
import type { KeyValue } from '../../cluster/etcd-client.js';
import type { TrackerState } from '../../health/tracker.js';
import type { Logger } from '../../observability/log.js';
import type { ClusterNodeView } from '../cluster-view.js';
import type { ControlNode } from '../node.js';
import type { ClusterProducer } from './cluster.js';
import type { HealthProducer } from './health.js';

/** A result as the owner writes it under `health/<check id>`. */
interface SharedResult {
  readonly owner: string;
  readonly state: TrackerState;
}

/** A result is written again, without a change of health, at most this often (its average). */
const REFRESH_MS = 30_000;

/**
 * The owner of `checkId` among `nodes`: rendezvous hashing, so that when a node leaves only
 * its own checks move, spread over the others, and every node computes the same owner from
 * the same list.
 */
export function ownerOf(checkId: string, nodes: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestScore = '';
  for (const name of nodes) {
    const score = createHash('sha1').update(name).update('\0').update(checkId).digest('hex');
    if (best === undefined || score > bestScore) {
      best = name;
      bestScore = score;
    }
  }
  return best;
}

/** The nodes that may own checks: registered and not inop (all, when that leaves none). */
export function eligibleOwners(nodes: readonly ClusterNodeView[]): string[] {
  const serving = nodes.filter((n) => n.role !== 'inop').map((n) => n.name);
  return serving.length > 0 ? serving : nodes.map((n) => n.name);
}

/** Health checked once per cluster. */
export interface ClusterHealth {
  /** The owner of each check of the configuration (for the status). */
  owners(): ReadonlyMap<string, string>;
  stop(): Promise<void>;
}

/**
 * Health probed once per cluster, not once per node: each check has one owner among the
 * live nodes ({@link ownerOf}); this node runs only the checks it owns and writes their
 * results under `health/<id>` (with its lease: they go with it), and publishes the other
 * owners' results into its own node as they come. When a node leaves, its checks move to
 * the others as soon as its registration is gone (within one lease TTL). A node that has no
 * view of the cluster (etcd out of reach, or not registered yet) checks everything itself.
 */
export function startClusterHealth(
  node: ControlNode,
  cluster: ClusterProducer,
  health: HealthProducer,
  log: Logger,
): ClusterHealth {
  const self = node.snapshot().config.cluster!.node;
  const prefix = `${node.snapshot().config.cluster!.prefix}health/`;
  let owners = new Map<string, string>();
  const written = new Map<string, { health: string; at: number }>();

  const assign = (): void => {
    const names = eligibleOwners(cluster.nodes());
    const alone = cluster.session.lease === undefined || !names.includes(self);
    const next = new Map<string, string>();
    for (const check of node.snapshot().config.health.checks)
      next.set(check.id, alone ? self : (ownerOf(check.id, names) ?? self));
    const changed =
      next.size !== owners.size || [...next].some(([id, owner]) => owners.get(id) !== owner);
    owners = next;
    if (!changed) return;
    const mine = [...next.values()].filter((o) => o === self).length;
    log.info({ owned: mine, checks: next.size, nodes: names.length }, 'health checks assigned');
    health.setOwnership((id) => (owners.get(id) ?? self) === self);
    cluster.setHealthOwners(next);
    // Write what this node now owns, so that the others see its state at once.
    for (const [id, state] of node.snapshot().health)
      if (owners.get(id) === self) write(id, state, true);
  };

  const write = (id: string, state: TrackerState, force = false): void => {
    const lease = cluster.session.lease;
    if (lease === undefined) return;
    const last = written.get(id);
    const now = Date.now();
    if (!force && last?.health === state.health && now - last.at < REFRESH_MS) return;
    written.set(id, { health: state.health, at: now });
    const value: SharedResult = { owner: self, state };
    cluster.client
      .put(prefix + encodeURIComponent(id), JSON.stringify(value), { lease: lease.id })
      .catch((error: unknown) => {
        written.delete(id);
        log.debug({ err: error, check: id }, 'cannot share a health result; the next one retries');
      });
  };

  const unsubscribe = node.subscribe((_snapshot, change) => {
    if (change.kind === 'config') {
      assign();
      return;
    }
    if (change.kind !== 'health') return;
    for (const [id, state] of change.states) if (owners.get(id) === self) write(id, state);
  });

  const view = new PrefixView({
    client: cluster.client,
    prefix,
    logger: log,
    onChange: (kvs: readonly KeyValue[]) => {
      const states: [string, TrackerState][] = [];
      const current = node.snapshot().health;
      for (const kv of kvs) {
        const id = decodeURIComponent(kv.key.slice(prefix.length));
        const result = parse(kv.value);
        // Only another owner's results: this node's own come from its board.
        if (result === undefined || owners.get(id) === self || result.owner === self) continue;
        if (current.get(id) !== undefined && sameState(current.get(id)!, result.state)) continue;
        states.push([id, result.state]);
      }
      if (states.length > 0) void node.publish({ kind: 'health', states });
    },
  });
  void view.start();
  const offNodes = cluster.onNodes(assign);
  const onLease = (): void => {
    assign();
  };
  cluster.session.on('granted', onLease);
  cluster.session.on('lost', onLease);
  assign();
  return {
    owners: () => owners,
    async stop() {
      await Promise.resolve();
      unsubscribe();
      offNodes();
      cluster.session.off('granted', onLease);
      cluster.session.off('lost', onLease);
      view.close();
      health.setOwnership(undefined);
    },
  };
}

function parse(text: string): SharedResult | undefined {
  try {
    const value = JSON.parse(text) as Partial<SharedResult>;
    if (typeof value.owner !== 'string' || typeof value.state?.health !== 'string')
      return undefined;
    return value as SharedResult;
  } catch {
    return undefined;
  }
}

const sameState = (a: TrackerState, b: TrackerState): boolean =>
  a.health === b.health && a.checks === b.checks && a.lastAt === b.lastAt;
