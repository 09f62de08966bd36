/** One remembered decision (seed 001 `Request_t`): which member, until when, how often. */
export interface PersistenceEntry {
  readonly member: string;
  /** Milliseconds since the epoch after which the entry no longer holds. */
  readonly expires: number;
  /** When the key last asked, ms. */
  readonly lastSeen: number;
  readonly hits: number;
}

/**
 * Where persistence entries live. The in-memory LRU below is the single-node store; a
 * cluster shares entries by exporting recent changes and merging its peers' (seed 001: the
 * virtual EDNS servers periodically share their records).
 */
export interface PersistenceStore {
  get(key: string): PersistenceEntry | undefined;
  /**
   * The member remembered for `key` if its entry has not expired at `now`; counts the hit
   * and updates the last-seen time in place. The answer path calls this once per query.
   */
  hit(key: string, now: number): string | undefined;
  set(key: string, entry: PersistenceEntry): void;
  delete(key: string): void;
  readonly size: number;
  /** Entries changed since the last call, for a periodic batched sync. */
  drainChanges(): [string, PersistenceEntry][];
  /** Applies entries from a peer; the later `lastSeen` wins. */
  merge(entries: Iterable<readonly [string, PersistenceEntry]>): void;
}

/**
 * A bounded in-memory store: least recently used entries are evicted first. Entries live in
 * typed-array slots and the map holds only slot numbers, so a million entries stay well
 * under 150 MB (an object per entry would not).
 */
export class LruPersistenceStore implements PersistenceStore {
  private readonly slots = new Map<string, number>();
  private readonly changed = new Set<string>();
  private readonly members: string[] = [];
  private readonly memberIndex = new Map<string, number>();
  private readonly free: number[] = [];
  private memberOf: Uint32Array;
  private expires: Float64Array;
  private lastSeen: Float64Array;
  private hits: Uint32Array;
  private used = 0;
  private readonly maxEntries: number;

  constructor(maxEntries: number) {
    this.maxEntries = maxEntries;
    const initial = Math.min(maxEntries, 1024);
    this.memberOf = new Uint32Array(initial);
    this.expires = new Float64Array(initial);
    this.lastSeen = new Float64Array(initial);
    this.hits = new Uint32Array(initial);
  }

  get size(): number {
    return this.slots.size;
  }

  get(key: string): PersistenceEntry | undefined {
    const slot = this.slots.get(key);
    return slot === undefined ? undefined : this.entryAt(slot);
  }

  hit(key: string, now: number): string | undefined {
    const slot = this.slots.get(key);
    if (slot === undefined || now > this.expires[slot]!) return undefined;
    // Refresh the LRU position at most once a second per key: a Map re-insert per query
    // would cost more than the rest of the lookup.
    if (now - this.lastSeen[slot]! > 1000) {
      this.slots.delete(key);
      this.slots.set(key, slot);
    }
    this.lastSeen[slot] = now;
    this.hits[slot]! += 1;
    this.changed.add(key);
    return this.members[this.memberOf[slot]!];
  }

  set(key: string, entry: PersistenceEntry): void {
    let slot = this.slots.get(key);
    // delete + set moves the key to the end of the Map's order: the most recently used.
    if (slot !== undefined) this.slots.delete(key);
    else slot = this.allocate();
    this.slots.set(key, slot);
    this.write(slot, entry);
    this.changed.add(key);
    if (this.slots.size > this.maxEntries) this.delete(this.slots.keys().next().value!);
  }

  delete(key: string): void {
    const slot = this.slots.get(key);
    if (slot === undefined) return;
    this.slots.delete(key);
    this.changed.delete(key);
    this.free.push(slot);
  }

  drainChanges(): [string, PersistenceEntry][] {
    const out: [string, PersistenceEntry][] = [];
    for (const key of this.changed) {
      const entry = this.get(key);
      if (entry) out.push([key, entry]);
    }
    this.changed.clear();
    return out;
  }

  merge(entries: Iterable<readonly [string, PersistenceEntry]>): void {
    for (const [key, entry] of entries) {
      const mine = this.get(key);
      if (!mine || mine.lastSeen < entry.lastSeen) {
        this.set(key, entry);
        this.changed.delete(key);
      }
    }
  }

  private entryAt(slot: number): PersistenceEntry {
    return {
      member: this.members[this.memberOf[slot]!]!,
      expires: this.expires[slot]!,
      lastSeen: this.lastSeen[slot]!,
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
    this.expires[slot] = entry.expires;
    this.lastSeen[slot] = entry.lastSeen;
    this.hits[slot] = entry.hits;
  }

  private allocate(): number {
    const reused = this.free.pop();
    if (reused !== undefined) return reused;
    if (this.used === this.expires.length) this.grow();
    return this.used++;
  }

  private grow(): void {
    const size = Math.min(this.maxEntries + 1, this.expires.length * 2);
    const grown = <T extends Uint32Array | Float64Array>(old: T, make: (n: number) => T): T => {
      const next = make(size);
      next.set(old);
      return next;
    };
    this.memberOf = grown(this.memberOf, (n) => new Uint32Array(n));
    this.expires = grown(this.expires, (n) => new Float64Array(n));
    this.lastSeen = grown(this.lastSeen, (n) => new Float64Array(n));
    this.hits = grown(this.hits, (n) => new Uint32Array(n));
  }
}

/** Stores by service, kept across configuration reloads so returning resolvers stay put. */
export class PersistenceStores {
  private readonly stores = new Map<string, PersistenceStore>();

  /** The store for `service`, created with `maxEntries` on first use. */
  forService(service: string, maxEntries: number): PersistenceStore {
    let store = this.stores.get(service);
    if (!store) this.stores.set(service, (store = new LruPersistenceStore(maxEntries)));
    return store;
  }
}
