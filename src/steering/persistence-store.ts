import { StringSlotIndex } from '../lib/string-slot-index.js';

/**
 * One remembered decision (seed 001 `Request_t`): which member, since when, last seen when,
 * for how long, how often. Times are milliseconds since the epoch. The entry holds while
 * `now <= lastSeen + ttlMs`: every hit moves `lastSeen`, so an active key never expires.
 */
export interface PersistenceEntry {
  /** The member id (`pool/member`). */
  readonly member: string;
  /** When this decision was made. Identifies the decision together with `member`. */
  readonly created: number;
  /** When the key last asked. */
  readonly lastSeen: number;
  /** How long the entry holds after `lastSeen`, in ms (at most 2^32 - 1). */
  readonly ttlMs: number;
  /** Queries answered from this decision, the one that made it included. */
  readonly hits: number;
}

/** One change of a store, as a replicator ships it: an entry's new value, or its removal. */
export type PersistenceChange =
  | { readonly key: string; readonly entry: PersistenceEntry; readonly deleted?: undefined }
  | { readonly key: string; readonly deleted: true; readonly entry?: undefined };

/** What {@link PersistenceStore.drainChanges} returns. */
export interface DrainOptions {
  /**
   * false: only inserts (new decisions) and deletions; refreshes stay pending for a later
   * call. true: refreshes too.
   * @default true
   */
  readonly refreshes?: boolean;
}

/**
 * Where persistence entries live, and how they travel between worker processes and nodes
 * (seed 001: the virtual EDNS servers periodically share their records).
 *
 * Rules implementers keep:
 * - Local writes are changes: `set` (a new decision) is an insert, a `hit` that holds is a
 *   refresh, `delete` is a deletion. `drainChanges` hands each changed key once, with its
 *   current entry; an insert stays an insert however often it is refreshed before the
 *   drain, so a replicator can ship inserts at once and refreshes in batches.
 * - Evictions (the store is bounded) and expiry are local matters: never changes.
 * - `merge` applies a peer's changes with {@link mergeEntries}, which gives the same table
 *   whatever order and grouping entry changes arrive in. A merged entry is not a local
 *   change unless the local table added something to it (a later `lastSeen`, a winning
 *   decision): then that result is pending, so peers converge, and nothing echoes forever.
 * - Deletions are not ordered against entries: a deletion removes what the receiver holds
 *   when it arrives. They are operator actions (forget a resolver), not part of answering.
 */
export interface PersistenceStore {
  get(key: string): PersistenceEntry | undefined;
  /** The member remembered for `key` if its entry holds at `now`; changes nothing. */
  peek(key: string, now: number): string | undefined;
  /**
   * The member remembered for `key` if its entry holds at `now` (`now <= lastSeen +
   * ttlMs`); then counts the hit, sets `lastSeen = now` and, when given, `ttlMs` (the TTL
   * in force now). The answer path calls this once per query.
   */
  hit(key: string, now: number, ttlMs?: number): string | undefined;
  /** Stores a new decision for `key` (replacing any other): an insert. */
  set(key: string, entry: PersistenceEntry): void;
  delete(key: string): void;
  readonly size: number;
  /** Every entry, expired ones included (the reader filters on `lastSeen + ttlMs`): a snapshot for a newcomer. */
  entries(): IterableIterator<[string, PersistenceEntry]>;
  /** Keys inserted, refreshed or deleted since the last call (see {@link DrainOptions}). */
  drainChanges(options?: DrainOptions): PersistenceChange[];
  /** Applies a peer's changes (see the rules above). */
  merge(changes: Iterable<PersistenceChange>): void;
}

/** True when decision `a` beats decision `b`: the later `created`; ties, the smaller member. */
function beats(a: PersistenceEntry, b: PersistenceEntry): boolean {
  return a.created > b.created || (a.created === b.created && a.member < b.member);
}

/**
 * Joins two versions of one key's entry: commutative, associative and idempotent, so every
 * replica that has seen the same changes holds the same entry.
 *
 * - The decision (`member`, `created`): the one created later wins (ties: the smaller
 *   member id). A store only makes a new decision when it found no usable entry (none,
 *   expired, or its member no longer eligible), so the later one is the informed one: it
 *   wins over an entry that had expired before it was made, and over a stale copy of the
 *   entry it replaced after a failover. Two writers deciding for a new key at once: the
 *   later wins, the earlier writer's client moves once.
 * - `lastSeen`: the latest of both (the key was seen then, whichever copy saw it), with
 *   the `ttlMs` of that sighting (ties: the longer).
 * - `hits`: the larger count of copies of the winning decision.
 *
 * Why not "concurrent decisions: the earlier wins": with x (created 0, expires 10),
 * y (created 5, seen until 100) and z (created 20, expires 30), x beats y (concurrent),
 * y beats z (concurrent), z beats x (made after x expired): the result would depend on
 * the arrival order. And a failover's new decision would lose to stale copies of the old.
 */
export function mergeEntries(a: PersistenceEntry, b: PersistenceEntry): PersistenceEntry {
  const sameDecision = a.member === b.member && a.created === b.created;
  const winner = sameDecision || beats(a, b) ? a : b;
  const later = a.lastSeen > b.lastSeen || (a.lastSeen === b.lastSeen && a.ttlMs >= b.ttlMs);
  const seen = later ? a : b;
  return {
    member: winner.member,
    created: winner.created,
    lastSeen: seen.lastSeen,
    ttlMs: seen.ttlMs,
    hits: sameDecision ? Math.max(a.hits, b.hits) : winner.hits,
  };
}

const sameEntry = (a: PersistenceEntry, b: PersistenceEntry): boolean =>
  a.member === b.member &&
  a.created === b.created &&
  a.lastSeen === b.lastSeen &&
  a.ttlMs === b.ttlMs &&
  a.hits === b.hits;

/** Per-slot change flags. */
const REFRESHED = 1;
const INSERTED = 2;
const IN_REFRESH_QUEUE = 4;
const IN_INSERT_QUEUE = 8;

/** A growable queue of slot numbers (4 bytes each: a plain array would take 8). */
class SlotQueue {
  private items = new Uint32Array(64);
  length = 0;

  push(slot: number): void {
    if (this.length === this.items.length) {
      const grown = new Uint32Array(this.items.length * 2);
      grown.set(this.items);
      this.items = grown;
    }
    this.items[this.length++] = slot;
  }

  /** Takes the last slot pushed (the queue must not be empty). */
  pop(): number {
    return this.items[--this.length]!;
  }

  /** Empties the queue, calling `each` with every slot in order. */
  drain(each: (slot: number) => void): void {
    const { items, length } = this;
    this.length = 0;
    for (let i = 0; i < length; i++) each(items[i]!);
    if (items.length > 4096) this.items = new Uint32Array(64);
  }
}

/** `prev`/`next` of a slot at an end of the LRU list, or of a free slot. */
const NONE = -1;

/**
 * A bounded in-memory store: least recently used entries are evicted first. Entries live in
 * typed-array slots, and their keys as bytes in a {@link StringSlotIndex} (not a Map of
 * strings), so a million entries take about 70 MB, almost all of it outside the V8 heap
 * (BENCHMARKS.md §5.2, §5.4). The LRU order is a doubly
 * linked list threaded through the slots (`prev`/`next`, 8 bytes a slot): a hit moves its
 * slot to the head and eviction takes the tail, both O(1), and the index is only written
 * when a key comes or goes (a Map's insertion order would need delete + set per move, and
 * finding its oldest key walks every hole earlier deletions left). Pending changes are
 * flags per slot plus queues of slot numbers, each slot at most once per queue: bounded
 * even if nobody drains.
 */
export class LruPersistenceStore implements PersistenceStore {
  /** Key to slot; also the key in each slot (drains walk slots, not keys). */
  private readonly index: StringSlotIndex;
  private readonly members: string[] = [];
  private readonly memberIndex = new Map<string, number>();
  /** Free slots below `used`, as a stack (a slot number each, 4 bytes). */
  private readonly free = new SlotQueue();
  private readonly deleted = new Set<string>();
  private readonly inserts = new SlotQueue();
  private readonly refreshes = new SlotQueue();
  private memberOf: Uint32Array;
  private created: Float64Array;
  private lastSeen: Float64Array;
  private ttlMs: Uint32Array;
  private hits: Uint32Array;
  private flags: Uint8Array;
  /** Toward the least recently used end (the tail), and toward the head. */
  private prev: Int32Array;
  private next: Int32Array;
  /** The most and the least recently used slot, NONE when empty. */
  private head = NONE;
  private tail = NONE;
  private used = 0;
  private limit: number;

  constructor(maxEntries: number) {
    this.limit = maxEntries;
    const initial = Math.min(maxEntries, 1024);
    this.index = new StringSlotIndex(initial);
    this.memberOf = new Uint32Array(initial);
    this.created = new Float64Array(initial);
    this.lastSeen = new Float64Array(initial);
    this.ttlMs = new Uint32Array(initial);
    this.hits = new Uint32Array(initial);
    this.flags = new Uint8Array(initial);
    this.prev = new Int32Array(initial);
    this.next = new Int32Array(initial);
  }

  get size(): number {
    return this.index.size;
  }

  /** The bound; lowering it evicts the least recently used entries at once. */
  get maxEntries(): number {
    return this.limit;
  }

  set maxEntries(value: number) {
    this.limit = value;
    this.evict();
  }

  get(key: string): PersistenceEntry | undefined {
    const slot = this.slotOf(key);
    return slot === undefined ? undefined : this.entryAt(slot);
  }

  peek(key: string, now: number): string | undefined {
    const slot = this.slotOf(key);
    if (slot === undefined || now > this.lastSeen[slot]! + this.ttlMs[slot]!) return undefined;
    return this.members[this.memberOf[slot]!];
  }

  hit(key: string, now: number, ttlMs?: number): string | undefined {
    const slot = this.slotOf(key);
    if (slot === undefined || now > this.lastSeen[slot]! + this.ttlMs[slot]!) return undefined;
    this.toHead(slot);
    if (now > this.lastSeen[slot]!) this.lastSeen[slot] = now;
    if (ttlMs !== undefined) this.ttlMs[slot] = ttlMs;
    this.hits[slot]! += 1;
    this.mark(slot, REFRESHED);
    return this.members[this.memberOf[slot]!];
  }

  set(key: string, entry: PersistenceEntry): void {
    this.deleted.delete(key);
    this.mark(this.store(key, entry), INSERTED);
  }

  delete(key: string): void {
    if (this.remove(key)) this.deleted.add(key);
  }

  /** Least recently used first. */
  *entries(): IterableIterator<[string, PersistenceEntry]> {
    for (let slot = this.tail; slot !== NONE; slot = this.prev[slot]!)
      yield [this.index.keyAt(slot)!, this.entryAt(slot)];
  }

  drainChanges(options: DrainOptions = {}): PersistenceChange[] {
    const out: PersistenceChange[] = [];
    for (const key of this.deleted) out.push({ key, deleted: true });
    this.deleted.clear();
    const take = (slot: number, queued: number): void => {
      this.flags[slot]! &= ~queued;
      const pending = this.flags[slot]! & (INSERTED | REFRESHED);
      // A slot freed (and maybe reused) since it was queued has nothing pending. A pending
      // insert is taken from the insert queue only, a mere refresh from the refresh queue.
      if (!this.index.has(slot) || pending === 0) return;
      if ((queued === IN_INSERT_QUEUE) !== ((pending & INSERTED) !== 0)) return;
      this.flags[slot]! &= ~(INSERTED | REFRESHED);
      out.push({ key: this.index.keyAt(slot)!, entry: this.entryAt(slot) });
    };
    this.inserts.drain((slot) => {
      take(slot, IN_INSERT_QUEUE);
    });
    if (options.refreshes ?? true)
      this.refreshes.drain((slot) => {
        take(slot, IN_REFRESH_QUEUE);
      });
    return out;
  }

  merge(changes: Iterable<PersistenceChange>): void {
    for (const change of changes) {
      if (change.deleted) {
        this.deleted.delete(change.key);
        this.remove(change.key);
        continue;
      }
      const { key, entry } = change;
      const slot = this.slotOf(key);
      if (slot === undefined) {
        this.deleted.delete(key);
        this.clearPending(this.store(key, entry));
        continue;
      }
      const mine = this.entryAt(slot);
      const joined = mergeEntries(mine, entry);
      if (joined.lastSeen > mine.lastSeen) this.toHead(slot);
      this.write(slot, joined);
      if (sameEntry(joined, entry)) this.clearPending(slot);
      else if (joined.member === entry.member && joined.created === entry.created) {
        // The peer has this decision; only our later sighting is news to it.
        this.clearPending(slot);
        this.mark(slot, REFRESHED);
      } else this.mark(slot, INSERTED);
    }
  }

  /** Writes `entry` under `key` as the most recently used; returns its slot. */
  private store(key: string, entry: PersistenceEntry): number {
    let slot = this.slotOf(key);
    if (slot !== undefined) this.toHead(slot);
    else {
      // Make room first, so that the new slot can take the evicted one's place (and its
      // key's cell in the index).
      while (this.index.size >= this.limit && this.tail !== NONE) this.removeSlot(this.tail);
      slot = this.allocate();
      this.index.insert(key, slot);
      this.linkHead(slot);
    }
    this.write(slot, entry);
    return slot;
  }

  private remove(key: string): boolean {
    const slot = this.slotOf(key);
    if (slot === undefined) return false;
    this.removeSlot(slot);
    return true;
  }

  private removeSlot(slot: number): void {
    this.index.remove(slot);
    this.unlink(slot);
    this.clearPending(slot);
    this.free.push(slot);
  }

  private evict(): void {
    while (this.index.size > this.limit) this.removeSlot(this.tail);
  }

  /** The slot of `key`, or undefined. */
  private slotOf(key: string): number | undefined {
    const slot = this.index.find(key);
    return slot < 0 ? undefined : slot;
  }

  private linkHead(slot: number): void {
    this.prev[slot] = NONE;
    this.next[slot] = this.head;
    if (this.head !== NONE) this.prev[this.head] = slot;
    else this.tail = slot;
    this.head = slot;
  }

  private unlink(slot: number): void {
    const before = this.prev[slot]!;
    const after = this.next[slot]!;
    if (before !== NONE) this.next[before] = after;
    else this.head = after;
    if (after !== NONE) this.prev[after] = before;
    else this.tail = before;
  }

  private toHead(slot: number): void {
    if (slot === this.head) return;
    this.unlink(slot);
    this.linkHead(slot);
  }

  /** Marks a pending change of `kind` and queues the slot unless it is queued already. */
  private mark(slot: number, kind: typeof REFRESHED | typeof INSERTED): void {
    const flags = this.flags[slot]!;
    const queued = kind === INSERTED ? IN_INSERT_QUEUE : IN_REFRESH_QUEUE;
    this.flags[slot] = flags | kind | queued;
    if (flags & queued) return;
    (kind === INSERTED ? this.inserts : this.refreshes).push(slot);
  }

  private clearPending(slot: number): void {
    this.flags[slot]! &= ~(INSERTED | REFRESHED);
  }

  private entryAt(slot: number): PersistenceEntry {
    return {
      member: this.members[this.memberOf[slot]!]!,
      created: this.created[slot]!,
      lastSeen: this.lastSeen[slot]!,
      ttlMs: this.ttlMs[slot]!,
      hits: this.hits[slot]!,
    };
  }

  private write(slot: number, entry: PersistenceEntry): void {
    let index = this.memberIndex.get(entry.member);
    if (index === undefined) {
      index = this.members.push(entry.member) - 1;
      this.memberIndex.set(entry.member, index);
    }
    this.memberOf[slot] = index;
    this.created[slot] = entry.created;
    this.lastSeen[slot] = entry.lastSeen;
    this.ttlMs[slot] = entry.ttlMs;
    this.hits[slot] = entry.hits;
  }

  private allocate(): number {
    if (this.free.length > 0) return this.free.pop();
    if (this.used === this.created.length) this.grow();
    return this.used++;
  }

  private grow(): void {
    const length = this.created.length;
    const size = Math.max(length + 1, Math.min(this.limit + 1, length * 2));
    const grown = <T extends Uint8Array | Uint32Array | Int32Array | Float64Array>(
      old: T,
      make: (n: number) => T,
    ): T => {
      const next = make(size);
      next.set(old);
      return next;
    };
    this.memberOf = grown(this.memberOf, (n) => new Uint32Array(n));
    this.created = grown(this.created, (n) => new Float64Array(n));
    this.lastSeen = grown(this.lastSeen, (n) => new Float64Array(n));
    this.ttlMs = grown(this.ttlMs, (n) => new Uint32Array(n));
    this.hits = grown(this.hits, (n) => new Uint32Array(n));
    this.flags = grown(this.flags, (n) => new Uint8Array(n));
    this.prev = grown(this.prev, (n) => new Int32Array(n));
    this.next = grown(this.next, (n) => new Int32Array(n));
    this.index.reserve(size);
  }
}

/** The bound of a store created by a peer's changes before the configuration named it. */
export const DEFAULT_MAX_ENTRIES = 1_000_000;

/**
 * Stores by service (the service name with its trailing dot), kept across configuration
 * reloads so returning resolvers stay put. A replicator drains {@link all} and applies a
 * peer's changes with {@link merge}.
 */
export class PersistenceStores {
  private readonly stores = new Map<string, LruPersistenceStore>();

  /**
   * The store for `service`, created with `maxEntries` on first use. Called at every load:
   * a changed `maxEntries` applies to the kept store (lowering it evicts at once).
   */
  forService(service: string, maxEntries: number): PersistenceStore {
    const store = this.stores.get(service);
    if (!store) return this.create(service, maxEntries);
    if (store.maxEntries !== maxEntries) store.maxEntries = maxEntries;
    return store;
  }

  /** The store for `service` if it exists. */
  get(service: string): PersistenceStore | undefined {
    return this.stores.get(service);
  }

  /** Every store with its service, in creation order. */
  all(): IterableIterator<[string, PersistenceStore]> {
    return this.stores.entries();
  }

  /**
   * Applies a peer's changes to the store of `service`, creating it with
   * {@link DEFAULT_MAX_ENTRIES} when no configuration has named it yet (the peer may have
   * loaded a newer configuration first); `forService` sets the configured bound later.
   */
  merge(service: string, changes: Iterable<PersistenceChange>): void {
    (this.stores.get(service) ?? this.create(service, DEFAULT_MAX_ENTRIES)).merge(changes);
  }

  private create(service: string, maxEntries: number): LruPersistenceStore {
    const store = new LruPersistenceStore(maxEntries);
    this.stores.set(service, store);
    return store;
  }
}
