import { RRType } from '../dns/constants.js';
import type { Zone, ZoneNode } from './zone.js';

/**
 * The zones a server is authoritative for, as one immutable snapshot. A name belongs to
 * the most specific zone that contains it.
 */
export class ZoneSet {
  readonly zones: ReadonlyMap<string, Zone>;

  constructor(zones: readonly Zone[]) {
    this.zones = new Map(zones.map((zone) => [zone.key, zone]));
  }

  /**
   * This set reduced to what placing names in it needs: of each zone, its apex and the
   * names whose keys are in `keys` (with their RRsets and their delegation). A
   * multi-worker server's primary, which never answers queries, keeps this instead of
   * every record.
   */
  outline(keys: Iterable<string>): ZoneSet {
    const kept = new Map<string, Map<string, ZoneNode>>();
    for (const zone of this.zones.values()) {
      const apex = zone.nodes.get(zone.key);
      kept.set(zone.key, new Map(apex ? [[zone.key, apex]] : []));
    }
    for (const key of keys) {
      const zone = this.findZone(key);
      const node = zone?.nodes.get(key);
      if (zone && node) kept.get(zone.key)?.set(key, node);
    }
    const zones = [...this.zones.values()].map((zone): Zone => ({
      ...zone,
      nodes: kept.get(zone.key) ?? new Map<string, ZoneNode>(),
    }));
    return new ZoneSet(zones);
  }

  /**
   * The zone that answers `qtype` at the name with key `key`: the most specific zone
   * containing it, except for DS at the apex of a zone whose parent zone is served too.
   * The DS RRset belongs to the parent side of the cut (RFC 4035 3.1.4.1), so the parent
   * answers it (its DS, or its NODATA), as Knot and BIND do.
   */
  answering(key: string, qtype: number): Zone | undefined {
    const zone = this.findZone(key);
    if (qtype !== RRType.DS || zone?.key !== key || key.length <= 1) return zone;
    return this.findZone(key.slice(key.charCodeAt(0) + 1)) ?? zone;
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
