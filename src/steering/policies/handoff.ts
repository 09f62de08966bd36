import { Type, type Static } from '@sinclair/typebox';
import { definePolicy, type LiveHandoff, type Member, type SelectionContext } from '../types.js';
import { chosenFirst, chosenFirstWeighted, smoothWeighted } from './order.js';

const Config = Type.Object(
  {
    weights: Type.Array(Type.Integer({ minimum: 0, maximum: 64 }), {
      minItems: 1,
      maxItems: 16,
      description: 'ordered hand-off weights: for being ranked 1st, 2nd, ... by another site',
    }),
    matrix: Type.Optional(
      Type.Record(Type.String(), Type.Record(Type.String(), Type.Number({ minimum: 0 })), {
        description:
          'matrix[tester][tested] = average response time in ms measured by tester; unused when the sites exchange it live (distributedSites:)',
      }),
    ),
  },
  { additionalProperties: false },
);

/** One tester's preference order: the other sites of its row, fastest first (ties: as listed). */
export function rankedRow(tester: string, row: Readonly<Record<string, number>>): string[] {
  return Object.entries(row)
    .filter(([tested]) => tested !== tester)
    .sort((a, b) => a[1] - b[1])
    .map(([tested]) => tested);
}

/**
 * Seed 003 ordered hand-off weights over preference orders (tester -> sites, best first): a
 * site gets weights[k] for each time it is ranked (k+1)-th. Every tester is in the result,
 * at 0 when nobody ranks it. Returns site -> total.
 */
export function totalsFromOrders(
  orders: Iterable<readonly [string, readonly string[]]>,
  weights: readonly number[],
): Map<string, number> {
  const totals = new Map<string, number>();
  for (const [tester, order] of orders) {
    totals.set(tester, totals.get(tester) ?? 0);
    order.forEach((tested, rank) => {
      totals.set(tested, (totals.get(tested) ?? 0) + (weights[rank] ?? 0));
    });
  }
  return totals;
}

/**
 * Seed 003 ordered hand-off weights: every site ranks the others by the response time it
 * measured; a site gets weights[k] for each time it is ranked (k+1)-th. Returns site -> total.
 */
export function handoffTotals(config: Static<typeof Config>): Map<string, number> {
  const orders = Object.entries(config.matrix ?? {}).map(
    ([tester, row]) => [tester, rankedRow(tester, row)] as const,
  );
  return totalsFromOrders(orders, config.weights);
}

const siteOf = (member: Member): string => member.site ?? member.name;

/** The configured totals, or the live table of the sites exchange when there is one. */
function liveOr(configured: ReadonlyMap<string, number>, ctx: SelectionContext) {
  const live: LiveHandoff | undefined = ctx.state.handoff?.(ctx.service);
  return live ?? { totals: configured, ttl: undefined, localFirst: undefined };
}

/**
 * Hands answers to sites in proportion to their hand-off totals (smooth weighted round
 * robin, so the split is exact over any window). A site with total 0 never gets one. When
 * the node exchanges the sites' measurements (`distributedSites:`, docs/sites.md), the live
 * totals of the snapshot replace the configured matrix, and their TTL caps the answer.
 */
export const handoff = definePolicy({
  name: 'handoff',
  config: Config,
  create: (config, deps) => {
    const configured = handoffTotals(config);
    const current = new Float64Array(deps.members.length);
    return {
      name: 'handoff',
      role: 'select',
      // Admission is judged on the configured table: a remembered client is kept unless it
      // was configured out; the live table moves too often to judge a memory by.
      admits: (member) => config.matrix === undefined || (configured.get(siteOf(member)) ?? 0) > 0,
      apply(candidates, ctx) {
        const { totals, ttl, localFirst } = liveOr(configured, ctx);
        const weighted = (m: Member): number => totals.get(siteOf(m)) ?? 0;
        // A live table where no candidate has weight (every peer down, say): the sites left
        // share evenly rather than no site answering at all.
        const even = ttl !== undefined && candidates.every((m) => weighted(m) <= 0);
        const weightOf = even ? (): number => 1 : weighted;
        const local =
          localFirst === undefined ? undefined : candidates.find((m) => siteOf(m) === localFirst);
        const chosen = local ?? smoothWeighted(candidates, current, weightOf);
        const notes = ctx.explain
          ? candidates.map((m) => `${m.id} site ${siteOf(m)} total ${weightOf(m)}`)
          : [];
        const ordered = !chosen
          ? []
          : local
            ? chosenFirst(candidates, local)
            : chosenFirstWeighted(candidates, chosen, weightOf);
        return { candidates: ordered, notes, ...(ttl === undefined ? {} : { maxTtl: ttl }) };
      },
    };
  },
});
