import type { StateView } from '../steering/types.js';
import type { NameReport, VipCapacity, VipMeasurement } from './report.js';

/** One VIP of a site for a steered name: a member of that service with `site:` set. */
export interface SiteVip {
  /** The member's key (its live state is read by it). */
  readonly key: string;
  readonly site: string;
  /** The address answered (and redirected to). */
  readonly address: string;
  /** The port its check reaches (the HTTP redirect's port), if the check names one. */
  readonly port: number | undefined;
  /** Maximum connections (`capacity:`), if set. */
  readonly capacity: number | undefined;
}

/** A steered name the sites exchange, with every site's VIPs. */
export interface SteeredName {
  /** Lower case, trailing dot: the service's name. */
  readonly name: string;
  readonly vips: readonly SiteVip[];
}

/** A VIP is up from this site's view only when its check said so: unknown is not up. */
const measureVip = (vip: SiteVip, state: StateView): VipMeasurement => {
  const live = state.member(vip.key);
  return {
    site: vip.site,
    address: vip.address,
    up: live.up === true,
    // A tenth of a millisecond is finer than any WAN ranking needs, and keeps reports short.
    averageMs: live.responseMs === undefined ? null : Math.round(live.responseMs * 10) / 10,
  };
};

const capacityOf = (vip: SiteVip, state: StateView): VipCapacity => {
  const live = state.member(vip.key);
  const available =
    vip.capacity === undefined ? null : Math.max(0, vip.capacity - (live.connections ?? 0));
  return { address: vip.address, up: live.up === true, available };
};

/**
 * Each site's time from this tester: the best time of its up VIPs; sites with no up and
 * measured VIP are left out (seed 003: a site that answers no check is down from here).
 */
export function siteTimes(measured: readonly VipMeasurement[]): Map<string, number> {
  const times = new Map<string, number>();
  for (const m of measured) {
    if (!m.up || m.averageMs === null) continue;
    const best = times.get(m.site);
    if (best === undefined || m.averageMs < best) times.set(m.site, m.averageMs);
  }
  return times;
}

/** The other sites by their time from `local`, fastest first (ties by name). */
export function orderFrom(local: string, measured: readonly VipMeasurement[]): string[] {
  return [...siteTimes(measured)]
    .filter(([site]) => site !== local)
    .sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([site]) => site);
}

/** What this site measured of one name now: its part of a DSSP report. */
export function measureName(local: string, name: SteeredName, state: StateView): NameReport {
  const measured = name.vips.map((vip) => measureVip(vip, state));
  return {
    name: name.name,
    order: orderFrom(local, measured),
    measured,
    capacity: name.vips.filter((v) => v.site === local).map((v) => capacityOf(v, state)),
  };
}

/** The sites with an up VIP in `report`, seen from its tester. */
export function reachableSites(report: NameReport): Set<string> {
  return new Set(report.measured.filter((m) => m.up).map((m) => m.site));
}

/**
 * A local resource constraint (seed 003): no up VIP of this site for the name, or every
 * one at its maximum connections.
 */
export function constrained(report: NameReport): boolean {
  return report.capacity.every((c) => !c.up || c.available === 0);
}
