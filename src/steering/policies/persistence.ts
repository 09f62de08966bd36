import { Type } from '@sinclair/typebox';
import { formatAddress, maskBytes } from '../../lib/ip.js';
import type { PersistenceStore } from '../persistence-store.js';
import { definePolicy, type ClientInfo, type Member, type PolicyDeps } from '../types.js';
import { chosenFirst } from './order.js';

const Config = Type.Object(
  {
    key: Type.Union([Type.Literal('resolver'), Type.Literal('subnet')], {
      default: 'resolver',
      description:
        'resolver: the LDNS address (or its LDNS group); subnet: the ECS subnet when sent',
    }),
    ipv4Mask: Type.Integer({ minimum: 0, maximum: 32, default: 32 }),
    ipv6Mask: Type.Integer({ minimum: 0, maximum: 128, default: 128 }),
    ttl: Type.Integer({
      minimum: 1,
      maximum: 604800,
      default: 3600,
      description: 'seconds an entry holds',
    }),
    ttlByHour: Type.Array(
      Type.Object(
        {
          from: Type.Integer({ minimum: 0, maximum: 23 }),
          to: Type.Integer({ minimum: 1, maximum: 24 }),
          ttl: Type.Integer({ minimum: 1, maximum: 604800 }),
        },
        { additionalProperties: false },
      ),
      { default: [], description: 'TTL by UTC hour of day [from, to); the first match wins' },
    ),
    maxEntries: Type.Integer({ minimum: 1, default: 1_000_000 }),
  },
  { additionalProperties: false },
);

function groupIndex(deps: PolicyDeps): Map<string, string> {
  const index = new Map<string, string>();
  for (const [name, members] of deps.topology.ldnsGroups)
    for (const address of members) index.set(address, name);
  return index;
}

/**
 * Seed 001 persistence: a returning LDNS (or LDNS group, or client subnet) gets the member
 * it got before while the entry's TTL holds and the member is still eligible; otherwise the
 * chain's choice is remembered. Goes after the selection policy: it reorders that choice.
 */
export const persistence = definePolicy({
  name: 'persistence',
  config: Config,
  create: (config, deps) => {
    const store: PersistenceStore = deps.persistence(deps.service, config.maxEntries);
    const groups = groupIndex(deps);
    const useSubnet = config.key === 'subnet';
    /** The key of a client and the ECS scope it implies. */
    const keyOf = (client: ClientInfo): [string, number] => {
      if (!useSubnet) {
        const group = groups.size > 0 ? groups.get(client.resolverText) : undefined;
        if (group !== undefined) return [`group:${group}`, 0];
      }
      const address = useSubnet ? client.location : client.resolver;
      const full = address.length * 8;
      const mask = Math.min(
        address.length === 4 ? config.ipv4Mask : config.ipv6Mask,
        useSubnet ? client.locationPrefix : full,
      );
      const scope = useSubnet && client.fromEcs ? mask : 0;
      // The common case, a whole resolver address, needs no formatting at all.
      if (!useSubnet && mask === full) return [client.resolverText, scope];
      return [`${formatAddress(maskBytes(address, mask))}/${mask}`, scope];
    };
    const ttlAt = (now: number): number => {
      if (config.ttlByHour.length === 0) return config.ttl * 1000;
      const hour = new Date(now).getUTCHours();
      return (
        (config.ttlByHour.find((rule) => hour >= rule.from && hour < rule.to)?.ttl ?? config.ttl) *
        1000
      );
    };
    return {
      name: 'persistence',
      apply(candidates: readonly Member[], ctx) {
        if (candidates.length === 0) return { candidates };
        const [key, scope] = keyOf(ctx.client);
        const remembered = store.hit(key, ctx.now);
        const kept =
          remembered === undefined ? undefined : candidates.find((m) => m.id === remembered);
        if (kept) {
          const ordered = chosenFirst(candidates, kept);
          // Fixed-shape literals: a spread into the result would cost more than the lookup.
          if (!ctx.explain) return { candidates: ordered, scope };
          return { candidates: ordered, scope, notes: [`${key} stays on ${kept.id}`] };
        }
        const chosen = candidates[0]!;
        store.set(key, {
          member: chosen.id,
          expires: ctx.now + ttlAt(ctx.now),
          lastSeen: ctx.now,
          hits: 1,
        });
        if (!ctx.explain) return { candidates, scope };
        const why =
          remembered === undefined ? 'new or expired' : `${remembered} no longer eligible`;
        return { candidates, scope, notes: [`${key} ${why}: now ${chosen.id}`] };
      },
    };
  },
});
