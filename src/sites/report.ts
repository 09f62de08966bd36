/**
 * What a site tells its peers in DSSP (seed 003): an update (periodic) or an event
 * (triggered), with, per steered name, what it measured of every site's VIPs, its ordered
 * hand-off list, and the remaining capacity of its own VIPs; and its free memory.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

const SiteName = Type.String({ minLength: 1, maxLength: 63 });

/** One VIP as the sender measured it. */
const VipMeasurement = Type.Object(
  {
    site: SiteName,
    address: Type.String({ minLength: 1, maxLength: 64 }),
    up: Type.Boolean(),
    /** Time-weighted average response time, ms; null when not measured yet. */
    averageMs: Type.Union([Type.Number({ minimum: 0 }), Type.Null()]),
  },
  { additionalProperties: false },
);

/** One of the sender's own VIPs: connections it can still take (null: no limit known). */
const VipCapacity = Type.Object(
  {
    address: Type.String({ minLength: 1, maxLength: 64 }),
    up: Type.Boolean(),
    available: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
  },
  { additionalProperties: false },
);

const NameReport = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 255 }),
    /** The sender's ordered hand-off list: the other sites it can reach, best first. */
    order: Type.Array(SiteName, { maxItems: 64 }),
    measured: Type.Array(VipMeasurement, { maxItems: 1024 }),
    capacity: Type.Array(VipCapacity, { maxItems: 256 }),
  },
  { additionalProperties: false },
);

/** Why an event was sent. */
export const EVENT_REASONS = ['peer-unreachable', 'local-constraint', 'recovered'] as const;
export type EventReason = (typeof EVENT_REASONS)[number];

export const SiteReportSchema = Type.Object(
  {
    sender: SiteName,
    epoch: Type.String({ pattern: '^[0-9a-f]{16}$' }),
    sequence: Type.Integer({ minimum: 1 }),
    timestamp: Type.Number({ minimum: 0 }),
    kind: Type.Union([Type.Literal('update'), Type.Literal('event')]),
    reason: Type.Optional(Type.Union(EVENT_REASONS.map((r) => Type.Literal(r)))),
    /** Next periodic update to this receiver is due within this many ms; null: periodic off. */
    intervalMs: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()]),
    names: Type.Array(NameReport, { maxItems: 256 }),
    memory: Type.Object(
      { freeBytes: Type.Integer({ minimum: 0 }), totalBytes: Type.Integer({ minimum: 0 }) },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

/** One DSSP report. */
export type SiteReport = Static<typeof SiteReportSchema>;
export type NameReport = Static<typeof NameReport>;
export type VipMeasurement = Static<typeof VipMeasurement>;
export type VipCapacity = Static<typeof VipCapacity>;

/** The body as a report, or undefined when it is not one (malformed). */
export function asReport(body: unknown): SiteReport | undefined {
  return Value.Check(SiteReportSchema, body) ? body : undefined;
}
