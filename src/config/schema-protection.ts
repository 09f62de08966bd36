import { Type, type Static } from '@sinclair/typebox';

/**
 * `dns.rateLimit` and `dns.cookies`: the protections of the UDP service (response rate
 * limiting, RFC 7873 cookies). Referenced from `DnsConfigSchema` in schema.ts.
 */

/** Prefixes the rate limiter never limits when `exempt` is not given: loopback. */
export const DEFAULT_RATE_LIMIT_EXEMPT = ['127.0.0.0/8', '::1/128'] as const;

/** `dns.rateLimit`: response rate limiting of UDP, per client prefix. */
export const RateLimitSchema = Type.Object(
  {
    enabled: Type.Optional(
      Type.Boolean({ default: true, description: 'limit UDP responses per client prefix' }),
    ),
    responsesPerSecond: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 1_000_000,
        default: 100,
        description: 'UDP responses per second to one client prefix',
      }),
    ),
    window: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 60,
        default: 2,
        description:
          'seconds the rate is averaged over: a prefix may send responsesPerSecond × window at once',
      }),
    ),
    slip: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 10,
        default: 2,
        description:
          'every slip-th limited response is sent as an empty reply with TC set, so real clients retry over TCP (0: never, 1: always)',
      }),
    ),
    ipv4Prefix: Type.Optional(
      Type.Integer({
        minimum: 8,
        maximum: 32,
        default: 24,
        description: 'IPv4 clients are metered by this prefix',
      }),
    ),
    ipv6Prefix: Type.Optional(
      Type.Integer({
        minimum: 16,
        maximum: 64,
        default: 56,
        description: 'IPv6 clients are metered by this prefix',
      }),
    ),
    exempt: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), {
        default: [...DEFAULT_RATE_LIMIT_EXEMPT],
        description:
          'addresses or CIDRs never limited; replaces the default (loopback), [] exempts nothing',
      }),
    ),
    tableSize: Type.Optional(
      Type.Integer({
        minimum: 1024,
        maximum: 16_777_216,
        default: 65_536,
        description:
          'client prefixes tracked at once (rounded up to a power of two; 29 bytes each); when full, the longest idle is reused',
      }),
    ),
  },
  { additionalProperties: false },
);

/** `dns.cookies`: DNS cookies (RFC 7873) with RFC 9018 server cookies. */
export const CookiesSchema = Type.Object(
  {
    enabled: Type.Optional(
      Type.Boolean({ default: true, description: 'answer client cookies with server cookies' }),
    ),
    secretFile: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'file holding the 16-byte server secret as 32 hex digits (openssl rand -hex 16), relative to this file; every server of a deployment should share it; default: random at start',
      }),
    ),
    previousSecretFile: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'the secret before a rotation: its cookies are still accepted',
      }),
    ),
    requireValid: Type.Optional(
      Type.Boolean({
        default: false,
        description:
          'answer BADCOOKIE to a UDP query whose server cookie is not valid (a client cookie alone is answered)',
      }),
    ),
  },
  { additionalProperties: false },
);

/** `dns.rateLimit` as written. */
export type RateLimitConfig = Static<typeof RateLimitSchema>;
/** `dns.cookies` as written. */
export type CookiesConfig = Static<typeof CookiesSchema>;
