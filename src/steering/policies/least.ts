import { Type } from '@sinclair/typebox';
import {
  definePolicy,
  type Member,
  type PolicyDefinition,
  type SelectionContext,
} from '../types.js';
import { proportionalFirst } from './share.js';

const config = Type.Object(
  {
    mode: Type.Union([Type.Literal('order'), Type.Literal('proportional')], {
      default: 'order',
      description: 'order: lowest first; proportional: answers in proportion to headroom',
    }),
  },
  { additionalProperties: false },
);

/**
 * Headroom of a member ("the right server, not always the best", seeds 003/004): 100 - load
 * for load; capacity - connections for connections (0 without a capacity).
 */
function headroom(member: Member, ctx: SelectionContext, metric: 'load' | 'connections'): number {
  const value = ctx.state.member(member.key)[metric];
  if (value === undefined) return 0;
  if (metric === 'load') return Math.max(0, 100 - value);
  return member.capacity === undefined ? 0 : Math.max(0, member.capacity - value);
}

/**
 * Orders by a live metric, lowest first; members without a figure go last, in order. In
 * proportional mode the first place is shared in proportion to headroom.
 */
function leastBy(name: string, metric: 'load' | 'connections'): PolicyDefinition<typeof config> {
  return definePolicy({
    name,
    config,
    create: ({ mode }, deps) => {
      const current = new Float64Array(deps.members.length);
      return {
        name,
        role: 'select',
        apply(candidates, ctx) {
          const scored = candidates.map((member, index) => ({
            member,
            index,
            value: ctx.state.member(member.key)[metric] ?? Infinity,
          }));
          scored.sort((a, b) => a.value - b.value || a.index - b.index);
          const ordered = scored.map((s): Member => s.member);
          const share = (member: Member): number => headroom(member, ctx, metric);
          const notes = ctx.explain
            ? scored.map(
                (s) =>
                  `${s.member.id} ${metric} ${s.value === Infinity ? 'unknown' : s.value}` +
                  (mode === 'proportional' ? ` headroom ${share(s.member)}` : ''),
              )
            : [];
          if (mode === 'order') return { candidates: ordered, notes };
          return { candidates: proportionalFirst(ordered, current, share), notes };
        },
      };
    },
  });
}

/** Least load percentage first (seed 000 status announcements). */
export const leastLoad = leastBy('least-load', 'load');
/** Fewest active connections first. */
export const leastConnections = leastBy('least-connections', 'connections');
