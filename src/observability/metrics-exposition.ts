/**
 * What the operator interface serves at `GET /metrics`: the Prometheus text exposition of
 * the node's metrics. The metrics module implements it; the operator interface only serves
 * it, so that neither knows how the other is built.
 */
export interface MetricsExposition {
  /** The Content-Type of `text()` (Prometheus text format 0.0.4). */
  readonly contentType: string;
  /** The exposition now, aggregated over every worker of the node. */
  text(): Promise<string>;
}
