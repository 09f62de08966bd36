import type { MemberState, StateView } from '../steering/types.js';
import { ttlHint, type TrackerSettings, type TrackerState } from './tracker.js';

/** Reads target states: the local board, or the copy a worker keeps of the primary's. */
export interface TargetStates {
  state(id: string): TrackerState | undefined;
  settings(id: string): TrackerSettings | undefined;
}

/**
 * The state view the answer path reads: health from the target a member depends on, on top
 * of what the configuration (or an agent) says. Target states are immutable values replaced
 * on each result, and a query runs synchronously, so one query sees one consistent state.
 */
export function healthStateView(
  targetOf: ReadonlyMap<string, string>,
  targets: TargetStates,
  base: StateView,
): StateView {
  // A query reads each member's state several times (up, admin, ...): the combined state
  // is kept per member and reused while its inputs are the same objects, so the answer
  // path does not build a new object per read.
  const combined = new Map<string, Combined>();
  return {
    member(key): MemberState {
      const underlying = base.member(key);
      const id = targetOf.get(key);
      const state = id === undefined ? undefined : targets.state(id);
      if (!state || id === undefined) return underlying;
      const kept = combined.get(key);
      if (kept?.state === state && kept.underlying === underlying) {
        return kept.result;
      }
      const settings = targets.settings(id);
      const result: MemberState = {
        ...underlying,
        up: state.health === 'up' ? true : state.health === 'down' ? false : underlying.up,
        ttlHint: settings ? ttlHint(state, settings) : underlying.ttlHint,
        responseMs: state.averageMs ?? underlying.responseMs,
        load: state.load ?? underlying.load,
        connections: state.connections ?? underlying.connections,
      };
      combined.set(key, { state, underlying, result });
      return result;
    },
  };
}

interface Combined {
  readonly state: TrackerState;
  readonly underlying: MemberState;
  readonly result: MemberState;
}
