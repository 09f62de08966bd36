import { Type, type Static } from '@sinclair/typebox';

/** `metrics:`: the Prometheus metrics of the node (docs/metrics.md). Referenced from schema.ts. */
export const MetricsSchema = Type.Object(
  {
    enabled: Type.Optional(
      Type.Boolean({
        default: true,
        description:
          'count queries, decisions and checks and serve them at GET /metrics of the operator interface; false: nothing is counted on the answer path and /metrics is not served',
      }),
    ),
  },
  { additionalProperties: false, description: 'Prometheus metrics (docs/metrics.md)' },
);

/** The `metrics:` section as written. */
export type MetricsConfig = Static<typeof MetricsSchema>;

/** `metrics:` compiled: metrics are on unless turned off. */
export const compileMetrics = (
  config: MetricsConfig | undefined,
): { readonly enabled: boolean } => ({
  enabled: config?.enabled ?? true,
});
