import { continentOf } from '../../src/geo/continents.js';
import type { GeoLookup, Place } from '../../src/geo/geo.js';
import { rirOf } from '../../src/geo/iana-ipv4.js';
import {
  cidrContains,
  formatAddress,
  maskBytes,
  parseAddress,
  parseCidr,
} from '../../src/lib/ip.js';
import { PersistenceStores } from '../../src/steering/persistence-store.js';
import type { AllDownAction, Pool, Service } from '../../src/steering/service.js';
import type {
  ClientInfo,
  Member,
  MemberState,
  Policy,
  PolicyDeps,
  SelectionContext,
  StateView,
  TopologyConfig,
  TopologyRule,
} from '../../src/steering/types.js';

/**
 * Builders for steering tests: members, a fixed state view, a client, a selection context
 * with a seeded random, and a service for chain tests. Every builder fills sensible
 * defaults so a table row only names what it is about.
 */

/** The service every builder belongs to. */
export const SERVICE = 'www.example.org.';

/** The state key of a member id (`pool/name`): unique across services, as load-services makes it. */
export const keyOf = (id: string): string => `${SERVICE} ${id}`;

/** A member state with every fact unknown (never checked, nothing reported). */
export const UNKNOWN: MemberState = Object.freeze({
  up: undefined,
  load: undefined,
  connections: undefined,
  admin: undefined,
  ttlHint: undefined,
  responseMs: undefined,
});

/** Fields a test may set on a member; `name` is required, the rest default. */
export type MemberSpec = Partial<Omit<Member, 'name'>> & { readonly name: string };

const bytesOf = (text: string): Buffer => {
  const bytes = parseAddress(text);
  if (!bytes) throw new Error(`member: not an address: ${text}`);
  return Buffer.from(bytes);
};

/**
 * A member of pool `p` (unless given) with one documentation address per index
 * (192.0.2.index+1, 2001:db8::index+1), weight 1, admin enabled; its ordinal is its index.
 */
export function member(spec: MemberSpec | string, index = 0): Member {
  const s: MemberSpec = typeof spec === 'string' ? { name: spec } : spec;
  const pool = s.pool ?? 'p';
  const i = s.index ?? index;
  const ipv4 = s.ipv4 ?? [`192.0.2.${String(i + 1)}`];
  const ipv6 = s.ipv6 ?? [`2001:db8::${(i + 1).toString(16)}`];
  const id = s.id ?? `${pool}/${s.name}`;
  return {
    id,
    key: s.key ?? keyOf(id),
    name: s.name,
    pool,
    index: i,
    ordinal: s.ordinal ?? i,
    ipv4,
    ipv6,
    ipv4Bytes: s.ipv4Bytes ?? ipv4.map(bytesOf),
    ipv6Bytes: s.ipv6Bytes ?? ipv6.map(bytesOf),
    target: s.target,
    site: s.site,
    region: s.region,
    country: s.country,
    coordinates: s.coordinates,
    weight: s.weight ?? 1,
    capacity: s.capacity,
    cost: s.cost,
    admin: s.admin ?? 'enabled',
    announce: s.announce ?? 'optional',
  };
}

/** Members named by `names` (or specs), indexed in list order. */
export const members = (...specs: (MemberSpec | string)[]): Member[] =>
  specs.map((spec, i) => member(spec, i));

/** The ids of a member list, for assertions. */
export const ids = (list: readonly Member[]): string[] => list.map((m) => m.id);

/** The names of a member list, for assertions that read like the seeds. */
export const names = (list: readonly Member[]): string[] => list.map((m) => m.name);

/**
 * A fixed state view: `states` maps a member id (`pool/name`, or a bare name for pool `p`)
 * to the facts known about it; anything else is UNKNOWN. Looked up by member key.
 */
export function stateView(states: Readonly<Record<string, Partial<MemberState>>> = {}): StateView {
  const table = new Map<string, MemberState>();
  for (const [id, facts] of Object.entries(states)) {
    table.set(keyOf(id.includes('/') ? id : `p/${id}`), Object.freeze({ ...UNKNOWN, ...facts }));
  }
  return { member: (key) => table.get(key) ?? UNKNOWN };
}

/**
 * The client of a query: `resolver` is the source address; `ecs` (`ADDR/LEN`) the client
 * subnet when the resolver sent one.
 */
export function client(resolver = '192.0.2.200', ecs?: string): ClientInfo {
  const resolverBytes = parseAddress(resolver);
  if (!resolverBytes) throw new Error(`client: not an address: ${resolver}`);
  const resolverText = formatAddress(resolverBytes);
  if (ecs === undefined)
    return {
      resolver: resolverBytes,
      location: resolverBytes,
      locationPrefix: resolverBytes.length * 8,
      fromEcs: false,
      resolverText,
    };
  const [address = '', prefix = ''] = ecs.split('/');
  const location = parseAddress(address);
  if (!location || !/^\d+$/.test(prefix)) throw new Error(`client: not ADDR/LEN: ${ecs}`);
  return {
    resolver: resolverBytes,
    location: maskBytes(location, Number(prefix)),
    locationPrefix: Number(prefix),
    fromEcs: true,
    resolverText,
  };
}

/** A seeded pseudo-random source in [0, 1) (mulberry32): the same seed, the same sequence. */
export function seededRandom(seed = 1): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** What `context()` accepts; every field defaults. */
export interface ContextSpec {
  readonly state?: StateView;
  readonly client?: ClientInfo;
  readonly seed?: number;
  readonly random?: () => number;
  readonly explain?: boolean;
  readonly now?: number;
}

/** A selection context: unknown state, resolver 192.0.2.200, seeded random (seed 1). */
export function context(spec: ContextSpec = {}): SelectionContext {
  return {
    service: SERVICE,
    client: spec.client ?? client(),
    state: spec.state ?? stateView(),
    random: spec.random ?? seededRandom(spec.seed ?? 1),
    now: spec.now ?? 1_700_000_000_000,
    explain: spec.explain ?? false,
  };
}

/** Applies `policy` and returns the ids it kept, in order. */
export const applyIds = (
  policy: Policy,
  candidates: readonly Member[],
  ctx: SelectionContext,
): string[] => ids(policy.apply(candidates, ctx).candidates);

/** Freezes a value and everything reachable from it (typed arrays cannot be frozen: skipped). */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || ArrayBuffer.isView(value)) return value;
  for (const key of Reflect.ownKeys(value))
    deepFreeze((value as Record<PropertyKey, unknown>)[key]);
  return Object.freeze(value);
}

/** A place nobody knows: no country, continent or region. */
export const NOWHERE: Place = Object.freeze({
  country: undefined,
  continent: undefined,
  region: undefined,
  prefix: 0,
});

/**
 * A country database for tests: the first CIDR in `blocks` that holds the address gives its
 * country (continent from the country); the prefix of that CIDR is the block prefix.
 */
export function fixedGeo(blocks: Readonly<Record<string, string>> = {}): GeoLookup {
  const table = Object.entries(blocks).map(([text, country]) => {
    const cidr = parseCidr(text);
    if (!cidr) throw new Error(`fixedGeo: not a CIDR: ${text}`);
    return { cidr, country };
  });
  return {
    locate(address) {
      const found = table.find((b) => cidrContains(b.cidr, address));
      if (!found) return { ...NOWHERE, region: rirOf(address) };
      return {
        country: found.country,
        continent: continentOf(found.country),
        region: rirOf(address),
        prefix: found.cidr.prefix,
      };
    },
  };
}

/** A topology rule: match fields as in the configuration, `prefer` as site/pool/name -> score. */
export function rule(
  index: number,
  match: {
    readonly cidr?: readonly string[];
    readonly region?: readonly string[];
    readonly country?: readonly string[];
    readonly continent?: readonly string[];
    readonly ldnsGroup?: readonly string[];
  },
  prefer: Readonly<Record<string, number>>,
): TopologyRule {
  return {
    cidrs: (match.cidr ?? []).map((text) => {
      const cidr = parseCidr(text);
      if (!cidr) throw new Error(`rule: not a CIDR: ${text}`);
      return cidr;
    }),
    regions: match.region ?? [],
    countries: match.country ?? [],
    continents: match.continent ?? [],
    ldnsGroups: match.ldnsGroup ?? [],
    prefer: new Map(Object.entries(prefer)),
    index,
  };
}

/** Sites A-F (the seed 003 example), with a registry region and coordinates each. */
export const SITES: TopologyConfig['sites'] = new Map([
  ['A', { region: 'ARIN', coordinates: [39.0, -77.5] }],
  ['B', { region: 'RIPE', coordinates: [53.3, -6.3] }],
  ['C', { region: 'APNIC', coordinates: [35.7, 139.7] }],
  ['D', { region: 'LACNIC', coordinates: [-23.5, -46.6] }],
  ['E', { region: 'AFRINIC', coordinates: [-33.9, 18.4] }],
  ['F', { region: undefined, coordinates: undefined }],
]);

/**
 * What a policy is built from: the members, sites A-F, no topology rules, no country
 * database, and a fresh persistence store (two builds never share state). `topology`
 * replaces any of the topology fields.
 */
export function policyDeps(
  list: readonly Member[] = [],
  topology: Partial<TopologyConfig> = {},
): PolicyDeps {
  const stores = new PersistenceStores();
  return {
    service: SERVICE,
    members: list,
    topology: {
      rules: [],
      geo: fixedGeo(),
      sites: SITES,
      ldnsGroups: new Map(),
      ...topology,
    },
    persistence: (name, maxEntries) => stores.forService(name, maxEntries),
  };
}

/** What `service()` accepts; pools are built from member lists named by pool. */
export interface ServiceSpec {
  readonly pools: readonly (readonly [string, readonly (MemberSpec | string)[]])[];
  readonly chain: readonly Policy[];
  readonly ttl?: number;
  readonly answers?: number;
  readonly allDown?: AllDownAction;
}

/** A service for chain tests: members of each pool get ids `pool/name` and running ordinals. */
export function service(spec: ServiceSpec): Service {
  let ordinal = 0;
  const pools: Pool[] = spec.pools.map(([name, list]) => {
    const poolMembers = list.map((m, i) =>
      member({ ...(typeof m === 'string' ? { name: m } : m), pool: name, ordinal: ordinal++ }, i),
    );
    return {
      name,
      members: poolMembers,
      ipv4Members: poolMembers.filter((m) => m.ipv4.length > 0),
      ipv6Members: poolMembers.filter((m) => m.ipv6.length > 0),
    };
  });
  return {
    name: SERVICE,
    type: 'address',
    ttl: spec.ttl ?? 30,
    answers: spec.answers ?? 1,
    pools,
    chain: spec.chain,
    allDown: spec.allDown ?? { action: 'fail-open' },
  };
}
