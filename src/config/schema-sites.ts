import { Type, type TInteger, type TString, type TUnion } from '@sinclair/typebox';

const HostPort = Type.String({ minLength: 1, description: 'ADDR:PORT or [IPv6]:PORT' });
const SiteName = Type.String({
  minLength: 1,
  maxLength: 63,
  pattern: '^[A-Za-z0-9_.-]+$',
  description: "a site's name: the `site:` of its members",
});

/** Most peers a site takes; the seed's switch had 8 (docs/sites.md: why more are allowed). */
export const MAX_PEERS_LIMIT = 32;

/**
 * The `distributedSites:` section (seed 003, docs/sites.md): this steerdns instance is one
 * of several sites that health-check each other's VIPs, exchange what they measured over
 * DSSP, and hand answers off by the ordered hand-off table they all compute. (Not `sites:`,
 * which names sites' regions and coordinates for topology.) Built from the duration schema.
 */
export function distributedSitesSchema(duration: TUnion<[TInteger, TString]>) {
  const Interval = Type.Union([...duration.anyOf, Type.Literal('off')], {
    description: 'DSSP updates this often: 1m-120m, default 1m; off: none (events still go)',
  });
  return Type.Object(
    {
      site: SiteName,
      names: Type.Array(Type.String({ minLength: 1 }), {
        minItems: 1,
        description:
          "the steered names (services) exchanged; a site's VIPs for a name are the service's members with its `site:`",
      }),
      listen: Type.Optional(HostPort),
      keyFile: Type.String({ description: 'the shared HMAC key (hex or base64, 32+ bytes)' }),
      keyId: Type.Optional(
        Type.String({
          minLength: 1,
          maxLength: 64,
          pattern: '^[A-Za-z0-9_.-]+$',
          description: 'names the key in every frame; default "1"',
        }),
      ),
      previousKeyFile: Type.Optional(
        Type.String({ description: 'still accepted (key roll), under previousKeyId' }),
      ),
      previousKeyId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
      interval: Type.Optional(Interval),
      shortIntervalsForTests: Type.Optional(
        Type.Boolean({
          description: 'allow intervals below 1 minute (down to 100ms): tests and labs only',
        }),
      ),
      maxSkew: Type.Optional(Type.Union(duration.anyOf, { description: 'default 30s' })),
      ttl: Type.Optional(
        Type.Union(duration.anyOf, { description: 'answer TTL, 0-255 minutes; default 1m' }),
      ),
      httpRedirect: Type.Optional(
        Type.Object(
          {
            enabled: Type.Optional(Type.Boolean({ description: 'default true' })),
            listen: HostPort,
          },
          { additionalProperties: false },
        ),
      ),
      useDnsRespond: Type.Optional(Type.Boolean({ description: 'default true' })),
      weights: Type.Optional(
        Type.Array(Type.Integer({ minimum: 0, maximum: 64 }), {
          minItems: 1,
          maxItems: 16,
          description: 'OHW-1..16; default 6, 4, 2 and 1 for the rest; 0 gives no weight',
        }),
      ),
      fewSitesByCapacity: Type.Optional(
        Type.Boolean({
          description:
            'with 3 or fewer sites, hand off by the connections each site can still take (capacity: minus connections) instead of ranks; default false',
        }),
      ),
      maxPeers: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PEERS_LIMIT })),
      peers: Type.Array(
        Type.Object(
          {
            name: SiteName,
            address: Type.Optional(HostPort),
            addressFile: Type.Optional(
              Type.String({ description: 'a file with ADDR:PORT, read before each send' }),
            ),
            interval: Type.Optional(Interval),
          },
          { additionalProperties: false },
        ),
        { minItems: 1 },
      ),
    },
    { additionalProperties: false },
  );
}
