import { Type } from '@sinclair/typebox';
import { definePolicy, type Member, type SelectionContext } from '../types.js';
import { percentOf, proportionalFirst } from './share.js';

/** A time below this counts as this (ms): a 0 ms average must not take every answer. */
export const MIN_RESPONSE_MS = 1;

interface Timed {
  readonly member: Member;
  readonly index: number;
  /** Time-weighted average response time, ms; undefined: not measured yet. */
  readonly ms: number | undefined;
}

/** The candidates with their measured times, fastest first; unmeasured last, in order. */
function byTime(candidates: readonly Member[], ctx: SelectionContext): Timed[] {
  const timed = candidates.map((member, index): Timed => ({
    member,
    index,
    ms: ctx.state.member(member.key).responseMs,
  }));
  timed.sort((a, b) => (a.ms ?? Infinity) - (b.ms ?? Infinity) || a.index - b.index);
  return timed;
}

/** The split share of a member: the inverse of its time (floored at 1 ms); 0 unmeasured. */
const inverse = (ms: number | undefined): number =>
  ms === undefined ? 0 : 1 / Math.max(MIN_RESPONSE_MS, ms);

const formatMs = (ms: number | undefined): string =>
  ms === undefined ? 'not measured' : `${ms.toFixed(1)} ms`;

/** One explain line per candidate: its time and, when splitting, its share. */
function notesOf(timed: readonly Timed[], split: boolean): string[] {
  if (!split) return timed.map((t) => `${t.member.id} ${formatMs(t.ms)}`);
  const shares = percentOf(timed.map((t) => inverse(t.ms)));
  return timed.map((t, i) => `${t.member.id} ${formatMs(t.ms)} share ${shares[i]!.toFixed(1)}%`);
}

/**
 * Seed 003: orders the candidates by the time-weighted average response time the health
 * checks measured, fastest first (`mode: order`), or splits the answers in proportion to
 * the inverse of that time (`mode: split`): share(i) = (1 / t(i)) / sum over j of (1 / t(j)).
 * Members not measured yet go after the measured ones, in their order, and get no share
 * while any member is measured.
 */
export const responseTime = definePolicy({
  name: 'response-time',
  config: Type.Object(
    {
      mode: Type.Union([Type.Literal('order'), Type.Literal('split')], {
        default: 'order',
        description: 'order: fastest first; split: answers in proportion to 1 / time',
      }),
    },
    { additionalProperties: false },
  ),
  create: ({ mode }, deps) => {
    const current = new Float64Array(deps.members.length);
    const split = mode === 'split';
    return {
      name: 'response-time',
      role: 'select',
      apply(candidates, ctx) {
        const timed = byTime(candidates, ctx);
        const notes = ctx.explain ? notesOf(timed, split) : [];
        const ordered = timed.map((t) => t.member);
        if (!split) return { candidates: ordered, notes };
        const shareOf = (member: Member): number =>
          inverse(ctx.state.member(member.key).responseMs);
        return { candidates: proportionalFirst(ordered, current, shareOf), notes };
      },
    };
  },
});
