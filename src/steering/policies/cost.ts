import { Type } from '@sinclair/typebox';
import { definePolicy, type Member } from '../types.js';

interface Priced {
  readonly member: Member;
  readonly index: number;
  readonly cost: number;
}

/** The candidates cheapest first; members without a `cost` last, in their order. */
function byCost(candidates: readonly Member[]): Priced[] {
  const priced = candidates.map((member, index) => ({
    member,
    index,
    cost: member.cost ?? Infinity,
  }));
  priced.sort((a, b) => a.cost - b.cost || a.index - b.index);
  return priced;
}

const costText = (cost: number): string => (Number.isFinite(cost) ? `cost ${cost}` : 'no cost');

/**
 * Seed 002 "lowest cost": orders the candidates by their member `cost`, cheapest first
 * (`keep: all`), or keeps only the cheapest, those within `margin` of the lowest cost
 * (`keep: cheapest`), so a later policy chooses among them: `[up, { policy: cost, keep:
 * cheapest }, response-time]` answers the fastest of the cheapest sites. Members without a
 * cost count as dearer than any priced one; when none has a cost, nothing changes.
 */
export const cost = definePolicy({
  name: 'cost',
  config: Type.Object(
    {
      keep: Type.Union([Type.Literal('all'), Type.Literal('cheapest')], {
        default: 'all',
        description: 'all: cheapest first; cheapest: only those within margin of the lowest',
      }),
      margin: Type.Number({
        minimum: 0,
        default: 0,
        description: 'with keep: cheapest, a cost this much above the lowest still counts',
      }),
    },
    { additionalProperties: false },
  ),
  create: ({ keep, margin }) => ({
    name: 'cost',
    apply(candidates, ctx) {
      const priced = byCost(candidates);
      const lowest = priced[0]?.cost ?? Infinity;
      const kept =
        keep === 'cheapest' && Number.isFinite(lowest)
          ? priced.filter((p) => p.cost <= lowest + margin)
          : priced;
      const notes = ctx.explain ? priced.map((p) => `${p.member.id} ${costText(p.cost)}`) : [];
      return { candidates: kept.map((p) => p.member), notes };
    },
  }),
});
