import assert from 'node:assert/strict';
import { test } from 'node:test';
import dnsPacket from 'dns-packet';
import { loadAll } from '../../src/app.js';
import { parseConfig } from '../../src/config/load.js';
import { explainQuery } from '../../src/answer/explain.js';
import { Responder } from '../../src/answer/responder.js';

/** A static CNAME chain, an MX and an SRV that lead to services; a service chosen by client. */
const CONFIG = `
zones:
  - origin: example.org
    ttl: 3600
    records: |
      @ IN SOA ns1 hostmaster 1 7200 3600 1209600 300
      @ IN NS ns1
      @ IN MX 10 pick
      @ IN MX 20 mail
      ns1 IN A 192.0.2.53
      mail IN A 192.0.2.25
      app IN CNAME pick
      alias IN CNAME app
      down IN CNAME gone
      named IN CNAME cn
      _sip._udp IN SRV 0 0 5060 pick
topology:
  - match: { cidr: [198.51.100.0/24] }
    prefer: { a: 100 }
  - match: { cidr: [203.0.113.0/24] }
    prefer: { b: 100 }
services:
  - name: pick.example.org
    ttl: 20
    pools:
      - name: main
        members:
          - { name: a, addresses: [192.0.2.1, 2001:db8::1] }
          - { name: b, addresses: [192.0.2.2, 2001:db8::2] }
    policies: [up, topology, first]
  - name: gone.example.org
    ttl: 20
    pools:
      - name: main
        members:
          - { name: a, address: 192.0.2.9, state: { up: false } }
    policies: [up, first]
    allDown: { action: fallback, addresses: [198.51.100.7] }
  - name: cn.example.org
    type: CNAME
    pools:
      - name: main
        members:
          - { name: m, target: mail.example.org }
    policies: [up, first]
`;

async function setup() {
  const { loaded, services } = await loadAll(() =>
    Promise.resolve(parseConfig(CONFIG, 'chase.yaml')),
  );
  const allDown: string[] = [];
  const steering = {
    names: services.byKey,
    state: () => services.staticState,
    random: Math.random,
    now: Date.now,
  };
  const responder = new Responder(loaded.zones, {
    steering,
    onAllDown: (name, action) => allDown.push(`${name} ${action}`),
  });
  /** Asks from a client in `subnet` (the resolver's address: no ECS needed). */
  const ask = (name: string, type: dnsPacket.RecordType, from: string) => {
    const query = dnsPacket.encode({ type: 'query', id: 3, questions: [{ name, type }] });
    return dnsPacket.decode(responder.handle(query, 'udp', from) as Buffer);
  };
  return { ask, allDown, responder, steering, zones: loaded.zones };
}

const show = (records: readonly dnsPacket.Answer[] | undefined): string[] =>
  (records ?? []).map((r) => {
    const data: unknown = 'data' in r ? r.data : '';
    return `${r.name} ${'ttl' in r ? (r.ttl ?? '') : ''} ${r.type} ${typeof data === 'string' ? data : JSON.stringify(data)}`;
  });

test('a chased answer is decided per client, never cached as a static one', async () => {
  const { ask, responder } = await setup();
  const rows = [
    { from: '198.51.100.9', type: 'A', last: 'pick.example.org 20 A 192.0.2.1' },
    { from: '203.0.113.9', type: 'A', last: 'pick.example.org 20 A 192.0.2.2' },
    { from: '198.51.100.9', type: 'AAAA', last: 'pick.example.org 20 AAAA 2001:db8::1' },
    { from: '203.0.113.9', type: 'AAAA', last: 'pick.example.org 20 AAAA 2001:db8::2' },
  ] as const;
  // Each client three times, interleaved: the cache admits a name on its second miss.
  for (let round = 0; round < 3; round++) {
    for (const { from, type, last } of rows) {
      const reply = ask('alias.example.org', type, from);
      assert.equal(reply.flag_aa, true);
      assert.deepEqual(show(reply.answers), [
        'alias.example.org 3600 CNAME app.example.org',
        'app.example.org 3600 CNAME pick.example.org',
        last,
      ]);
    }
  }
  assert.equal(responder.stats.cacheHits, 0);
});

test('MX and SRV targets that are services get their steered addresses, beside static ones', async () => {
  const { ask } = await setup();
  for (const [from, n] of [
    ['198.51.100.9', 1],
    ['203.0.113.9', 2],
  ] as const) {
    const mx = ask('example.org', 'MX', from);
    // The static additional data first, then the steered addresses.
    assert.deepEqual(show(mx.additionals), [
      'mail.example.org 3600 A 192.0.2.25',
      `pick.example.org 20 A 192.0.2.${n}`,
      `pick.example.org 20 AAAA 2001:db8::${n}`,
    ]);
    const srv = ask('_sip._udp.example.org', 'SRV', from);
    assert.deepEqual(show(srv.additionals), [
      `pick.example.org 20 A 192.0.2.${n}`,
      `pick.example.org 20 AAAA 2001:db8::${n}`,
    ]);
  }
});

test('the chased service answers as itself: all-down fallback (counted), a CNAME service', async () => {
  const { ask, allDown, responder } = await setup();
  const down = ask('down.example.org', 'A', '192.0.2.200');
  assert.deepEqual(show(down.answers), [
    'down.example.org 3600 CNAME gone.example.org',
    'gone.example.org 20 A 198.51.100.7',
  ]);
  assert.deepEqual(allDown, ['gone.example.org. fallback']);
  assert.equal(responder.stats.allDown, 1);
  // A CNAME service: its CNAME, followed in the zone, once (no second steering).
  const named = ask('named.example.org', 'A', '192.0.2.200');
  assert.deepEqual(show(named.answers), [
    'named.example.org 3600 CNAME cn.example.org',
    'cn.example.org 30 CNAME mail.example.org',
    'mail.example.org 3600 A 192.0.2.25',
  ]);
});

test('explain follows the chain into the service, as the server answers', async () => {
  const { steering, zones } = await setup();
  const explained = explainQuery(steering, zones, {
    name: 'alias.example.org',
    client: '203.0.113.9',
  });
  assert.equal(explained.kind, 'steered');
  assert.equal(explained.rcode, 'NOERROR');
  assert.deepEqual(explained.answers, ['app.example.org.', 'pick.example.org.', '192.0.2.2']);
  assert.ok(explained.steps.some((step) => step.policy === 'topology'));
  assert.deepEqual(explained.notes, [
    'alias.example.org. leads to a CNAME chain to the service pick.example.org.: that part of the answer is steered',
  ]);
  const plain = explainQuery(steering, zones, { name: 'mail.example.org' });
  assert.equal(plain.kind, 'static');
});
