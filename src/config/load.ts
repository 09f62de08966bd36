import { availableParallelism } from 'node:os';
import { dirname, resolve } from 'node:path';
import { readFile } from 'node:fs/promises';
import { Value } from '@sinclair/typebox/value';
import { nameFromText, NameError } from '../dns/name.js';
import { readKeyFile } from '../agent/key-file.js';
import { familyOf, isMulticastGroup, multicastProblem, splitZone } from '../agent/multicast.js';
import { parseDuration } from '../lib/duration.js';
import { ConfigError, type Problem } from '../lib/errors.js';
import { parseCidr, type Cidr } from '../lib/ip.js';
import { ConfigSchema, type ConfigFile, type ServiceConfig, type ZoneConfig } from './schema.js';
import { parseYaml, type YamlSource } from './yaml-source.js';

/** An address and port to listen on (UDP and TCP). */
export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/** Where a zone's records come from. */
export interface ZoneSource {
  readonly origin: Buffer;
  readonly originText: string;
  /** Absolute path of the master file, if any. */
  readonly file: string | undefined;
  /** Inline records as master-file text, with the config line of each of its lines. */
  readonly inline:
    { readonly text: string; readonly file: string; readonly lines: readonly number[] } | undefined;
  readonly defaultTtl: number | undefined;
  readonly transfer: readonly Cidr[];
  /** Where the zone is declared. */
  readonly declaredAt: { readonly file: string; readonly line: number };
}

/** Where and how node status announcements are received (the `agents` section). */
export interface AgentsConfig {
  readonly listen: readonly ListenAddress[];
  readonly keyFile: string;
  /** The shared HMAC key, read when the configuration is loaded. */
  readonly key: Buffer;
  /** A second key still accepted during a key rotation (`previousKeyFile`). */
  readonly previousKey?: Buffer | undefined;
  /** A node silent for this many of its announced intervals is removed. */
  readonly missedIntervals: number;
  readonly maxSkewMs: number;
  /** IPv4 address of the interface IPv4 multicast groups in `listen` are joined on. */
  readonly multicastInterface?: string | undefined;
}

/** A validated configuration, defaults applied and paths resolved. */
export interface ServerConfig {
  readonly file: string | undefined;
  readonly listen: readonly ListenAddress[];
  readonly workers: number;
  readonly logLevel: string;
  /** Fraction of steered queries logged with their explanation. */
  readonly explainSample: number;
  readonly udpPayloadMax: number;
  readonly tcpIdleTimeoutMs: number;
  readonly tcpMaxConnections: number;
  readonly zones: readonly ZoneSource[];
  /** The operator HTTP interface (GET /status); undefined when not served. */
  readonly api: { readonly listen: ListenAddress } | undefined;
  /** Node status announcements; undefined when not received. */
  readonly agents: AgentsConfig | undefined;
  /** Steering: the `services`, `sites` and `ldnsGroups` sections as written (schema-checked). */
  readonly steering: {
    readonly services: readonly ServiceConfig[];
    readonly sites: NonNullable<ConfigFile['sites']>;
    readonly ldnsGroups: NonNullable<ConfigFile['ldnsGroups']>;
    readonly topology: NonNullable<ConfigFile['topology']>;
    /** Absolute path of the country database, if configured. */
    readonly countryDatabase: string | undefined;
    /** The `health` section (start-up grace). */
    readonly health: ConfigFile['health'];
    /** Where a value of the file is, for `file:line: reason` (path from the document root). */
    readonly where: (path: readonly (string | number)[]) => {
      readonly file: string;
      readonly line: number;
    };
  };
}

/** Parses `ADDR:PORT` or `[IPv6]:PORT`. */
export function parseListen(text: string): ListenAddress | undefined {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|(\d{1,3}(?:\.\d{1,3}){3})):(\d{1,5})$/.exec(text);
  if (!match) return undefined;
  const host = match[1] ?? match[2]!;
  const port = Number(match[3]);
  if (port > 65535 || !parseCidr(host)) return undefined;
  return { host, port };
}

function schemaProblems(source: YamlSource): Problem[] {
  const seen = new Set<string>();
  const problems: Problem[] = [];
  for (const error of Value.Errors(ConfigSchema, source.value)) {
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
  let origin: Buffer;
  try {
    origin = nameFromText(zone.origin.endsWith('.') ? zone.origin : `${zone.origin}.`);
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
  const transfer: Cidr[] = [];
  (zone.transfer ?? []).forEach((text, i) => {
    const cidr = parseCidr(text);
    if (cidr) transfer.push(cidr);
    else
      problems.push({
        file: source.file,
        line: at(['transfer', i]),
        reason: `not an address or CIDR: "${text}"`,
      });
  });
  return {
    origin,
    originText: zone.origin,
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
): Buffer {
  try {
    return readKeyFile(path);
  } catch (error) {
    problems.push({
      file: source.file,
      line: source.lineOf(['agents', field]),
      reason: `agents.${field}: ${(error as Error).message}`,
    });
    return Buffer.alloc(0);
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
    ...(previousKey === undefined ? {} : { previousKey }),
    missedIntervals: agents.missed ?? 3,
    maxSkewMs: parseDuration(agents.maxSkew ?? 30_000) ?? 30_000,
    ...(iface === undefined ? {} : { multicastInterface: iface }),
  };
}

function resolveApi(
  api: ConfigFile['api'],
  source: YamlSource,
  problems: Problem[],
): ServerConfig['api'] {
  if (api === undefined) return undefined;
  const listen = parseListen(api.listen);
  if (listen) return { listen };
  problems.push({
    file: source.file,
    line: source.lineOf(['api', 'listen']),
    reason: `api.listen: expected ADDR:PORT or [IPv6]:PORT, got "${api.listen}"`,
  });
  return undefined;
}

/** Turns a schema-valid configuration into a {@link ServerConfig}, collecting problems. */
function resolveConfig(config: ConfigFile, source: YamlSource, problems: Problem[]): ServerConfig {
  const listen: ListenAddress[] = [];
  (config.listen ?? ['127.0.0.1:5353']).forEach((text, i) => {
    const address = parseListen(text);
    if (address) listen.push(address);
    else
      problems.push({
        file: source.file,
        line: source.lineOf(['listen', i]),
        reason: `listen: expected ADDR:PORT or [IPv6]:PORT, got "${text}"`,
      });
  });
  const zones: ZoneSource[] = [];
  config.zones.forEach((zone, i) => {
    const resolved = resolveZone(zone, i, source, problems);
    if (resolved) zones.push(resolved);
  });
  return {
    file: source.file,
    listen,
    workers: config.workers ?? availableParallelism(),
    logLevel: config.log?.level ?? 'info',
    explainSample: config.log?.explainSample ?? 0,
    udpPayloadMax: config.dns?.udpPayloadMax ?? 1232,
    tcpIdleTimeoutMs: parseDuration(config.dns?.tcpIdleTimeout ?? 10_000) ?? 10_000,
    tcpMaxConnections: config.dns?.tcpMaxConnections ?? 1024,
    zones,
    agents: resolveAgents(config.agents, source, problems),
    api: resolveApi(config.api, source, problems),
    steering: {
      services: config.services ?? [],
      sites: config.sites ?? {},
      ldnsGroups: config.ldnsGroups ?? {},
      topology: config.topology ?? [],
      health: config.health,
      countryDatabase:
        config.geo?.countryDatabase === undefined
          ? undefined
          : resolve(dirname(source.file), config.geo.countryDatabase),
      where: (path) => ({ file: source.file, line: source.lineOf(path) }),
    },
  };
}

/** Parses and validates configuration text; throws {@link ConfigError} listing every problem. */
export function parseConfig(text: string, file: string): ServerConfig {
  const { source, problems } = parseYaml(text, file);
  if (!source) throw new ConfigError(problems);
  const schema = schemaProblems(source);
  if (schema.length > 0) throw new ConfigError(schema);
  const config = resolveConfig(source.value as ConfigFile, source, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** Reads and validates a configuration file. */
export async function readConfig(file: string): Promise<ServerConfig> {
  const path = resolve(file);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError([
      {
        file,
        line: 0,
        reason: `cannot read: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      },
    ]);
  }
  return parseConfig(text, file);
}
