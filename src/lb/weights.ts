import { SLOT_COUNT } from './data-plane.js';
import type { LbBalance } from './settings.js';

/** What the share of one server is computed from. */
export interface ServerLoad {
  readonly mark: number;
  /** Configured weight (> 0). */
  readonly weight: number;
  /** Up and not draining: it may get new connections. */
  readonly eligible: boolean;
  /** Open (established) flows. */
  readonly open: number;
  /** New connections per second over the last interval. */
  readonly rate: number;
  /** Time-weighted average response time of its health check (ms); undefined: unmeasured. */
  readonly responseMs: number | undefined;
}

/** Neither factor moves a share further than this from its configured weight, either way. */
const MAX_FACTOR = 4;
/** A new connection a second counts as one open connection for this long (seconds). */
const RATE_WEIGHT_S = 1;

const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));

/**
 * The shares of new connections (seeds 003/004: "the right server, not always the best").
 *
 * For each eligible server i with configured weight w_i:
 *
 *   load_i = (open_i + rate_i x 1 s) / w_i          (load per unit of weight)
 *   g_i    = (mean load + 1) / (load_i + 1)         (above 1 for a server less loaded than the mean)
 *   h_i    = (mean response + 1 ms) / (response_i + 1 ms)   (1 while unmeasured)
 *   raw_i  = w_i x clamp(g_i, 1/4, 4) x clamp(h_i, 1/4, 4)
 *   share_i = raw_i / sum raw, except that a share below floor x w_i / sum w is raised to it
 *             (and the others scaled down to make room)
 *
 * so every eligible server keeps at least `floor` of its configured share however loaded or
 * slow it is. In `weighted` mode raw_i = w_i. The shares become {@link SLOT_COUNT} slots
 * (largest remainder, at least one each). An empty map: no server may take connections.
 */
export function computeSlots(
  loads: readonly ServerLoad[],
  balance: LbBalance,
): Map<number, number> {
  const eligible = loads.filter((l) => l.eligible && l.weight > 0);
  const slots = new Map<number, number>();
  if (eligible.length === 0) return slots;
  const totalWeight = eligible.reduce((sum, l) => sum + l.weight, 0);
  let raw = eligible.map((l) => l.weight);
  if (balance.mode === 'adaptive') {
    const meanLoad =
      eligible.reduce((sum, l) => sum + l.open + l.rate * RATE_WEIGHT_S, 0) / totalWeight;
    const measured = eligible.filter((l) => l.responseMs !== undefined);
    const meanResponse =
      measured.length === 0
        ? 0
        : measured.reduce((sum, l) => sum + (l.responseMs ?? 0), 0) / measured.length;
    raw = eligible.map((l) => {
      const load = (l.open + l.rate * RATE_WEIGHT_S) / l.weight;
      const g = clamp((meanLoad + 1) / (load + 1), 1 / MAX_FACTOR, MAX_FACTOR);
      const h =
        l.responseMs === undefined
          ? 1
          : clamp((meanResponse + 1) / (l.responseMs + 1), 1 / MAX_FACTOR, MAX_FACTOR);
      return l.weight * g * h;
    });
  }
  const shares = withFloor(
    raw,
    eligible.map((l) => (balance.floor * l.weight) / totalWeight),
  );
  const exact = shares.map((share) => share * SLOT_COUNT);
  const counts = exact.map((x) => Math.max(1, Math.floor(x)));
  let left = SLOT_COUNT - counts.reduce((sum, c) => sum + c, 0);
  const order = exact
    .map((x, i) => ({ i, rest: x - Math.floor(x) }))
    .sort((a, b) => b.rest - a.rest);
  for (let k = 0; left > 0; k = (k + 1) % order.length, left--) counts[order[k]!.i]! += 1;
  for (let k = counts.length - 1; left < 0; k = (k + counts.length - 1) % counts.length) {
    if (counts[k]! > 1) {
      counts[k]! -= 1;
      left++;
    }
  }
  eligible.forEach((l, i) => slots.set(l.mark, counts[i]!));
  return slots;
}

/**
 * Shares proportional to `raw`, except that none is below its floor: those below are fixed at
 * their floor and the rest share what is left in proportion, until none is below.
 */
function withFloor(raw: readonly number[], floors: readonly number[]): number[] {
  const fixed = new Set<number>();
  for (;;) {
    const fixedTotal = [...fixed].reduce((sum, i) => sum + floors[i]!, 0);
    const freeRaw = raw.reduce((sum, r, i) => (fixed.has(i) ? sum : sum + r), 0);
    const shares = raw.map((r, i) =>
      fixed.has(i) ? floors[i]! : freeRaw === 0 ? 0 : (r / freeRaw) * (1 - fixedTotal),
    );
    const below = shares.findIndex((share, i) => !fixed.has(i) && share < floors[i]!);
    if (below < 0) return shares;
    fixed.add(below);
  }
}
