import { runSubprocess } from '../lib/subprocess.js';
import type { Role } from './role.js';

/** The scripts run on entering each role (seed 004: one script per state). */
export type RoleHooks = Readonly<Partial<Record<Role, readonly string[]>>>;

/** What a hook is told, in its environment. */
export interface Transition {
  readonly node: string;
  readonly from: Role;
  readonly to: Role;
  /** The epoch of the master this node is or follows (0 when none is known). */
  readonly epoch: number;
  /** The service addresses, `ADDR/PREFIX` separated by spaces. */
  readonly addresses: string;
  /** Why the role changed, in a few words. */
  readonly reason: string;
}

/** How one hook ran. */
export interface HookOutcome {
  readonly script: string;
  /** Undefined when it exited 0; else `exit 2`, `timeout`, `spawn ENOENT`... */
  readonly failure: string | undefined;
  readonly output: string;
  readonly durationMs: number;
}

/** The environment variables a hook gets, on top of the server's own. */
export function hookEnvironment(t: Transition): Record<string, string> {
  return {
    STEERDNS_NODE: t.node,
    STEERDNS_ROLE: t.to,
    STEERDNS_OLD_ROLE: t.from,
    STEERDNS_EPOCH: String(t.epoch),
    STEERDNS_ADDRESSES: t.addresses,
    STEERDNS_REASON: t.reason,
  };
}

/**
 * Runs the hooks of the role entered, in order, one at a time, each with `timeoutMs`. Stops
 * at the first that fails and returns every outcome so far: the caller logs them and a
 * failure makes the node inop. Arguments are the old and the new role (as keepalived's
 * notify scripts get the state), so a script can be shared by several roles.
 */
export async function runHooks(
  hooks: RoleHooks,
  transition: Transition,
  timeoutMs: number,
): Promise<HookOutcome[]> {
  const outcomes: HookOutcome[] = [];
  for (const script of hooks[transition.to] ?? []) {
    const started = performance.now();
    const outcome = await runSubprocess([script, transition.from, transition.to], {
      env: { ...process.env, ...hookEnvironment(transition) },
      maxOutputBytes: 4096,
      stderr: 'output',
      timeoutMs,
    });
    outcomes.push({ script, ...outcome, durationMs: Math.round(performance.now() - started) });
    if (outcome.failure !== undefined) break;
  }
  return outcomes;
}
