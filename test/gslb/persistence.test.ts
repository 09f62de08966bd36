import assert from 'node:assert/strict';
import { test } from 'node:test';
import dnsPacket from 'dns-packet';
import { loadAll } from '../../src/app.js';
import { Responder } from '../../src/answer/responder.js';
import { parseConfig } from '../../src/config/load.js';
import type { MemberState, StateView } from '../../src/steering/types.js';

const CONFIG = `
zones:
  - origin: example.org
    ttl: 3600
    records: |
      @ IN SOA ns1 hostmaster 1 7200 3600 1209600 300
      @ IN NS ns1
      ns1 IN A 192.0.2.53
ldnsGroups:
  isp: [198.51.100.1, 198.51.100.2]
services:
  - name: www.example.org
    pools:
      - name: web
        members:
          - { name: a, address: 192.0.2.1 }
          - { name: b, address: 192.0.2.2 }
          - { name: c, address: 192.0.2.3 }
    policies: [up, admin, round-robin, { policy: persistence, ttl: 60 }]
`;

async function setup() {
  const down = new Set<string>();
  let now = 1_000_000;
  const state: StateView = {
    // keys are `service pool/member`; the test names members by `pool/member`
    member: (key): MemberState => ({
      up: !down.has(key.slice(key.indexOf(' ') + 1)),
      load: undefined,
      connections: undefined,
      admin: undefined,
      ttlHint: undefined,
      responseMs: undefined,
    }),
  };
  const { loaded, services } = await loadAll(() =>
    Promise.resolve(parseConfig(CONFIG, 'test.yaml')),
  );
  const responder = new Responder(loaded.zones, {
    steering: { names: services.byKey, state: () => state, random: () => 0.5, now: () => now },
  });
  const query = Buffer.from(
    dnsPacket.encode({ type: 'query', id: 1, questions: [{ name: 'www.example.org', type: 'A' }] }),
  );
  const ask = (from: string): string => {
    const reply = responder.handle(query, 'udp', from) as Buffer;
    return [...reply.subarray(reply.length - 4)].join('.');
  };
  return { ask, down, advance: (ms: number) => (now += ms) };
}

/** The member after `address` in round-robin order (a, b, c, a, ...). */
const next = (address: string): string =>
  ({ '192.0.2.1': '192.0.2.2', '192.0.2.2': '192.0.2.3', '192.0.2.3': '192.0.2.1' })[address]!;

test('a returning resolver keeps its member while the entry holds', async () => {
  const { ask, advance } = await setup();
  const first = ask('203.0.113.1');
  for (let i = 0; i < 20; i++) {
    advance(10_000);
    assert.equal(ask('203.0.113.1'), first, `query ${i}, 10 s after the previous one`);
  }
  // the 20 hits did not turn the rotation: new resolvers continue right after `first`
  const others = Array.from({ length: 6 }, (_, i) => ask(`203.0.113.${10 + i}`));
  const rotation = others.reduce<string[]>((out) => [...out, next(out.at(-1)!)], [first]);
  assert.deepEqual(others, rotation.slice(1), 'other resolvers are balanced, in rotation order');
  advance(61_000);
  const after = ask('203.0.113.1');
  assert.equal(after, next(others.at(-1)!), 'after 61 s of silence: the rotation picks afresh');
  assert.equal(ask('203.0.113.1'), after, 'and the new member is remembered');
});

test('when its member goes down the resolver moves, and stays on the new one', async () => {
  const { ask, down } = await setup();
  const first = ask('203.0.113.7');
  down.add(`web/${{ '192.0.2.1': 'a', '192.0.2.2': 'b', '192.0.2.3': 'c' }[first]!}`);
  const moved = ask('203.0.113.7');
  assert.notEqual(moved, first);
  for (let i = 0; i < 10; i++) assert.equal(ask('203.0.113.7'), moved, `after move ${i}`);
  down.clear();
  assert.equal(ask('203.0.113.7'), moved, 'does not move back when the old member returns');
});

test('an LDNS group shares one entry', async () => {
  const { ask } = await setup();
  const first = ask('198.51.100.1');
  for (let i = 0; i < 10; i++)
    assert.equal(ask(i % 2 ? '198.51.100.1' : '198.51.100.2'), first, `query ${i}`);
});
