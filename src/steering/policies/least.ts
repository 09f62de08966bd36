import { Type } from '@sinclair/typebox';
import { definePolicy, type Member, type PolicyDefinition } from '../types.js';

const config = Type.Object({}, { additionalProperties: false });

/** Orders by a live metric, lowest first; members without a figure go last, in order. */
function leastBy(name: string, metric: 'load' | 'connections'): PolicyDefinition<typeof config> {
  return definePolicy({
    name,
    config,
    create: () => ({
      name,
      role: 'select',
      apply(candidates, ctx) {
        const scored = candidates.map((member, index) => ({
          member,
          index,
          value: ctx.state.member(member.key)[metric] ?? Infinity,
        }));
        scored.sort((a, b) => a.value - b.value || a.index - b.index);
        const notes = ctx.explain
          ? scored.map(
              (s) => `${s.member.id} ${metric} ${s.value === Infinity ? 'unknown' : s.value}`,
            )
          : [];
        return { candidates: scored.map((s): Member => s.member), notes };
      },
    }),
  });
}

/** Least load percentage first (seed 000 status announcements). */
export const leastLoad = leastBy('least-load', 'load');
/** Fewest active connections first. */
export const leastConnections = leastBy('least-connections', 'connections');
