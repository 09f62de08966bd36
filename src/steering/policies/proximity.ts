import { Type } from '@sinclair/typebox';
import { cidrContains, parseCidr, type Cidr } from '../../lib/ip.js';
import { definePolicy, type Member, type PolicyDeps } from '../types.js';

const EARTH_KM = 6371;
const rad = (deg: number): number => (deg * Math.PI) / 180;

/** Great-circle distance in km between two [lat, lon] points (haversine). */
export function distanceKm(a: readonly [number, number], b: readonly [number, number]): number {
  const dLat = rad(b[0] - a[0]);
  const dLon = rad(b[1] - a[1]);
  const h =
    Math.sin(dLat / 2) ** 2 + Math.cos(rad(a[0])) * Math.cos(rad(b[0])) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

function coordinatesOf(member: Member, deps: PolicyDeps): readonly [number, number] | undefined {
  return (
    member.coordinates ??
    (member.site === undefined ? undefined : deps.topology.sites.get(member.site)?.coordinates)
  );
}

const Location = Type.Object(
  {
    cidr: Type.String(),
    coordinates: Type.Tuple([
      Type.Number({ minimum: -90, maximum: 90 }),
      Type.Number({ minimum: -180, maximum: 180 }),
    ]),
  },
  { additionalProperties: false },
);

/**
 * Orders members by great-circle distance from the client, nearest first. Client positions
 * come from `locations` (CIDR -> coordinates, first match); members use their own
 * coordinates or their site's. Members without coordinates go last; unknown clients keep
 * the order. The ECS scope is the matched CIDR's prefix.
 */
export const proximity = definePolicy({
  name: 'proximity',
  config: Type.Object(
    { locations: Type.Array(Location, { default: [] }) },
    { additionalProperties: false },
  ),
  create: ({ locations }, deps) => {
    const table = locations.flatMap((l): { cidr: Cidr; at: readonly [number, number] }[] => {
      const cidr = parseCidr(l.cidr);
      return cidr ? [{ cidr, at: l.coordinates }] : [];
    });
    return {
      name: 'proximity',
      apply(candidates, ctx) {
        const found = table.find((l) => cidrContains(l.cidr, ctx.client.location));
        if (!found) return { candidates, notes: ctx.explain ? ['client position unknown'] : [] };
        const scored = candidates.map((member, index) => {
          const at = coordinatesOf(member, deps);
          return { member, index, km: at ? distanceKm(found.at, at) : Infinity };
        });
        scored.sort((a, b) => a.km - b.km || a.index - b.index);
        const notes = ctx.explain
          ? scored.map(
              (s) =>
                `${s.member.id} ${Number.isFinite(s.km) ? `${Math.round(s.km)} km` : 'unplaced'}`,
            )
          : [];
        return { candidates: scored.map((s) => s.member), scope: found.cidr.prefix, notes };
      },
    };
  },
});
