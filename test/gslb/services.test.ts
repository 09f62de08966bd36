import assert from 'node:assert/strict';
import { test } from 'node:test';
import dnsPacket from 'dns-packet';
import { loadAll } from '../../src/app.js';
import { Responder } from '../../src/answer/responder.js';
import { parseConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/lib/errors.js';

const ZONE = `
zones:
  - origin: example.org
    ttl: 3600
    records: |
      @ IN SOA ns1 hostmaster 1 7200 3600 1209600 300
      @ IN NS ns1
      ns1 IN A 192.0.2.53
      backend IN A 192.0.2.99
`;

const service = (
  name: string,
  extra: string,
  members = `
          - { name: a, addresses: [192.0.2.1, 2001:db8::1], state: { up: false } }
          - { name: b, address: 192.0.2.2, state: { up: false } }`,
): string => `
  - name: ${name}
    ttl: 20
    pools:
      - name: main
        members:${members}
    policies: [up, first]
${extra}`;

const CONFIG = `${ZONE}
services:
${service('open.example.org', '')}
${service('fallback.example.org', '    allDown: { action: fallback, addresses: [198.51.100.7] }')}
${service('fallback-cname.example.org', '    allDown: { action: fallback, cname: backend.example.org }')}
${service('nodata.example.org', '    allDown: nodata')}
${service('servfail.example.org', '    allDown: servfail')}
${service('nx.example.org', '    allDown: { action: rcode, rcode: NXDOMAIN, ttl: 5 }')}
${service(
  'dual.example.org',
  '',
  `
          - { name: a, addresses: [192.0.2.1, 2001:db8::1] }
          - { name: b, address: 192.0.2.2 }`,
)}
  - name: alias.example.org
    type: CNAME
    pools:
      - name: main
        members:
          - { name: down, target: nowhere.example.net, state: { up: false } }
          - { name: local, target: backend.example.org }
    policies: [up, first]
`;

async function setup() {
  const { loaded, services } = await loadAll(() =>
    Promise.resolve(parseConfig(CONFIG, 'services.yaml')),
  );
  const allDown: string[] = [];
  const responder = new Responder(loaded.zones, {
    steering: {
      names: services.byKey,
      state: () => services.staticState,
      random: Math.random,
      now: Date.now,
    },
    onAllDown: (name, action) => allDown.push(`${name} ${action}`),
  });
  const ask = (name: string, type: dnsPacket.RecordType = 'A') => {
    const query = dnsPacket.encode({ type: 'query', id: 3, questions: [{ name, type }] });
    return dnsPacket.decode(responder.handle(query, 'udp', '192.0.2.200') as Buffer);
  };
  return { ask, allDown, responder };
}

const rcode = (d: dnsPacket.DecodedPacket): string => (d as { rcode?: string }).rcode ?? '';
const answers = (d: dnsPacket.DecodedPacket): string[] =>
  (d.answers ?? []).map((a) => `${a.type} ${String((a as { data: unknown }).data)}`);

test('all-down behaviours', async () => {
  const { ask, allDown, responder } = await setup();
  const cases = [
    { name: 'open.example.org', rcode: 'NOERROR', answers: ['A 192.0.2.1', 'A 192.0.2.2'] },
    { name: 'fallback.example.org', rcode: 'NOERROR', answers: ['A 198.51.100.7'] },
    {
      name: 'fallback-cname.example.org',
      rcode: 'NOERROR',
      answers: ['CNAME backend.example.org', 'A 192.0.2.99'],
    },
    { name: 'nodata.example.org', rcode: 'NOERROR', answers: [] },
    { name: 'servfail.example.org', rcode: 'SERVFAIL', answers: [] },
    { name: 'nx.example.org', rcode: 'NXDOMAIN', answers: [] },
  ];
  for (const c of cases) {
    const reply = ask(c.name);
    assert.equal(rcode(reply), c.rcode, c.name);
    assert.deepEqual(answers(reply), c.answers, c.name);
  }
  const nx = ask('nx.example.org');
  assert.equal(
    (nx.authorities?.[0] as { ttl?: number } | undefined)?.ttl,
    5,
    'rcode TTL caps the SOA',
  );
  assert.equal(responder.stats.allDown, 7);
  assert.ok(allDown.includes('open.example.org. fail-open'), 'fail open is reported');
});

test('A and AAAA come from the same members; other types at a steered name are NODATA', async () => {
  const { ask } = await setup();
  assert.deepEqual(answers(ask('dual.example.org', 'A')), ['A 192.0.2.1']);
  assert.deepEqual(answers(ask('dual.example.org', 'AAAA')), ['AAAA 2001:db8::1']);
  const mx = ask('dual.example.org', 'MX');
  assert.equal(rcode(mx), 'NOERROR');
  assert.deepEqual(answers(mx), []);
  assert.equal(mx.authorities?.[0]?.type, 'SOA');
});

test('a CNAME service answers the first eligible target and follows it inside our zones', async () => {
  const { ask } = await setup();
  assert.deepEqual(answers(ask('alias.example.org')), [
    'CNAME backend.example.org',
    'A 192.0.2.99',
  ]);
  assert.deepEqual(answers(ask('alias.example.org', 'TXT')), ['CNAME backend.example.org']);
});

test('bad services are rejected with file:line and reason', async () => {
  const cases = [
    {
      text: `${ZONE}services:\n  - name: www.example.com\n    pools: [{ name: p, members: [{ name: a, address: 192.0.2.1 }] }]\n`,
      want: /services\.yaml:\d+: service www\.example\.com\. is not inside any zone/,
    },
    {
      text: `${ZONE}services:\n  - name: ns1.example.org\n    pools: [{ name: p, members: [{ name: a, address: 192.0.2.1 }] }]\n`,
      want: /also has static address records/,
    },
    {
      text: `${ZONE}services:\n  - name: w.example.org\n    pools: [{ name: p, members: [{ name: a, address: 300.1.1.1 }] }]\n`,
      want: /not an IP address/,
    },
    {
      text: `${ZONE}services:\n  - name: w.example.org\n    pools: [{ name: p, members: [{ name: a, address: 192.0.2.1 }] }]\n    policies: [nope]\n`,
      want: /unknown policy "nope"/,
    },
    {
      text: `${ZONE}services:\n  - name: w.example.org\n    pools: [{ name: p, members: [{ name: a, address: 192.0.2.1 }] }]\n    policies: [{ policy: overload, margin: -1 }]\n`,
      want: /services\.yaml:\d+: policy overload: \/margin/,
    },
  ];
  await Promise.all(
    cases.map(async ({ text, want }) => {
      await assert.rejects(
        loadAll(() => Promise.resolve(parseConfig(text, 'services.yaml'))),
        (error: unknown) => error instanceof ConfigError && want.test(error.message),
        String(want),
      );
    }),
  );
});
