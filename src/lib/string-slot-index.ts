/**
 * A map from strings to slot numbers the caller allocates (small integers, dense from 0),
 * kept out of the V8 heap. A `Map<string, number>` of a million short keys costs about 60
 * bytes a key in the heap (the string's header and characters, the Map's entry and
 * bucket); here a key costs its characters as bytes in one arena, 12 bytes of per-slot
 * arrays and two table cells of 4 bytes: about 35 bytes, outside the garbage collector's
 * sight. Lookups allocate nothing.
 *
 * - Keys whose characters are all Latin-1 (code units up to 255) and that have at most
 *   {@link MAX_KEY_BYTES} of them are stored as one byte a character. Any other key lives
 *   in a plain Map beside the table, so every string is a valid key.
 * - The table is open addressing with linear probing over a power-of-two `Int32Array` of
 *   slot numbers, at most {@link MAX_LOAD} full; removal shifts the following run back
 *   (no tombstones, so probes never lengthen with churn).
 * - The hash is seeded at random per index (as V8 seeds its own string hash), so which
 *   keys collide cannot be chosen from outside.
 * - Each slot owns a cell of the arena (its length rounded up to 4). A slot given a key
 *   that fits its cell writes it in place; a longer key takes a new cell and the old one
 *   is waste. When the arena is full it is copied into a new one: without the waste (only
 *   present keys' cells) when waste is at least a third, else as it is, 1.5 times larger.
 */
import { Buffer } from 'node:buffer';
import { randomInt } from 'node:crypto';

/** The longest key kept as bytes; longer ones go to the side Map. */
export const MAX_KEY_BYTES = 252;
/** The table is grown (doubled) before more than this fraction of it is used. */
export const MAX_LOAD = 0.6;

const EMPTY = -1;
/** Slot states. */
const ABSENT = 0;
const BYTES = 1;
const WIDE = 2;
/** What {@link hashOf} returns for a key that is not kept as bytes. */
const NOT_BYTES = -1;
const MIN_ARENA = 4096;

/** Sizes of an index's parts, in bytes (for benchmarks and tests). */
export interface IndexFootprint {
  /** The arena's length, and how much of it holds no present key (waste, and room at the end). */
  readonly arena: number;
  readonly waste: number;
  /** The hash table and the per-slot arrays. */
  readonly table: number;
  readonly perSlot: number;
  /** Keys in the side Map (not Latin-1, or too long). */
  readonly wideKeys: number;
  /** Arena copies that dropped waste (compactions) so far. */
  readonly compactions: number;
}

/** FNV-1a's step then MurmurHash3's finalizer, so every bit reaches the low bits the table masks. */
function finish(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A string-to-slot map whose keys live as bytes in an arena; see the module comment. */
export class StringSlotIndex {
  private readonly seed = randomInt(2 ** 32 - 1);
  private arena: Buffer;
  /** The arena's end of use, and the bytes before it that hold no present key. */
  private top = 0;
  private waste = 0;
  private compactions = 0;
  private table: Int32Array;
  private mask: number;
  /** Keys in the table (wide keys not counted). */
  private count = 0;
  /** Per slot: its cell's offset and size, its key's length and hash, its state. */
  private offsets: Uint32Array;
  private caps: Uint8Array;
  private lengths: Uint8Array;
  private hashes: Uint32Array;
  private states: Uint8Array;
  private readonly wide = new Map<string, number>();
  private readonly wideKeys = new Map<number, string>();

  /** @param slots how many slots to make room for at first (more are added as needed). */
  constructor(slots = 64) {
    const n = Math.max(1, slots);
    this.offsets = new Uint32Array(n);
    this.caps = new Uint8Array(n);
    this.lengths = new Uint8Array(n);
    this.hashes = new Uint32Array(n);
    this.states = new Uint8Array(n);
    this.arena = Buffer.alloc(MIN_ARENA);
    this.table = new Int32Array(16).fill(EMPTY);
    this.mask = 15;
  }

  /** How many keys are held. */
  get size(): number {
    return this.count + this.wide.size;
  }

  /** The slot of `key`, or -1. Allocates nothing (for a key kept as bytes). */
  find(key: string): number {
    const h = this.hashOf(key);
    if (h === NOT_BYTES) return this.wide.get(key) ?? -1;
    const { table, mask, hashes, lengths } = this;
    const n = key.length;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const slot = table[i]!;
      if (slot === EMPTY) return -1;
      if (hashes[slot] === h && lengths[slot] === n && this.equals(slot, key)) return slot;
    }
  }

  /** True when `slot` holds a key. */
  has(slot: number): boolean {
    return slot < this.states.length && this.states[slot] !== ABSENT;
  }

  /** The key in `slot`, or undefined. Decodes a new string. */
  keyAt(slot: number): string | undefined {
    if (!this.has(slot)) return undefined;
    if (this.states[slot] === WIDE) return this.wideKeys.get(slot);
    const start = this.offsets[slot]!;
    return this.arena.toString('latin1', start, start + this.lengths[slot]!);
  }

  /**
   * Puts `key` in `slot`. The caller keeps both rules: `key` is not held (see {@link find})
   * and `slot` holds nothing; a broken rule throws rather than corrupt the index.
   */
  insert(key: string, slot: number): void {
    if (slot >= this.states.length) this.reserve(Math.max(slot + 1, this.states.length * 2));
    if (this.states[slot] !== ABSENT) throw new Error(`slot ${slot} is in use`);
    const h = this.hashOf(key);
    if (h === NOT_BYTES) {
      this.insertWide(key, slot);
      return;
    }
    if (this.count + 1 > this.table.length * MAX_LOAD) this.rehash(this.table.length * 2);
    const { table, mask, hashes, lengths } = this;
    let i = h & mask;
    for (; table[i] !== EMPTY; i = (i + 1) & mask) {
      const other = table[i]!;
      if (hashes[other] === h && lengths[other] === key.length && this.equals(other, key))
        throw new Error('the key is held already');
    }
    this.writeKey(slot, key);
    hashes[slot] = h;
    this.states[slot] = BYTES;
    table[i] = slot;
    this.count++;
  }

  /** Removes the key in `slot`; false if it held none. */
  remove(slot: number): boolean {
    if (!this.has(slot)) return false;
    if (this.states[slot] === WIDE) {
      this.wide.delete(this.wideKeys.get(slot)!);
      this.wideKeys.delete(slot);
    } else {
      this.unplace(slot);
      this.count--;
      this.waste += this.caps[slot]!;
    }
    this.states[slot] = ABSENT;
    return true;
  }

  /** Makes room for slots below `slots` (the caller's own arrays grow the same way). */
  reserve(slots: number): void {
    if (slots <= this.states.length) return;
    const grow = <T extends Uint8Array | Uint32Array>(old: T, next: T): T => {
      next.set(old);
      return next;
    };
    this.offsets = grow(this.offsets, new Uint32Array(slots));
    this.caps = grow(this.caps, new Uint8Array(slots));
    this.lengths = grow(this.lengths, new Uint8Array(slots));
    this.hashes = grow(this.hashes, new Uint32Array(slots));
    this.states = grow(this.states, new Uint8Array(slots));
  }

  /** Sizes of the parts, in bytes. */
  footprint(): IndexFootprint {
    return {
      arena: this.arena.length,
      waste: this.waste + (this.arena.length - this.top),
      table: this.table.byteLength,
      perSlot: this.states.length * 11,
      wideKeys: this.wide.size,
      compactions: this.compactions,
    };
  }

  /** The key's hash, or NOT_BYTES for a key kept in the side Map. */
  private hashOf(key: string): number {
    const n = key.length;
    if (n > MAX_KEY_BYTES) return NOT_BYTES;
    let h = this.seed;
    let all = 0;
    for (let i = 0; i < n; i++) {
      const c = key.charCodeAt(i);
      all |= c;
      h = Math.imul(h ^ c, 0x01000193);
    }
    return all > 255 ? NOT_BYTES : finish(h);
  }

  /** The same hash of the key stored in `slot`. */
  private hashAt(slot: number): number {
    const { arena } = this;
    const start = this.offsets[slot]!;
    const end = start + this.lengths[slot]!;
    let h = this.seed;
    for (let i = start; i < end; i++) h = Math.imul(h ^ arena[i]!, 0x01000193);
    return finish(h);
  }

  private equals(slot: number, key: string): boolean {
    const { arena } = this;
    const start = this.offsets[slot]!;
    for (let i = 0; i < key.length; i++) if (arena[start + i] !== key.charCodeAt(i)) return false;
    return true;
  }

  private insertWide(key: string, slot: number): void {
    if (this.wide.has(key)) throw new Error('the key is held already');
    // A flat copy: a concatenated key is a V8 cons string (a tree of its parts) otherwise.
    const lower = key.toLowerCase();
    const kept = lower === key ? lower : key;
    this.wide.set(kept, slot);
    this.wideKeys.set(slot, kept);
    this.states[slot] = WIDE;
  }

  /** Writes `key` (Latin-1, short) into `slot`'s cell, or a new cell if it does not fit. */
  private writeKey(slot: number, key: string): void {
    const n = key.length;
    if (this.caps[slot]! >= n) this.waste -= this.caps[slot]!;
    else {
      const cap = (n + 3) & ~3;
      if (this.top + cap > this.arena.length) this.makeRoom(cap);
      // The slot's old cell (if any) was counted as waste when its key was removed.
      this.offsets[slot] = this.top;
      this.caps[slot] = cap;
      this.top += cap;
    }
    const { arena } = this;
    const start = this.offsets[slot]!;
    for (let i = 0; i < n; i++) arena[start + i] = key.charCodeAt(i);
    this.lengths[slot] = n;
  }

  /** A new arena with room for `cap` more bytes: compacted when waste is a third or more. */
  private makeRoom(cap: number): void {
    const live = this.top - this.waste;
    if (this.waste * 3 < this.top) {
      const next = Buffer.alloc(Math.max(MIN_ARENA, Math.ceil((this.top + cap) * 1.5)));
      this.arena.copy(next, 0, 0, this.top);
      this.arena = next;
      return;
    }
    const next = Buffer.alloc(Math.max(MIN_ARENA, Math.ceil((live + cap) * 1.5)));
    const { arena, offsets, caps, states } = this;
    let top = 0;
    for (let slot = 0; slot < states.length; slot++) {
      if (states[slot] !== BYTES) {
        caps[slot] = 0;
        continue;
      }
      const start = offsets[slot]!;
      const end = start + caps[slot]!;
      offsets[slot] = top;
      for (let i = start; i < end; i++) next[top++] = arena[i]!;
    }
    this.arena = next;
    this.top = top;
    this.waste = 0;
    this.compactions++;
  }

  /** Puts `slot` in the first empty cell of its probe run. */
  private place(slot: number, h: number): void {
    const { table, mask } = this;
    let i = h & mask;
    while (table[i] !== EMPTY) i = (i + 1) & mask;
    table[i] = slot;
  }

  /** Takes `slot` out of the table and shifts back the run after it (no tombstones). */
  private unplace(slot: number): void {
    const { table, mask, hashes } = this;
    let hole = hashes[slot]! & mask;
    while (table[hole] !== slot) hole = (hole + 1) & mask;
    for (let j = (hole + 1) & mask; table[j] !== EMPTY; j = (j + 1) & mask) {
      const other = table[j]!;
      // `other` may move back into the hole unless its home lies after the hole (cyclically).
      if (((j - (hashes[other]! & mask)) & mask) >= ((j - hole) & mask)) {
        table[hole] = other;
        hole = j;
      }
    }
    table[hole] = EMPTY;
  }

  private rehash(size: number): void {
    const old = this.table;
    this.table = new Int32Array(size).fill(EMPTY);
    this.mask = size - 1;
    for (const slot of old) if (slot !== EMPTY) this.place(slot, this.hashes[slot]!);
  }

  /** Checks the table against the per-slot arrays (for tests): throws on the first fault. */
  verify(): void {
    let placed = 0;
    for (const slot of this.table) {
      if (slot === EMPTY) continue;
      placed++;
      if (this.states[slot] !== BYTES) throw new Error(`slot ${slot} in the table is not held`);
      if (this.hashAt(slot) !== this.hashes[slot]) throw new Error(`slot ${slot}: stale hash`);
      if (this.find(this.keyAt(slot)!) !== slot) throw new Error(`slot ${slot}: not found`);
    }
    if (placed !== this.count) throw new Error(`${placed} slots placed, ${this.count} counted`);
  }
}
