import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { Value } from '@sinclair/typebox/value';
import type { ServerConfig } from '../config/load.js';
import type { MemberConfig } from '../config/schema.js';
import { nameFromText, nameToText } from '../dns/name.js';
import type { CheckSpec } from '../health/board.js';
import { monitors } from '../health/monitors/index.js';
import { parseDuration } from '../lib/duration.js';
import type { Problem } from '../lib/errors.js';

/** The checks of a configuration and which member depends on which check. */
export interface HealthPlan {
  readonly checks: readonly CheckSpec[];
  /** Member key (`service pool/member`) -> check id. */
  readonly targetOf: ReadonlyMap<string, string>;
  readonly startupGraceMs: number;
}

type Where = (path: readonly (string | number)[]) => { file: string; line: number };
type HealthConfig = Exclude<NonNullable<MemberConfig['health']>, false>;

const DEFAULT_INTERVAL_MS = 5000;

/** `ADDR`, `ADDR:PORT` or `[v6]:PORT`. */
function parseTarget(text: string): { address: string; port: number | undefined } | undefined {
  if (isIP(text)) return { address: text, port: undefined };
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([0-9.]+)):(\d{1,5})$/.exec(text);
  const address = match?.[1] ?? match?.[2];
  if (!match || address === undefined || !isIP(address) || Number(match[3]) > 65535)
    return undefined;
  return { address, port: Number(match[3]) };
}

function checkOf(
  health: HealthConfig,
  target: { address: string; port: number | undefined },
  path: (string | number)[],
  at: Where,
  problems: Problem[],
): CheckSpec | undefined {
  const { type, interval, timeout, rise, fall, initial, ...settings } = health;
  const definition = monitors.get(type);
  if (!definition) {
    problems.push({
      ...at([...path, 'type']),
      reason: `unknown health check type "${type}"; known: ${[...monitors.keys()].join(', ')}`,
    });
    return undefined;
  }
  const withDefaults: unknown = Value.Default(definition.config, Value.Clone(settings));
  const errors = [...Value.Errors(definition.config, withDefaults)];
  for (const error of errors) {
    problems.push({
      ...at([...path, ...error.path.split('/').filter(Boolean)]),
      reason: `health ${type}: ${error.path || 'settings'}: ${error.message.toLowerCase()}`,
    });
  }
  const intervalMs = parseDuration(interval ?? DEFAULT_INTERVAL_MS) ?? DEFAULT_INTERVAL_MS;
  const timeoutMs = parseDuration(timeout ?? Math.min(intervalMs / 2, 2000)) ?? intervalMs / 2;
  if (timeoutMs >= intervalMs) {
    problems.push({
      ...at([...path, 'timeout']),
      reason: `health timeout (${timeoutMs} ms) must be below the interval (${intervalMs} ms)`,
    });
  }
  if (errors.length > 0 || timeoutMs >= intervalMs) return undefined;
  const tracker = { rise: rise ?? 2, fall: fall ?? 3, intervalMs, initial: initial ?? 'unknown' };
  // Identical checks of the same target share one id, hence one schedule and one state.
  const digest = createHash('sha256')
    .update(JSON.stringify([type, withDefaults, tracker, timeoutMs]))
    .digest('hex')
    .slice(0, 12);
  const port = target.port ?? (withDefaults as { port?: number }).port;
  const id = `${type}:${target.address.includes(':') ? `[${target.address}]` : target.address}:${port ?? '-'}:${digest}`;
  return {
    id,
    target: { id, address: target.address, port },
    type,
    settings: withDefaults,
    tracker,
    timeoutMs,
  };
}

/** Works out every health check of the configuration, validating each monitor's settings. */
export function planHealth(config: ServerConfig): { plan: HealthPlan; problems: Problem[] } {
  const { services, where: at } = config.steering;
  const problems: Problem[] = [];
  const checks = new Map<string, CheckSpec>();
  const targetOf = new Map<string, string>();
  services.forEach((service, s) => {
    let serviceName: string;
    try {
      serviceName = nameToText(
        nameFromText(service.name.endsWith('.') ? service.name : `${service.name}.`),
      );
    } catch {
      return; // reported by loadServices
    }
    (service.pools ?? []).forEach((pool, p) => {
      pool.members.forEach((member, m) => {
        const path = ['services', s, 'pools', p, 'members', m];
        const health = member.health ?? service.health;
        if (health === undefined || health === false) return;
        const address = member.address ?? member.addresses?.[0];
        const target =
          member.healthTarget === undefined
            ? address === undefined
              ? undefined
              : parseTarget(address)
            : parseTarget(member.healthTarget);
        if (!target) {
          if (member.healthTarget !== undefined)
            problems.push({
              ...at([...path, 'healthTarget']),
              reason: `healthTarget must be ADDR or ADDR:PORT, got "${member.healthTarget}"`,
            });
          return;
        }
        const checkPath =
          member.health === undefined ? ['services', s, 'health'] : [...path, 'health'];
        const spec = checkOf(health, target, checkPath, at, problems);
        if (!spec) return;
        checks.set(spec.id, spec);
        targetOf.set(`${serviceName} ${pool.name}/${member.name}`, spec.id);
      });
    });
  });
  const startupGraceMs = parseDuration(config.steering.health?.startupGrace ?? 3000) ?? 3000;
  return { plan: { checks: [...checks.values()], targetOf, startupGraceMs }, problems };
}
