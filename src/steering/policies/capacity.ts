import { Type } from '@sinclair/typebox';
import { definePolicy, type Member } from '../types.js';
import { proportionalFirst } from './share.js';

/**
 * Seed 003/004: connections / capacity. Drops members at or above `threshold` percent full
 * and orders the rest by headroom, emptiest first. Members without figures go last.
 */
export const capacity = definePolicy({
  name: 'capacity',
  config: Type.Object(
    {
      threshold: Type.Number({
        minimum: 1,
        maximum: 100,
        default: 100,
        description: 'percent full that excludes',
      }),
      mode: Type.Union([Type.Literal('order'), Type.Literal('proportional')], {
        default: 'order',
        description: 'order: emptiest first; proportional: answers in proportion to headroom',
      }),
    },
    { additionalProperties: false },
  ),
  create: ({ threshold, mode }, deps) => {
    const current = new Float64Array(deps.members.length);
    return {
      name: 'capacity',
      apply(candidates, ctx) {
        const scored: { member: Member; fill: number }[] = [];
        const notes: string[] = [];
        for (const member of candidates) {
          const connections = ctx.state.member(member.key).connections;
          const fill =
            connections === undefined || !member.capacity
              ? Infinity
              : (100 * connections) / member.capacity;
          if (fill !== Infinity && fill >= threshold) {
            if (ctx.explain)
              notes.push(`${member.id} is ${fill.toFixed(0)}% full (threshold ${threshold}%)`);
            continue;
          }
          scored.push({ member, fill });
        }
        scored.sort((a, b) => a.fill - b.fill);
        const ordered = scored.map((s) => s.member);
        if (mode === 'order') return { candidates: ordered, notes };
        // Headroom = capacity - connections: seed 004's "right server, not always the best".
        const share = (member: Member): number => {
          const connections = ctx.state.member(member.key).connections;
          if (connections === undefined || !member.capacity) return 0;
          return Math.max(0, member.capacity - connections);
        };
        return { candidates: proportionalFirst(ordered, current, share), notes };
      },
    };
  },
});
