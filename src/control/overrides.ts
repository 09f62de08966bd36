import type { AdminState, MemberState, StateView } from '../steering/types.js';

/**
 * What an operator forces on a member, gdnsd `admin_state` style: the forced health or
 * admin state wins over checks and agents, and the real state stays visible beside it
 * (status shows both). The operator API (a later issue) publishes these.
 */
export interface Override {
  readonly health?: 'up' | 'down';
  readonly admin?: AdminState;
  /** Milliseconds since the epoch after which the override no longer holds. */
  readonly until?: number;
  /** Why, and who: for logs and status. */
  readonly reason?: string;
  readonly by?: string;
}

/** Overrides by member key (`service pool/member`). */
export type OverridesLayer = ReadonlyMap<string, Override>;

/** No override at all. */
export const NO_OVERRIDES: OverridesLayer = new Map();

/** True while `override` holds at `now`. */
export const holds = (override: Override, now: number): boolean =>
  override.until === undefined || now <= override.until;

/**
 * The state view with operator overrides on top. Members without one (nearly all) cost a
 * map lookup; an expired override is ignored from the moment it expires.
 */
export function overriddenStateView(
  overrides: OverridesLayer,
  base: StateView,
  now: () => number = Date.now,
): StateView {
  if (overrides.size === 0) return base;
  return {
    member(key): MemberState {
      const underlying = base.member(key);
      const override = overrides.get(key);
      if (!override || !holds(override, now())) return underlying;
      return {
        ...underlying,
        up: override.health === undefined ? underlying.up : override.health === 'up',
        admin: override.admin ?? underlying.admin,
      };
    },
  };
}
