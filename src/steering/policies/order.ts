import type { Member } from '../types.js';

/** `chosen` first, then the other candidates in their order: a preference list. */
export function chosenFirst(candidates: readonly Member[], chosen: Member): readonly Member[] {
  if (candidates[0] === chosen) return candidates;
  const out = [chosen];
  for (const member of candidates) if (member !== chosen) out.push(member);
  return out;
}

/**
 * Smooth weighted round robin (as nginx does it): over any run of picks each member gets
 * its share of the total weight, evenly interleaved. `current` (indexed by member ordinal)
 * persists between queries.
 */
export function smoothWeighted(
  candidates: readonly Member[],
  current: Float64Array,
  weightOf: (member: Member) => number,
): Member | undefined {
  let total = 0;
  let best: Member | undefined;
  let bestValue = -Infinity;
  for (const member of candidates) {
    const weight = weightOf(member);
    if (weight <= 0) continue;
    const value = current[member.ordinal]! + weight;
    current[member.ordinal] = value;
    total += weight;
    if (value > bestValue) {
      bestValue = value;
      best = member;
    }
  }
  if (best) current[best.ordinal] = bestValue - total;
  return best;
}

/**
 * `chosen` first, then the other candidates whose weight is positive: a member with weight
 * 0 never gets an answer, not even in second place (seed 003: weight 0 never gets hand-offs).
 */
export function chosenFirstWeighted(
  candidates: readonly Member[],
  chosen: Member,
  weightOf: (member: Member) => number,
): readonly Member[] {
  let allPositive = candidates[0] === chosen;
  for (const member of candidates) if (weightOf(member) <= 0) allPositive = false;
  if (allPositive) return candidates;
  const out = [chosen];
  for (const member of candidates) if (member !== chosen && weightOf(member) > 0) out.push(member);
  return out;
}
