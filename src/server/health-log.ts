import type { Transition } from '../health/board.js';
import { parseMemberKey } from '../config/member-key.js';
import type { Logger } from '../observability/log.js';

/**
 * The member keys that depend on check `checkId`, in the order of `targetOf` (the health
 * plan's member key -> check id). Identical checks share one id, so there may be several.
 */
export function membersOfCheck(
  targetOf: ReadonlyMap<string, string>,
  checkId: string,
): readonly string[] {
  const keys: string[] = [];
  for (const [key, id] of targetOf) if (id === checkId) keys.push(key);
  return keys;
}

/**
 * The board's `onTransition` callback: logs each health change once per member that depends
 * on the check, naming service, pool and member (`health www.example.org. main/a: up -> down
 * (connection refused)`). Going down is a `warn`; up, or back to unknown, is `info`. A check
 * no member depends on any more (a reload removed them) is logged by its id.
 * @param members the member keys (`service pool/member`) that depend on a check id; read at
 *   each transition, so it may follow reloads.
 * @example onTransition: healthTransitionLog(log, (id) => membersOfCheck(plan.targetOf, id))
 */
export function healthTransitionLog(
  log: Logger,
  members: (checkId: string) => readonly string[],
): (transition: Transition) => void {
  return (t) => {
    const level = t.to === 'down' ? 'warn' : 'info';
    const change = { check: t.id, from: t.from, to: t.to, reason: t.reason };
    const keys = members(t.id);
    if (keys.length === 0) {
      log[level](change, `health check ${t.id}: ${t.from} -> ${t.to} (${t.reason})`);
      return;
    }
    for (const key of keys) {
      // A key that is not `service pool/member` cannot come from the plan; name it whole.
      const name = parseMemberKey(key) ?? { member: key };
      log[level]({ ...name, ...change }, `health ${key}: ${t.from} -> ${t.to} (${t.reason})`);
    }
  };
}
