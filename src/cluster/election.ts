import { EventEmitter } from 'node:events';
import type { Logger } from '../observability/log.js';
import type { Compare, EtcdClient, KeyValue, Txn, TxnResult } from './etcd-client.js';
import { PrefixView } from './prefix-view.js';
import type { LeaseSession, SessionLease } from './session.js';

/** The leader as observed: the key with the lowest create revision under the prefix. */
export interface Leader {
  readonly key: string;
  readonly value: string;
  /** The create revision of the leader's key: the epoch, growing with every new leader. */
  readonly epoch: number;
  readonly lease: string;
}

/** What a candidate emits. `follower` carries the leader seen (undefined: none known). */
export interface ElectionEvents {
  leader: [epoch: number];
  follower: [leaderValue: string | undefined, leaderEpoch: number | undefined];
}

/** Options of {@link Election} and {@link observeLeader}. */
export interface ElectionOptions {
  readonly client: EtcdClient;
  /** Candidates' keys go under it: `PREFIX<lease ID in hex>`. @example '/steerdns/prod/election/' */
  readonly prefix: string;
  readonly logger?: Logger;
  /** The watch liveness probe interval (see {@link PrefixView}). */
  readonly livenessMs?: number;
}

/** The compare that holds only while the leader key `key` created at `epoch` exists. */
export function epochGuard(key: string, epoch: number): Compare {
  return { key, target: 'createRevision', result: '==', value: epoch };
}

/**
 * An epoch-guarded write: `txn` runs only while the leader key of `epoch` still exists, so
 * that a deposed leader's late write fails (`succeeded: false`, nothing written).
 */
export function guardedTxn(
  client: Pick<EtcdClient, 'txn'>,
  leader: { readonly key: string; readonly epoch: number },
  txn: Partial<Txn> & Pick<Txn, 'success'>,
): Promise<TxnResult> {
  return client.txn({
    compare: [epochGuard(leader.key, leader.epoch), ...(txn.compare ?? [])],
    success: txn.success,
    failure: txn.failure ?? [],
  });
}

function lowest(kvs: readonly KeyValue[]): Leader | undefined {
  const first = kvs[0]; // the view sorts by create revision
  return first === undefined
    ? undefined
    : { key: first.key, value: first.value, epoch: first.createRevision, lease: first.lease };
}

/**
 * Follows who leads under `options.prefix` (for any node, candidate or not): `onChange` gets
 * the leader (undefined: none) each time it changes. Close it with `close()`.
 */
export function observeLeader(
  options: ElectionOptions,
  onChange: (leader: Leader | undefined) => void,
): { close(): void; current(): Leader | undefined; ready: Promise<void> } {
  let current: Leader | undefined;
  const view = new PrefixView({
    client: options.client,
    prefix: options.prefix,
    ...(options.logger === undefined ? {} : { logger: options.logger }),
    ...(options.livenessMs === undefined ? {} : { livenessMs: options.livenessMs }),
    onChange: (kvs) => {
      const next = lowest(kvs);
      if (
        next?.key === current?.key &&
        next?.epoch === current?.epoch &&
        next?.value === current?.value
      )
        return;
      current = next;
      onChange(next);
    },
  });
  const ready = view.start();
  return {
    close: () => {
      view.close();
    },
    current: () => current,
    ready,
  };
}

/**
 * A candidate in etcd's election recipe: under its session's lease it puts
 * `PREFIX<lease hex>` in a txn only if that key's create revision is 0 (else it keeps the
 * existing key of this lease); it leads when its key has the lowest create revision under
 * the prefix, and its epoch is that create revision. It decides from a consistent view of
 * the whole prefix (range + watch), which gives the same answer as etcd's "wait for the
 * deletion of the next lower key" and tells followers who leads.
 *
 * The session's local deadline decides, not etcd's expiry: on the session's `lost` the
 * candidate stops leading at once (`follower`), and campaigns again with the next lease.
 */
export class Election extends EventEmitter<ElectionEvents> {
  readonly #options: ElectionOptions;
  readonly #session: LeaseSession;
  readonly #view: PrefixView;
  #value: string | undefined;
  /** This candidate's key, once put for the current lease. */
  #mine: { key: string; createRevision: number; lease: string } | undefined;
  #role: 'none' | 'leader' | 'follower' = 'none';
  #reported: Leader | undefined;
  #entering = false;
  #closed = false;
  /** The leases this candidate has put keys under (a few per process lifetime). */
  readonly #ownLeases = new Set<string>();

  constructor(session: LeaseSession, options: ElectionOptions) {
    super();
    this.#options = options;
    this.#session = session;
    this.#view = new PrefixView({
      client: options.client,
      prefix: options.prefix,
      ...(options.logger === undefined ? {} : { logger: options.logger }),
      ...(options.livenessMs === undefined ? {} : { livenessMs: options.livenessMs }),
      onChange: () => {
        this.#evaluate();
      },
    });
    session.on('granted', this.#onGranted);
    session.on('lost', this.#onLost);
  }

  /** Whether this candidate leads now. */
  get isLeader(): boolean {
    return this.#role === 'leader';
  }

  /** This candidate's epoch while it leads, else undefined. */
  get epoch(): number | undefined {
    return this.#role === 'leader' ? this.#mine?.createRevision : undefined;
  }

  /** The leader as this candidate last saw it. */
  get leader(): Leader | undefined {
    return lowest(this.#view.snapshot);
  }

  /** Starts campaigning with `value` (e.g. this node's name); again after a resign. */
  campaign(value: string): void {
    this.#value = value;
    void this.#view.start();
    const lease = this.#session.lease;
    if (lease !== undefined) void this.#enter(lease);
  }

  /** Stops campaigning and deletes this candidate's key (if it is still the one it put). */
  async resign(): Promise<void> {
    this.#value = undefined;
    const mine = this.#mine;
    this.#mine = undefined;
    this.#setFollower();
    if (mine !== undefined)
      await this.#options.client.txn({
        compare: [epochGuard(mine.key, mine.createRevision)],
        success: [{ op: 'delete', key: mine.key }],
      });
  }

  /** Resigns (best effort) and stops watching. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#session.off('granted', this.#onGranted);
    this.#session.off('lost', this.#onLost);
    try {
      await this.resign();
    } catch (error) {
      this.#options.logger?.warn({ err: error }, 'election: cannot resign');
    } finally {
      this.#view.close();
    }
  }

  /** An epoch-guarded write as the current leader; rejects when this candidate does not lead. */
  guardedTxn(txn: Partial<Txn> & Pick<Txn, 'success'>): Promise<TxnResult> {
    const mine = this.#mine;
    if (this.#role !== 'leader' || mine === undefined)
      return Promise.reject(new Error('election: not the leader'));
    return guardedTxn(this.#options.client, { key: mine.key, epoch: mine.createRevision }, txn);
  }

  readonly #onGranted = (lease: SessionLease): void => {
    if (this.#value !== undefined) void this.#enter(lease);
  };

  readonly #onLost = (): void => {
    this.#mine = undefined;
    this.#setFollower();
  };

  /** Puts (or finds) this lease's key, retrying while the lease is held. */
  async #enter(lease: SessionLease): Promise<void> {
    if (this.#entering || this.#closed) return;
    this.#entering = true;
    const key = this.#options.prefix + BigInt(lease.id).toString(16);
    this.#ownLeases.add(lease.id);
    try {
      for (
        let wait = 100;
        this.#value !== undefined && this.#session.lease?.id === lease.id;
        wait = Math.min(wait * 2, 1000)
      ) {
        const value = this.#value;
        try {
          const result = await this.#options.client.txn({
            compare: [{ key, target: 'createRevision', result: '==', value: 0 }],
            success: [{ op: 'put', key, value, lease: lease.id }],
            failure: [{ op: 'range', key }],
          });
          const existing = result.responses[0];
          const createRevision =
            result.succeeded || existing?.op !== 'range'
              ? result.revision
              : (existing.result.kvs[0]?.createRevision ?? 0);
          if (
            !result.succeeded &&
            existing?.op === 'range' &&
            existing.result.kvs[0]?.value !== value
          )
            await this.#options.client.put(key, value, { lease: lease.id });
          if (!this.#campaigningWith(lease)) return;
          this.#mine = { key, createRevision, lease: lease.id };
          this.#evaluate();
          return;
        } catch (error) {
          this.#options.logger?.warn(
            { err: error },
            'election: cannot put the candidate key; retrying',
          );
          await new Promise((resolve) => setTimeout(resolve, wait));
        }
      }
    } finally {
      this.#entering = false;
      // A new lease came while this one was being tried: enter with it.
      const now = this.#session.lease;
      if (this.#mine === undefined && now?.id !== lease.id && this.#campaigningWith(now))
        void this.#enter(now!);
    }
  }

  /** Whether this candidate campaigns and `lease` is still its session's lease. */
  #campaigningWith(lease: SessionLease | undefined): boolean {
    return lease !== undefined && this.#value !== undefined && this.#session.lease?.id === lease.id;
  }

  /** Decides leader or follower from the view. */
  #evaluate(): void {
    const mine = this.#mine;
    if (mine === undefined || this.#session.lease?.id !== mine.lease) {
      this.#setFollower();
      return;
    }
    if (this.#view.revision < mine.createRevision) return; // the view has not seen our key yet
    const kvs = this.#view.snapshot;
    const own = kvs.find((kv) => kv.key === mine.key);
    if (own?.createRevision !== mine.createRevision) {
      // Our key is gone (revoked, deleted) while the lease lives: put it again.
      this.#mine = undefined;
      this.#setFollower();
      const lease = this.#session.lease;
      if (this.#campaigningWith(lease)) void this.#enter(lease);
      return;
    }
    const leader = lowest(kvs)!;
    if (leader.key === mine.key) {
      if (this.#role !== 'leader') {
        this.#role = 'leader';
        this.#reported = leader;
        this.emit('leader', mine.createRevision);
      }
      return;
    }
    this.#setFollower(leader);
  }

  /** Becomes (or stays) a follower of `leader` (default: the one seen, unless it is ours). */
  #setFollower(leader: Leader | undefined = this.#othersLeader()): void {
    const same =
      this.#role === 'follower' &&
      this.#reported?.key === leader?.key &&
      this.#reported?.epoch === leader?.epoch;
    if (same) return;
    if (this.#role === 'none' && leader === undefined && this.#value === undefined) return;
    this.#role = 'follower';
    this.#reported = leader;
    this.emit('follower', leader?.value, leader?.epoch);
  }

  /** The leader seen, unless it is a stale key of this candidate (of a lease it lost). */
  #othersLeader(): Leader | undefined {
    const leader = lowest(this.#view.snapshot);
    if (leader === undefined) return undefined;
    return this.#ownLeases.has(leader.lease) && this.#mine?.key !== leader.key ? undefined : leader;
  }
}
