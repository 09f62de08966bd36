import type { Member } from '../types.js';
import { chosenFirst, smoothWeighted } from './order.js';

/**
 * Proportional selection ("the right server, not always the best", seeds 003 and 004):
 * every member with a positive share gets answers in proportion to it, so even the worst
 * one shoulders some of the load. `ordered` is the preference list to fall back on; the
 * chosen member is put first and the others keep that order. When no member has a
 * positive share, `ordered` is returned as it is.
 *
 * `current` (indexed by member ordinal) is the smooth weighted round robin state: over any
 * run of queries with the same shares, the answers match the shares exactly, with no
 * randomness.
 */
export function proportionalFirst(
  ordered: readonly Member[],
  current: Float64Array,
  shareOf: (member: Member) => number,
): readonly Member[] {
  const chosen = smoothWeighted(ordered, current, shareOf);
  return chosen ? chosenFirst(ordered, chosen) : ordered;
}

/** Each member's part of the total of positive shares, in percent, for explain notes. */
export function percentOf(shares: readonly number[]): number[] {
  let total = 0;
  for (const share of shares) if (share > 0) total += share;
  return shares.map((share) => (total > 0 && share > 0 ? (100 * share) / total : 0));
}
