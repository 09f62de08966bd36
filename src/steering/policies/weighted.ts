import { Type } from '@sinclair/typebox';
import { definePolicy } from '../types.js';
import { chosenFirstWeighted, smoothWeighted } from './order.js';
import type { Member } from '../types.js';

const weightOf = (member: Member): number => member.weight;

/** Smooth weighted round robin by member weight; the chosen member first. */
export const weighted = definePolicy({
  name: 'weighted',
  config: Type.Object({}, { additionalProperties: false }),
  create: (_config, deps) => {
    const current = new Float64Array(deps.members.length);
    return {
      name: 'weighted',
      role: 'select',
      admits: (member) => weightOf(member) > 0,
      apply(candidates) {
        const chosen = smoothWeighted(candidates, current, weightOf);
        return { candidates: chosen ? chosenFirstWeighted(candidates, chosen, weightOf) : [] };
      },
    };
  },
});
