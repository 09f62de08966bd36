import type { LiveHandoff, StateView } from '../steering/types.js';
import type { HandoffTable } from './table.js';

/** The sites layer of a node's snapshot (plain data: it crosses to worker processes). */
export interface SitesLayer {
  /** This site. */
  readonly site: string;
  /** Answer TTL cap, seconds. */
  readonly ttl: number;
  readonly useDnsRespond: boolean;
  readonly tables: readonly HandoffTable[];
}

/**
 * The state view with the live hand-off tables of `layer` on top of `base`: the `handoff`
 * policy reads them. Built once per snapshot; a query only looks a name up.
 */
export function sitesStateView(layer: SitesLayer | undefined, base: StateView): StateView {
  if (!layer) return base;
  const localFirst = layer.useDnsRespond ? undefined : layer.site;
  const byName = new Map<string, LiveHandoff>(
    layer.tables.map((t) => [t.name, { totals: new Map(t.totals), ttl: layer.ttl, localFirst }]),
  );
  return {
    member: (key) => base.member(key),
    handoff: (service) => byName.get(service),
  };
}
