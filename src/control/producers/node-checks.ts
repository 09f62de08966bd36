import { Value } from '@sinclair/typebox/value';
import type { CompiledNodeCheck } from '../../config/compile-cluster.js';
import { HealthBoard, type CheckSpec } from '../../health/board.js';
import { monitors } from '../../health/monitors/index.js';
import type { Health } from '../../health/tracker.js';
import { parseHostPort } from '../../lib/ip.js';
import type { Logger } from '../../observability/log.js';
import { checkSpec } from './health.js';

/** One of the node's own checks as the status shows it. */
export interface NodeCheckState {
  readonly name: string;
  readonly health: Health;
  readonly reason: string | undefined;
}

/** The node's own checks (seed 004: a failed reachability check makes the node inop). */
export interface NodeChecks {
  /** True when every check is up, false when one is down, undefined before all have a result. */
  ok(): boolean | undefined;
  states(): NodeCheckState[];
  stop(): Promise<void>;
}

/** The DNS self-query: the first zone's SOA from this node's own first UDP listener. */
export function selfQueryCheck(origin: string, listener: string): CompiledNodeCheck | undefined {
  const target = parseHostPort(listener);
  const definition = monitors.get('dns');
  if (target?.port === undefined || definition === undefined) return undefined;
  // A listener on the wildcard address answers on loopback too.
  const host = target.host === '0.0.0.0' ? '127.0.0.1' : target.host === '::' ? '::1' : target.host;
  return {
    name: 'dns self-query',
    id: `self-query:${listener}`,
    type: 'dns',
    address: host,
    port: target.port,
    settings: Value.Default(definition.config, { qname: origin, qtype: 'SOA' }) as Record<
      string,
      unknown
    >,
    tracker: { rise: 1, fall: 3, intervalMs: 1000, initial: 'unknown' },
    timeoutMs: 500,
  };
}

/**
 * Runs the node's own checks on a health board of their own (they are not member checks:
 * nothing is answered from them) and says whether the node may serve as master.
 */
export function startNodeChecks(
  checks: readonly CompiledNodeCheck[],
  log: Logger,
  onChange: () => void,
): NodeChecks {
  const names = new Map(checks.map((check) => [check.id, check.name]));
  const board = new HealthBoard({
    now: Date.now,
    random: () => 0,
    onTransition: (t) => {
      const fields = { check: names.get(t.id), from: t.from, to: t.to, reason: t.reason };
      if (t.to === 'down') log.error(fields, `own check ${names.get(t.id)} is down`);
      else log.info(fields, `own check ${names.get(t.id)} is ${t.to}`);
      onChange();
    },
    createMonitor: (spec: CheckSpec) => monitors.get(spec.type)!.create(spec.settings),
  });
  board.setChecks(checks.map(checkSpec));
  const states = (): NodeCheckState[] =>
    board.entries().map(({ id, state }) => ({
      name: names.get(id) ?? id,
      health: state.health,
      reason: state.last?.ok === false ? state.last.reason : undefined,
    }));
  return {
    ok() {
      const all = states();
      if (all.some((s) => s.health === 'down')) return false;
      return all.every((s) => s.health === 'up') ? true : undefined;
    },
    states,
    stop: () => board.stop(),
  };
}
