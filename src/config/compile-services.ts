import { isIP } from 'node:net';
import { Value } from '@sinclair/typebox/value';
import { Rcode } from '../dns/constants.js';
import { nameFromText, NameError, nameToText } from '../dns/name.js';
import type { Problem } from '../lib/errors.js';
import { canonicalAddress, memberAddressProblem, parseAddress, parseCidr } from '../lib/ip.js';
import { policies } from '../steering/policies/index.js';
import type {
  CompiledAllDown,
  CompiledMember,
  CompiledPolicy,
  CompiledPool,
  CompiledService,
  CompiledTopology,
  CompiledTopologyRule,
  SourcePosition,
} from './compiled.js';
import type { CheckCollector } from './compile-health.js';
import { memberKey } from './member-key.js';
import type { ConfigFile, MemberConfig, ServiceConfig } from './schema.js';
import type { Where } from './yaml-source.js';

type Path = readonly (string | number)[];

const DEFAULT_POLICIES = ['up', 'admin', 'weighted'] as const;

/** A domain name as steerdns keeps it: lower case, with its trailing dot. */
export function canonicalName(text: string): string {
  return nameToText(nameFromText(text.endsWith('.') ? text : `${text}.`)).toLowerCase();
}

function compileAddresses(
  config: MemberConfig,
  at: SourcePosition,
  problems: Problem[],
): string[] | undefined {
  const addresses = [
    ...(config.address === undefined ? [] : [config.address]),
    ...(config.addresses ?? []),
  ];
  const checked = answerableAddresses(addresses, at, `member ${config.name}`, problems);
  return checked.length === addresses.length ? checked : undefined;
}

/**
 * The addresses that can be answered, in canonical form (RFC 5952: `2001:0db8::1` is
 * `2001:db8::1`); a problem for each that is no address, or one clients cannot be sent to
 * (unspecified, broadcast, multicast, IPv4-mapped), or one listed twice.
 */
function answerableAddresses(
  addresses: readonly string[],
  at: SourcePosition,
  what: string,
  problems: Problem[],
): string[] {
  const good: string[] = [];
  for (const address of addresses) {
    const canonical = canonicalAddress(address);
    const problem =
      canonical === undefined
        ? 'not an IP address'
        : (memberAddressProblem(parseAddress(canonical)!) ??
          (good.includes(canonical) ? 'listed twice' : undefined));
    if (problem === undefined) good.push(canonical!);
    else problems.push({ ...at, reason: `${what}: ${problem}: "${address}"` });
  }
  return good;
}

function compileTarget(
  config: MemberConfig,
  at: SourcePosition,
  problems: Problem[],
): string | undefined | false {
  if (config.target === undefined) {
    problems.push({ ...at, reason: `member ${config.name}: a CNAME service needs a target` });
    return false;
  }
  try {
    return canonicalName(config.target);
  } catch (error) {
    problems.push({ ...at, reason: `member ${config.name}: target: ${String(error)}` });
    return false;
  }
}

/** One member, checked; undefined (with problems) when it cannot be answered. */
function compileMember(
  service: CompiledService['name'],
  pool: string,
  config: MemberConfig,
  type: CompiledService['type'],
  at: SourcePosition,
  problems: Problem[],
): CompiledMember | undefined {
  const addresses = compileAddresses(config, at, problems);
  if (!addresses) return undefined;
  let target: string | undefined;
  if (type === 'CNAME') {
    const checked = compileTarget(config, at, problems);
    if (checked === false) return undefined;
    target = checked;
  } else if (addresses.length === 0) {
    problems.push({ ...at, reason: `member ${config.name}: needs an address` });
    return undefined;
  }
  return {
    name: config.name,
    key: memberKey(service, pool, config.name),
    addresses,
    target,
    site: config.site,
    region: config.region,
    country: config.country?.toUpperCase(),
    coordinates: config.coordinates,
    weight: config.weight ?? 1,
    capacity: config.capacity,
    cost: config.cost,
    admin: config.admin ?? 'enabled',
    announce: config.announce ?? 'optional',
    state: config.state,
    check: undefined,
    declaredAt: at,
  };
}

function compilePools(
  service: string,
  config: ServiceConfig,
  type: CompiledService['type'],
  at: Where,
  path: Path,
  problems: Problem[],
  checks: CheckCollector,
): CompiledPool[] {
  const poolNames = new Set<string>();
  return (config.pools ?? []).map((pool, p) => {
    if (poolNames.has(pool.name))
      problems.push({
        ...at([...path, 'pools', p, 'name']),
        reason: `service ${service}: pool "${pool.name}" is defined twice`,
      });
    poolNames.add(pool.name);
    const memberNames = new Set<string>();
    const members = pool.members.flatMap((m, i) => {
      const where = at([...path, 'pools', p, 'members', i]);
      if (memberNames.has(m.name)) {
        problems.push({
          ...at([...path, 'pools', p, 'members', i, 'name']),
          reason: `pool ${pool.name} of ${service}: member "${m.name}" is defined twice`,
        });
        return [];
      }
      memberNames.add(m.name);
      const member = compileMember(service, pool.name, m, type, where, problems);
      if (!member) return [];
      const memberPath = [...path, 'pools', p, 'members', i];
      const check = checks.memberCheck(config.health, m, memberPath, path);
      return [check === undefined ? member : { ...member, check }];
    });
    return { name: pool.name, members };
  });
}

function compilePolicies(config: ServiceConfig, at: Where, path: Path, problems: Problem[]) {
  const out: CompiledPolicy[] = [];
  (config.policies ?? DEFAULT_POLICIES).forEach((entry, i) => {
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
    if (errors.length === 0)
      out.push({ policy: name, settings: withDefaults as Record<string, unknown> });
  });
  return out;
}

function compileAllDown(
  config: ServiceConfig['allDown'],
  at: SourcePosition,
  problems: Problem[],
): CompiledAllDown {
  if (config === undefined || config === 'fail-open') return { action: 'fail-open' };
  if (config === 'nodata' || config === 'servfail') return { action: config };
  if (config.action === 'rcode')
    return { action: 'rcode', rcode: Rcode[config.rcode], ttl: config.ttl ?? 60 };
  const addresses = answerableAddresses(config.addresses ?? [], at, 'allDown', problems);
  if ((config.addresses ?? []).length === 0 && config.cname === undefined)
    problems.push({ ...at, reason: 'allDown fallback needs addresses or a cname' });
  let cname: string | undefined;
  try {
    cname = config.cname === undefined ? undefined : canonicalName(config.cname);
  } catch (error) {
    problems.push({ ...at, reason: `allDown: cname: ${String(error)}` });
  }
  return {
    action: 'fallback',
    ipv4: addresses.filter((a) => isIP(a) === 4),
    ipv6: addresses.filter((a) => isIP(a) === 6),
    cname,
  };
}

function compileDynamic(
  config: ServiceConfig,
  name: string,
  at: SourcePosition,
  problems: Problem[],
): CompiledService['dynamic'] {
  const { dynamic } = config;
  if (dynamic === undefined) {
    if ((config.pools ?? []).length === 0)
      problems.push({ ...at, reason: `service ${name}: needs pools or dynamic members` });
    return undefined;
  }
  if (config.type === 'CNAME') {
    problems.push({ ...at, reason: `service ${name}: dynamic members need type A or AAAA` });
    return undefined;
  }
  return {
    pool: dynamic.pool ?? 'agents',
    weight: dynamic.weight ?? 1,
    site: dynamic.site,
    region: dynamic.region,
  };
}

function compileService(
  config: ServiceConfig,
  s: number,
  at: Where,
  problems: Problem[],
  checks: CheckCollector,
): CompiledService | undefined {
  const path = ['services', s];
  let name: string;
  try {
    name = canonicalName(config.name);
  } catch (error) {
    const reason = error instanceof NameError ? error.message : String(error);
    problems.push({ ...at([...path, 'name']), reason });
    return undefined;
  }
  const type = config.type ?? 'A';
  return {
    name,
    type,
    ttl: config.ttl ?? 30,
    answers: config.answers ?? 1,
    pools: compilePools(name, config, type, at, path, problems, checks),
    dynamic: compileDynamic(config, name, at([...path, 'dynamic']), problems),
    policies: compilePolicies(config, at, [...path, 'policies'], problems),
    allDown: compileAllDown(config.allDown, at([...path, 'allDown']), problems),
    declaredAt: at([...path, 'name']),
  };
}

/** Every service of the file, checked: members, pools, health checks, policy settings, all-down behaviour. */
export function compileServices(
  file: ConfigFile,
  at: Where,
  problems: Problem[],
  checks: CheckCollector,
): CompiledService[] {
  const seen = new Set<string>();
  return (file.services ?? []).flatMap((config, s) => {
    const service = compileService(config, s, at, problems, checks);
    if (!service) return [];
    if (seen.has(service.name)) {
      problems.push({
        ...at(['services', s, 'name']),
        reason: `service ${service.name} is defined twice`,
      });
      return [];
    }
    seen.add(service.name);
    return [service];
  });
}

function compileRule(
  rule: NonNullable<ConfigFile['topology']>[number],
  index: number,
  at: Where,
  problems: Problem[],
): CompiledTopologyRule {
  const cidrs = (rule.match.cidr ?? []).filter((text, i) => {
    if (parseCidr(text)) return true;
    problems.push({
      ...at(['topology', index, 'match', 'cidr', i]),
      reason: `not a CIDR: "${text}"`,
    });
    return false;
  });
  return {
    cidrs,
    regions: (rule.match.region ?? []).map((r) => r.toUpperCase()),
    countries: (rule.match.country ?? []).map((c) => c.toUpperCase()),
    continents: rule.match.continent ?? [],
    ldnsGroups: rule.match.ldnsGroup ?? [],
    prefer: rule.prefer,
    index,
  };
}

/** Sites, LDNS groups and topology rules, with the country database's absolute path. */
export function compileTopology(
  file: ConfigFile,
  countryDatabase: string | undefined,
  at: Where,
  problems: Problem[],
): CompiledTopology {
  const sites: Record<string, CompiledTopology['sites'][string]> = {};
  for (const [name, site] of Object.entries(file.sites ?? {}))
    sites[name] = { region: site.region, coordinates: site.coordinates };
  return {
    sites,
    ldnsGroups: file.ldnsGroups ?? {},
    rules: (file.topology ?? []).map((rule, i) => compileRule(rule, i, at, problems)),
    countryDatabase,
  };
}
