import { Type, type TInteger, type TSchema, type TString, type TUnion } from '@sinclair/typebox';

/**
 * The `cluster:` section: etcd, this node's name, the lease, the service addresses the master
 * holds, the role hooks and the node's own checks. Built from the configuration's duration
 * schema (schema.ts), which is passed in so that the two files do not import each other.
 */
export function clusterSchema(duration: TUnion<[TInteger, TString]>, check: TSchema) {
  return Type.Object(
    {
      node: Type.String({
        minLength: 1,
        maxLength: 63,
        pattern: '^[A-Za-z0-9_.-]+$',
        description: "this node's name, unique in the cluster; default: the host name",
      }),
      name: Type.Optional(
        Type.String({
          minLength: 1,
          maxLength: 63,
          pattern: '^[A-Za-z0-9_.-]+$',
          default: 'default',
          description: 'the cluster: its keys live under /steerdns/NAME/ in etcd',
        }),
      ),
      etcd: Type.Object(
        {
          endpoints: Type.Array(
            Type.String({
              pattern: '^(https?://.+|unix://.+)$',
              description: 'http://HOST:PORT, https://HOST:PORT or unix:///PATH/TO/SOCKET',
            }),
            { minItems: 1 },
          ),
          ca: Type.Optional(Type.String({ description: 'CA certificate file (PEM) for https' })),
          cert: Type.Optional(Type.String({ description: 'client certificate file (PEM)' })),
          key: Type.Optional(Type.String({ description: 'client key file (PEM)' })),
          username: Type.Optional(Type.String({ minLength: 1 })),
          passwordFile: Type.Optional(
            Type.String({ description: 'a file holding the password of `username`' }),
          ),
          timeout: Type.Optional(
            Type.Union(duration.anyOf, {
              default: '1s',
              description: 'deadline of one etcd request',
            }),
          ),
        },
        { additionalProperties: false },
      ),
      leaseTtl: Type.Optional(
        Type.Union(duration.anyOf, {
          default: '2s',
          description:
            'lease of this node (whole seconds, rounded up; etcd raises anything below its minimum, 2s with default timing)',
        }),
      ),
      margin: Type.Optional(
        Type.Union(duration.anyOf, {
          default: '500ms',
          description:
            'the master deletes the service addresses this long before its lease could expire at etcd',
        }),
      ),
      addresses: Type.Optional(
        Type.Array(
          Type.Object(
            {
              address: Type.String({ description: 'an IPv4 or IPv6 address' }),
              prefix: Type.Optional(Type.Integer({ minimum: 0, maximum: 128 })),
              interface: Type.String({ minLength: 1, maxLength: 15 }),
            },
            { additionalProperties: false },
          ),
          { description: 'the service addresses the master holds', default: [] },
        ),
      ),
      hooks: Type.Optional(
        Type.Object(
          Object.fromEntries(
            ['initial', 'active', 'standby', 'inop'].map((role) => [
              role,
              Type.Optional(
                Type.Array(Type.String({ minLength: 1 }), {
                  description: `scripts run in order on entering ${role}`,
                }),
              ),
            ]),
          ),
          { additionalProperties: false },
        ),
      ),
      hookTimeout: Type.Optional(Type.Union(duration.anyOf, { default: '10s' })),
      inopHold: Type.Optional(
        Type.Union(duration.anyOf, {
          default: '10s',
          description: 'after a hook fails the node stays inop this long before it tries again',
        }),
      ),
      selfQuery: Type.Optional(
        Type.Boolean({
          default: true,
          description:
            "ask this node's own DNS listener for the first zone's SOA every second; three failures make the node inop",
        }),
      ),
      replication: Type.Optional(
        Type.Object(
          {
            listen: Type.String({
              description:
                "ADDR:PORT where this node takes its peers' persistence entries (port 0: the system chooses; the bound address is registered in etcd)",
            }),
            keyFile: Type.String({
              description:
                'the secret every node of the cluster shares (hex, base64 or a passphrase, at least 16 bytes): frames are signed with it',
            }),
            maxSkew: Type.Optional(
              Type.Union(duration.anyOf, {
                default: '2s',
                description:
                  "a peer whose clock is further from this node's is refused (its entries would win every merge)",
              }),
            ),
          },
          {
            additionalProperties: false,
            description:
              'persistence entries shared with every other node, node to node (not through etcd); without it nothing is shared',
          },
        ),
      ),
      checks: Type.Optional(
        Type.Array(
          Type.Intersect([
            check,
            Type.Object({
              name: Type.String({ minLength: 1, description: 'shown in logs and the status' }),
              target: Type.String({ description: 'ADDR or ADDR:PORT checked' }),
            }),
          ]),
          {
            description:
              "the node's own reachability checks (a gateway ping: type script); one down makes the node inop",
          },
        ),
      ),
    },
    { additionalProperties: false },
  );
}
