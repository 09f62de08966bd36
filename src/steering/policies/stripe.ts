import { Type } from '@sinclair/typebox';
import { definePolicy, type Member, type SelectionContext } from '../types.js';

/** The address as an integer, modulo n, without BigInt (works for IPv4 and IPv6). */
export function addressModulo(address: Uint8Array, n: number): number {
  let rest = 0;
  for (const byte of address) rest = (rest * 256 + byte) % n;
  return rest;
}

/**
 * Seed 001 static stripe (modulus): N = members marked up; X = (LDNS address mod N) + 1;
 * walk the list circularly, counting down at each up member, until X = 0. When none is up,
 * round robin over all of them regardless of state. Does its own health check, so it is
 * used without `up` before it.
 */
export const stripe = definePolicy({
  name: 'stripe',
  config: Type.Object(
    {
      key: Type.Union([Type.Literal('resolver'), Type.Literal('client')], {
        default: 'resolver',
        description: 'resolver: the LDNS address (seed 001); client: the ECS subnet when sent',
      }),
    },
    { additionalProperties: false },
  ),
  create: ({ key }) => {
    let fallback = 0;
    return {
      name: 'stripe',
      role: 'select',
      apply(candidates: readonly Member[], ctx: SelectionContext) {
        if (candidates.length === 0) return { candidates };
        const upFlags = candidates.map((m) => ctx.state.member(m.key).up !== false);
        const n = upFlags.filter(Boolean).length;
        if (n === 0) {
          const chosen = candidates[fallback++ % candidates.length]!;
          return { candidates: [chosen], notes: ctx.explain ? ['no member up: round robin'] : [] };
        }
        const address = key === 'client' ? ctx.client.location : ctx.client.resolver;
        let x = addressModulo(address, n) + 1;
        let i = -1;
        while (x > 0) {
          i = (i + 1) % candidates.length;
          if (upFlags[i]) x--;
        }
        const chosen = candidates[i]!;
        const scope = key === 'client' && ctx.client.fromEcs ? ctx.client.locationPrefix : 0;
        const notes = ctx.explain
          ? [`N=${n}, X=${addressModulo(address, n) + 1}: ${chosen.id}`]
          : [];
        return { candidates: [chosen], scope, notes };
      },
    };
  },
});
