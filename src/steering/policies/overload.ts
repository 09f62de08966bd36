import { Type } from '@sinclair/typebox';
import { definePolicy, type Member, type SelectionContext } from '../types.js';

const metricOf = (
  member: Member,
  ctx: SelectionContext,
  metric: 'load' | 'connections',
): number | undefined => ctx.state.member(member.key)[metric];

/**
 * Seed 000: drops a member whose load (or active connections) is more than `margin` percent
 * above the average of the other members; it is readmitted as soon as it is back within.
 */
export const overload = definePolicy({
  name: 'overload',
  config: Type.Object(
    {
      margin: Type.Number({
        minimum: 0,
        default: 50,
        description: "percent above the others' average",
      }),
      metric: Type.Union([Type.Literal('load'), Type.Literal('connections')], { default: 'load' }),
    },
    { additionalProperties: false },
  ),
  create: ({ margin, metric }) => ({
    name: 'overload',
    apply(candidates, ctx) {
      const values = candidates.map((m) => metricOf(m, ctx, metric));
      let sum = 0;
      let known = 0;
      for (const value of values) {
        if (value === undefined) continue;
        sum += value;
        known++;
      }
      const kept: Member[] = [];
      const notes: string[] = [];
      candidates.forEach((member, i) => {
        const value = values[i];
        if (value === undefined || known < 2) return void kept.push(member);
        const othersAverage = (sum - value) / (known - 1);
        const limit = othersAverage * (1 + margin / 100);
        if (value > limit) {
          if (ctx.explain)
            notes.push(
              `${member.id} ${metric} ${value} > ${limit.toFixed(1)} (others' average ${othersAverage.toFixed(1)} + ${margin}%)`,
            );
        } else {
          kept.push(member);
        }
      });
      return { candidates: kept, notes };
    },
  }),
});
