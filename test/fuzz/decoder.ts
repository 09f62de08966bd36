import { performance } from 'node:perf_hooks';
import { createMutator } from './mutate.js';
import type { Mutant } from './mutate.js';

/**
 * The in-process fuzzer: feeds mutated packets to a decoder function and fails on the
 * first error it did not expect, or on a call that takes suspiciously long (a compression
 * pointer loop, quadratic work).
 */

/** Options of {@link fuzzDecoder}. */
export interface DecoderFuzzOptions {
  /** Says whether a thrown value is an expected way to reject a packet. @default none is */
  readonly isExpected?: (err: unknown) => boolean;
  /**
   * A single call taking longer than this fails the run; the first 100 calls, which warm up
   * the JIT, are exempt. @default 250
   */
  readonly slowMs?: number;
  readonly corpus?: readonly Buffer[];
}

/** What {@link fuzzDecoder} saw. */
export interface DecoderFuzzReport {
  readonly count: number;
  /** Expected errors thrown, by constructor name and `code`. */
  readonly expected: Record<string, number>;
  readonly slowestMs: number;
}

/** A decoder failure, with everything needed to reproduce it. */
export class DecoderFuzzError extends Error {
  override readonly name = 'DecoderFuzzError';
  readonly seed: number;
  readonly index: number;
  readonly mutant: Mutant;

  constructor(message: string, seed: number, index: number, mutant: Mutant, cause?: unknown) {
    super(
      `${message} (seed ${seed}, packet ${index}, corpus ${mutant.base}, ops ${mutant.ops.join('+')}, bytes ${mutant.bytes.toString('hex')})`,
      { cause },
    );
    this.seed = seed;
    this.index = index;
    this.mutant = mutant;
  }
}

const errorKey = (err: unknown): string => {
  if (!(err instanceof Error)) return typeof err;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? `${err.constructor.name}:${code}` : err.constructor.name;
};

/**
 * Calls `decode` on `count` mutants of seed `seed`; throws {@link DecoderFuzzError} on the
 * first unexpected throw or slow call.
 * @example fuzzDecoder((buf) => parseQuery(buf, parsed), 100_000, 1)
 */
/** Up to three more timings of `bytes`, stopping at the first below `slowMs`. */
function retimed(decode: (buf: Buffer) => unknown, bytes: Uint8Array, slowMs: number): number[] {
  const times: number[] = [];
  for (let attempt = 0; attempt < 3; attempt++) {
    const input = Buffer.from(bytes);
    const start = performance.now();
    try {
      decode(input);
    } catch {
      // Judged on the first run.
    }
    times.push(performance.now() - start);
    if (times[times.length - 1]! <= slowMs) break;
  }
  return times;
}

export function fuzzDecoder(
  decode: (buf: Buffer) => unknown,
  count: number,
  seed: number,
  opts: DecoderFuzzOptions = {},
): DecoderFuzzReport {
  const mutator = createMutator(seed, opts.corpus);
  const isExpected = opts.isExpected ?? (() => false);
  const slowMs = opts.slowMs ?? 250;
  const expected: Record<string, number> = {};
  let slowestMs = 0;
  for (let index = 0; index < count; index++) {
    const mutant = mutator.next();
    // The decoder gets its own copy: the mutant stays intact for the error report.
    const input = Buffer.from(mutant.bytes);
    const start = performance.now();
    try {
      decode(input);
    } catch (err) {
      if (!isExpected(err)) {
        throw new DecoderFuzzError(`decoder threw ${errorKey(err)}`, seed, index, mutant, err);
      }
      const key = errorKey(err);
      expected[key] = (expected[key] ?? 0) + 1;
    }
    // A slow decode is timed again: an input that is slow to decode is slow every time, a
    // pause of the machine (a GC, another process on a shared core) is not.
    const first = performance.now() - start;
    const ms = first > slowMs ? Math.min(first, ...retimed(decode, mutant.bytes, slowMs)) : first;
    slowestMs = Math.max(slowestMs, ms);
    if (ms > slowMs)
      throw new DecoderFuzzError(`decoder took ${ms.toFixed(1)} ms`, seed, index, mutant);
  }
  return { count, expected, slowestMs };
}
