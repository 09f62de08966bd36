import { cidrContains, parseCidr, type Cidr } from '../lib/ip.js';

/**
 * Response rate limiting (RRL, the model of BIND and Knot): UDP responses to one client
 * prefix are metered by a token bucket; a response over the rate is dropped, and every
 * `slip`th one is sent instead as an empty truncated reply, so that a real client behind
 * the prefix retries over TCP while a forged source gets nothing worth reflecting.
 *
 * The buckets live in a fixed table of typed arrays, indexed by a hash of the prefix: a
 * query costs a hash and at most {@link PROBES} slot reads, and allocates nothing. When the
 * probed slots all hold other prefixes, the one touched longest ago is taken over (its
 * prefix starts again with a full bucket): the table bounds memory, not the prefixes seen.
 */

/** The settings of a {@link RateLimiter}; checked when the configuration is loaded. */
export interface RateLimitSettings {
  /** Responses per second allowed to one prefix (the bucket's refill rate). */
  readonly responsesPerSecond: number;
  /** Seconds of responses a prefix may use at once: the bucket holds rate × window. */
  readonly windowSeconds: number;
  /** Every slip-th limited response is sent as TC (0: none, 1: all). */
  readonly slip: number;
  /** Length of the prefix an IPv4 client is metered by (8-32). */
  readonly ipv4Prefix: number;
  /** Length of the prefix an IPv6 client is metered by (16-64). */
  readonly ipv6Prefix: number;
  /** Prefixes never limited, as written (each a valid address or CIDR). */
  readonly exempt: readonly string[];
  /** Buckets in the table (rounded up to a power of two). */
  readonly tableSize: number;
}

/** What to do with a response. */
export const RateVerdict = {
  /** Within the rate (or exempt): send it. */
  SEND: 0,
  /** Over the rate: send nothing. */
  DROP: 1,
  /** Over the rate, but this one is the slip-th: send an empty reply with TC set. */
  SLIP: 2,
} as const;
export type RateVerdict = (typeof RateVerdict)[keyof typeof RateVerdict];

/** Slots read for one prefix: its hash slot and the ones after it. */
const PROBES = 4;

/** A mask of the first `bits` bits of a 32-bit word (`bits` 0-32). */
const maskOf = (bits: number): number =>
  bits <= 0 ? 0 : bits >= 32 ? -1 : (0xffffffff << (32 - bits)) | 0;

/** The big-endian 32-bit word at `at`. */
const be32 = (b: Uint8Array, at: number): number =>
  (b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!;

/** Meters UDP responses per client prefix. One per process, kept across reloads. */
export class RateLimiter {
  private readonly mask: number;
  /** The prefix of each slot: family (4, 6; 0 empty) and two 32-bit words. */
  private readonly family: Uint8Array;
  private readonly wordA: Int32Array;
  private readonly wordB: Int32Array;
  private readonly tokens: Float64Array;
  /** When each slot was last touched (ms, the limiter's clock). */
  private readonly touched: Float64Array;
  /** Limited responses of each slot, for slip. */
  private readonly limited: Uint32Array;
  private readonly perMs: number;
  private readonly burst: number;
  private readonly slip: number;
  private readonly v4Mask: number;
  private readonly v6MaskA: number;
  private readonly v6MaskB: number;
  private readonly exempt4: readonly Cidr[];
  private readonly exempt6: readonly Cidr[];

  constructor(settings: RateLimitSettings) {
    let size = 1;
    while (size < settings.tableSize) size *= 2;
    this.mask = size - 1;
    this.family = new Uint8Array(size);
    this.wordA = new Int32Array(size);
    this.wordB = new Int32Array(size);
    this.tokens = new Float64Array(size);
    this.touched = new Float64Array(size);
    this.limited = new Uint32Array(size);
    this.perMs = settings.responsesPerSecond / 1000;
    this.burst = Math.max(1, settings.responsesPerSecond * settings.windowSeconds);
    this.slip = settings.slip;
    this.v4Mask = maskOf(settings.ipv4Prefix);
    this.v6MaskA = maskOf(settings.ipv6Prefix);
    this.v6MaskB = maskOf(settings.ipv6Prefix - 32);
    const exempt = settings.exempt.map((text) => parseCidr(text)!);
    this.exempt4 = exempt.filter((c) => c.family === 4);
    this.exempt6 = exempt.filter((c) => c.family === 6);
  }

  /** True when the address (4 or 16 bytes) is in an exempt prefix. */
  isExempt(address: Uint8Array): boolean {
    const list = address.length === 4 ? this.exempt4 : this.exempt6;
    for (let i = 0; i < list.length; i++) if (cidrContains(list[i]!, address)) return true;
    return false;
  }

  /**
   * Takes one response from the bucket of the address's prefix (4 or 16 bytes) at `now`
   * (milliseconds; the caller reads the clock once per query).
   */
  take(address: Uint8Array, now: number): RateVerdict {
    if (this.isExempt(address)) return RateVerdict.SEND;
    const v4 = address.length === 4;
    const family = v4 ? 4 : 6;
    const a = v4 ? be32(address, 0) & this.v4Mask : be32(address, 0) & this.v6MaskA;
    const b = v4 ? 0 : be32(address, 4) & this.v6MaskB;
    const slot = this.slotOf(family, a, b);
    let tokens: number;
    if (this.family[slot] === family && this.wordA[slot] === a && this.wordB[slot] === b) {
      const elapsed = Math.max(0, now - this.touched[slot]!);
      tokens = Math.min(this.burst, this.tokens[slot]! + elapsed * this.perMs);
    } else {
      this.family[slot] = family;
      this.wordA[slot] = a;
      this.wordB[slot] = b;
      this.limited[slot] = 0;
      tokens = this.burst;
    }
    this.touched[slot] = now;
    if (tokens >= 1) {
      this.tokens[slot] = tokens - 1;
      return RateVerdict.SEND;
    }
    this.tokens[slot] = tokens;
    const count = ++this.limited[slot]!;
    return this.slip > 0 && count % this.slip === 0 ? RateVerdict.SLIP : RateVerdict.DROP;
  }

  /** The slot of a prefix: where it is, else an empty slot, else the stalest probed. */
  private slotOf(family: number, a: number, b: number): number {
    let h = Math.imul(a ^ Math.imul(b, 0x9e3779b1) ^ family, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    const start = h & this.mask;
    let victim = start;
    for (let i = 0; i < PROBES; i++) {
      const slot = (start + i) & this.mask;
      const held = this.family[slot];
      if (held === 0) return slot;
      if (held === family && this.wordA[slot] === a && this.wordB[slot] === b) return slot;
      if (this.touched[slot]! < this.touched[victim]!) victim = slot;
    }
    return victim;
  }
}
