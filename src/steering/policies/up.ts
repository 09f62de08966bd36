import { Type } from '@sinclair/typebox';
import { definePolicy, type Member } from '../types.js';

/** Keeps members that are up (or not checked yet); caps the TTL at the shortest health hint. */
export const up = definePolicy({
  name: 'up',
  config: Type.Object({}, { additionalProperties: false }),
  create: () => ({
    name: 'up',
    apply(candidates, ctx) {
      let maxTtl: number | undefined;
      let kept: Member[] | undefined;
      for (let i = 0; i < candidates.length; i++) {
        const member = candidates[i]!;
        const state = ctx.state.member(member.key);
        if (state.ttlHint !== undefined && (maxTtl === undefined || state.ttlHint < maxTtl))
          maxTtl = state.ttlHint;
        // Copy only once something is dropped: the common all-up case allocates nothing.
        if (state.up === false) kept ??= candidates.slice(0, i);
        else kept?.push(member);
      }
      const result = kept ?? candidates;
      if (ctx.explain) {
        const notes = candidates.filter((m) => !result.includes(m)).map((m) => `${m.id} is down`);
        return maxTtl === undefined
          ? { candidates: result, notes }
          : { candidates: result, notes, maxTtl };
      }
      // Object literals of a fixed shape: spreading into one costs more than the whole check.
      return maxTtl === undefined ? { candidates: result } : { candidates: result, maxTtl };
    },
  }),
});
