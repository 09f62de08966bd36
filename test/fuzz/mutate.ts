import { seedCorpus } from './corpus.js';

/**
 * A deterministic DNS packet mutator: the same seed and corpus always give the same
 * sequence of packets. It knows enough of the wire format to aim at names (label lengths,
 * compression pointers), section counts and record fields, and mixes that with blind byte
 * mutations.
 */

/** A seeded pseudo-random source (mulberry32). */
export interface Rng {
  /** A uniform 32-bit unsigned integer. */
  next(): number;
  /** A uniform integer in [0, n); 0 when n <= 0. */
  below(n: number): number;
  /** True with probability `p`. */
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
  bytes(n: number): Buffer;
}

/** Creates the mulberry32 generator for `seed`. */
export function createRng(seed: number): Rng {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  const below = (n: number): number => (n <= 0 ? 0 : Math.floor((next() / 0x100000000) * n));
  return {
    next,
    below,
    chance: (p) => next() / 0x100000000 < p,
    pick: (items) => {
      if (items.length === 0) throw new Error('mutate: pick from an empty list');
      return items[below(items.length)]!;
    },
    bytes: (n) => Buffer.from(Array.from({ length: n }, () => next() & 0xff)),
  };
}

/** Offsets found by walking a (possibly broken) message as far as it goes. */
export interface Layout {
  /** Offsets of label length octets (and of compression pointers). */
  readonly labels: number[];
  /** Offsets of the 10-octet fixed part (type, class, TTL, RDLENGTH) of each record. */
  readonly records: number[];
  /** Offsets of EDNS options (code, length) inside OPT records. */
  readonly options: number[];
}

function walkName(buf: Buffer, start: number, labels: number[]): number {
  let p = start;
  while (p < buf.length) {
    labels.push(p);
    const len = buf[p]!;
    if (len === 0) return p + 1;
    if ((len & 0xc0) !== 0) return p + 2;
    p += len + 1;
  }
  return -1;
}

/** Walks header, question and records; stops quietly where the message breaks. */
export function layout(buf: Buffer): Layout {
  const out: Layout = { labels: [], records: [], options: [] };
  if (buf.length < 12) return out;
  let p = 12;
  for (let i = Math.min(buf.readUInt16BE(4), 8); i > 0; i--) {
    p = walkName(buf, p, out.labels);
    if (p < 0 || p + 4 > buf.length) return out;
    p += 4;
  }
  const records = Math.min(buf.readUInt16BE(6) + buf.readUInt16BE(8) + buf.readUInt16BE(10), 32);
  for (let i = 0; i < records; i++) {
    p = walkName(buf, p, out.labels);
    if (p < 0 || p + 10 > buf.length) return out;
    out.records.push(p);
    const end = p + 10 + buf.readUInt16BE(p + 8);
    if (buf.readUInt16BE(p) === 41) {
      for (let o = p + 10; o + 4 <= Math.min(end, buf.length); o += 4 + buf.readUInt16BE(o + 2)) {
        out.options.push(o);
      }
    }
    p = end;
  }
  return out;
}

const INTERESTING_BYTES = [0x00, 0xff, 0xc0, 0x3f, 0x40, 0x01, 0x7f, 0x80, 0xc1, 0x29] as const;
const INTERESTING_WORDS = [
  0, 1, 2, 0x7fff, 0x8000, 0xffff, 41, 255, 512, 1232, 4096, 0xfffe,
] as const;

type Mutation = (buf: Buffer, rng: Rng, corpus: readonly Buffer[]) => Buffer;

const at = (buf: Buffer, rng: Rng): number => rng.below(buf.length);

const writeWord = (buf: Buffer, offset: number, value: number): Buffer => {
  if (offset + 2 <= buf.length) buf.writeUInt16BE(value & 0xffff, offset);
  return buf;
};

const pointer = (target: number): Buffer =>
  Buffer.from([0xc0 | ((target >> 8) & 0x3f), target & 0xff]);

/** Inserts or writes a compression pointer at a name position: self, forward, loop, header... */
const insertPointer: Mutation = (buf, rng) => {
  const labels = layout(buf).labels;
  const p = labels.length > 0 && rng.chance(0.9) ? rng.pick(labels) : at(buf, rng);
  const kind = rng.below(6);
  const target = [
    p,
    p + 2 + rng.below(16),
    rng.below(12),
    12,
    buf.length + rng.below(64),
    rng.below(0x4000),
  ][kind]!;
  if (kind === 0 && labels.length > 1 && rng.chance(0.5)) {
    // A loop: two pointers that point at each other.
    const q = rng.pick(labels);
    pointer(q).copy(buf, p);
    if (q + 2 <= buf.length) pointer(p).copy(buf, q);
    return buf;
  }
  if (rng.chance(0.5)) return Buffer.concat([buf.subarray(0, p), pointer(target), buf.subarray(p)]);
  if (p + 2 <= buf.length) pointer(target).copy(buf, p);
  return buf;
};

/** Sets a label length octet to a boundary or reserved value. */
const corruptLabel: Mutation = (buf, rng) => {
  const labels = layout(buf).labels;
  const p = labels.length > 0 ? rng.pick(labels) : at(buf, rng);
  if (p >= buf.length) return buf;
  const len = buf[p]!;
  buf[p] =
    rng.pick([0, 1, 63, 64, 0x80, 0x40, 0xff, (len + 1) & 0xff, (len - 1) & 0xff, buf.length - p]) &
    0xff;
  return buf;
};

/** Writes an interesting 16-bit value into a record or option field (type, class, lengths). */
const corruptField: Mutation = (buf, rng) => {
  const { records, options } = layout(buf);
  const fields = [
    ...records.flatMap((r) => [r, r + 2, r + 4, r + 6, r + 8]),
    ...options.flatMap((o) => [o, o + 2, o + 4, o + 6]),
  ];
  const offset = fields.length > 0 ? rng.pick(fields) : at(buf, rng);
  return writeWord(buf, offset, rng.chance(0.8) ? rng.pick(INTERESTING_WORDS) : rng.next());
};

/** Sets QDCOUNT, ANCOUNT, NSCOUNT or ARCOUNT to a nearby or extreme value. */
const tweakCount: Mutation = (buf, rng) => {
  const offset = 4 + 2 * rng.below(4);
  const old = buf.length >= offset + 2 ? buf.readUInt16BE(offset) : 0;
  return writeWord(buf, offset, rng.pick([0, 1, 2, old + 1, old - 1, 0xffff, rng.below(0x10000)]));
};

const flipBits: Mutation = (buf, rng) => {
  for (let n = 1 + rng.below(8); n > 0 && buf.length > 0; n--)
    buf[at(buf, rng)]! ^= 1 << rng.below(8);
  return buf;
};

const interestingByte: Mutation = (buf, rng) => {
  if (buf.length > 0) buf[at(buf, rng)] = rng.pick(INTERESTING_BYTES);
  return buf;
};

const headerFlags: Mutation = (buf, rng) => {
  if (buf.length < 4) return buf;
  return writeWord(
    buf,
    2,
    rng.chance(0.5) ? rng.next() : buf.readUInt16BE(2) ^ (1 << rng.below(16)),
  );
};

const truncate: Mutation = (buf, rng) =>
  buf.subarray(0, rng.chance(0.8) ? 12 + rng.below(buf.length - 11) : rng.below(buf.length));

const extend: Mutation = (buf, rng) => Buffer.concat([buf, rng.bytes(1 + rng.below(64))]);

const garbage: Mutation = (buf, rng) => {
  const random = rng.bytes(rng.below(rng.chance(0.5) ? 64 : 600));
  return rng.chance(0.5) ? Buffer.concat([buf.subarray(0, 12), random]) : random;
};

const splice: Mutation = (buf, rng, corpus) => {
  const other = rng.pick(corpus);
  return Buffer.concat([
    buf.subarray(0, rng.below(buf.length + 1)),
    other.subarray(rng.below(other.length)),
  ]);
};

const duplicate: Mutation = (buf, rng) => {
  const start = rng.below(buf.length);
  const chunk = buf.subarray(start, start + 1 + rng.below(32));
  const p = rng.below(buf.length + 1);
  return Buffer.concat([buf.subarray(0, p), chunk, buf.subarray(p)]);
};

const remove: Mutation = (buf, rng) => {
  const start = rng.below(buf.length);
  return Buffer.concat([buf.subarray(0, start), buf.subarray(start + 1 + rng.below(16))]);
};

/** The mutations, by name. */
// prettier-ignore
export const MUTATIONS = {
  flipBits, interestingByte, truncate, extend, tweakCount, insertPointer, corruptLabel,
  corruptField, headerFlags, garbage, splice, duplicate, remove,
} as const;

/** Name of a mutation. */
export type MutationName = keyof typeof MUTATIONS;

/** What the mutator picks from: the structural and byte-level ones twice as often. */
// prettier-ignore
const WEIGHTED: readonly MutationName[] = [
  ...(Object.keys(MUTATIONS) as MutationName[]),
  'insertPointer', 'corruptLabel', 'corruptField', 'tweakCount', 'flipBits', 'interestingByte',
];

/** One mutated packet and how it was made (for reproducing a finding). */
export interface Mutant {
  readonly bytes: Buffer;
  /** Index of the corpus packet it started from. */
  readonly base: number;
  /** Mutations applied, in order; empty for an unmutated corpus packet. */
  readonly ops: readonly MutationName[];
}

/** Produces an endless deterministic sequence of mutants. */
export interface Mutator {
  next(): Mutant;
}

/** Longest packet produced (UDP-friendly; TCP tests frame it). */
export const MAX_PACKET = 4096;

/** Creates a mutator for `seed`; 2% of its output is unmutated corpus packets. */
export function createMutator(seed: number, corpus: readonly Buffer[] = seedCorpus()): Mutator {
  if (corpus.length === 0) throw new Error('mutate: empty corpus');
  const rng = createRng(seed);
  return {
    next: () => {
      const base = rng.below(corpus.length);
      let bytes: Buffer = Buffer.from(corpus[base]!);
      const ops: MutationName[] = [];
      if (rng.chance(0.02)) return { bytes, base, ops };
      do {
        const op = rng.pick(WEIGHTED);
        ops.push(op);
        bytes = MUTATIONS[op](bytes, rng, corpus);
      } while (ops.length < 6 && rng.chance(0.4));
      if (bytes.length > MAX_PACKET) bytes = bytes.subarray(0, MAX_PACKET);
      return { bytes: Buffer.from(bytes), base, ops };
    },
  };
}
