import type { TargetStates } from '../health/view.js';
import type { StateView } from '../steering/types.js';
import type { LoadedServices } from './load-services.js';

/** One line of `steerdns status`. */
export interface MemberStatus {
  readonly service: string;
  readonly member: string;
  readonly addresses: readonly string[];
  readonly state: 'up' | 'down' | 'unknown' | 'unchecked';
  readonly since: string | undefined;
  readonly check: string | undefined;
  readonly last: string | undefined;
  readonly averageMs: number | undefined;
  /** Checks reset by the peer, and checks whose answer was cut off (seed 002), so far. */
  readonly resets: number | undefined;
  readonly abnormal: number | undefined;
  readonly load: number | undefined;
  readonly connections: number | undefined;
  readonly admin: string;
}

/** Every member of every service with its state, on the given health and state views. */
export function memberStatus(
  services: LoadedServices,
  targetOf: ReadonlyMap<string, string>,
  targets: TargetStates,
  view: StateView,
): MemberStatus[] {
  const rows: MemberStatus[] = [];
  for (const { service } of services.byKey.values()) {
    for (const pool of service.pools) {
      for (const member of pool.members) {
        const id = targetOf.get(member.key);
        const tracked = id === undefined ? undefined : targets.state(id);
        const live = view.member(member.key);
        // Not checked: what the configuration or the member's agent says, if anything.
        const state = tracked
          ? tracked.health
          : live.up === undefined
            ? 'unchecked'
            : live.up
              ? 'up'
              : 'down';
        rows.push({
          service: service.name,
          member: member.id,
          addresses: [...member.ipv4, ...member.ipv6, ...(member.target ? [member.target] : [])],
          state,
          since: tracked && tracked.checks > 0 ? new Date(tracked.since).toISOString() : undefined,
          check: id,
          last: tracked?.last
            ? tracked.last.ok
              ? `ok ${tracked.last.latencyMs.toFixed(1)} ms`
              : (tracked.last.reason ?? 'failed')
            : undefined,
          averageMs:
            live.responseMs === undefined ? undefined : Math.round(live.responseMs * 10) / 10,
          resets: tracked?.resets,
          abnormal: tracked?.abnormal,
          load: live.load,
          connections: live.connections,
          admin: member.admin !== 'enabled' ? member.admin : (live.admin ?? 'enabled'),
        });
      }
    }
  }
  return rows;
}

const cell = (value: string | number | undefined): string =>
  value === undefined ? '-' : String(value);

/** Formats status rows as an aligned table. */
export function formatStatus(rows: readonly MemberStatus[]): string {
  const header = [
    'SERVICE',
    'MEMBER',
    'ADDRESS',
    'STATE',
    'SINCE',
    'LAST',
    'AVG MS',
    'LOAD',
    'CONNS',
    'ADMIN',
  ];
  const lines = rows.map((r) => [
    r.service,
    r.member,
    r.addresses.join(','),
    r.state,
    cell(r.since),
    cell(r.last),
    cell(r.averageMs),
    cell(r.load),
    cell(r.connections),
    r.admin,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  return [header, ...lines]
    .map((l) =>
      l
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
