import type { ProbeResult } from '../health/monitor.js';
import { bucketOf, DURATION_BUCKETS_MS } from '../answer/query-counters.js';

/** One check's results so far: successes, failures, and its durations in buckets. */
interface CheckCounts {
  success: number;
  failure: number;
  readonly buckets: number[];
  seconds: number;
}

/**
 * The health checks this process ran, by check id: results and durations. Fed by the health
 * producer after every result (not the answer path); never reset by a reload.
 */
export class HealthCheckCounters {
  private readonly checks = new Map<string, CheckCounts>();

  /** Counts one result of check `id`. */
  observe(id: string, result: ProbeResult): void {
    let counts = this.checks.get(id);
    if (!counts) {
      const buckets = new Array<number>(DURATION_BUCKETS_MS.length + 1).fill(0);
      counts = { success: 0, failure: 0, buckets, seconds: 0 };
      this.checks.set(id, counts);
    }
    if (result.ok) counts.success++;
    else counts.failure++;
    counts.buckets[bucketOf(result.latencyMs)]!++;
    counts.seconds += result.latencyMs / 1000;
  }

  /** Every check counted so far. */
  entries(): IterableIterator<[string, Readonly<CheckCounts>]> {
    return this.checks.entries();
  }
}
