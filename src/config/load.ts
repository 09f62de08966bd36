import { availableParallelism } from 'node:os';
import { dirname, resolve } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { nameFromText, NameError } from '../dns/name.js';
import { readKeyFile } from '../agent/key-file.js';
import { familyOf, isMulticastGroup, multicastProblem, splitZone } from '../agent/multicast.js';
import { ConfigError, type Problem } from '../lib/errors.js';
import { parseCidr, parseHostPort } from '../lib/ip.js';
import { FileTooLargeError, MAX_CONFIG_FILE_BYTES, readTextFile } from '../lib/text-file.js';
import {
  seal,
  type AgentsConfig,
  type CompiledConfig,
  type ListenAddress,
  type ZoneSource,
} from './compiled.js';
import { compileDuration, MIN_DURATION_MS } from './compile-duration.js';
import { compileApi } from './compile-api.js';
import { compileCluster } from './compile-cluster.js';
import { compileReferral } from './compile-referral.js';
import { compileLb } from './compile-lb.js';
import { compileDistributedSites } from './compile-sites.js';
import { CheckCollector } from './compile-health.js';
import { compileProtection, defaultProtection } from './compile-protection.js';
import { compileMetrics } from './schema-metrics.js';
import { canonicalName, compileServices, compileTopology } from './compile-services.js';
import { ConfigSchema, LbFileSchema, type ConfigFile, type ZoneConfig } from './schema.js';
import type { LbSettings } from '../lb/settings.js';
import type { TSchema } from '@sinclair/typebox';
import { DEFAULT_UDP_ENGINE } from './schema-udp-engine.js';
import { parseYaml, type Where, type YamlSource } from './yaml-source.js';

export type { AgentsConfig, CompiledConfig, ListenAddress, ZoneSource } from './compiled.js';

/** Defaults of the top-level sections, applied here and nowhere else. */
export const DEFAULTS = {
  listen: '127.0.0.1:5353',
  logLevel: 'info',
  udpPayloadMax: 1232,
  tcpIdleTimeoutMs: 10_000,
  tcpMessageTimeoutMs: 1000,
  tcpMaxConnections: 1024,
  tcpMaxPerSource: 64,
  tcpOutputLimit: 128 * 1024,
  agentsMissed: 3,
  agentsMaxSkewMs: 30_000,
} as const;

/** Parses `ADDR:PORT` or `[IPv6]:PORT` (port 0: the system chooses). */
export function parseListen(text: string): ListenAddress | undefined {
  const parsed = parseHostPort(text);
  return parsed?.port === undefined ? undefined : { host: parsed.host, port: parsed.port };
}

function schemaProblems(source: YamlSource, schema: TSchema = ConfigSchema): Problem[] {
  const seen = new Set<string>();
  const problems: Problem[] = [];
  for (const error of Value.Errors(schema, source.value)) {
    if (seen.has(error.path)) continue;
    seen.add(error.path);
    const path = error.path
      .split('/')
      .slice(1)
      .map((part) => (/^\d+$/.test(part) ? Number(part) : part));
    const where = path.length > 0 ? `${path.join('.')}: ` : '';
    problems.push({
      file: source.file,
      line: source.lineOf(path),
      reason: `${where}${error.message.toLowerCase()}`,
    });
  }
  return problems;
}

function inlineSource(zone: ZoneConfig, index: number, source: YamlSource): ZoneSource['inline'] {
  if (zone.records === undefined) return undefined;
  if (typeof zone.records === 'string') {
    const first = source.lineOf(['zones', index, 'records']) + 1;
    const count = zone.records.split('\n').length;
    return {
      text: zone.records,
      file: source.file,
      lines: Array.from({ length: count }, (_, i) => first + i),
    };
  }
  const lines = zone.records.map((_, i) => source.lineOf(['zones', index, 'records', i]));
  return { text: zone.records.join('\n'), file: source.file, lines };
}

function resolveZone(
  zone: ZoneConfig,
  index: number,
  source: YamlSource,
  problems: Problem[],
): ZoneSource | undefined {
  const at = (path: (string | number)[]): number => source.lineOf(['zones', index, ...path]);
  let origin: string;
  try {
    nameFromText(zone.origin.endsWith('.') ? zone.origin : `${zone.origin}.`);
    origin = canonicalName(zone.origin);
  } catch (error) {
    const reason = error instanceof NameError ? error.message : String(error);
    problems.push({
      file: source.file,
      line: at(['origin']),
      reason: `zones.${index}.origin: ${reason}`,
    });
    return undefined;
  }
  if (zone.file === undefined && zone.records === undefined) {
    problems.push({
      file: source.file,
      line: at([]),
      reason: `zones.${index}: needs a file or records`,
    });
  }
  const transfer: string[] = [];
  (zone.transfer ?? []).forEach((text, i) => {
    if (parseCidr(text)) transfer.push(text);
    else
      problems.push({
        file: source.file,
        line: at(['transfer', i]),
        reason: `not an address or CIDR: "${text}"`,
      });
  });
  return {
    origin,
    file: zone.file === undefined ? undefined : resolve(dirname(source.file), zone.file),
    inline: inlineSource(zone, index, source),
    defaultTtl: zone.ttl,
    transfer,
    declaredAt: { file: source.file, line: at([]) },
  };
}

function readAgentKey(
  path: string,
  field: 'keyFile' | 'previousKeyFile',
  source: YamlSource,
  problems: Problem[],
): string {
  try {
    return readKeyFile(path).toString('base64');
  } catch (error) {
    problems.push({
      file: source.file,
      line: source.lineOf(['agents', field]),
      reason: `agents.${field}: ${(error as Error).message}`,
    });
    return '';
  }
}

function resolveAgents(
  agents: ConfigFile['agents'],
  source: YamlSource,
  problems: Problem[],
): AgentsConfig | undefined {
  if (agents === undefined) return undefined;
  const listen: ListenAddress[] = [];
  agents.listen.forEach((text, i) => {
    // A multicast group may be given: 239.255.53.1:5380, or [ff02::5380%eth0]:5380 with
    // its interface as zone; the host then keeps the zone (`ff02::5380%eth0`).
    const { text: plain, zone } = splitZone(text);
    const address = parseListen(plain);
    const host = address && (zone === undefined ? address.host : `${address.host}%${zone}`);
    const problem = host === undefined ? undefined : multicastProblem(host);
    if (address && host !== undefined && problem === undefined) listen.push({ ...address, host });
    else
      problems.push({
        file: source.file,
        line: source.lineOf(['agents', 'listen', i]),
        reason: `agents.listen: ${problem ?? `expected ADDR:PORT or [IPv6]:PORT, got "${text}"`}`,
      });
  });
  const iface = agents.multicastInterface;
  if (
    iface !== undefined &&
    (familyOf(iface) !== 4 ||
      !listen.some((l) => familyOf(l.host) === 4 && isMulticastGroup(l.host)))
  ) {
    problems.push({
      file: source.file,
      line: source.lineOf(['agents', 'multicastInterface']),
      reason:
        familyOf(iface) !== 4
          ? `agents.multicastInterface: expected the IPv4 address of a local interface, got "${iface}" (an IPv6 group takes its interface as zone: [ff02::5380%eth0]:5380)`
          : 'agents.multicastInterface: no IPv4 multicast group in agents.listen',
    });
  }
  const keyFile = resolve(dirname(source.file), agents.keyFile);
  const key = readAgentKey(keyFile, 'keyFile', source, problems);
  const previousKey =
    agents.previousKeyFile === undefined
      ? undefined
      : readAgentKey(
          resolve(dirname(source.file), agents.previousKeyFile),
          'previousKeyFile',
          source,
          problems,
        );
  return {
    listen,
    keyFile,
    key,
    previousKey,
    missedIntervals: agents.missed ?? DEFAULTS.agentsMissed,
    maxSkewMs: compileDuration(
      agents.maxSkew,
      DEFAULTS.agentsMaxSkewMs,
      MIN_DURATION_MS.maxSkew,
      (path) => ({ file: source.file, line: source.lineOf(path) }),
      ['agents', 'maxSkew'],
      problems,
    ),
    multicastInterface: iface,
  };
}

function compileListen(config: ConfigFile, source: YamlSource, problems: Problem[]) {
  const listen: ListenAddress[] = [];
  (config.listen ?? [DEFAULTS.listen]).forEach((text, i) => {
    const address = parseListen(text);
    if (address) listen.push(address);
    else
      problems.push({
        file: source.file,
        line: source.lineOf(['listen', i]),
        reason: `listen: expected ADDR:PORT or [IPv6]:PORT, got "${text}"`,
      });
  });
  return listen;
}

/** The TCP timers of `dns`; neither may be 0 (that would turn it off). */
function compileTcpTimers(config: ConfigFile, at: Where, problems: Problem[]) {
  return {
    // A real client sends a query within one round trip: at least 100ms.
    tcpIdleTimeoutMs: compileDuration(
      config.dns?.tcpIdleTimeout,
      DEFAULTS.tcpIdleTimeoutMs,
      MIN_DURATION_MS.tcpIdleTimeout,
      at,
      ['dns', 'tcpIdleTimeout'],
      problems,
    ),
    tcpMessageTimeoutMs: compileDuration(
      config.dns?.tcpMessageTimeout,
      DEFAULTS.tcpMessageTimeoutMs,
      MIN_DURATION_MS.tcpMessageTimeout,
      at,
      ['dns', 'tcpMessageTimeout'],
      problems,
    ),
  };
}

/** Turns a schema-valid configuration into a {@link CompiledConfig}, collecting problems. */
function compile(config: ConfigFile, source: YamlSource, problems: Problem[]): CompiledConfig {
  const zones: ZoneSource[] = [];
  config.zones.forEach((zone, i) => {
    const resolved = resolveZone(zone, i, source, problems);
    if (resolved) zones.push(resolved);
  });
  const where = (path: readonly (string | number)[]) => ({
    file: source.file,
    line: source.lineOf(path),
  });
  const checks = new CheckCollector(where, problems);
  const countryDatabase =
    config.geo?.countryDatabase === undefined
      ? undefined
      : resolve(dirname(source.file), config.geo.countryDatabase);
  const listen = compileListen(config, source, problems);
  return {
    file: source.file,
    listen,
    workers: config.workers ?? availableParallelism(),
    log: {
      level: config.log?.level ?? DEFAULTS.logLevel,
      explainSample: config.log?.explainSample ?? 0,
    },
    dns: {
      udpPayloadMax: config.dns?.udpPayloadMax ?? DEFAULTS.udpPayloadMax,
      ...compileTcpTimers(config, where, problems),
      tcpMaxConnections: config.dns?.tcpMaxConnections ?? DEFAULTS.tcpMaxConnections,
      tcpMaxPerSource: config.dns?.tcpMaxPerSource ?? DEFAULTS.tcpMaxPerSource,
      tcpOutputLimit: config.dns?.tcpOutputLimit ?? DEFAULTS.tcpOutputLimit,
      udpEngine: config.dns?.udpEngine ?? DEFAULT_UDP_ENGINE,
    },
    protection: compileProtection(
      config.dns,
      source.file,
      where,
      problems,
      listen.map((l) => l.host),
    ),
    zones,
    agents: resolveAgents(config.agents, source, problems),
    metrics: compileMetrics(config.metrics),
    api: compileApi(config.api, source.file, where, problems),
    services: compileServices(config, where, problems, checks),
    topology: compileTopology(config, countryDatabase, where, problems),
    health: checks.result(config),
    cluster: compileCluster(config.cluster, source.file, where, problems),
    referral: compileReferral(config.referral, source.file, where, problems),
    lb: compileLb(config.lb, source.file, where, problems),
    distributedSites: compileDistributedSites(
      config.distributedSites,
      source.file,
      config.services ?? [],
      where,
      problems,
    ),
  };
}

/** The configuration of `serve --zone ORIGIN=FILE ...`: zones only, every default. */
export function zonesOnlyConfig(
  zones: readonly ZoneSource[],
  listen: readonly ListenAddress[],
): CompiledConfig {
  return seal({
    file: undefined,
    listen,
    workers: availableParallelism(),
    log: { level: DEFAULTS.logLevel, explainSample: 0 },
    dns: {
      udpPayloadMax: DEFAULTS.udpPayloadMax,
      tcpIdleTimeoutMs: DEFAULTS.tcpIdleTimeoutMs,
      tcpMessageTimeoutMs: DEFAULTS.tcpMessageTimeoutMs,
      tcpMaxConnections: DEFAULTS.tcpMaxConnections,
      tcpMaxPerSource: DEFAULTS.tcpMaxPerSource,
      tcpOutputLimit: DEFAULTS.tcpOutputLimit,
      udpEngine: DEFAULT_UDP_ENGINE,
    },
    protection: defaultProtection(),
    zones,
    metrics: compileMetrics(undefined),
    api: undefined,
    agents: undefined,
    services: [],
    topology: { sites: {}, ldnsGroups: {}, rules: [], countryDatabase: undefined },
    health: { checks: [], startupGraceMs: 0 },
    cluster: undefined,
  });
}

/** Compiles configuration text; throws {@link ConfigError} listing every problem. */
export function parseConfig(text: string, file: string): CompiledConfig {
  const { source, problems } = parseYaml(text, file);
  if (!source) throw new ConfigError(problems);
  const schema = schemaProblems(source);
  if (schema.length > 0) throw new ConfigError(schema);
  const config = compile(source.value as ConfigFile, source, problems);
  // In the order of the file, as a compiler lists them.
  if (problems.length > 0) throw new ConfigError(problems.sort((a, b) => a.line - b.line));
  return seal(config);
}

/**
 * Compiles the `lb:` section for `steerdns lb`. A file with `zones:` is a DNS node's and is
 * compiled whole; one without is a balancer's own file, `lb:` alone. Throws
 * {@link ConfigError} with every problem; undefined when the file has no `lb:`.
 */
export function parseLbConfig(text: string, file: string): LbSettings | undefined {
  const { source, problems } = parseYaml(text, file);
  if (!source) throw new ConfigError(problems);
  const value = source.value as Record<string, unknown> | null;
  if (typeof value === 'object' && value !== null && 'zones' in value) {
    return parseConfig(text, file).lb;
  }
  const schema = schemaProblems(source, LbFileSchema);
  if (schema.length > 0) throw new ConfigError(schema);
  const where = (path: readonly (string | number)[]) => ({ file, line: source.lineOf(path) });
  const lb = compileLb((source.value as ConfigFile).lb, file, where, problems);
  if (problems.length > 0) throw new ConfigError(problems.sort((a, b) => a.line - b.line));
  return lb;
}

/** Reads a configuration file's text; a file that cannot be read is a problem at line 0. */
async function readConfigText(file: string): Promise<string> {
  try {
    return await readTextFile(resolve(file), MAX_CONFIG_FILE_BYTES);
  } catch (error) {
    throw new ConfigError([
      {
        file,
        line: error instanceof FileTooLargeError ? error.line : 0,
        reason:
          error instanceof FileTooLargeError
            ? error.message
            : `cannot read: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      },
    ]);
  }
}

/** Reads and compiles the `lb:` section of a file (see {@link parseLbConfig}). */
export async function readLbConfig(file: string): Promise<LbSettings | undefined> {
  return parseLbConfig(await readConfigText(file), file);
}

/** Reads and compiles a configuration file. */
export async function readConfig(file: string): Promise<CompiledConfig> {
  return parseConfig(await readConfigText(file), file);
}
