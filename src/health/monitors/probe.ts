import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Figures, ProbeResult, Target } from '../monitor.js';

/**
 * What every monitor shares: one check as a promise that settles exactly once, on its
 * own outcome or on abort, and always releases what it opened.
 */

/** Ends a check; the first call wins, later calls are ignored. */
export type Finish = (
  ok: boolean,
  reason?: string,
  fault?: ProbeResult['fault'],
  figures?: Figures,
) => void;

/**
 * Starts the work of one check and returns the function that releases it (destroys
 * sockets, kills processes, clears timers). The release function is called exactly once,
 * right after the check settles, and must not throw.
 */
export type ProbeBody = (finish: Finish) => () => void;

/**
 * Runs one check. Resolves `{ ok: false, reason: 'timeout' }` at once when `signal` is
 * already aborted or aborts first; a synchronous throw in `body` becomes a failure with
 * {@link errorReason}. Never rejects. `latencyMs` is measured with `performance.now()`.
 */
export function runProbe(signal: AbortSignal, body: ProbeBody): Promise<ProbeResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    let settled = false as boolean; // set by `finish`, possibly inside `body`
    let release: (() => void) | undefined;
    const finish: Finish = (ok, reason, fault, figures) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      releaseQuietly(release);
      const result = probeResult(ok, performance.now() - started, reason);
      resolve({
        ...result,
        ...(fault === undefined ? {} : { fault }),
        ...(figures === undefined ? {} : { figures }),
      });
    };
    const onAbort = (): void => {
      finish(false, 'timeout');
    };
    if (signal.aborted) {
      finish(false, 'timeout');
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      release = body(finish);
    } catch (error) {
      finish(false, errorReason(error));
      return;
    }
    // The body may have finished synchronously, before `release` was known.
    if (settled) releaseQuietly(release);
  });
}

function releaseQuietly(release: (() => void) | undefined): void {
  try {
    release?.();
  } catch {
    // Releasing is best effort: a socket already closed may throw on close().
  }
}

/** Builds a result, leaving `reason` out when there is none. */
export function probeResult(ok: boolean, latencyMs: number, reason?: string): ProbeResult {
  return reason === undefined ? { ok, latencyMs } : { ok, latencyMs, reason };
}

/** System error codes that have a short name of their own. */
const NAMED_CODES: ReadonlyMap<string, string> = new Map([
  ['ECONNREFUSED', 'refused'],
  ['ETIMEDOUT', 'timeout'],
  ['EHOSTUNREACH', 'unreachable'],
  ['ENETUNREACH', 'unreachable'],
  ['EHOSTDOWN', 'unreachable'],
  ['ENETDOWN', 'unreachable'],
]);

/**
 * The stable reason for an error: 'refused', 'timeout', 'unreachable', else the error's
 * code lower-cased ('econnreset', 'err_socket_bad_port'), else 'error'.
 * @example errorReason(Object.assign(new Error(), { code: 'ECONNREFUSED' })) // 'refused'
 */
export function errorReason(error: unknown): string {
  const code = errorCode(error);
  if (code === undefined) return 'error';
  return NAMED_CODES.get(code) ?? code.toLowerCase();
}

/** The `code` of an error, when it has a string one. */
export function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' && error.code !== '' ? error.code : undefined;
}

/**
 * The address and port to check: the port from the settings, else the target's, else
 * `fallback`. A string when the target cannot be checked: 'bad address' (not an IP
 * literal: monitors never resolve names), 'no port' or 'bad port'.
 */
export function endpoint(
  target: Target,
  port: number | undefined,
  fallback?: number,
): { address: string; port: number } | string {
  if (isIP(target.address) === 0) return 'bad address';
  const chosen = port ?? target.port ?? fallback;
  if (chosen === undefined) return 'no port';
  if (!Number.isInteger(chosen) || chosen < 1 || chosen > 65535) return 'bad port';
  return { address: target.address, port: chosen };
}
