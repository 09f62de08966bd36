import { totalsFromOrders } from '../steering/policies/handoff.js';
import type { NameReport, SiteReport } from './report.js';
import { reachableSites } from './measure.js';

/** A peer's last accepted report and when it stops counting. */
export interface PeerRow {
  readonly report: SiteReport;
  readonly receivedAt: number;
  /** ms; Infinity when the peer sends no periodic updates to this site. */
  readonly expiresAt: number;
}

/** The ordered hand-off table of one name, as every site computes it (plain data). */
export interface HandoffTable {
  readonly name: string;
  /** The rows counted: tester -> its order, best first. */
  readonly orders: readonly (readonly [string, readonly string[]])[];
  /** Site -> total weight, every known site (0: never handed off to). */
  readonly totals: readonly (readonly [string, number])[];
}

/**
 * The hand-off table of `own`'s name: this site's row and each peer's row, each counted
 * only while its tester is up from this site's view (its VIPs answer our checks) and, for
 * a peer, its report is fresh. So a site that dies drops out of every order and its own
 * row goes too, on every site alike (seed 003's "D down" totals).
 */
export function handoffTable(
  local: string,
  own: NameReport,
  peers: ReadonlyMap<string, PeerRow>,
  weights: readonly number[],
  now: number,
  fewSitesByCapacity = false,
): HandoffTable {
  const reachable = reachableSites(own);
  const rows: [string, NameReport][] = [];
  if (reachable.has(local)) rows.push([local, own]);
  for (const [site, row] of [...peers].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (!reachable.has(site) || row.expiresAt <= now) continue;
    const theirs = row.report.names.find((n) => n.name === own.name);
    if (theirs) rows.push([site, theirs]);
  }
  const orders = rows.map(([site, report]) => [site, report.order] as const);
  const sites = new Set(own.measured.map((m) => m.site));
  const byCapacity = fewSitesByCapacity && sites.size <= 3 ? capacityTotals(rows) : undefined;
  const totals = byCapacity ?? totalsFromOrders(orders, weights);
  for (const m of own.measured) if (!totals.has(m.site)) totals.set(m.site, 0);
  const sorted = [...totals].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return { name: own.name, orders, totals: sorted };
}

/**
 * Seed 003's fallback for three or fewer sites, where ranks say little: each counted site's
 * total is the connections its up VIPs can still take (MAXCONNS - VIPCONNS), as it reported
 * them; undefined (use the ranks) unless every counted site reports a limit for each VIP.
 */
export function capacityTotals(
  rows: readonly (readonly [string, NameReport])[],
): Map<string, number> | undefined {
  const totals = new Map<string, number>();
  for (const [site, report] of rows) {
    if (report.capacity.length === 0) return undefined;
    let available = 0;
    for (const vip of report.capacity) {
      if (vip.available === null) return undefined;
      if (vip.up) available += vip.available;
    }
    totals.set(site, available);
  }
  return rows.length > 0 ? totals : undefined;
}
