import type { Zone } from './zone.js';

/**
 * The zones a server is authoritative for, as one immutable snapshot. A name belongs to
 * the most specific zone that contains it.
 */
export class ZoneSet {
  readonly zones: ReadonlyMap<string, Zone>;

  constructor(zones: readonly Zone[]) {
    this.zones = new Map(zones.map((zone) => [zone.key, zone]));
  }

  /** The most specific zone containing the name with key `key`, or undefined. */
  findZone(key: string): Zone | undefined {
    let p = 0;
    for (;;) {
      const zone = this.zones.get(p === 0 ? key : key.slice(p));
      if (zone) return zone;
      const len = key.charCodeAt(p);
      if (len === 0 || Number.isNaN(len)) return undefined;
      p += len + 1;
    }
  }
}
