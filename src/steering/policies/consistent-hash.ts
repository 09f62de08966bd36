import { Type } from '@sinclair/typebox';
import { maskBytes } from '../../lib/ip.js';
import { definePolicy, type Member } from '../types.js';

/** 32-bit FNV-1a over the bytes of `key`, then of `text`. */
function fnv1a(key: Uint8Array, text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of key) hash = Math.imul(hash ^ byte, 0x01000193);
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  // final avalanche (murmur3 fmix32): FNV alone clusters on similar inputs
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

/**
 * Rendezvous (highest random weight) hashing of the client prefix onto the members,
 * weighted: when a member leaves, only the clients it had move. The client is the ECS
 * subnet when sent, else the resolver, masked to the configured prefix.
 */
export const consistentHash = definePolicy({
  name: 'consistent-hash',
  config: Type.Object(
    {
      ipv4Prefix: Type.Integer({ minimum: 0, maximum: 32, default: 24 }),
      ipv6Prefix: Type.Integer({ minimum: 0, maximum: 128, default: 56 }),
    },
    { additionalProperties: false },
  ),
  create: ({ ipv4Prefix, ipv6Prefix }) => ({
    name: 'consistent-hash',
    role: 'select',
    admits: (member) => member.weight > 0,
    apply(candidates, ctx) {
      const { location, locationPrefix, fromEcs } = ctx.client;
      const prefix = Math.min(location.length === 4 ? ipv4Prefix : ipv6Prefix, locationPrefix);
      const key = maskBytes(location, prefix);
      const scored = candidates.map((member: Member) => {
        const unit = (fnv1a(key, member.id) + 0.5) / 4294967296;
        return { member, score: member.weight > 0 ? member.weight / -Math.log(unit) : -1 };
      });
      scored.sort((a, b) => b.score - a.score);
      const kept = scored.filter((s) => s.score >= 0).map((s) => s.member);
      return fromEcs ? { candidates: kept, scope: prefix } : { candidates: kept };
    },
  }),
});
