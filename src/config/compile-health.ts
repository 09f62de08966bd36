import { createHash } from 'node:crypto';
import { Value } from '@sinclair/typebox/value';
import { monitors } from '../health/monitors/index.js';
import type { Problem } from '../lib/errors.js';
import { parseHostPort } from '../lib/ip.js';
import type { CompiledCheck, CompiledHealth } from './compiled.js';
import { compileDuration, MIN_DURATION_MS } from './compile-duration.js';
import type { Where } from './yaml-source.js';
import type { ConfigFile, MemberConfig } from './schema.js';

type HealthConfig = Exclude<NonNullable<MemberConfig['health']>, false>;
type Path = readonly (string | number)[];

/** gdnsd's and most GSLBs' order of magnitude: a check every few seconds. */
const DEFAULT_INTERVAL_MS = 5000;
const DEFAULT_STARTUP_GRACE_MS = 3000;
/** The tracker's own default time constant of the response-time average. */
const DEFAULT_AVERAGING_MS = 10_000;

export function compileCheck(
  health: HealthConfig,
  target: { host: string; port: number | undefined },
  at: Where,
  path: Path,
  problems: Problem[],
): CompiledCheck | undefined {
  const { type, interval, timeout, rise, fall, initial, averaging, ...settings } = health;
  const definition = monitors.get(type);
  if (!definition) {
    problems.push({
      ...at([...path, 'type']),
      reason: `unknown health check type "${type}"; known: ${[...monitors.keys()].join(', ')}`,
    });
    return undefined;
  }
  const withDefaults = Value.Default(definition.config, Value.Clone(settings)) as Record<
    string,
    unknown
  >;
  const errors = [...Value.Errors(definition.config, withDefaults)];
  for (const error of errors)
    problems.push({
      ...at([...path, ...error.path.split('/').filter(Boolean)]),
      reason: `health ${type}: ${error.path || 'settings'}: ${error.message.toLowerCase()}`,
    });
  const before = problems.length;
  const intervalMs = compileDuration(
    interval,
    DEFAULT_INTERVAL_MS,
    MIN_DURATION_MS.healthInterval,
    at,
    [...path, 'interval'],
    problems,
  );
  const timeoutMs = compileDuration(
    timeout,
    Math.min(Math.floor(intervalMs / 2), 2000),
    MIN_DURATION_MS.healthTimeout,
    at,
    [...path, 'timeout'],
    problems,
  );
  const averagingMs = compileDuration(
    averaging,
    DEFAULT_AVERAGING_MS,
    MIN_DURATION_MS.healthInterval,
    at,
    [...path, 'averaging'],
    problems,
  );
  const badDuration = problems.length > before;
  if (!badDuration && timeoutMs >= intervalMs)
    problems.push({
      ...at([...path, 'timeout']),
      reason: `health timeout (${timeoutMs} ms) must be below the interval (${intervalMs} ms)`,
    });
  if (errors.length > 0 || badDuration || timeoutMs >= intervalMs) return undefined;
  const tracker = {
    rise: rise ?? 2,
    fall: fall ?? 3,
    intervalMs,
    initial: initial ?? 'unknown',
    // Only when set: the ids (digests) of checks written before `averaging` stay the same.
    ...(averaging === undefined ? {} : { averagingMs }),
  };
  // Identical checks of the same target share one id, hence one schedule and one state.
  const digest = createHash('sha256')
    .update(JSON.stringify([type, withDefaults, tracker, timeoutMs]))
    .digest('hex')
    .slice(0, 12);
  const port = target.port ?? (withDefaults['port'] as number | undefined);
  const host = target.host.includes(':') ? `[${target.host}]` : target.host;
  const id = `${type}:${host}:${port ?? '-'}:${digest}`;
  return {
    id,
    type,
    address: target.host,
    port,
    settings: withDefaults,
    tracker,
    timeoutMs,
  };
}

/**
 * Collects the health checks of a configuration while its services are compiled: each
 * monitor's settings are checked against its schema, and identical checks of one target
 * become one check, whichever members use it.
 */
export class CheckCollector {
  private readonly checks = new Map<string, CompiledCheck>();
  private readonly at: Where;
  private readonly problems: Problem[];

  constructor(at: Where, problems: Problem[]) {
    this.at = at;
    this.problems = problems;
  }

  /** The check id of a member (its own `health`, else the service's), if it is checked. */
  memberCheck(
    serviceHealth: ServiceHealth,
    config: MemberConfig,
    path: Path,
    servicePath: Path,
  ): string | undefined {
    const health = config.health ?? serviceHealth;
    if (health === undefined || health === false) return undefined;
    const target = checkTarget(config, this.at, path, this.problems);
    if (!target) return undefined;
    const checkPath =
      config.health === undefined ? [...servicePath, 'health'] : [...path, 'health'];
    const check = compileCheck(health, target, this.at, checkPath, this.problems);
    if (!check) return undefined;
    this.checks.set(check.id, check);
    return check.id;
  }

  /** Every check collected, with the start-up grace of the `health` section. */
  result(file: ConfigFile): CompiledHealth {
    return {
      checks: [...this.checks.values()],
      startupGraceMs: compileDuration(
        file.health?.startupGrace,
        DEFAULT_STARTUP_GRACE_MS,
        MIN_DURATION_MS.startupGrace,
        this.at,
        ['health', 'startupGrace'],
        this.problems,
      ),
    };
  }
}

type ServiceHealth = HealthConfig | undefined;

/** What a member's check connects to: `healthTarget`, else its first address. */
function checkTarget(
  config: MemberConfig,
  at: Where,
  path: Path,
  problems: Problem[],
): { host: string; port: number | undefined } | undefined {
  if (config.healthTarget === undefined) {
    const address = config.address ?? config.addresses?.[0];
    return address === undefined ? undefined : parseHostPort(address, { portOptional: true });
  }
  const target = parseHostPort(config.healthTarget, { portOptional: true });
  if (!target)
    problems.push({
      ...at([...path, 'healthTarget']),
      reason: `healthTarget must be ADDR or ADDR:PORT, got "${config.healthTarget}"`,
    });
  return target;
}
