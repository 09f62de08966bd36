import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import {
  parseListen,
  readConfig,
  zonesOnlyConfig,
  type CompiledConfig,
  type ListenAddress,
  type ZoneSource,
} from '../config/load.js';
import { canonicalName } from '../config/compile-services.js';
import { nameFromText } from '../dns/name.js';
import { ConfigError } from '../lib/errors.js';
import type { ConfigSource } from '../app.js';

/** Usage text of the command. */
export const USAGE = `usage:
  steerdns serve --config FILE [--listen ADDR:PORT ...] [--workers N] [--log-level LEVEL]
  steerdns serve --zone ORIGIN=FILE [--zone ...] --listen ADDR:PORT [--listen ...] [--workers N]
  steerdns check FILE...            (configuration .yaml/.yml, or zone files: [--origin NAME],
                                    else the file's leading $ORIGIN, else the file name)
  steerdns explain --server ADDR:PORT NAME [--type A] [--client IP] [--ecs CIDR] [--json] [--tls] [--ca FILE]
                                    (on a running server's live state: its api.listen)
  steerdns explain --config FILE NAME [...]   (on the configuration alone: no checks, no agents)
  steerdns status --config FILE [--json]    (runs one round of the checks and lists every member)
  steerdns status --server ADDR:PORT [--json] [--tls] [--ca FILE]   (asks a running server: its api.listen)
                                    (status exits 3 when a service has no member up)
  steerdns drain|enable|disable SERVICE POOL/MEMBER --server ADDR:PORT --token-file FILE
                                    [--reason TEXT] [--for DURATION] [--tls] [--ca FILE] [--json]
  steerdns override SERVICE POOL/MEMBER --health up|down [--for DURATION] [--reason TEXT] | --clear
                                    --server ADDR:PORT --token-file FILE   (a running server's REST API)
  steerdns cluster override set|clear|list ... --config FILE   (overrides every node applies)
  steerdns cluster config push NEW.yaml --config FILE   (every node loads it; steerdns cluster help)
  steerdns agent --to ADDR:PORT[,...] --key-file FILE --service NAME --address IP [...]
                                    (announces this node's status; steerdns agent --help)
  steerdns lb --config FILE          (one balancer of an active/standby pair; steerdns lb --help)
  steerdns version

  ADDR:PORT is 127.0.0.1:5353 or [::1]:5353. LEVEL is fatal, error, warn, info, debug, trace.`;

/** A command-line mistake; printed with the usage. */
export class UsageError extends Error {
  readonly code = 'STEERDNS_ERR_USAGE';
}

/** What `steerdns serve` was asked to do. */
export interface ServeOptions {
  readonly source: ConfigSource;
  readonly logLevel: string | undefined;
}

function parseZoneFlag(text: string): ZoneSource {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new UsageError(`--zone expects ORIGIN=FILE, got "${text}"`);
  const originText = text.slice(0, eq);
  const file = resolve(text.slice(eq + 1));
  let origin: string;
  try {
    nameFromText(originText.endsWith('.') ? originText : `${originText}.`);
    origin = canonicalName(originText);
  } catch (error) {
    throw new UsageError(
      `--zone ${text}: the origin is not a domain name: ${(error as Error).message}`,
    );
  }
  return {
    origin,
    file,
    inline: undefined,
    defaultTtl: undefined,
    transfer: [],
    declaredAt: { file: '--zone', line: 0 },
  };
}

function parseListenFlags(values: readonly string[]): ListenAddress[] {
  return values.map((text) => {
    const address = parseListen(text);
    if (!address) throw new UsageError(`--listen expects ADDR:PORT or [IPv6]:PORT, got "${text}"`);
    return address;
  });
}

function parseWorkers(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const workers = Number(text);
  if (!Number.isInteger(workers) || workers < 1 || workers > 256) {
    throw new UsageError(`--workers expects an integer from 1 to 256, got "${text}"`);
  }
  return workers;
}

const LOG_LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

function parseLogLevel(text: string | undefined): string | undefined {
  if (text === undefined || LOG_LEVELS.has(text)) return text;
  throw new UsageError(`--log-level expects one of ${[...LOG_LEVELS].join(', ')}, got "${text}"`);
}

/** Parses the arguments of `steerdns serve`. */
export function parseServeArgs(args: readonly string[]): ServeOptions {
  const { values } = parseArgs({
    args: [...args],
    options: {
      config: { type: 'string', short: 'c' },
      zone: { type: 'string', multiple: true },
      listen: { type: 'string', multiple: true },
      workers: { type: 'string' },
      'log-level': { type: 'string' },
    },
    strict: true,
    allowPositionals: false,
  });
  const listen = parseListenFlags(values.listen ?? []);
  const workers = parseWorkers(values.workers);
  const logLevel = parseLogLevel(values['log-level']);
  const overrides = (config: CompiledConfig): CompiledConfig => ({
    ...config,
    ...(listen.length > 0 ? { listen } : {}),
    ...(workers !== undefined ? { workers } : {}),
    ...(logLevel !== undefined ? { log: { ...config.log, level: logLevel } } : {}),
  });
  if (values.config !== undefined) {
    if (values.zone) throw new UsageError('give either --config or --zone, not both');
    const file = values.config;
    return { source: async () => overrides(await readConfig(file)), logLevel };
  }
  if (!values.zone)
    throw new UsageError('serve needs --config FILE or at least one --zone ORIGIN=FILE');
  if (listen.length === 0)
    throw new UsageError('serve --zone needs at least one --listen ADDR:PORT');
  const config = overrides(zonesOnlyConfig(values.zone.map(parseZoneFlag), listen));
  return { source: () => Promise.resolve(config), logLevel };
}

export { ConfigError };
