import { EventEmitter } from 'node:events';
import type { Logger } from '../observability/log.js';
import type { EtcdClient } from './etcd-client.js';

/** Time and timers, injected so that unit tests run on a fake clock. */
export interface Clock {
  /** Milliseconds, monotonic enough for deadlines (Date.now() in production). */
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The real clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
};

/** The lease calls a session makes (an {@link EtcdClient}, or a fake in unit tests). */
export type LeaseApi = Pick<EtcdClient, 'leaseGrant' | 'leaseKeepAlive' | 'leaseRevoke'>;

/** Options of {@link LeaseSession}. */
export interface SessionOptions {
  readonly client: LeaseApi;
  /** The TTL to ask for, in seconds; etcd may raise it (to 2 s with default timing). @default 2 */
  readonly ttlSeconds?: number;
  /**
   * `at-risk` fires this long before the local deadline when no renewal came.
   * @default min(500 ms, TTL / 4)
   */
  readonly marginMs?: number;
  /** After a loss or a failed grant, wait this long before the next grant, doubling. @default 250 */
  readonly retryInitialMs?: number;
  /** @default 5000 */
  readonly retryMaxMs?: number;
  readonly clock?: Clock;
  readonly logger?: Logger;
}

/** The session's current lease. */
export interface SessionLease {
  /** The lease ID (decimal string). */
  readonly id: string;
  /** The TTL etcd granted, in seconds (may exceed the one asked for). */
  readonly grantedTtl: number;
  /** When the last successful renewal (or the grant) was SENT, in clock ms. */
  readonly renewedAt: number;
  /**
   * `renewedAt` + granted TTL: etcd cannot expire the lease before this (it received the
   * renewal after it was sent), so the session holds the lease at least until then.
   */
  readonly deadline: number;
}

/** What a session emits. `lost` carries the reason; a new lease follows with `granted`. */
export interface SessionEvents {
  granted: [SessionLease];
  renewed: [SessionLease];
  'at-risk': [SessionLease];
  lost: [SessionLease, string];
}

/** Where a session stands. */
export type SessionState = 'granting' | 'alive' | 'at-risk' | 'closed';

/**
 * A lease kept alive: renewed every TTL/3, with a local deadline that decides, before etcd
 * does, whether the lease is still held. `at-risk` fires at the deadline minus the margin
 * when no renewal came (the caller drops what only the lease holder may hold); `lost` when
 * etcd says the lease is gone (keepalive TTL 0) or the deadline passed. After `lost` the
 * session revokes the old lease (best effort) and grants a new one, retrying with backoff;
 * it never throws and never stops until {@link close}.
 */
export class LeaseSession extends EventEmitter<SessionEvents> {
  readonly #client: LeaseApi;
  readonly #clock: Clock;
  readonly #ttlSeconds: number;
  readonly #marginMs: number | undefined;
  readonly #retryInitialMs: number;
  readonly #retryMaxMs: number;
  readonly #logger: Logger | undefined;
  #lease: SessionLease | undefined;
  #state: SessionState = 'granting';
  /** Bumped on every new lease and loss: answers for an older one are dropped. */
  #generation = 0;
  #renewing = false;
  #retryMs: number;
  #timers: unknown[] = [];
  #failures = 0;

  constructor(options: SessionOptions) {
    super();
    this.#client = options.client;
    this.#clock = options.clock ?? systemClock;
    this.#ttlSeconds = options.ttlSeconds ?? 2;
    this.#marginMs = options.marginMs;
    this.#retryInitialMs = options.retryInitialMs ?? 250;
    this.#retryMaxMs = options.retryMaxMs ?? 5000;
    this.#retryMs = this.#retryInitialMs;
    this.#logger = options.logger;
  }

  /** The lease held now; undefined while granting (after a loss) and after close. */
  get lease(): SessionLease | undefined {
    return this.#state === 'alive' || this.#state === 'at-risk' ? this.#lease : undefined;
  }

  get state(): SessionState {
    return this.#state;
  }

  /** Starts granting the first lease. */
  start(): void {
    void this.#grant();
  }

  /** Stops renewing and revokes the lease (best effort: a failure is logged, not thrown). */
  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    const lease = this.lease;
    this.#state = 'closed';
    this.#generation++;
    this.#clearTimers();
    if (lease === undefined) return;
    try {
      await this.#client.leaseRevoke(lease.id);
    } catch (error) {
      this.#logger?.warn({ err: error, lease: lease.id }, 'session: cannot revoke the lease');
    }
  }

  async #grant(): Promise<void> {
    if (this.#state === 'closed') return;
    const generation = ++this.#generation;
    const sentAt = this.#clock.now();
    try {
      const grant = await this.#client.leaseGrant(this.#ttlSeconds);
      if (generation !== this.#generation) {
        void this.#client.leaseRevoke(grant.id).catch(() => undefined); // closed meanwhile
        return;
      }
      this.#lease = {
        id: grant.id,
        grantedTtl: grant.ttl,
        renewedAt: sentAt,
        deadline: sentAt + grant.ttl * 1000,
      };
      this.#state = 'alive';
      this.#retryMs = this.#retryInitialMs;
      this.#failures = 0;
      this.#schedule(sentAt);
      this.emit('granted', this.#lease);
    } catch (error) {
      if (generation !== this.#generation) return;
      this.#logFailure(error, 'session: cannot grant a lease; retrying');
      this.#retryLater();
    }
  }

  #retryLater(): void {
    const wait = this.#retryMs;
    this.#retryMs = Math.min(this.#retryMs * 2, this.#retryMaxMs);
    this.#timers.push(this.#clock.setTimeout(() => void this.#grant(), wait));
  }

  /** (Re)arms the renewal, at-risk and lost timers from the current lease. */
  #schedule(renewFrom: number): void {
    this.#clearTimers();
    const lease = this.#lease!;
    const now = this.#clock.now();
    const interval = Math.round((lease.grantedTtl * 1000) / 3);
    const margin = this.#marginMs ?? Math.min(500, (lease.grantedTtl * 1000) / 4);
    this.#timers.push(
      this.#clock.setTimeout(() => void this.#renew(), Math.max(0, renewFrom + interval - now)),
      this.#clock.setTimeout(
        () => {
          this.#atRisk();
        },
        Math.max(0, lease.deadline - margin - now),
      ),
      this.#clock.setTimeout(
        () => {
          this.#lose('no renewal before the local deadline');
        },
        Math.max(0, lease.deadline - now),
      ),
    );
  }

  async #renew(): Promise<void> {
    const lease = this.#lease;
    if (this.#renewing || lease === undefined || this.lease === undefined) return;
    const generation = this.#generation;
    this.#renewing = true;
    const sentAt = this.#clock.now();
    try {
      const answer = await this.#client.leaseKeepAlive(lease.id);
      if (generation !== this.#generation) return;
      if (answer.ttl <= 0) {
        this.#lose('etcd says the lease is gone');
        return;
      }
      this.#lease = {
        ...lease,
        renewedAt: sentAt,
        deadline: Math.max(lease.deadline, sentAt + answer.ttl * 1000),
      };
      this.#state = 'alive';
      this.#failures = 0;
      this.#schedule(sentAt);
      this.emit('renewed', this.#lease);
    } catch (error) {
      if (generation !== this.#generation) return;
      this.#logFailure(error, 'session: cannot renew the lease; retrying');
      const retry = Math.min(Math.round((lease.grantedTtl * 1000) / 3), 200);
      this.#timers.push(this.#clock.setTimeout(() => void this.#renew(), retry));
    } finally {
      if (generation === this.#generation) this.#renewing = false;
    }
  }

  #atRisk(): void {
    if (this.#state !== 'alive') return;
    this.#state = 'at-risk';
    this.#logger?.warn({ lease: this.#lease?.id }, 'session: lease at risk (no renewal)');
    this.emit('at-risk', this.#lease!);
  }

  #lose(reason: string): void {
    const lease = this.#lease;
    if (lease === undefined || this.lease === undefined) return;
    this.#generation++;
    this.#renewing = false;
    this.#clearTimers();
    this.#state = 'granting';
    this.#logger?.error({ lease: lease.id, reason }, 'session: lease lost');
    // Its keys must not outlive it when etcd is still reachable (e.g. a slow keepalive).
    void this.#client.leaseRevoke(lease.id).catch(() => undefined);
    this.emit('lost', lease, reason);
    this.#retryLater();
  }

  #clearTimers(): void {
    for (const timer of this.#timers) this.#clock.clearTimeout(timer);
    this.#timers = [];
  }

  #logFailure(error: unknown, message: string): void {
    this.#failures++;
    if (this.#failures === 1) this.#logger?.warn({ err: error }, message);
    else this.#logger?.debug({ err: error }, message);
  }
}
