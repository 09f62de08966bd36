import type { Static, TSchema } from '@sinclair/typebox';

/** What a monitor checks: an address (and port), possibly not the address answered. */
export interface Target {
  /** Stable id, unique on this node (the health state is kept by it). */
  readonly id: string;
  /** IP literal. */
  readonly address: string;
  readonly port: number | undefined;
}

/** A node's own figures, polled by a check (seed 000's polling variant). */
export interface Figures {
  /** Percent, 0-100. */
  readonly load?: number;
  /** Active connections. */
  readonly connections?: number;
}

/** The raw outcome of one check. Monitors report facts; the tracker decides up or down. */
export interface ProbeResult {
  readonly ok: boolean;
  /** Time the check took, in milliseconds. */
  readonly latencyMs: number;
  /** Short, stable reason for a failure: 'timeout', 'refused', 'status 503', 'body mismatch'... */
  readonly reason?: string;
  /**
   * How a failed connection ended, when the monitor can tell (seed 002 counts them): `reset`,
   * the peer reset it before answering; `abnormal`, the answer began and was cut off.
   */
  readonly fault?: 'reset' | 'abnormal';
  /** Figures the target reported of itself (an `http` check with `figures: true`). */
  readonly figures?: Figures;
}

/** One kind of check, configured. */
export interface Monitor {
  readonly type: string;
  /**
   * Runs one check. Resolves `{ ok: false, reason }` for a failed check; never rejects for
   * a failure of the target. Must stop all work and release sockets when `signal` aborts
   * (the scheduler's timeout), resolving `{ ok: false, reason: 'timeout' }`.
   */
  check(target: Target, signal: AbortSignal): Promise<ProbeResult>;
  /** Releases shared resources (agents, sockets). Idempotent. */
  close(): Promise<void>;
}

/** A kind of monitor: its settings schema and a factory. Registered in monitors/index.ts. */
export interface MonitorDefinition<S extends TSchema = TSchema> {
  /** 'tcp', 'http', 'https', 'dns', 'script', 'static', 'banner'. */
  readonly type: string;
  readonly config: S;
  create(config: Static<S>): Monitor;
}

/** Declares a monitor definition with its settings type inferred from the schema. */
export const defineMonitor = <S extends TSchema>(
  definition: MonitorDefinition<S>,
): MonitorDefinition<S> => definition;
