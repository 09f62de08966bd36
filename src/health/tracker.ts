import type { ProbeResult } from './monitor.js';

/** What a target is believed to be. `unknown`: not checked yet and configured so. */
export type Health = 'up' | 'down' | 'unknown';

/** Thresholds of the state machine (gdnsd-style anti-flap). */
export interface TrackerSettings {
  /** Consecutive successes that bring a down target up. */
  readonly rise: number;
  /** Consecutive failures that take an up target down. */
  readonly fall: number;
  /** Check interval in ms: the TTL hint is counted in intervals. */
  readonly intervalMs: number;
  /** Before the first result. */
  readonly initial: Health;
  /** Time constant of the response-time average, ms. @default 10000 */
  readonly averagingMs?: number;
}

/** The state of one target, immutable: every result makes a new one. */
export interface TrackerState {
  readonly health: Health;
  /** When `health` last changed (ms). */
  readonly since: number;
  readonly successes: number;
  readonly failures: number;
  readonly checks: number;
  readonly last: ProbeResult | undefined;
  readonly lastAt: number | undefined;
  /** Time-weighted average response time of successful checks (seed 003), ms. */
  readonly averageMs: number | undefined;
  /** Checks the peer reset before answering (seed 002 counts resets). */
  readonly resets: number;
  /** Checks whose answer was cut off before its end (seed 002: abnormal terminations). */
  readonly abnormal: number;
  /** The load (percent) the target last reported of itself (`http` with `figures`). */
  readonly load?: number;
  /** The active connections the target last reported of itself. */
  readonly connections?: number;
}

/** A state before any check. */
export function initialState(settings: TrackerSettings, now: number): TrackerState {
  return {
    health: settings.initial,
    since: now,
    successes: 0,
    failures: 0,
    checks: 0,
    last: undefined,
    lastAt: undefined,
    averageMs: undefined,
    resets: 0,
    abnormal: 0,
  };
}

function averaged(
  state: TrackerState,
  result: ProbeResult,
  now: number,
  settings: TrackerSettings,
): number | undefined {
  if (!result.ok) return state.averageMs;
  if (state.averageMs === undefined || state.lastAt === undefined) return result.latencyMs;
  // Exponential average weighted by elapsed time: samples far apart count more each.
  const weight = 1 - Math.exp(-(now - state.lastAt) / (settings.averagingMs ?? 10_000));
  return state.averageMs + weight * (result.latencyMs - state.averageMs);
}

/**
 * Applies one probe result. The first result sets the state; after that a down target needs
 * `rise` consecutive successes to come up and an up target `fall` consecutive failures to
 * go down, so a flapping backend does not flap the answers.
 */
export function record(
  state: TrackerState,
  result: ProbeResult,
  now: number,
  settings: TrackerSettings,
): TrackerState {
  const successes = result.ok ? state.successes + 1 : 0;
  const failures = result.ok ? 0 : state.failures + 1;
  let health = state.health;
  if (state.checks === 0 && state.health === 'unknown') health = result.ok ? 'up' : 'down';
  else if (health !== 'up' && successes >= settings.rise) health = 'up';
  else if (health !== 'down' && failures >= settings.fall) health = 'down';
  return {
    health,
    since: health === state.health ? state.since : now,
    successes,
    failures,
    checks: state.checks + 1,
    last: result,
    lastAt: now,
    averageMs: averaged(state, result, now, settings),
    resets: state.resets + (result.fault === 'reset' ? 1 : 0),
    abnormal: state.abnormal + (result.fault === 'abnormal' ? 1 : 0),
    ...figuresKept(state, result),
  };
}

/** The figures a result reports, else the last ones (a failed check reports none). */
function figuresKept(state: TrackerState, result: ProbeResult) {
  const load = result.figures?.load ?? state.load;
  const connections = result.figures?.connections ?? state.connections;
  return {
    ...(load === undefined ? {} : { load }),
    ...(connections === undefined ? {} : { connections }),
  };
}

/**
 * The shortest time, in whole seconds (at least 1), in which the state could change: the
 * checks still needed to cross the threshold, times the interval. It caps the answer TTL.
 */
export function ttlHint(state: TrackerState, settings: TrackerSettings): number {
  const needed =
    state.health === 'up'
      ? settings.fall - state.failures
      : state.health === 'down'
        ? settings.rise - state.successes
        : 1;
  return Math.max(1, Math.ceil((Math.max(1, needed) * settings.intervalMs) / 1000));
}
