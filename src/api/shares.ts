import type { DecisionTotals } from '../observability/decision-totals.js';

/** One reading of the decision totals, and when it was taken. */
interface Reading {
  readonly at: number;
  readonly totals: ReadonlyMap<string, number>;
}

/** The decisions each member had over the last window (by member key). */
export type DecisionsInWindow = ReadonlyMap<string, number>;

/**
 * Each member's decisions over the last minute, from the node's cumulative decision totals:
 * a ring of readings every `stepMs`, the oldest at most `windowMs` old, and the
 * difference between the reading now and the oldest. While the node is younger than the
 * window, the difference covers its whole life.
 */
export class DecisionWindow {
  private readonly ring: Reading[] = [];
  private readonly timer: ReturnType<typeof setInterval>;
  private readonly totals: DecisionTotals;
  private readonly windowMs: number;
  private readonly now: () => number;

  constructor(
    totals: DecisionTotals,
    windowMs = 60_000,
    stepMs = 5_000,
    now: () => number = Date.now,
  ) {
    this.totals = totals;
    this.windowMs = windowMs;
    this.now = now;
    this.take();
    this.timer = setInterval(() => {
      this.take();
    }, stepMs);
    this.timer.unref();
  }

  private take(): Reading {
    const reading = { at: this.now(), totals: new Map(this.totals()) };
    this.ring.push(reading);
    // Keep the newest reading that is at least a window old: the base of the difference.
    while (this.ring.length > 1 && this.ring[1]!.at <= reading.at - this.windowMs)
      this.ring.shift();
    return reading;
  }

  /** Decisions per member key since the reading about one window ago. */
  decisions(): DecisionsInWindow {
    const base = this.ring[0]!;
    const current = new Map(this.totals());
    const out = new Map<string, number>();
    for (const [key, total] of current) {
      // A total lower than the base (a counter that restarted) counts from zero.
      const before = base.totals.get(key) ?? 0;
      out.set(key, total >= before ? total - before : total);
    }
    return out;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** The decisions of `keys` (the members of one service) in `window`, summed. */
export function decisionsOf(
  window: DecisionsInWindow | undefined,
  keys: readonly string[],
): number {
  let sum = 0;
  if (window) for (const k of keys) sum += window.get(k) ?? 0;
  return sum;
}

/**
 * The share of `key` in its service's decisions (`total`, from {@link decisionsOf}) in
 * `window`: 0..1, 0 when the service had no decision; null when no totals are known at all.
 */
export function shareOf(
  window: DecisionsInWindow | undefined,
  key: string,
  total: number,
): number | null {
  if (window === undefined) return null;
  if (total === 0) return 0;
  return Math.round(((window.get(key) ?? 0) / total) * 10_000) / 10_000;
}
