import { Type } from '@sinclair/typebox';
import { continentOf } from '../../geo/continents.js';
import { definePolicy, type Member, type PolicyDeps } from '../types.js';

function regionOf(member: Member, deps: PolicyDeps): string | undefined {
  return (
    member.region ??
    (member.site === undefined ? undefined : deps.topology.sites.get(member.site)?.region)
  );
}

/**
 * Orders members by how close their country is to the client's: same country, then same
 * continent, then same registry region, then the rest. The client's country comes from the
 * country database (bundled CC0 data, or a MaxMind file); the ECS scope is the database
 * block's prefix. `strict` keeps only members at the best level found.
 */
export const geo = definePolicy({
  name: 'geo',
  config: Type.Object(
    {
      strict: Type.Boolean({
        default: false,
        description: 'keep only the closest level (geofence)',
      }),
    },
    { additionalProperties: false },
  ),
  create: ({ strict }, deps) => ({
    name: 'geo',
    apply(candidates, ctx) {
      const place = deps.topology.geo.locate(ctx.client.location);
      const rank = (member: Member): number => {
        if (place.country && member.country === place.country) return 0;
        if (place.continent && member.country && continentOf(member.country) === place.continent)
          return 1;
        if (place.region && regionOf(member, deps)?.toUpperCase() === place.region) return 2;
        return 3;
      };
      const ranked = candidates.map((member, index) => ({ member, index, rank: rank(member) }));
      ranked.sort((a, b) => a.rank - b.rank || a.index - b.index);
      const best = ranked[0]?.rank ?? 3;
      const kept = strict && best < 3 ? ranked.filter((r) => r.rank === best) : ranked;
      const notes = ctx.explain
        ? [
            `client in ${place.country ?? '?'} / ${place.continent ?? '?'} / ${place.region ?? '?'} (block /${place.prefix})`,
          ]
        : [];
      const scope = place.region && place.prefix === 0 ? 8 : place.prefix;
      return { candidates: kept.map((r) => r.member), scope, notes };
    },
  }),
});
