import { Type, type TInteger, type TSchema, type TString, type TUnion } from '@sinclair/typebox';

const Scripts = Type.Object(
  Object.fromEntries(
    ['initial', 'active', 'standby', 'inop'].map((state) => [
      state,
      Type.Optional(
        Type.Array(Type.String({ minLength: 1 }), {
          description: `scripts run in order on entering ${state} (arguments: old and new state)`,
        }),
      ),
    ]),
  ),
  { additionalProperties: false },
);

/**
 * The `lb:` section (seed 004, docs/local-lb.md): `steerdns lb`, one balancer of an
 * active/standby pair on keepalived (VRRP v3), nftables and conntrackd. Built from the
 * configuration's duration and health-check schemas (schema.ts), passed in so that the two
 * files do not import each other.
 */
export function lbSchema(duration: TUnion<[TInteger, TString]>, check: TSchema) {
  return Type.Object(
    {
      node: Type.String({
        minLength: 1,
        maxLength: 63,
        pattern: '^[A-Za-z0-9_.-]+$',
        description: "this balancer's name (keepalived's router_id)",
      }),
      interface: Type.String({
        minLength: 1,
        maxLength: 15,
        description: 'the interface facing the router, the peer and the servers',
      }),
      floating: Type.String({
        description: 'the private floating (NLBS) address the active balancer holds, ADDR/PREFIX',
      }),
      cluster: Type.String({
        description: 'the public cluster address; the servers hold it on a loopback alias',
      }),
      ports: Type.Array(Type.Integer({ minimum: 1, maximum: 65535 }), {
        minItems: 1,
        description: 'the TCP ports balanced',
      }),
      vrrp: Type.Object(
        {
          id: Type.Integer({ minimum: 1, maximum: 255, description: 'virtual_router_id' }),
          priority: Type.Integer({ minimum: 1, maximum: 254 }),
          advert: Type.Optional(
            Type.Union(duration.anyOf, {
              default: '100ms',
              description: 'VRRP v3 advertisement interval (10ms steps)',
            }),
          ),
          preempt: Type.Optional(
            Type.Boolean({ default: true, description: 'a higher priority takes over' }),
          ),
          peers: Type.Optional(
            Type.Array(Type.String(), { description: 'unicast peers; default: multicast' }),
          ),
        },
        { additionalProperties: false },
      ),
      sync: Type.Optional(
        Type.Object(
          {
            address: Type.String({ description: "this balancer's own address on the interface" }),
            peer: Type.String({ description: "the other balancer's address" }),
            port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, default: 3780 })),
          },
          {
            additionalProperties: false,
            description: 'conntrackd (FTFW) with the peer: open flows survive a takeover',
          },
        ),
      ),
      servers: Type.Array(
        Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 32, pattern: '^[A-Za-z0-9_.-]+$' }),
            address: Type.String({ description: "the server's own address (next hop)" }),
            weight: Type.Optional(Type.Number({ exclusiveMinimum: 0, default: 1 })),
            drain: Type.Optional(
              Type.Boolean({ default: false, description: 'no new connections; open ones go on' }),
            ),
            health: Type.Optional(check),
          },
          { additionalProperties: false },
        ),
        { minItems: 1, maxItems: 250 },
      ),
      balance: Type.Optional(
        Type.Object(
          {
            mode: Type.Optional(
              Type.Union([Type.Literal('weighted'), Type.Literal('adaptive')], {
                default: 'adaptive',
                description:
                  'weighted: the configured weights; adaptive: also open connections, new connections and response time',
              }),
            ),
            interval: Type.Optional(
              Type.Union(duration.anyOf, {
                default: '1s',
                description: 'load-driven shares are pushed at most this often',
              }),
            ),
            floor: Type.Optional(
              Type.Number({
                minimum: 0,
                maximum: 1,
                default: 0.25,
                description:
                  'the worst server keeps at least this fraction of its configured share',
              }),
            ),
          },
          { additionalProperties: false },
        ),
      ),
      scripts: Type.Optional(Scripts),
      scriptTimeout: Type.Optional(Type.Union(duration.anyOf, { default: '10s' })),
      checks: Type.Optional(
        Type.Array(
          Type.Intersect([
            check,
            Type.Object({
              name: Type.String({ minLength: 1 }),
              target: Type.String({ description: 'ADDR or ADDR:PORT checked' }),
            }),
          ]),
          { description: "the node's own reachability checks (one down: inop)", default: [] },
        ),
      ),
      runDirectory: Type.Optional(
        Type.String({
          description:
            'engine configuration, pid files, FIFO, status; default /run/steerdns-lb-NODE',
        }),
      ),
      markBase: Type.Optional(
        Type.Integer({
          minimum: 1,
          maximum: 2_000_000_000,
          default: 5300,
          description: 'server N uses packet mark and routing table markBase + N',
        }),
      ),
    },
    { additionalProperties: false },
  );
}

/**
 * A balancer's own configuration file (no zones): the `lb:` section alone. A file with
 * zones is a DNS node's and is checked against the whole schema instead.
 */
export function lbFileSchema(duration: TUnion<[TInteger, TString]>, check: TSchema) {
  return Type.Object(
    { lb: lbSchema(duration, check) },
    { additionalProperties: false, title: 'steerdns lb configuration' },
  );
}
