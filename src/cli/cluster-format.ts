import type { ClusterNodeView, ClusterView } from '../control/cluster-view.js';

/**
 * A node as `GET /status` reports it. `targets` (how many health targets it owns) and
 * `replicationLagMs` come from the health-ownership and replication features: the table
 * shows their columns when any node has them.
 */
export type ClusterNodeStatus = ClusterNodeView & {
  readonly targets?: number;
  readonly replicationLagMs?: number;
};

/** The `cluster` field of `GET /status`. */
export type ClusterStatusView = Omit<ClusterView, 'nodes'> & {
  readonly nodes: readonly ClusterNodeStatus[];
};

/** True when `value` looks like a cluster view (a server of another version may differ). */
export function isClusterView(value: unknown): value is ClusterStatusView {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v['node'] === 'string' && Array.isArray(v['nodes']);
}

const ago = (at: number | undefined, now: number): string =>
  at === undefined || at <= 0 ? '-' : `${(Math.max(0, now - at) / 1000).toFixed(1)} s ago`;

function columns(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row) =>
    row
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd(),
  );
}

/**
 * The cluster as a node sees it, for `steerdns status --server`: one line about the node
 * asked (its role, epoch, master, session, last renewal), then one row per registered node
 * (this one marked `*`): role, epoch, when it last updated its registration.
 */
export function formatCluster(view: ClusterStatusView, now: number): string {
  const head =
    `cluster ${view.cluster}, seen from ${view.node}: ${view.role}, epoch ${view.epoch}, ` +
    `master ${view.master ?? 'none'}, session ${view.session}, renewed ${ago(view.renewedAt, now)}` +
    (view.holding ? `, holds ${view.addresses.join(' ')}` : '');
  const targets = view.nodes.some((n) => n.targets !== undefined);
  const lag = view.nodes.some((n) => n.replicationLagMs !== undefined);
  const header = [
    'NODE',
    'ROLE',
    'EPOCH',
    'UPDATED',
    ...(targets ? ['TARGETS'] : []),
    ...(lag ? ['LAG'] : []),
  ];
  const rows = view.nodes.map((n) => [
    `${n.name === view.node ? '*' : ' '}${n.name}`,
    n.role,
    String(n.epoch),
    ago(n.updatedAt, now),
    ...(targets ? [n.targets === undefined ? '-' : String(n.targets)] : []),
    ...(lag ? [n.replicationLagMs === undefined ? '-' : `${n.replicationLagMs} ms`] : []),
  ]);
  return [head, ...columns([[' ' + header[0]!, ...header.slice(1)], ...rows])].join('\n');
}
