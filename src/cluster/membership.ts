import type { Logger } from '../observability/log.js';
import type { EtcdClient, KeyValue } from './etcd-client.js';
import { isObject } from './etcd-codec.js';
import { PrefixView } from './prefix-view.js';
import type { Clock, LeaseSession, SessionLease } from './session.js';
import { systemClock } from './session.js';

/** What a node publishes about itself (the JSON value of `PREFIX<name>`). */
export interface NodeStatus {
  readonly name: string;
  /** Addresses it can be reached at (operator interface, replication). */
  readonly addresses: readonly string[];
  /** Its role, e.g. `initial`, `active`, `standby`, `inop`. */
  readonly role: string;
  /** The epoch it acts under (the leader's), when it knows one. */
  readonly epoch?: number;
  /** Where it takes its peers' persistence entries (`ADDR:PORT`), when it shares them. */
  readonly replication?: string;
  /** When this value was written (ISO 8601). */
  readonly updatedAt: string;
}

/** A node as every node sees it. */
export interface Member extends NodeStatus {
  /** The lease the entry lives under: it goes when that lease expires. */
  readonly lease: string;
  /** The revision of the entry's last write. */
  readonly modRevision: number;
}

/** Options of {@link Membership}. */
export interface MembershipOptions {
  readonly client: EtcdClient;
  readonly session: LeaseSession;
  /** Entries go under it: `PREFIX<name>`. @example '/steerdns/prod/nodes/' */
  readonly prefix: string;
  /** This node's name (unique in the cluster; no '/'). */
  readonly name: string;
  /** Called with every new snapshot of the members, sorted by name. */
  readonly onChange?: (members: readonly Member[]) => void;
  readonly livenessMs?: number;
  readonly clock?: Clock;
  readonly logger?: Logger;
}

/** Reads an entry; undefined when its value is not a node status. */
export function parseMember(kv: KeyValue): Member | undefined {
  let value: unknown;
  try {
    value = JSON.parse(kv.value);
  } catch {
    return undefined;
  }
  if (!isObject(value)) return undefined;
  const { name, addresses, role, epoch, replication, updatedAt } = value;
  if (typeof name !== 'string' || typeof role !== 'string' || typeof updatedAt !== 'string')
    return undefined;
  if (!Array.isArray(addresses) || !addresses.every((a) => typeof a === 'string')) return undefined;
  return {
    name,
    addresses: addresses,
    role,
    ...(typeof epoch === 'number' ? { epoch } : {}),
    ...(typeof replication === 'string' ? { replication } : {}),
    updatedAt,
    lease: kv.lease,
    modRevision: kv.modRevision,
  };
}

/**
 * This node's entry under its session's lease, and a live view of every node's. The entry
 * is written on every new lease and on {@link update} (a put with the same lease), never on
 * a timer: a renewal writes nothing (it would add a revision per node every few seconds to
 * etcd's history). How recently another node renewed is asked on demand
 * ({@link lastRenewal}, one lease/timetolive); this node's own is its session's.
 */
export class Membership {
  readonly #options: MembershipOptions;
  readonly #view: PrefixView;
  readonly #clock: Clock;
  #status: Omit<NodeStatus, 'name' | 'updatedAt'> | undefined;
  #members: readonly Member[] = Object.freeze([]);
  #writing = false;
  #again = false;
  #closed = false;

  constructor(options: MembershipOptions) {
    if (options.name === '' || options.name.includes('/'))
      throw new Error(`membership: bad node name "${options.name}"`);
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#view = new PrefixView({
      client: options.client,
      prefix: options.prefix,
      ...(options.logger === undefined ? {} : { logger: options.logger }),
      ...(options.livenessMs === undefined ? {} : { livenessMs: options.livenessMs }),
      onChange: (kvs) => {
        this.#onView(kvs);
      },
    });
    options.session.on('granted', this.#onGranted);
  }

  /** Every node, sorted by name (frozen; a new array on every change). */
  get members(): readonly Member[] {
    return this.#members;
  }

  /** The key of this node's entry. */
  get key(): string {
    return this.#options.prefix + this.#options.name;
  }

  /** Registers with `status` (now, if the session holds a lease, else at its grant) and starts the view. */
  start(status: Omit<NodeStatus, 'name' | 'updatedAt'>): Promise<void> {
    this.#status = status;
    const ready = this.#view.start();
    void this.#write();
    return ready;
  }

  /** Changes this node's published status (e.g. its role and epoch). */
  async update(status: Partial<Omit<NodeStatus, 'name' | 'updatedAt'>>): Promise<void> {
    this.#status = { ...(this.#status ?? { addresses: [], role: 'initial' }), ...status };
    await this.#write();
  }

  /**
   * When `name` last renewed its lease, in clock ms: this node's from its session; another's
   * from etcd (granted TTL minus TTL left, whole seconds). Undefined when unknown or gone.
   */
  async lastRenewal(name: string): Promise<number | undefined> {
    if (name === this.#options.name) return this.#options.session.lease?.renewedAt;
    const member = this.#members.find((m) => m.name === name);
    if (member === undefined) return undefined;
    const info = await this.#options.client.leaseTimeToLive(member.lease);
    if (info.ttl < 0) return undefined;
    return this.#clock.now() - (info.grantedTtl - info.ttl) * 1000;
  }

  /** Stops the view and deletes this node's entry (best effort). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#options.session.off('granted', this.#onGranted);
    this.#view.close();
    const lease = this.#options.session.lease;
    if (lease === undefined) return;
    try {
      await this.#options.client.txn({
        compare: [{ key: this.key, target: 'createRevision', result: '>', value: 0 }],
        success: [{ op: 'delete', key: this.key }],
      });
    } catch (error) {
      this.#options.logger?.warn({ err: error }, 'membership: cannot delete the entry');
    }
  }

  readonly #onGranted = (): void => {
    void this.#write();
  };

  #onView(kvs: readonly KeyValue[]): void {
    const members = kvs
      .filter((kv) => kv.key.slice(this.#options.prefix.length) !== '')
      .map((kv) => {
        const member = parseMember(kv);
        if (member === undefined)
          this.#options.logger?.warn({ key: kv.key }, 'membership: not a node status');
        return member;
      })
      .filter((member) => member !== undefined)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    this.#members = Object.freeze(members);
    this.#options.onChange?.(this.#members);
    // Our entry gone while our lease lives (deleted by someone): write it again.
    const lease = this.#options.session.lease;
    if (
      lease !== undefined &&
      this.#view.synced &&
      !kvs.some((kv) => kv.key === this.key && kv.lease === lease.id)
    )
      void this.#write();
  }

  /** Puts this node's entry under the current lease, retrying while that lease is held. */
  async #write(): Promise<void> {
    if (this.#closed || this.#status === undefined) return;
    if (this.#writing) {
      this.#again = true; // written once more after the current write, with the newest status
      return;
    }
    this.#writing = true;
    this.#again = false;
    try {
      for (let wait = 100; ; wait = Math.min(wait * 2, 1000)) {
        const lease: SessionLease | undefined = this.#options.session.lease;
        if (lease === undefined || this.#isClosed()) return;
        const value: NodeStatus = {
          name: this.#options.name,
          ...this.#status,
          updatedAt: new Date(this.#clock.now()).toISOString(),
        };
        try {
          await this.#options.client.put(this.key, JSON.stringify(value), { lease: lease.id });
          return;
        } catch (error) {
          this.#options.logger?.warn(
            { err: error },
            'membership: cannot write the entry; retrying',
          );
          await new Promise((resolve) => setTimeout(resolve, wait));
        }
      }
    } finally {
      this.#writing = false;
      if (this.#writeAgain()) void this.#write();
    }
  }

  /** A method, not the field: it changes across awaits. */
  #writeAgain(): boolean {
    return this.#again;
  }

  #isClosed(): boolean {
    return this.#closed;
  }
}
