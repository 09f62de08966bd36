import { Type } from '@sinclair/typebox';
import { definePolicy } from '../types.js';
import { chosenFirstWeighted } from './order.js';
import type { Member } from '../types.js';

const weightOf = (member: Member): number => Math.max(0, member.weight);

/** Picks one member at random with probability proportional to its weight. */
export const randomWeighted = definePolicy({
  name: 'random-weighted',
  config: Type.Object({}, { additionalProperties: false }),
  create: () => ({
    name: 'random-weighted',
    role: 'select',
    admits: (member) => weightOf(member) > 0,
    apply(candidates, ctx) {
      let total = 0;
      let last: Member | undefined;
      for (const member of candidates) {
        total += weightOf(member);
        if (weightOf(member) > 0) last = member;
      }
      if (!last) return { candidates: [] };
      let point = ctx.random() * total;
      for (const member of candidates) {
        point -= weightOf(member);
        if (point < 0 && weightOf(member) > 0)
          return { candidates: chosenFirstWeighted(candidates, member, weightOf) };
      }
      // Floating-point rounding can leave a sliver: it belongs to the last positive weight.
      return { candidates: chosenFirstWeighted(candidates, last, weightOf) };
    },
  }),
});
