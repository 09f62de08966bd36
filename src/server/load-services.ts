import { isIP } from 'node:net';
import { Value } from '@sinclair/typebox/value';
import type {
  CompiledConfig,
  CompiledMember,
  CompiledPool,
  CompiledService,
  SourcePosition,
} from '../config/compiled.js';
import { memberId, memberKey } from '../config/member-key.js';
import { RRType } from '../dns/constants.js';
import { nameFromText, nameToText, wireKey } from '../dns/name.js';
import type { Problem } from '../lib/errors.js';
import { policies } from '../steering/policies/index.js';
import { PersistenceStores } from '../steering/persistence-store.js';
import type { Service } from '../steering/service.js';
import type {
  Member,
  MemberState,
  Policy,
  PolicyDeps,
  StateView,
  TopologyRule,
} from '../steering/types.js';
import { bundledCountryDatabase, openGeo, type GeoLookup } from '../geo/geo.js';
import { parseAddress, parseCidr } from '../lib/ip.js';
import { rrsetOf, type Zone } from '../zone/zone.js';
import type { ZoneSet } from '../zone/zone-set.js';
import type { SteeredName } from '../answer/steer.js';
import type { AnnouncedNode } from '../agent/registry.js';

/** Every steered name, with the state given statically in the configuration. */
export interface LoadedServices {
  readonly byKey: ReadonlyMap<string, SteeredName>;
  readonly staticState: StateView;
}

const UNKNOWN: MemberState = {
  up: undefined,
  load: undefined,
  connections: undefined,
  admin: undefined,
  ttlHint: undefined,
  responseMs: undefined,
};

/** The wire names of every service, to declare in the zones before they are sealed. */
export function serviceNames(config: CompiledConfig): Buffer[] {
  return config.services.map((service) => nameFromText(service.name));
}

function buildMember(member: CompiledMember, pool: string, index: number, ordinal: number): Member {
  const ipv4 = member.addresses.filter((a) => isIP(a) === 4);
  const ipv6 = member.addresses.filter((a) => isIP(a) === 6);
  return {
    id: memberId(pool, member.name),
    key: member.key,
    name: member.name,
    pool,
    index,
    ipv4,
    ipv6,
    ipv4Bytes: ipv4.map((a) => Buffer.from(parseAddress(a)!)),
    ipv6Bytes: ipv6.map((a) => Buffer.from(parseAddress(a)!)),
    ordinal,
    target: member.target,
    site: member.site,
    region: member.region,
    country: member.country,
    coordinates: member.coordinates,
    weight: member.weight,
    capacity: member.capacity,
    cost: member.cost,
    admin: member.admin,
    announce: member.announce,
  };
}

function buildChain(service: CompiledService, deps: PolicyDeps): Policy[] {
  return service.policies.map(({ policy, settings }) =>
    policies.get(policy)!.create(Value.Clone(settings), deps),
  );
}

function placeService(
  name: Buffer,
  zones: ZoneSet,
  at: SourcePosition,
  problems: Problem[],
): Zone | undefined {
  const key = wireKey(name);
  const zone = zones.findZone(key);
  if (!zone) {
    problems.push({ ...at, reason: `service ${nameToText(name)} is not inside any zone served` });
    return undefined;
  }
  const node = zone.nodes.get(key);
  if (node?.cut)
    problems.push({ ...at, reason: `service ${nameToText(name)} is below a delegation` });
  for (const type of [RRType.A, RRType.AAAA, RRType.CNAME]) {
    if (rrsetOf(node, type))
      problems.push({
        ...at,
        reason: `service ${nameToText(name)} also has static ${type === RRType.CNAME ? 'CNAME' : 'address'} records in its zone`,
      });
  }
  return zone;
}

const NO_GEO: GeoLookup = {
  locate: () => ({ country: undefined, continent: undefined, region: undefined, prefix: 0 }),
};

/** Country databases already read, by path: a reload does not read the file again. */
const geoCache = new Map<string, GeoLookup>();

function geoFor(file: string | undefined, at: SourcePosition, problems: Problem[]): GeoLookup {
  const path = file ?? bundledCountryDatabase();
  let geo = geoCache.get(path);
  if (geo) return geo;
  try {
    geo = openGeo(path);
  } catch (error) {
    problems.push({ ...at, reason: `cannot open country database ${path}: ${String(error)}` });
    return NO_GEO;
  }
  geoCache.set(path, geo);
  return geo;
}

function buildTopology(config: CompiledConfig, problems: Problem[]): PolicyDeps['topology'] {
  const { topology } = config;
  const rules: TopologyRule[] = topology.rules.map((rule) => ({
    cidrs: rule.cidrs.map((text) => parseCidr(text)!),
    regions: rule.regions,
    countries: rule.countries,
    continents: rule.continents,
    ldnsGroups: rule.ldnsGroups,
    prefer: new Map(Object.entries(rule.prefer)),
    index: rule.index,
  }));
  const at = { file: config.file ?? 'configuration', line: 0 };
  return {
    sites: new Map(Object.entries(topology.sites)),
    ldnsGroups: new Map(Object.entries(topology.ldnsGroups)),
    rules,
    geo:
      config.services.length > 0 || config.referral?.backbone?.unmapped === 'geo'
        ? geoFor(topology.countryDatabase, at, problems)
        : NO_GEO,
  };
}

/**
 * The country database a DNS-B with `unmapped: geo` locates resolvers with: the one the
 * services were loaded with (read, and any problem reported, by {@link loadServices}).
 */
export function referralGeo(config: CompiledConfig): GeoLookup | undefined {
  if (config.referral?.backbone?.unmapped !== 'geo') return undefined;
  return geoCache.get(config.topology.countryDatabase ?? bundledCountryDatabase());
}

/**
 * The service's pools with the nodes that announce themselves added (seed 000): to the
 * dynamic pool, created after the configured ones when absent. A node whose id is
 * already a configured member's name is that member (its agent reports its load), not a
 * new one.
 */
function withDynamicMembers(
  service: CompiledService,
  announced: readonly AnnouncedNode[],
): readonly CompiledPool[] {
  const { dynamic, pools } = service;
  if (dynamic === undefined) return pools;
  const configured = new Set(pools.flatMap((pool) => pool.members.map((m) => m.name)));
  const joined: CompiledMember[] = announced
    .filter((node) => node.service === service.name && !configured.has(node.node))
    .map((node) => ({
      name: node.node,
      key: memberKey(service.name, dynamic.pool, node.node),
      addresses: [...node.addresses],
      target: undefined,
      site: dynamic.site,
      region: dynamic.region,
      country: undefined,
      coordinates: undefined,
      weight: dynamic.weight,
      capacity: node.capacity,
      cost: undefined,
      admin: 'enabled',
      announce: 'required',
      state: undefined,
      check: undefined,
      declaredAt: service.declaredAt,
    }));
  const existing = pools.findIndex((pool) => pool.name === dynamic.pool);
  if (existing < 0)
    return joined.length > 0 ? [...pools, { name: dynamic.pool, members: joined }] : pools;
  return pools.map((pool, i) =>
    i === existing ? { ...pool, members: [...pool.members, ...joined] } : pool,
  );
}

/**
 * Builds every service of a compiled configuration for the answer path: members, policy
 * chains and all-down behaviour, placed in a zone. The configuration was checked when it
 * was compiled; what is left to find here depends on the zones (a service outside every
 * zone, below a delegation, or beside static address records).
 */
export function loadServices(
  config: CompiledConfig,
  zones: ZoneSet,
  stores: PersistenceStores = new PersistenceStores(),
  announced: readonly AnnouncedNode[] = [],
): { services: LoadedServices; problems: Problem[] } {
  const problems: Problem[] = [];
  const byKey = new Map<string, SteeredName>();
  const state = new Map<string, MemberState>();
  const topology = buildTopology(config, problems);
  for (const compiled of config.services) {
    const name = nameFromText(compiled.name);
    const key = wireKey(name);
    const zone = placeService(name, zones, compiled.declaredAt, problems);
    let ordinal = 0;
    const pools = withDynamicMembers(compiled, announced).map((pool) => {
      const members = pool.members.map((m, i) => {
        if (m.state) state.set(m.key, { ...UNKNOWN, ...m.state });
        return buildMember(m, pool.name, i, ordinal++);
      });
      return {
        name: pool.name,
        members,
        ipv4Members: members.filter((m) => m.ipv4.length > 0),
        ipv6Members: members.filter((m) => m.ipv6.length > 0),
      };
    });
    const members = pools.flatMap((pool) => pool.members);
    const chain = buildChain(compiled, {
      service: compiled.name,
      members,
      topology,
      persistence: (service, max) => stores.forService(service, max),
    });
    if (!zone) continue;
    const service: Service = {
      name: compiled.name,
      type: compiled.type === 'CNAME' ? 'cname' : 'address',
      ttl: compiled.ttl,
      answers: compiled.answers,
      pools,
      chain,
      allDown: compiled.allDown,
    };
    byKey.set(key, { key, name, zone, service });
  }
  return {
    services: { byKey, staticState: { member: (id) => state.get(id) ?? UNKNOWN } },
    problems,
  };
}
