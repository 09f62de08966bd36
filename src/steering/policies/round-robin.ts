import { Type } from '@sinclair/typebox';
import { definePolicy, type Member } from '../types.js';

/** Rotates the candidates by one position per query. */
export const roundRobin = definePolicy({
  name: 'round-robin',
  config: Type.Object({}, { additionalProperties: false }),
  create: () => {
    let counter = 0;
    return {
      name: 'round-robin',
      role: 'select',
      apply(candidates) {
        if (candidates.length === 0) return { candidates };
        const start = counter++ % candidates.length;
        const out: Member[] = [];
        for (let i = 0; i < candidates.length; i++)
          out.push(candidates[(start + i) % candidates.length]!);
        return { candidates: out };
      },
    };
  },
});
