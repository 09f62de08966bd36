import type { Metric, Registry } from 'prom-client';

/**
 * A metric whose values are read when it is scraped, from counters kept elsewhere (typed
 * arrays of the answer path, a worker's last report): prom-client's registry formats and
 * escapes it as it does its own metrics, but nothing is counted through prom-client.
 */

/** One sample: labels, the value, and the series name when it is not the family's (histograms). */
export interface Sample {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  readonly metricName?: string;
}

/** A family: name, help, type; `collect` gives its samples at each scrape. */
export interface GatheredFamily {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  readonly collect: () => readonly Sample[] | Promise<readonly Sample[]>;
}

/** Registers `family` in `registry`: its samples are read at every scrape. */
export function registerGathered(registry: Registry, family: GatheredFamily): void {
  const metric = {
    name: family.name,
    help: family.help,
    type: family.type,
    aggregator: 'sum',
    get: async () => ({
      name: family.name,
      help: family.help,
      type: family.type,
      aggregator: 'sum',
      values: await family.collect(),
    }),
    reset: () => undefined,
  };
  // The registry only calls get() (and reads name) of what it holds; it types its argument
  // as its own metric classes.
  registry.registerMetric(metric as unknown as Metric);
}

/** Histogram samples from per-bucket counts (not cumulative; the last is +Inf) and a sum. */
export function histogramSamples(
  name: string,
  labels: Readonly<Record<string, string>>,
  bounds: readonly number[],
  counts: readonly number[],
  sum: number,
): Sample[] {
  const samples: Sample[] = [];
  let cumulative = 0;
  counts.forEach((count, i) => {
    cumulative += count;
    const le = i < bounds.length ? String(bounds[i]) : '+Inf';
    samples.push({ metricName: `${name}_bucket`, labels: { ...labels, le }, value: cumulative });
  });
  samples.push({ metricName: `${name}_sum`, labels, value: sum });
  samples.push({ metricName: `${name}_count`, labels, value: cumulative });
  return samples;
}
