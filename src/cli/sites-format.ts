import type { SitesStatus } from '../sites/exchange.js';

/** True when `value` looks like a site's status (a server of another version may differ). */
export function isSitesStatus(value: unknown): value is SitesStatus {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v['site'] === 'string' && Array.isArray(v['peers']) && Array.isArray(v['tables']);
}

function columns(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row) =>
    row
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd(),
  );
}

const seconds = (ms: number | undefined): string =>
  ms === undefined ? '-' : `${(ms / 1000).toFixed(1)} s ago`;

/**
 * A site of seed 003 for `steerdns status --server`: one line about the site (its DSSP
 * listener, reports sent, frames taken and dropped by reason), one row per peer (its last
 * report, age, kind, fresh or stale, our last send), then per name the totals and the
 * rows (orders) they were counted from.
 */
export function formatSites(status: SitesStatus): string {
  const dropped = Object.entries(status.received.dropped)
    .map(([reason, n]) => `${reason} ${n}`)
    .join(', ');
  const head =
    `site ${status.site} (DSSP ${status.listen ?? '-'}): sent ${status.sent.updates} updates, ` +
    `${status.sent.events} events; took ${status.received.accepted} reports, dropped ` +
    (dropped === '' ? 'none' : dropped);
  const peers = columns([
    ['PEER', 'LAST REPORT', 'KIND', 'FRESH', 'OUR LAST SEND'],
    ...status.peers.map((p) => [
      p.name,
      seconds(p.ageMs),
      p.lastKind ?? '-',
      p.fresh ? 'yes' : 'no',
      p.lastOutcome ?? '-',
    ]),
  ]);
  const tables = status.tables.flatMap((t) => [
    `${t.name} totals: ${t.totals.map(([site, total]) => `${site} ${total}`).join(', ')}`,
    `  rows: ${t.orders.map(([tester, order]) => `${tester}: ${order.join(' ') || '-'}`).join('; ') || 'none'}`,
  ]);
  return [head, ...peers, ...tables].join('\n');
}
