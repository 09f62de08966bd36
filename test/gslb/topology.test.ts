import assert from 'node:assert/strict';
import { test } from 'node:test';
import dnsPacket from 'dns-packet';
import { loadAll } from '../../src/app.js';
import { readConfig } from '../../src/config/load.js';
import { createResponder } from '../../src/server/dns-server.js';

async function responder() {
  const { config, loaded, services } = await loadAll(() => readConfig('examples/topology.yaml'));
  return createResponder(config, loaded.zones, services);
}

interface Asked {
  readonly address: string;
  readonly scope: number | undefined;
}

function ask(
  r: Awaited<ReturnType<typeof responder>>,
  name: string,
  from: string,
  ecs?: string,
): Asked {
  const [ip, prefix] = ecs?.split('/') ?? [];
  const query = dnsPacket.encode({
    type: 'query',
    id: 1,
    questions: [{ name, type: 'A' }],
    additionals: ecs
      ? [
          {
            type: 'OPT',
            name: '.',
            udpPayloadSize: 1232,
            extendedRcode: 0,
            ednsVersion: 0,
            flags: 0,
            flag_do: false,
            options: [
              { code: 8, family: 1, sourcePrefixLength: Number(prefix), scopePrefixLength: 0, ip },
            ],
          },
        ]
      : [],
  });
  const reply = dnsPacket.decode(r.handle(query, 'udp', from) as Buffer);
  const a = reply.answers?.find((x) => x.type === 'A') as { data: string } | undefined;
  const opt = reply.additionals?.find((x) => x.type === 'OPT');
  const option = opt?.options.find((o) => o.code === 8) as
    { scopePrefixLength?: number } | undefined;
  return { address: a?.data ?? 'none', scope: option?.scopePrefixLength };
}

test('topology rules steer by CIDR, LDNS group, country and region, with the matched scope', async () => {
  const r = await responder();
  const cases = [
    {
      name: 'cidr via ECS',
      from: '192.0.2.200',
      ecs: '198.51.100.0/24',
      want: '192.0.2.1',
      scope: 24,
    },
    {
      name: 'ldns group',
      from: '203.0.113.54',
      ecs: undefined,
      want: '192.0.2.3',
      scope: undefined,
    },
    { name: 'country JP', from: '192.0.2.200', ecs: '133.0.0.0/24', want: '192.0.2.3', scope: 8 },
    { name: 'region RIPE', from: '192.0.2.200', ecs: '193.0.0.0/24', want: '192.0.2.2', scope: 8 },
    {
      name: 'no rule: first member',
      from: '192.0.2.200',
      ecs: '8.8.8.0/24',
      want: '192.0.2.1',
      scope: 24,
    },
  ];
  for (const c of cases) {
    const got = ask(r, 'www.example.org', c.from, c.ecs);
    assert.equal(got.address, c.want, c.name);
    assert.equal(got.scope, c.scope, `${c.name}: scope`);
  }
});

test('geo orders by the client country from the bundled database', async () => {
  const r = await responder();
  const cases = [
    { ecs: '8.8.8.0/24', want: '192.0.2.1' },
    { ecs: '81.2.69.0/24', want: '192.0.2.2' },
    { ecs: '210.140.0.0/24', want: '192.0.2.3' },
  ];
  for (const c of cases) {
    const got = ask(r, 'geo.example.org', '192.0.2.200', c.ecs);
    assert.equal(got.address, c.want, c.ecs);
    assert.ok(
      got.scope !== undefined && got.scope > 0 && got.scope <= 24,
      `${c.ecs}: scope ${got.scope}`,
    );
  }
});

test('proximity picks the nearest site by coordinates', async () => {
  const r = await responder();
  assert.equal(ask(r, 'near.example.org', '198.51.100.9').address, '192.0.2.2', 'Paris -> Dublin');
  assert.equal(ask(r, 'near.example.org', '203.0.113.9').address, '192.0.2.3', 'Osaka -> Tokyo');
  assert.equal(ask(r, 'near.example.org', '192.0.2.9').address, '192.0.2.1', 'unknown keeps order');
});
