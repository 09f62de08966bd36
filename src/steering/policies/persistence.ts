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

const HOUR_MS = 3_600_000;

/**
 * Seed 001 persistence: a returning LDNS (or LDNS group, or client subnet) gets the member
 * it got before while its entry holds (`now <= lastSeen + ttl`: every hit slides it) and
 * the member is still eligible; otherwise the chain's choice is remembered. Goes after the
 * selection policy. The chain asks {@link Policy.recall} before that policy runs and, on a
 * hit, skips the selection (role `select`) policies: a returning client advances no
 * rotation. `ttlByHour` is read at every hit: the TTL in force now holds the entry.
 */
export const persistence = definePolicy({
  name: 'persistence',
  config: Config,
  create: (config, deps) => {
    const store: PersistenceStore = deps.persistence(deps.service, config.maxEntries);
    const groups = groupIndex(deps);
    const useSubnet = config.key === 'subnet';
    const keyOf = (client: ClientInfo): string => {
      if (!useSubnet) {
        const group = groups.size > 0 ? groups.get(client.resolverText) : undefined;
        if (group !== undefined) return `group:${group}`;
      }
      const address = useSubnet ? client.location : client.resolver;
      const full = address.length * 8;
      const mask = maskOf(client);
      // The common case, a whole resolver address, needs no formatting at all.
      if (!useSubnet && mask === full) return client.resolverText;
      return `${formatAddress(maskBytes(address, mask))}/${mask}`;
    };
    const maskOf = (client: ClientInfo): number => {
      const address = useSubnet ? client.location : client.resolver;
      return Math.min(
        address.length === 4 ? config.ipv4Mask : config.ipv6Mask,
        useSubnet ? client.locationPrefix : address.length * 8,
      );
    };
    /** The ECS scope the key implies: the prefix used, when it came from ECS. */
    const scopeOf = (client: ClientInfo): number =>
      useSubnet && client.fromEcs ? maskOf(client) : 0;
    // recall and apply run for the same query: compute its key once (ClientInfo is per query).
    let lastClient: ClientInfo | undefined;
    let lastKey = '';
    const cachedKey = (client: ClientInfo): string => {
      if (client !== lastClient) {
        lastKey = keyOf(client);
        lastClient = client;
      }
      return lastKey;
    };
    const ttlAt = (now: number): number => {
      if (config.ttlByHour.length === 0) return config.ttl * 1000;
      const hour = Math.floor(now / HOUR_MS) % 24; // UTC, without allocating a Date
      for (const rule of config.ttlByHour)
        if (hour >= rule.from && hour < rule.to) return rule.ttl * 1000;
      return config.ttl * 1000;
    };
    const find = (candidates: readonly Member[], id: string | undefined): Member | undefined => {
      if (id === undefined) return undefined;
      for (const member of candidates) if (member.id === id) return member;
      return undefined;
    };
    return {
      name: 'persistence',
      role: 'persistence',
      recall: (candidates, ctx) => find(candidates, store.peek(cachedKey(ctx.client), ctx.now)),
      apply(candidates: readonly Member[], ctx) {
        if (candidates.length === 0) return { candidates };
        const key = cachedKey(ctx.client);
        const scope = scopeOf(ctx.client);
        const ttlMs = ttlAt(ctx.now);
        const remembered = store.hit(key, ctx.now, ttlMs);
        const kept = find(candidates, remembered);
        if (kept) {
          const ordered = chosenFirst(candidates, kept);
          // Fixed-shape literals: a spread into the result would cost more than the lookup.
          if (!ctx.explain) return { candidates: ordered, scope };
          return { candidates: ordered, scope, notes: [`${key} stays on ${kept.id}`] };
        }
        const chosen = candidates[0]!;
        store.set(key, { member: chosen.id, created: ctx.now, lastSeen: ctx.now, ttlMs, hits: 1 });
        if (!ctx.explain) return { candidates, scope };
        const why =
          remembered === undefined ? 'new or expired' : `${remembered} no longer eligible`;
        return { candidates, scope, notes: [`${key} ${why}: now ${chosen.id}`] };
      },
    };
  },
});
