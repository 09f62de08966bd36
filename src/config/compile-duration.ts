import { checkDuration } from '../lib/duration.js';
import type { Problem } from '../lib/errors.js';
import type { Where } from './yaml-source.js';

/**
 * The shortest value of each timeout: zero would turn it off (`socket.setTimeout(0)`) or
 * spin (a check every 0 ms), so none may be 0. Durations that are no timer (a grace, a
 * tolerated skew) may be 0.
 */
export const MIN_DURATION_MS = {
  tcpIdleTimeout: 100,
  tcpMessageTimeout: 100,
  healthInterval: 100,
  healthTimeout: 1,
  maxSkew: 0,
  startupGrace: 0,
} as const;

/**
 * A duration of the file at `path` in ms: its value, or `fallback` when it is not given.
 * A value that is no duration, or is out of range, is a problem at its line (and `fallback`
 * is returned only so that compiling goes on to find the other problems).
 */
export function compileDuration(
  value: string | number | undefined,
  fallback: number,
  min: number,
  at: Where,
  path: readonly (string | number)[],
  problems: Problem[],
): number {
  if (value === undefined) return fallback;
  const checked = checkDuration(value, { min });
  if ('ms' in checked) return checked.ms;
  problems.push({ ...at(path), reason: `${path.join('.')}: ${checked.problem}` });
  return fallback;
}
