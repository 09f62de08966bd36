import assert from 'node:assert/strict';
import { test } from 'node:test';
import dnsPacket from 'dns-packet';
import { loadAll } from '../../src/app.js';
import { Responder } from '../../src/answer/responder.js';
import { parseConfig } from '../../src/config/load.js';

const CONFIG = `
zones:
  - origin: example.org
    records: |
      @ 3600 IN SOA ns1 hostmaster 1 7200 3600 1209600 300
      @ 3600 IN NS ns1
      ns1 3600 IN A 192.0.2.53
services:
  - name: v4.example.org
    pools:
      - name: main
        members:
          - { name: a, address: 192.0.2.1 }
  - name: v6.example.org
    pools:
      - name: main
        members:
          - { name: a, address: '2001:db8::1' }
`;

test('a service with no address of the asked family answers NODATA, not its all-down behaviour', async () => {
  const { loaded, services } = await loadAll(() =>
    Promise.resolve(parseConfig(CONFIG, 'families.yaml')),
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
  const ask = (name: string, type: dnsPacket.RecordType) =>
    dnsPacket.decode(
      responder.handle(
        dnsPacket.encode({ type: 'query', id: 5, questions: [{ name, type }] }),
        'udp',
        '192.0.2.200',
      ) as Buffer,
    );
  for (const [name, type] of [
    ['v4.example.org', 'AAAA'],
    ['v6.example.org', 'A'],
  ] as const) {
    const reply = ask(name, type);
    assert.equal((reply as { rcode?: string }).rcode, 'NOERROR');
    assert.equal(reply.answers?.length ?? 0, 0);
    assert.equal(reply.authorities?.[0]?.type, 'SOA');
  }
  assert.equal(ask('v4.example.org', 'A').answers?.length, 1);
  assert.equal(ask('v6.example.org', 'AAAA').answers?.length, 1);
  assert.deepEqual(allDown, []);
  assert.equal(responder.stats.allDown, 0);
});
