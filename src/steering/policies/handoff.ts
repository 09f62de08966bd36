import { Type, type Static } from '@sinclair/typebox';
import { definePolicy, type Member } from '../types.js';
import { chosenFirstWeighted, smoothWeighted } from './order.js';

const Config = Type.Object(
  {
    weights: Type.Array(Type.Integer({ minimum: 0, maximum: 64 }), {
      minItems: 1,
      maxItems: 16,
      description: 'ordered hand-off weights: for being ranked 1st, 2nd, ... by another site',
    }),
    matrix: Type.Record(Type.String(), Type.Record(Type.String(), Type.Number({ minimum: 0 })), {
      description: 'matrix[tester][tested] = average response time in ms measured by tester',
    }),
  },
  { additionalProperties: false },
);

/**
 * Seed 003 ordered hand-off weights: every site ranks the others by the response time it
 * measured; a site gets weights[k] for each time it is ranked (k+1)-th. Returns site -> total.
 */
export function handoffTotals(config: Static<typeof Config>): Map<string, number> {
  const totals = new Map<string, number>();
  for (const [tester, row] of Object.entries(config.matrix)) {
    totals.set(tester, totals.get(tester) ?? 0);
    const ranked = Object.entries(row)
      .filter(([tested]) => tested !== tester)
      .sort((a, b) => a[1] - b[1]);
    ranked.forEach(([tested], rank) => {
      totals.set(tested, (totals.get(tested) ?? 0) + (config.weights[rank] ?? 0));
    });
  }
  return totals;
}

const siteOf = (member: Member): string => member.site ?? member.name;

/**
 * Hands answers to sites in proportion to their hand-off totals (smooth weighted round
 * robin, so the split is exact over any window). A site with total 0 never gets one.
 */
export const handoff = definePolicy({
  name: 'handoff',
  config: Config,
  create: (config, deps) => {
    const totals = handoffTotals(config);
    const current = new Float64Array(deps.members.length);
    return {
      name: 'handoff',
      role: 'select',
      admits: (member) => (totals.get(siteOf(member)) ?? 0) > 0,
      apply(candidates, ctx) {
        const weightOf = (m: Member): number => totals.get(siteOf(m)) ?? 0;
        const chosen = smoothWeighted(candidates, current, weightOf);
        const notes = ctx.explain
          ? candidates.map((m) => `${m.id} site ${siteOf(m)} total ${totals.get(siteOf(m)) ?? 0}`)
          : [];
        return {
          candidates: chosen ? chosenFirstWeighted(candidates, chosen, weightOf) : [],
          notes,
        };
      },
    };
  },
});
