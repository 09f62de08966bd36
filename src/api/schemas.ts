/**
 * The TypeBox schemas of the REST API: routes validate requests with them, the TypeBox
 * type provider types the handlers with them, and @fastify/swagger publishes them in
 * /openapi.json. One definition for all three.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { DURATION_PATTERN } from '../lib/duration.js';

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

const Time = Type.String({ format: 'date-time', description: 'ISO 8601, UTC' });
const Admin = Type.Union([
  Type.Literal('enabled'),
  Type.Literal('draining'),
  Type.Literal('disabled'),
]);
const Health = Type.Union([Type.Literal('up'), Type.Literal('down')]);

/** Every error: a stable code (docs/errors.md) and a message; some add details. */
export const ErrorBody = Type.Object(
  {
    error: Type.Object(
      {
        code: Type.String({ description: 'STEERDNS_ERR_..., see docs/errors.md' }),
        message: Type.String(),
      },
      { additionalProperties: true },
    ),
  },
  { description: 'an error: see docs/errors.md' },
);

export const OverrideView = Type.Object(
  {
    health: Nullable(Health),
    admin: Nullable(Admin),
    until: Nullable(Time),
    reason: Nullable(Type.String()),
    by: Nullable(Type.String({ description: 'the name of the token that set it' })),
  },
  { description: 'what an operator forces (gdnsd admin_state); the real state stays beside it' },
);

export const MemberView = Type.Object({
  key: Type.String({ description: 'the member key, "service pool/member"' }),
  pool: Type.String(),
  name: Type.String(),
  addresses: Type.Array(Type.String()),
  health: Type.Object({
    state: Type.Union(
      [
        Type.Literal('up'),
        Type.Literal('down'),
        Type.Literal('unknown'),
        Type.Literal('unchecked'),
      ],
      { description: 'the real state: checks, else agents or configuration; no override' },
    ),
    since: Nullable(Time),
    reason: Nullable(Type.String({ description: 'the last check result' })),
    check: Nullable(Type.String({ description: 'the check id' })),
    forced: Type.Boolean({ description: 'an override forces the health now' }),
  }),
  agent: Type.Object({
    load: Nullable(Type.Number()),
    connections: Nullable(Type.Number()),
    responseMs: Nullable(Type.Number()),
  }),
  admin: Type.Union(Admin.anyOf, { description: 'the real admin state (configuration, agent)' }),
  override: Nullable(OverrideView),
  effective: Type.Object(
    { up: Nullable(Type.Boolean()), admin: Admin },
    { description: 'what answers are decided on now, overrides applied' },
  ),
  shareLastMinute: Nullable(
    Type.Number({
      minimum: 0,
      maximum: 1,
      description: "the member's share of its service's decisions over the last minute",
    }),
  ),
});
export type MemberViewType = Static<typeof MemberView>;

export const ServiceView = Type.Object({
  name: Type.String({ description: 'the service name, lower case, with its final dot' }),
  pools: Type.Array(Type.Object({ name: Type.String(), members: Type.Array(MemberView) })),
});
export type ServiceViewType = Static<typeof ServiceView>;

export const ServicesBody = Type.Object({ services: Type.Array(ServiceView) });
export const MemberBody = Type.Object({ member: MemberView });

export const ServiceParams = Type.Object({
  service: Type.String({ description: 'the service name; the final dot may be left out' }),
});
export const MemberParams = Type.Object({
  service: Type.String({ description: 'the service name; the final dot may be left out' }),
  pool: Type.String(),
  member: Type.String(),
});

const ExpiresIn = Type.Union(
  [
    Type.String({ pattern: DURATION_PATTERN, description: 'a duration: 30s, 10m, 2h' }),
    Type.Integer({ minimum: 1, description: 'seconds' }),
  ],
  { description: 'the override ends after this long' },
);
const Reason = Type.String({
  maxLength: 500,
  description: 'why: logged, and shown with the override',
});

export const ActionBody = Type.Object(
  {
    reason: Type.Optional(Reason),
    expiresIn: Type.Optional(ExpiresIn),
    until: Type.Optional(Time),
  },
  { additionalProperties: false },
);
export type ActionBodyType = Static<typeof ActionBody>;

export const OverrideBody = Type.Object(
  {
    health: Health,
    admin: Type.Optional(Admin),
    reason: Type.Optional(Reason),
    expiresIn: Type.Optional(ExpiresIn),
    until: Type.Optional(Time),
  },
  { additionalProperties: false },
);
export type OverrideBodyType = Static<typeof OverrideBody>;

export const ExplainQuery = Type.Object({
  name: Type.String({ minLength: 1 }),
  type: Type.Optional(Type.String({ description: 'default A' })),
  client: Type.Optional(Type.String({ description: "the resolver's address; default 127.0.0.1" })),
  ecs: Type.Optional(Type.String({ description: 'an ECS subnet, ADDR/PREFIX' })),
});

const Open = (description: string) => Type.Object({}, { additionalProperties: true, description });

export const ExplainBody = Type.Object({
  explanation: Open('what the server would answer now and why (as steerdns explain --json)'),
});

export const PersistenceQuery = Type.Object({
  service: Type.String({ description: 'the service name; the final dot may be left out' }),
  key: Type.String({
    description: 'the client key: a resolver address, ADDR/PREFIX, or group:NAME (see explain)',
  }),
});

export const PersistenceBody = Type.Object({
  service: Type.String(),
  key: Type.String(),
  member: Type.String({ description: 'pool/member' }),
  created: Time,
  lastSeen: Time,
  expires: Time,
  holds: Type.Boolean({ description: 'the entry still holds now' }),
  ttlMs: Type.Integer(),
  hits: Type.Integer(),
});

export const AgentsBody = Type.Object({
  agents: Type.Array(
    Type.Object({
      service: Type.String(),
      node: Type.String(),
      addresses: Type.Array(Type.String()),
      load: Nullable(Type.Number()),
      connections: Nullable(Type.Number()),
      capacity: Nullable(Type.Number()),
      admin: Type.Union([Type.Literal('enabled'), Type.Literal('draining')]),
      intervalMs: Type.Integer(),
      heardAt: Time,
      expiresAt: Time,
    }),
  ),
});

export const ClusterBody = Open(
  "this node's view of its cluster (as steerdns status --server --json)",
);

export const SitesBody = Open(
  "this site's view of seed 003 (as GET /status shows it under sites; docs/sites.md)",
);

export const DecisionsBody = Type.Object({
  decisions: Type.Array(
    Type.Object({
      at: Time,
      transport: Type.String({ description: 'udp or tcp' }),
      explanation: Open('the sampled query explained on the live state, as GET /api/v1/explain'),
    }),
    { description: 'the last sampled real queries, newest first' },
  ),
});

export const ReloadBody = Type.Object({
  ok: Type.Literal(true),
  version: Type.Integer({ description: 'the snapshot version now' }),
});

export const StatusBody = Type.Object(
  {
    members: Type.Array(Open('one member, as steerdns status shows it')),
  },
  { additionalProperties: true, description: 'members; dns counters; cluster view' },
);

export const HealthzBody = Type.Object({ status: Type.Literal('ok') });
export const ReadyzBody = Type.Object({
  ready: Type.Boolean(),
  zones: Type.Boolean({ description: 'zones loaded and answering' }),
  health: Type.Boolean({ description: 'the first round of health checks is done' }),
});
