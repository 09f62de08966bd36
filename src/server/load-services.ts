import { isIP } from 'node:net';
import { Value } from '@sinclair/typebox/value';
import type { ServerConfig } from '../config/load.js';
import type { MemberConfig, ServiceConfig } from '../config/schema.js';
import { Rcode, RRType } from '../dns/constants.js';
import { nameFromText, NameError, nameToText, wireKey } from '../dns/name.js';
import type { Problem } from '../lib/errors.js';
import { policies } from '../steering/policies/index.js';
import { PersistenceStores } from '../steering/persistence-store.js';
import type { AllDownAction, Service } from '../steering/service.js';
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

type Where = (path: readonly (string | number)[]) => { file: string; line: number };

/** The wire names of every service, to declare in the zones before they are sealed. */
export function serviceNames(config: ServerConfig): Buffer[] {
  const names: Buffer[] = [];
  for (const service of config.steering.services) {
    try {
      names.push(absolute(service.name));
    } catch {
      // reported by loadServices
    }
  }
  return names;
}

const absolute = (text: string): Buffer => nameFromText(text.endsWith('.') ? text : `${text}.`);

function buildMember(
  service: string,
  config: MemberConfig,
  pool: string,
  index: number,
  ordinal: number,
  at: Where,
  path: (string | number)[],
  problems: Problem[],
  type: string,
): Member | undefined {
  const addresses = [
    ...(config.address === undefined ? [] : [config.address]),
    ...(config.addresses ?? []),
  ];
  const bad = addresses.filter((a) => isIP(a) === 0);
  for (const address of bad)
    problems.push({
      ...at(path),
      reason: `member ${config.name}: not an IP address: "${address}"`,
    });
  if (bad.length > 0) return undefined;
  let target: string | undefined;
  if (type === 'CNAME') {
    if (config.target === undefined) {
      problems.push({
        ...at(path),
        reason: `member ${config.name}: a CNAME service needs a target`,
      });
      return undefined;
    }
    target = nameToText(absolute(config.target));
  } else if (addresses.length === 0) {
    problems.push({ ...at(path), reason: `member ${config.name}: needs an address` });
    return undefined;
  }
  return {
    id: `${pool}/${config.name}`,
    key: `${service} ${pool}/${config.name}`,
    name: config.name,
    pool,
    index,
    ipv4: addresses.filter((a) => isIP(a) === 4),
    ipv6: addresses.filter((a) => isIP(a) === 6),
    ipv4Bytes: addresses.filter((a) => isIP(a) === 4).map((a) => Buffer.from(parseAddress(a)!)),
    ipv6Bytes: addresses.filter((a) => isIP(a) === 6).map((a) => Buffer.from(parseAddress(a)!)),
    ordinal,
    target,
    site: config.site,
    region: config.region,
    country: config.country?.toUpperCase(),
    coordinates: config.coordinates,
    weight: config.weight ?? 1,
    capacity: config.capacity,
    admin: config.admin ?? 'enabled',
  };
}

function buildChain(
  service: ServiceConfig,
  deps: PolicyDeps,
  at: Where,
  path: (string | number)[],
  problems: Problem[],
): Policy[] {
  const chain: Policy[] = [];
  (service.policies ?? ['up', 'admin', 'weighted']).forEach((entry, i) => {
    const { policy: name, ...settings } = typeof entry === 'string' ? { policy: entry } : entry;
    const definition = policies.get(name);
    if (!definition) {
      problems.push({
        ...at([...path, i]),
        reason: `unknown policy "${name}"; known: ${[...policies.keys()].join(', ')}`,
      });
      return;
    }
    const withDefaults: unknown = Value.Default(definition.config, Value.Clone(settings));
    const errors = [...Value.Errors(definition.config, withDefaults)];
    for (const error of errors) {
      const field = error.path.split('/').filter(Boolean);
      problems.push({
        ...at([...path, i, ...field]),
        reason: `policy ${name}: ${error.path || 'settings'}: ${error.message.toLowerCase()}`,
      });
    }
    if (errors.length === 0) chain.push(definition.create(withDefaults, deps));
  });
  return chain;
}

function buildAllDown(
  config: ServiceConfig['allDown'],
  at: Where,
  path: (string | number)[],
  problems: Problem[],
): AllDownAction {
  if (config === undefined || config === 'fail-open') return { action: 'fail-open' };
  if (config === 'nodata' || config === 'servfail') return { action: config };
  if (config.action === 'rcode')
    return { action: 'rcode', rcode: Rcode[config.rcode], ttl: config.ttl ?? 60 };
  const addresses = config.addresses ?? [];
  for (const a of addresses.filter((x) => isIP(x) === 0))
    problems.push({ ...at(path), reason: `allDown: not an IP address: "${a}"` });
  if (addresses.length === 0 && config.cname === undefined)
    problems.push({ ...at(path), reason: 'allDown fallback needs addresses or a cname' });
  return {
    action: 'fallback',
    ipv4: addresses.filter((a) => isIP(a) === 4),
    ipv6: addresses.filter((a) => isIP(a) === 6),
    cname: config.cname === undefined ? undefined : nameToText(absolute(config.cname)),
  };
}

function placeService(
  name: Buffer,
  zones: ZoneSet,
  at: Where,
  path: (string | number)[],
  problems: Problem[],
): Zone | undefined {
  const key = wireKey(name);
  const zone = zones.findZone(key);
  if (!zone) {
    problems.push({
      ...at(path),
      reason: `service ${nameToText(name)} is not inside any zone served`,
    });
    return undefined;
  }
  const node = zone.nodes.get(key);
  if (node?.cut)
    problems.push({ ...at(path), reason: `service ${nameToText(name)} is below a delegation` });
  for (const type of [RRType.A, RRType.AAAA, RRType.CNAME]) {
    if (rrsetOf(node, type))
      problems.push({
        ...at(path),
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

function geoFor(file: string | undefined, at: Where, problems: Problem[]): GeoLookup {
  const path = file ?? bundledCountryDatabase();
  let geo = geoCache.get(path);
  if (geo) return geo;
  try {
    geo = openGeo(path);
  } catch (error) {
    problems.push({
      ...at(['geo', 'countryDatabase']),
      reason: `cannot open country database ${path}: ${String(error)}`,
    });
    return NO_GEO;
  }
  geoCache.set(path, geo);
  return geo;
}

function compileRules(config: ServerConfig, problems: Problem[]): TopologyRule[] {
  const { topology, where: at } = config.steering;
  return topology.map((rule, index) => {
    const cidrs = (rule.match.cidr ?? []).flatMap((text, i) => {
      const cidr = parseCidr(text);
      if (!cidr)
        problems.push({
          ...at(['topology', index, 'match', 'cidr', i]),
          reason: `not a CIDR: "${text}"`,
        });
      return cidr ? [cidr] : [];
    });
    return {
      cidrs,
      regions: (rule.match.region ?? []).map((r) => r.toUpperCase()),
      countries: (rule.match.country ?? []).map((c) => c.toUpperCase()),
      continents: rule.match.continent ?? [],
      ldnsGroups: rule.match.ldnsGroup ?? [],
      prefer: new Map(Object.entries(rule.prefer)),
      index,
    };
  });
}

type PoolConfig = NonNullable<ServiceConfig['pools']>[number];

/**
 * The service's pools with the nodes that announce themselves added (seed 000): to the
 * `dynamic.pool` pool, created after the configured ones when absent. A node whose id is
 * already a configured member's name is that member (its agent reports its load), not a
 * new one.
 */
function withDynamicMembers(
  service: ServiceConfig,
  name: string,
  announced: readonly AnnouncedNode[],
  where: { file: string; line: number },
  problems: Problem[],
): PoolConfig[] {
  const pools = service.pools ?? [];
  const { dynamic } = service;
  if (dynamic === undefined) {
    if (pools.length === 0)
      problems.push({ ...where, reason: `service ${name}: needs pools or dynamic members` });
    return pools;
  }
  if (service.type === 'CNAME') {
    problems.push({ ...where, reason: `service ${name}: dynamic members need type A or AAAA` });
    return pools;
  }
  const configured = new Set(pools.flatMap((pool) => pool.members.map((m) => m.name)));
  const service_ = name.toLowerCase();
  const joined: MemberConfig[] = announced
    .filter((node) => node.service === service_ && !configured.has(node.node))
    .map((node) => ({
      name: node.node,
      addresses: [...node.addresses],
      weight: dynamic.weight ?? 1,
      ...(node.capacity === undefined ? {} : { capacity: node.capacity }),
      ...(dynamic.site === undefined ? {} : { site: dynamic.site }),
      ...(dynamic.region === undefined ? {} : { region: dynamic.region }),
    }));
  const poolName = dynamic.pool ?? 'agents';
  const existing = pools.findIndex((pool) => pool.name === poolName);
  if (existing < 0)
    return joined.length > 0 ? [...pools, { name: poolName, members: joined }] : pools;
  return pools.map((pool, i) =>
    i === existing ? { ...pool, members: [...pool.members, ...joined] } : pool,
  );
}

/**
 * Builds every service of the configuration: members, policy chains (each policy's settings
 * checked against its schema), all-down behaviour, and its place in a zone. Problems carry
 * the configuration file's line.
 */
export function loadServices(
  config: ServerConfig,
  zones: ZoneSet,
  stores: PersistenceStores = new PersistenceStores(),
  announced: readonly AnnouncedNode[] = [],
): { services: LoadedServices; problems: Problem[] } {
  const { services, sites, ldnsGroups, where: at } = config.steering;
  const problems: Problem[] = [];
  const byKey = new Map<string, SteeredName>();
  const state = new Map<string, MemberState>();
  const topology: PolicyDeps['topology'] = {
    sites: new Map(
      Object.entries(sites).map(([name, site]) => [
        name,
        { region: site.region, coordinates: site.coordinates },
      ]),
    ),
    ldnsGroups: new Map(Object.entries(ldnsGroups)),
    rules: compileRules(config, problems),
    geo: services.length > 0 ? geoFor(config.steering.countryDatabase, at, problems) : NO_GEO,
  };
  services.forEach((serviceConfig, s) => {
    const path = ['services', s];
    let name: Buffer;
    try {
      name = absolute(serviceConfig.name);
    } catch (error) {
      problems.push({
        ...at([...path, 'name']),
        reason: error instanceof NameError ? error.message : String(error),
      });
      return;
    }
    const key = wireKey(name);
    if (byKey.has(key))
      problems.push({
        ...at([...path, 'name']),
        reason: `service ${nameToText(name)} is defined twice`,
      });
    const zone = placeService(name, zones, at, [...path, 'name'], problems);
    const type = serviceConfig.type ?? 'A';
    let ordinal = 0;
    const configured = withDynamicMembers(
      serviceConfig,
      nameToText(name),
      announced,
      at([...path, 'dynamic']),
      problems,
    );
    const pools = configured
      .map((pool, p) => ({
        name: pool.name,
        members: pool.members.flatMap((m, i) => {
          const member = buildMember(
            nameToText(name),
            m,
            pool.name,
            i,
            ordinal++,
            at,
            [...path, 'pools', p, 'members', i],
            problems,
            type,
          );
          if (member && m.state) state.set(member.key, { ...UNKNOWN, ...m.state });
          return member ? [member] : [];
        }),
      }))
      .map((pool) => ({
        ...pool,
        ipv4Members: pool.members.filter((m) => m.ipv4.length > 0),
        ipv6Members: pool.members.filter((m) => m.ipv6.length > 0),
      }));
    const members = pools.flatMap((pool) => pool.members);
    const chain = buildChain(
      serviceConfig,
      {
        service: nameToText(name),
        members,
        topology,
        persistence: (service, max) => stores.forService(service, max),
      },
      at,
      [...path, 'policies'],
      problems,
    );
    const allDown = buildAllDown(serviceConfig.allDown, at, [...path, 'allDown'], problems);
    if (!zone) return;
    const service: Service = {
      name: nameToText(name),
      type: type === 'CNAME' ? 'cname' : 'address',
      ttl: serviceConfig.ttl ?? 30,
      answers: serviceConfig.answers ?? 1,
      pools,
      chain,
      allDown,
    };
    byKey.set(key, { key, name, zone, service });
  });
  return {
    services: { byKey, staticState: { member: (id) => state.get(id) ?? UNKNOWN } },
    problems,
  };
}
