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
    maxNewPerSourcePerSecond: Type.Integer({
      minimum: 0,
      default: 100,
      description:
        'new entries one query source (its /24 or /56) may create per second; above it the ' +
        'answer is not remembered. 0: no cap',
    }),
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

/** Buckets of a {@link SourceRateLimiter} (a power of 2): 32 KiB of counters. */
const BUCKETS = 4096;

/**
 * Counts new persistence entries per query source prefix (the resolver's /24 for IPv4,
 * /56 for IPv6: the address the query came from, not the ECS subnet it chose) per second,
 * in a fixed table: two hashed buckets per prefix (a count-min sketch), reset when a
 * bucket's second has passed. Bounded whatever the number of sources. A prefix is admitted
 * while the smaller of its two counts is under the cap, so another source is refused only
 * if heavy sources fill both of its buckets in the same second.
 */
export class SourceRateLimiter {
  private readonly counts = new Uint32Array(BUCKETS);
  private readonly seconds = new Float64Array(BUCKETS).fill(-1);
  /** New entries refused since the limiter was made. */
  refused = 0;

  readonly perSecond: number;

  constructor(perSecond: number) {
    this.perSecond = perSecond;
  }

  /** True if `source` (4 or 16 bytes) may create one more entry at `now` (ms); counts it. */
  admit(source: Uint8Array, now: number): boolean {
    if (this.perSecond === 0) return true;
    const second = Math.floor(now / 1000);
    const hash = prefixHash(source);
    const a = hash & (BUCKETS - 1);
    const b = (Math.imul(hash, 0x9e3779b1) >>> 20) & (BUCKETS - 1);
    const countA = this.current(a, second);
    const countB = this.current(b, second);
    if (Math.min(countA, countB) >= this.perSecond) {
      this.refused++;
      return false;
    }
    this.counts[a] = countA + 1;
    this.counts[b] = countB + 1;
    return true;
  }

  private current(bucket: number, second: number): number {
    if (this.seconds[bucket] === second) return this.counts[bucket]!;
    this.seconds[bucket] = second;
    this.counts[bucket] = 0;
    return 0;
  }
}

/** True for an IPv4-mapped IPv6 address (::ffff:a.b.c.d). */
const isMapped = (bytes: Uint8Array): boolean => {
  if (bytes.length !== 16 || bytes[10] !== 0xff || bytes[11] !== 0xff) return false;
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return false;
  return true;
};

/** FNV-1a of the source prefix: the first 3 bytes of IPv4, 7 of IPv6, with the family. */
function prefixHash(bytes: Uint8Array): number {
  const mapped = isMapped(bytes);
  const v4 = bytes.length === 4 || mapped;
  const from = mapped ? 12 : 0;
  let hash = v4 ? 0x811c9dc5 : 0x050c5d1f;
  for (let i = from; i < from + (v4 ? 3 : 7); i++) hash = Math.imul(hash ^ bytes[i]!, 0x01000193);
  return hash >>> 0;
}

/** The source prefix as text, for explain: `198.51.100.0/24`, `2001:db8::/56`. */
function sourcePrefix(bytes: Uint8Array): string {
  const v4 = bytes.length === 4 ? bytes : isMapped(bytes) ? bytes.subarray(12) : undefined;
  if (v4) return `${formatAddress(maskBytes(v4, 24))}/24`;
  return `${formatAddress(maskBytes(bytes, 56))}/56`;
}

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
    const limiter = new SourceRateLimiter(config.maxNewPerSourcePerSecond);
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
        const remembered =
          ctx.dryRun === true ? store.peek(key, ctx.now) : store.hit(key, ctx.now, ttlMs);
        const kept = find(candidates, remembered);
        if (kept) {
          const ordered = chosenFirst(candidates, kept);
          // Fixed-shape literals: a spread into the result would cost more than the lookup.
          if (!ctx.explain) return { candidates: ordered, scope };
          return { candidates: ordered, scope, notes: [`${key} stays on ${kept.id}`] };
        }
        const chosen = candidates[0]!;
        // A new key (or an expired one) costs a table entry: capped per query source. Above
        // the cap the answer is the chain's, as if there were no persistence policy: not
        // remembered, and no ECS scope of ours (resolvers may cache it for every client).
        if (ctx.dryRun === true) {
          const why =
            remembered === undefined ? 'new or expired' : `${remembered} no longer eligible`;
          return { candidates, scope, notes: [`${key} ${why}: would now be ${chosen.id}`] };
        }
        if (remembered === undefined && !limiter.admit(ctx.client.resolver, ctx.now)) {
          if (!ctx.explain) return { candidates, scope: 0 };
          const source = sourcePrefix(ctx.client.resolver);
          const why = `over ${limiter.perSecond} new entries this second from ${source}`;
          return { candidates, scope: 0, notes: [`${key} not remembered: ${why}`] };
        }
        store.set(key, { member: chosen.id, created: ctx.now, lastSeen: ctx.now, ttlMs, hits: 1 });
        if (!ctx.explain) return { candidates, scope };
        const why =
          remembered === undefined ? 'new or expired' : `${remembered} no longer eligible`;
        return { candidates, scope, notes: [`${key} ${why}: now ${chosen.id}`] };
      },
    };
  },
});
