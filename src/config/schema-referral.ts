import { Type, type TInteger, type TString, type TUnion } from '@sinclair/typebox';

const HostPort = Type.String({ minLength: 1, description: 'ADDR:PORT or [IPv6]:PORT' });
const Address = Type.String({ minLength: 1, description: 'an IPv4 or IPv6 address' });
const Sender = Type.String({
  pattern: '^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$',
  description: 'a DNS label: 1-63 of a-z 0-9 -',
});
const MulticastGroup = Type.String({
  minLength: 1,
  description: 'an IPv4 multicast group ADDR:PORT',
});
const MulticastInterface = Type.Optional(
  Type.String({
    minLength: 1,
    description: 'the IPv4 address of the interface it is sent or joined on',
  }),
);
/** A DNS-B's group: site lists go there, one datagram each, instead of to each DNS-LB. */
const MulticastSend = Type.Object(
  {
    group: MulticastGroup,
    interface: MulticastInterface,
    ttl: Type.Optional(Type.Integer({ minimum: 0, maximum: 255, description: 'multicast TTL; 1' })),
  },
  {
    additionalProperties: false,
    description: 'site lists go to this group, one datagram each, instead of to each DNS-LB',
  },
);
/** A DNS-LB's group: it takes site lists from it. */
const MulticastJoin = Type.Object(
  { group: MulticastGroup, interface: MulticastInterface },
  {
    additionalProperties: false,
    description: 'site lists are taken from this group (the DNS-B sends to it)',
  },
);
const Names = Type.Array(Type.String({ minLength: 1 }), {
  minItems: 1,
  description: 'the balanced names, e.g. www.example.com',
});

/**
 * The `referral:` section (seed 002, docs/client-centric.md): the roles of client-centric
 * balancing this node plays. `backbone` is a DNS-B, `balancer` a DNS-LB, `owner` the
 * DNS-A; a node may play several. Built from the configuration's duration schema.
 */
export function referralSchema(duration: TUnion<[TInteger, TString]>) {
  return Type.Object(
    {
      keyFile: Type.String({
        description: 'the shared HMAC key of the map protocol (as agents.keyFile: hex or base64)',
      }),
      maxSkew: Type.Optional(
        Type.Union(duration.anyOf, {
          description: 'how far a message time stamp may be from our clock; default 30s',
        }),
      ),
      backbone: Type.Optional(
        Type.Object(
          {
            name: Type.Optional(Sender),
            listen: HostPort,
            names: Names,
            referralTtl: Type.Optional(
              Type.Union(duration.anyOf, {
                description: 'TTL of the CNAME and the referral to a DNS-LB; default 1h',
              }),
            ),
            unmapped: Type.Optional(
              Type.Union([Type.Literal('nearest'), Type.Literal('geo'), Type.Literal('answer')], {
                description:
                  'a resolver nobody registered: the DNS-LB of the nearest registered resolver by prefix (default) or by the country database (geo), or the zone answers',
              }),
            ),
            nearestMinPrefix: Type.Optional(Type.Integer({ minimum: 0, maximum: 128 })),
            stateFile: Type.Optional(
              Type.String({ description: 'the table is saved here and read at start' }),
            ),
            missedIntervals: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
            direct: Type.Optional(
              Type.Boolean({
                description:
                  'rankings variant: answer the addresses a DNS-LB ranked for its resolvers instead of referring them',
              }),
            ),
            directTtl: Type.Optional(
              Type.Union(duration.anyOf, { description: 'TTL of a direct answer; default 5m' }),
            ),
            multicast: Type.Optional(MulticastSend),
          },
          { additionalProperties: false, description: 'this node is a DNS-B' },
        ),
      ),
      balancer: Type.Optional(
        Type.Object(
          {
            label: Sender,
            address: Address,
            resolvers: Type.Array(Address, { minItems: 1 }),
            backbones: Type.Array(HostPort, { minItems: 1 }),
            interval: Type.Optional(
              Type.Union(duration.anyOf, { description: 'registers again this often; 60s' }),
            ),
            listen: Type.Optional(HostPort),
            multicast: Type.Optional(MulticastJoin),
            rank: Type.Optional(
              Type.Array(Type.String({ minLength: 1 }), {
                description:
                  'rankings variant: balanced names whose sites (service <label>.<name>) it ranks and sends to the DNS-Bs',
              }),
            ),
            proxy: Type.Optional(
              Type.Object(
                {
                  listen: HostPort,
                  names: Names,
                  answer: Type.Optional(
                    Type.String({
                      minLength: 1,
                      description:
                        'the IPv4 or IPv6 address answered for <label>.<name>; default the balancer address',
                    }),
                  ),
                  ttl: Type.Optional(
                    Type.Union(duration.anyOf, { description: 'TTL of that answer; default 5m' }),
                  ),
                  origins: Type.Optional(
                    Type.Record(Type.String(), HostPort, {
                      description:
                        'site address -> ADDR:PORT the proxy fetches from; default ADDRESS:80',
                    }),
                  ),
                  cacheSize: Type.Optional(
                    Type.Integer({ minimum: 1, description: 'bytes cached in memory; 64 MiB' }),
                  ),
                  maxBody: Type.Optional(
                    Type.Integer({
                      minimum: 1,
                      description: 'largest request or response body, bytes; 16 MiB',
                    }),
                  ),
                  timeout: Type.Optional(
                    Type.Union(duration.anyOf, {
                      description: 'for the site to answer (headers, then each body gap); 10s',
                    }),
                  ),
                },
                {
                  additionalProperties: false,
                  description:
                    'proxy-cache variant: answer this address and serve HTTP from the best site through an RFC 9111 cache',
                },
              ),
            ),
          },
          { additionalProperties: false, description: 'this node is a DNS-LB' },
        ),
      ),
      owner: Type.Optional(
        Type.Object(
          {
            name: Type.Optional(Sender),
            names: Names,
            service: Type.String({
              minLength: 1,
              description: 'the service whose members are the sites (their state: online)',
            }),
            backbones: Type.Array(HostPort, { minItems: 1 }),
            interval: Type.Optional(
              Type.Union(duration.anyOf, { description: 'sends the list again this often; 60s' }),
            ),
          },
          { additionalProperties: false, description: 'this node is the DNS-A' },
        ),
      ),
      measurements: Type.Optional(
        Type.Object(
          {
            listen: HostPort,
          },
          {
            additionalProperties: false,
            description:
              "this node takes measurement agents' rounds (steerdns agent --measure; the measured policy reads them)",
          },
        ),
      ),
    },
    { additionalProperties: false },
  );
}
