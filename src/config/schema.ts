import { Type, type Static } from '@sinclair/typebox';
import { DURATION_PATTERN, MAX_DURATION_MS } from '../lib/duration.js';
import { apiSchema } from './schema-api.js';
import { clusterSchema } from './schema-cluster.js';
import { referralSchema } from './schema-referral.js';
import { lbFileSchema, lbSchema } from './schema-lb.js';
import { distributedSitesSchema } from './schema-sites.js';
import { CookiesSchema, RateLimitSchema } from './schema-protection.js';
import { UdpEngineSchema } from './schema-udp-engine.js';
import { MetricsSchema } from './schema-metrics.js';

/** A duration: whole milliseconds, or text like `500ms`, `10s`, `1m30s` (lib/duration.ts). */
const Duration = Type.Union(
  [
    Type.Integer({ minimum: 0, maximum: MAX_DURATION_MS }),
    Type.String({ pattern: DURATION_PATTERN }),
  ],
  {
    description: `whole milliseconds, or text such as 500ms, 10s, 1m30s, 1.5h (units ms s m h d); at most ${MAX_DURATION_MS}ms`,
  },
);

/** One zone we are authoritative for. */
export const ZoneConfigSchema = Type.Object(
  {
    origin: Type.String({ minLength: 1, description: 'the zone apex, e.g. example.org' }),
    file: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'RFC 1035 master file, relative to this configuration file',
      }),
    ),
    records: Type.Optional(
      Type.Union([Type.String(), Type.Array(Type.String())], {
        description: 'records in master-file syntax, inline; names relative to the origin',
      }),
    ),
    ttl: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 2147483647,
        description: 'default TTL of inline records',
      }),
    ),
    transfer: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), {
        description: 'addresses or CIDRs allowed to AXFR; none by default',
      }),
    ),
  },
  { additionalProperties: false },
);

/** Wire-protocol limits and timers. */
export const DnsConfigSchema = Type.Object(
  {
    udpPayloadMax: Type.Optional(
      Type.Integer({
        minimum: 512,
        maximum: 65535,
        default: 1232,
        description: 'largest UDP reply (RFC 6891)',
      }),
    ),
    tcpIdleTimeout: Type.Optional(Duration),
    tcpMessageTimeout: Type.Optional(
      Type.Union(Duration.anyOf, {
        default: '1s',
        description:
          'a TCP connection that has not sent the whole of a message this long after its first byte is closed (at least 100ms)',
      }),
    ),
    tcpMaxConnections: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1024 }),
    ),
    tcpMaxPerSource: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 1_000_000,
        default: 64,
        description: 'TCP connections per client address (IPv6: per /64); more are refused',
      }),
    ),
    tcpOutputLimit: Type.Optional(
      Type.Integer({
        minimum: 16_384,
        maximum: 16_777_216,
        default: 131_072,
        description:
          'unsent reply bytes past which a TCP connection is not read until the client takes them',
      }),
    ),
    rateLimit: Type.Optional(RateLimitSchema),
    cookies: Type.Optional(CookiesSchema),
    udpEngine: Type.Optional(UdpEngineSchema),
  },
  { additionalProperties: false },
);

/** Live state given statically in the file (until health checks and agents report it). */
const StaticStateSchema = Type.Object(
  {
    up: Type.Optional(Type.Boolean()),
    load: Type.Optional(Type.Number({ minimum: 0, maximum: 100, description: 'percent' })),
    connections: Type.Optional(Type.Integer({ minimum: 0 })),
    responseMs: Type.Optional(Type.Number({ minimum: 0 })),
  },
  { additionalProperties: false },
);

/**
 * A health check: the monitor type, the state machine settings, and the monitor's own
 * settings (checked against that monitor's schema at load).
 */
export const HealthCheckSchema = Type.Object(
  {
    type: Type.String({ description: 'tcp, http, https, dns, script, static or banner' }),
    interval: Type.Optional(Duration),
    timeout: Type.Optional(Duration),
    rise: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 2 })),
    fall: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 3 })),
    initial: Type.Optional(
      Type.Union([Type.Literal('up'), Type.Literal('down'), Type.Literal('unknown')], {
        default: 'unknown',
      }),
    ),
    averaging: Type.Optional(Duration),
  },
  { additionalProperties: true },
);

/** One member of a pool. */
export const MemberConfigSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, pattern: '^[A-Za-z0-9_.-]+$' }),
    address: Type.Optional(Type.String({ description: 'an IPv4 or IPv6 address answered' })),
    addresses: Type.Optional(Type.Array(Type.String(), { minItems: 1 })),
    target: Type.Optional(Type.String({ description: 'CNAME services: the name answered' })),
    site: Type.Optional(Type.String()),
    region: Type.Optional(Type.String()),
    country: Type.Optional(Type.String({ pattern: '^[A-Za-z]{2}$' })),
    coordinates: Type.Optional(
      Type.Tuple([
        Type.Number({ minimum: -90, maximum: 90 }),
        Type.Number({ minimum: -180, maximum: 180 }),
      ]),
    ),
    weight: Type.Optional(Type.Number({ minimum: 0, default: 1 })),
    capacity: Type.Optional(Type.Integer({ minimum: 1, description: 'maximum connections' })),
    cost: Type.Optional(
      Type.Number({
        minimum: 0,
        description: 'what answering this member costs, in any unit (the cost policy, seed 002)',
      }),
    ),
    admin: Type.Optional(
      Type.Union([Type.Literal('enabled'), Type.Literal('disabled'), Type.Literal('draining')], {
        default: 'enabled',
      }),
    ),
    announce: Type.Optional(
      Type.Union([Type.Literal('required'), Type.Literal('optional')], {
        description:
          "required: down unless an agent announces this member's name (never heard, or silent for agents.missed intervals); optional: agents may report it",
        default: 'optional',
      }),
    ),
    state: Type.Optional(StaticStateSchema),
    health: Type.Optional(
      Type.Union([Type.Literal(false), HealthCheckSchema], {
        description: "false: not checked; an object: this member's own check",
      }),
    ),
    healthTarget: Type.Optional(
      Type.String({ description: 'ADDR or ADDR:PORT checked instead of the answered address' }),
    ),
  },
  { additionalProperties: false },
);

/** A policy in a chain: its name, or an object with `policy` and that policy's settings. */
export const PolicyEntrySchema = Type.Union([
  Type.String({ minLength: 1 }),
  Type.Object({ policy: Type.String({ minLength: 1 }) }, { additionalProperties: true }),
]);

/** What to answer when no pool has a member left. */
export const AllDownSchema = Type.Union([
  Type.Literal('fail-open'),
  Type.Literal('nodata'),
  Type.Literal('servfail'),
  Type.Object(
    {
      action: Type.Literal('fallback'),
      addresses: Type.Optional(Type.Array(Type.String(), { minItems: 1 })),
      cname: Type.Optional(Type.String()),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      action: Type.Literal('rcode'),
      rcode: Type.Union([
        Type.Literal('NXDOMAIN'),
        Type.Literal('REFUSED'),
        Type.Literal('SERVFAIL'),
        Type.Literal('NOERROR'),
      ]),
      ttl: Type.Optional(Type.Integer({ minimum: 0, maximum: 86400, default: 60 })),
    },
    { additionalProperties: false },
  ),
]);

/** Members that join a service by announcing themselves (`steerdns agent`, seed 000). */
export const DynamicMembersSchema = Type.Object(
  {
    pool: Type.Optional(
      Type.String({
        minLength: 1,
        default: 'agents',
        description: 'the pool announced nodes join; created after the configured pools if absent',
      }),
    ),
    weight: Type.Optional(Type.Number({ minimum: 0, default: 1 })),
    site: Type.Optional(Type.String()),
    region: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

/** A steered name. */
export const ServiceConfigSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, description: 'a name inside one of the zones' }),
    type: Type.Optional(
      Type.Union([Type.Literal('A'), Type.Literal('AAAA'), Type.Literal('CNAME')], {
        default: 'A',
      }),
    ),
    ttl: Type.Optional(Type.Integer({ minimum: 0, maximum: 86400, default: 30 })),
    answers: Type.Optional(Type.Integer({ minimum: 1, maximum: 64, default: 1 })),
    pools: Type.Optional(
      Type.Array(
        Type.Object(
          {
            name: Type.String({ minLength: 1 }),
            members: Type.Array(MemberConfigSchema, { minItems: 1 }),
          },
          { additionalProperties: false },
        ),
        { default: [] },
      ),
    ),
    dynamic: Type.Optional(DynamicMembersSchema),
    policies: Type.Optional(
      Type.Array(PolicyEntrySchema, { default: ['up', 'admin', 'weighted'] }),
    ),
    allDown: Type.Optional(AllDownSchema),
    health: Type.Optional(HealthCheckSchema),
  },
  { additionalProperties: false },
);

/** The steerdns configuration file. */
export const ConfigSchema = Type.Object(
  {
    listen: Type.Optional(
      Type.Array(Type.String({ description: 'ADDR:PORT or [IPv6]:PORT' }), {
        minItems: 1,
        default: ['127.0.0.1:5353'],
      }),
    ),
    workers: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 256,
        description: 'worker processes; default: the number of cores',
      }),
    ),
    log: Type.Optional(
      Type.Object(
        {
          level: Type.Optional(
            Type.Union(
              ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) =>
                Type.Literal(l),
              ),
              {
                default: 'info',
              },
            ),
          ),
          explainSample: Type.Optional(
            Type.Number({
              minimum: 0,
              maximum: 1,
              default: 0,
              description: 'fraction of steered queries whose decision is logged, explained',
            }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    dns: Type.Optional(DnsConfigSchema),
    zones: Type.Array(ZoneConfigSchema, { minItems: 1 }),
    sites: Type.Optional(
      Type.Record(
        Type.String(),
        Type.Object(
          {
            region: Type.Optional(Type.String()),
            coordinates: Type.Optional(
              Type.Tuple([
                Type.Number({ minimum: -90, maximum: 90 }),
                Type.Number({ minimum: -180, maximum: 180 }),
              ]),
            ),
          },
          { additionalProperties: false },
        ),
      ),
    ),
    ldnsGroups: Type.Optional(
      Type.Record(Type.String(), Type.Array(Type.String(), { minItems: 1 })),
    ),
    topology: Type.Optional(
      Type.Array(
        Type.Object(
          {
            match: Type.Object(
              {
                cidr: Type.Optional(Type.Array(Type.String(), { minItems: 1 })),
                region: Type.Optional(
                  Type.Array(Type.String(), {
                    minItems: 1,
                    description: 'AFRINIC, APNIC, ARIN, LACNIC, RIPE',
                  }),
                ),
                country: Type.Optional(
                  Type.Array(Type.String({ pattern: '^[A-Za-z]{2}$' }), { minItems: 1 }),
                ),
                continent: Type.Optional(
                  Type.Array(Type.String({ pattern: '^(AF|AN|AS|EU|NA|OC|SA)$' }), { minItems: 1 }),
                ),
                ldnsGroup: Type.Optional(Type.Array(Type.String(), { minItems: 1 })),
              },
              { additionalProperties: false, minProperties: 1 },
            ),
            prefer: Type.Record(Type.String(), Type.Number({ minimum: 0 }), {
              description: 'site, pool or member name -> score; higher is preferred, absent is 0',
            }),
          },
          { additionalProperties: false },
        ),
      ),
    ),
    agents: Type.Optional(
      Type.Object(
        {
          listen: Type.Array(
            Type.String({
              description:
                'ADDR:PORT or [IPv6]:PORT (UDP); or a multicast group to join: 239.255.53.1:5380, [ff02::5380%eth0]:5380',
            }),
            { minItems: 1 },
          ),
          multicastInterface: Type.Optional(
            Type.String({
              description:
                'IPv4 address of the local interface to join IPv4 groups in listen on; default: the route to the group',
            }),
          ),
          keyFile: Type.String({
            minLength: 1,
            description: 'the shared HMAC key, relative to this file',
          }),
          previousKeyFile: Type.Optional(
            Type.String({
              minLength: 1,
              description:
                'a second key still accepted while agents move to keyFile (key rotation), relative to this file',
            }),
          ),
          missed: Type.Optional(
            Type.Integer({
              minimum: 1,
              maximum: 100,
              default: 3,
              description: 'a node silent for this many of its intervals is removed',
            }),
          ),
          maxSkew: Type.Optional(Duration),
        },
        {
          additionalProperties: false,
          description: 'where node status announcements (steerdns agent) are received',
        },
      ),
    ),
    metrics: Type.Optional(MetricsSchema),
    api: Type.Optional(apiSchema),
    health: Type.Optional(
      Type.Object(
        {
          startupGrace: Type.Optional(Duration),
        },
        {
          additionalProperties: false,
          description: 'first answers wait for the first round of checks, at most this long',
        },
      ),
    ),
    geo: Type.Optional(
      Type.Object(
        {
          countryDatabase: Type.Optional(
            Type.String({
              description: 'a MaxMind-format country database; default: the bundled CC0 one',
            }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    cluster: Type.Optional(clusterSchema(Duration, HealthCheckSchema)),
    referral: Type.Optional(referralSchema(Duration)),
    lb: Type.Optional(lbSchema(Duration, HealthCheckSchema)),
    distributedSites: Type.Optional(distributedSitesSchema(Duration)),
    services: Type.Optional(Type.Array(ServiceConfigSchema)),
  },
  {
    additionalProperties: false,
    $id: 'https://steerdns.dev/schema/config.json',
    title: 'steerdns configuration',
  },
);

/** A balancer's own file: `lb:` alone (`steerdns lb`). */
export const LbFileSchema = lbFileSchema(Duration, HealthCheckSchema);

/** The configuration file as written (after schema validation). */
export type ConfigFile = Static<typeof ConfigSchema>;
/** One zone entry as written. */
export type ZoneConfig = Static<typeof ZoneConfigSchema>;
/** One steered name as written. */
export type ServiceConfig = Static<typeof ServiceConfigSchema>;
/** The `cluster:` section as written. */
export type ClusterConfig = NonNullable<ConfigFile['cluster']>;
/** One pool member as written. */
export type MemberConfig = Static<typeof MemberConfigSchema>;
