import assert from 'node:assert/strict';
import { test } from 'node:test';
import dnsPacket from 'dns-packet';
import { loadAll } from '../../src/app.js';
import { readConfig } from '../../src/config/load.js';
import { createResponder } from '../../src/server/dns-server.js';

/** Sends `count` A queries for www.example.org from `client` through the real answer path. */
async function shares(
  file: string,
  count: number,
  client = '192.0.2.200',
): Promise<Map<string, number>> {
  const { config, loaded, services } = await loadAll(() => readConfig(file));
  const responder = createResponder(config, loaded.zones, services);
  const query = Buffer.from(
    dnsPacket.encode({ type: 'query', id: 1, questions: [{ name: 'www.example.org', type: 'A' }] }),
  );
  const seen = new Map<string, number>();
  for (let i = 0; i < count; i++) {
    query.writeUInt16BE(i & 0xffff, 0);
    const reply = responder.handle(query, 'udp', client) as Buffer;
    assert.equal(reply.readUInt16BE(6), 1, 'one address per answer');
    const address = [...reply.subarray(reply.length - 4)].join('.');
    seen.set(address, (seen.get(address) ?? 0) + 1);
  }
  return seen;
}

function assertShares(
  seen: Map<string, number>,
  count: number,
  expected: Record<string, number>,
  label: string,
): void {
  for (const [address, percent] of Object.entries(expected)) {
    const got = (100 * (seen.get(address) ?? 0)) / count;
    assert.ok(
      Math.abs(got - percent) <= 1,
      `${label}: ${address} got ${got.toFixed(2)}%, want ${percent}% ±1`,
    );
  }
  const unexpected = [...seen.keys()].filter((a) => !(a in expected));
  assert.deepEqual(unexpected, [], `${label}: no other addresses`);
}

test('seed 003 hand-off: 100,000 answers split by totals 7, 6, 6, 8, 5, 10', async () => {
  const seen = await shares('examples/seed-003-handoff.yaml', 100_000);
  assertShares(
    seen,
    100_000,
    {
      '192.0.2.1': 16.7,
      '192.0.2.2': 14.3,
      '192.0.2.3': 14.3,
      '192.0.2.4': 19.0,
      '192.0.2.5': 11.9,
      '192.0.2.6': 23.8,
    },
    'handoff',
  );
});

test('seed 000 overload: the 80% member gets nothing, the other three share evenly', async () => {
  const seen = await shares('examples/seed-000-overload.yaml', 30_000);
  assertShares(
    seen,
    30_000,
    { '192.0.2.21': 33.33, '192.0.2.22': 33.33, '192.0.2.23': 33.33 },
    'overload',
  );
});

test('weighted 1:2:3:4: 100,000 answers within a point of 10/20/30/40%', async () => {
  const seen = await shares('examples/weighted.yaml', 100_000);
  assertShares(
    seen,
    100_000,
    { '192.0.2.31': 10, '192.0.2.32': 20, '192.0.2.33': 30, '192.0.2.34': 40 },
    'weighted',
  );
});

test('seed 001 stripe: each resolver gets the member the modulus walk picks', async () => {
  const cases = [
    { client: '192.0.2.77', want: '192.0.2.13' },
    { client: '198.51.100.10', want: '192.0.2.14' },
    { client: '203.0.113.200', want: '192.0.2.11' },
  ];
  for (const { client, want } of cases) {
    const seen = await shares('examples/seed-001-stripe.yaml', 50, client);
    assert.deepEqual([...seen.keys()], [want], `client ${client}`);
  }
});
