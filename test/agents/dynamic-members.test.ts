import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import dnsPacket from 'dns-packet';
import { loadAll } from '../../src/app.js';
import { Responder } from '../../src/answer/responder.js';
import type { AgentSnapshot, AnnouncedNode } from '../../src/agent/registry.js';
import { parseConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/lib/errors.js';
import { agentStateView } from '../../src/server/agents.js';

const ZONE = `
zones:
  - origin: example.org
    records: |
      @ 3600 IN SOA ns1 hostmaster 1 7200 3600 1209600 300
      @ 3600 IN NS ns1
      ns1 3600 IN A 192.0.2.53
`;

const CONFIG = `${ZONE}
services:
  - name: app.example.org
    ttl: 5
    dynamic: { pool: agents }
    policies: [up, admin, least-load]
    allDown: nodata
  - name: mixed.example.org
    ttl: 5
    pools:
      - name: fixed
        members:
          - { name: m1, address: 192.0.2.1 }
          - { name: m2, address: 192.0.2.2 }
    dynamic: { pool: fixed, weight: 2 }
    policies: [up, admin, least-load]
`;

function node(fields: Partial<AnnouncedNode> & { node: string; service: string }): AnnouncedNode {
  return {
    addresses: ['192.0.2.100'],
    load: undefined,
    connections: undefined,
    capacity: undefined,
    admin: 'enabled',
    intervalMs: 1000,
    heardAt: 0,
    expiresAt: 3000,
    ...fields,
  };
}

const snapshot = (...nodes: AnnouncedNode[]): AgentSnapshot => ({
  nodes,
  membership: nodes.map((n) => `${n.service} ${n.node} ${n.addresses.join()}`).join('\n'),
});

async function responderFor(agents: AgentSnapshot, config = CONFIG) {
  const loaded = await loadAll(
    () => Promise.resolve(parseConfig(config, 'agents.yaml')),
    undefined,
    agents.nodes,
  );
  const state = agentStateView(loaded.services.byKey.values(), agents, loaded.services.staticState);
  const responder = new Responder(loaded.loaded.zones, {
    steering: {
      names: loaded.services.byKey,
      state: () => state,
      random: Math.random,
      now: Date.now,
    },
  });
  const ask = (name: string): string[] => {
    const query = dnsPacket.encode({ type: 'query', id: 1, questions: [{ name, type: 'A' }] });
    const reply = dnsPacket.decode(responder.handle(query, 'udp', '192.0.2.200') as Buffer);
    return (reply.answers ?? []).map((a) => String((a as { data: unknown }).data));
  };
  return { ask, loaded };
}

describe('dynamic members', () => {
  test('a dynamic service with nobody announcing is valid and answers its all-down behaviour', async () => {
    const { ask } = await responderFor(snapshot());
    assert.deepEqual(ask('app.example.org'), []);
  });

  test('announced nodes join their service; the least loaded is answered; other services ignore them', async () => {
    const { ask, loaded } = await responderFor(
      snapshot(
        node({ service: 'app.example.org.', node: 'a1', addresses: ['192.0.2.21'], load: 50 }),
        node({ service: 'app.example.org.', node: 'a2', addresses: ['192.0.2.22'], load: 20 }),
        node({ service: 'other.example.org.', node: 'x', addresses: ['192.0.2.99'], load: 0 }),
      ),
    );
    assert.deepEqual(ask('app.example.org'), ['192.0.2.22']);
    const app = [...loaded.services.byKey.values()].find(
      (s) => s.service.name === 'app.example.org.',
    );
    assert.deepEqual(
      app?.service.pools.map((p) => [p.name, p.members.map((m) => m.name)]),
      [['agents', ['a1', 'a2']]],
    );
  });

  test('a draining node gets no answers', async () => {
    const { ask } = await responderFor(
      snapshot(
        node({ service: 'app.example.org.', node: 'a1', addresses: ['192.0.2.21'], load: 50 }),
        node({
          service: 'app.example.org.',
          node: 'a2',
          addresses: ['192.0.2.22'],
          load: 20,
          admin: 'draining',
        }),
      ),
    );
    assert.deepEqual(ask('app.example.org'), ['192.0.2.21']);
  });

  test('a node named like a configured member reports that member’s load instead of joining twice', async () => {
    const { ask, loaded } = await responderFor(
      snapshot(
        node({ service: 'mixed.example.org.', node: 'm1', addresses: ['192.0.2.1'], load: 90 }),
        node({ service: 'mixed.example.org.', node: 'm2', addresses: ['192.0.2.2'], load: 60 }),
        node({ service: 'mixed.example.org.', node: 'm3', addresses: ['192.0.2.3'], load: 30 }),
      ),
    );
    const mixed = [...loaded.services.byKey.values()].find(
      (s) => s.service.name === 'mixed.example.org.',
    );
    const members = mixed?.service.pools[0]?.members ?? [];
    assert.deepEqual(
      members.map((m) => [m.name, m.weight]),
      [
        ['m1', 1],
        ['m2', 1],
        ['m3', 2],
      ],
    );
    assert.deepEqual(ask('mixed.example.org'), ['192.0.2.3']);
  });

  test('a service needs pools or dynamic members; a CNAME service cannot be dynamic', async () => {
    const bad = `${ZONE}
services:
  - name: empty.example.org
    policies: [up]
  - name: alias.example.org
    type: CNAME
    dynamic: {}
`;
    await assert.rejects(
      () => loadAll(() => Promise.resolve(parseConfig(bad, 'bad.yaml'))),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        const reasons = error.problems.map((p) => `${p.file}:${p.line}: ${p.reason}`).join('\n');
        assert.match(
          reasons,
          /bad\.yaml:\d+: service empty\.example\.org\.: needs pools or dynamic members/,
        );
        assert.match(
          reasons,
          /bad\.yaml:\d+: service alias\.example\.org\.: dynamic members need type A or AAAA/,
        );
        return true;
      },
    );
  });
});
