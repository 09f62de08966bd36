import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AgentSnapshot, AnnouncedNode } from '../agent/registry.js';
import { parseConfig } from '../config/load.js';
import { memberKey } from '../config/member-key.js';
import type { TrackerState } from '../health/tracker.js';
import { ConfigError } from '../lib/errors.js';
import { loadZones } from '../server/load-zones.js';
import { serviceNames } from '../server/load-services.js';
import { ControlNode, type NodeChange } from './node.js';

const config = (ttl: number, extraMember = ''): string => `
zones:
  - origin: example.org
    ttl: 3600
    records: |
      @ IN SOA ns1 hostmaster 1 7200 3600 1209600 300
      @ IN NS ns1
      ns1 IN A 192.0.2.53
services:
  - name: www.example.org
    ttl: ${ttl}
    dynamic: { pool: agents }
    pools:
      - name: web
        members:
          - { name: a, address: 192.0.2.1, health: { type: tcp, port: 80 } }
${extraMember}
`;

async function nodeFor(text: string): Promise<ControlNode> {
  const compiled = parseConfig(text, 'node.yaml');
  const { zones } = await loadZones(compiled.zones, serviceNames(compiled));
  return new ControlNode(compiled, zones);
}

async function configChange(text: string): Promise<NodeChange> {
  const compiled = parseConfig(text, 'node.yaml');
  const { zones } = await loadZones(compiled.zones, serviceNames(compiled));
  return { kind: 'config', config: compiled, zones };
}

const trackerState = (health: 'up' | 'down'): TrackerState => ({
  health,
  since: 1,
  successes: health === 'up' ? 1 : 0,
  failures: health === 'down' ? 1 : 0,
  checks: 1,
  last: { ok: health === 'up', latencyMs: 1 },
  lastAt: 1,
  averageMs: 1,
  resets: 0,
  abnormal: 0,
});

const A = memberKey('www.example.org.', 'web', 'a');
const B = memberKey('www.example.org.', 'web', 'b');

test('node: every change makes a new version, delivered to subscribers in order', async () => {
  const node = await nodeFor(config(30));
  const seen: string[] = [];
  const stop = node.subscribe((snapshot, change) => {
    seen.push(`${snapshot.version} ${change.kind}`);
  });
  const check = node.snapshot().config.health.checks[0]!.id;
  await node.publish({ kind: 'health', states: [[check, trackerState('down')]] });
  await node.publish(await configChange(config(20)));
  stop();
  await node.publish({ kind: 'health', states: [[check, trackerState('up')]] });
  assert.deepEqual(seen, ['1 health', '2 config']);
  assert.equal(node.snapshot().version, 3);
});

test('node: health results reach the state view, and a reload keeps those of kept checks', async () => {
  const node = await nodeFor(config(30));
  const check = node.snapshot().config.health.checks[0]!.id;
  assert.equal(node.snapshot().state.member(A).up, undefined, 'not checked yet');
  await node.publish({ kind: 'health', states: [[check, trackerState('down')]] });
  assert.equal(node.snapshot().state.member(A).up, false);
  await node.publish(await configChange(config(20)));
  assert.equal(node.snapshot().config.services[0]?.ttl, 20, 'the new configuration');
  assert.equal(node.snapshot().state.member(A).up, false, 'the result survived the reload');
  const withoutCheck = config(20).replace(', health: { type: tcp, port: 80 }', '');
  await node.publish(await configChange(withoutCheck));
  assert.equal(node.snapshot().health.size, 0, 'a removed check leaves no state behind');
  assert.equal(node.snapshot().state.member(A).up, undefined);
});

test('node: a configuration the zones cannot take is refused, and nothing changes', async () => {
  const node = await nodeFor(config(30));
  const before = node.snapshot();
  const outside = await configChange(
    config(30).replace('name: www.example.org', 'name: www.example.net'),
  );
  assert.throws(
    () => node.publish(outside),
    (error: unknown) =>
      error instanceof ConfigError && error.message.includes('is not inside any zone served'),
  );
  assert.equal(node.snapshot(), before);
});

test('node: a subscriber that publishes does not reorder what the others see', async () => {
  const node = await nodeFor(config(30));
  const check = node.snapshot().config.health.checks[0]!.id;
  node.subscribe((_snapshot, change) => {
    // A consumer reacting to a reload with a change of its own (a health producer, say).
    if (change.kind === 'config')
      void node.publish({ kind: 'health', states: [[check, trackerState('up')]] });
  });
  const versions: number[] = [];
  node.subscribe((snapshot) => {
    versions.push(snapshot.version);
  });
  await node.publish(await configChange(config(20)));
  assert.deepEqual(versions, [1, 2]);
  assert.equal(node.snapshot().state.member(A).up, true);
});

test('node: a failing subscriber is reported to the publisher; the others still hear', async () => {
  const node = await nodeFor(config(30));
  let heard = 0;
  node.subscribe(() => Promise.reject(new Error('cannot bind')));
  node.subscribe(() => {
    throw new Error('broken');
  });
  node.subscribe(() => {
    heard++;
  });
  const errors = await node.publish(await configChange(config(20)));
  assert.deepEqual(
    errors.map((e) => e.message),
    ['cannot bind', 'broken'],
  );
  assert.equal(heard, 1);
});

test('node: operator overrides win over health, until they expire', async () => {
  const node = await nodeFor(config(30));
  const check = node.snapshot().config.health.checks[0]!.id;
  await node.publish({ kind: 'health', states: [[check, trackerState('up')]] });
  await node.publish({ kind: 'overrides', overrides: [[A, { health: 'down', by: 'test' }]] });
  assert.equal(node.snapshot().state.member(A).up, false, 'forced down');
  assert.equal(node.snapshot().health.get(check)?.health, 'up', 'the real state stays');
  await node.publish({
    kind: 'overrides',
    overrides: [[A, { health: 'down', until: Date.now() - 1 }]],
  });
  assert.equal(node.snapshot().state.member(A).up, true, 'an expired override is ignored');
  await node.publish({ kind: 'overrides', overrides: [[A, { admin: 'draining' }]] });
  assert.equal(node.snapshot().state.member(A).admin, 'draining');
});

const announced = (nodes: readonly AnnouncedNode[], membership: string): AgentSnapshot => ({
  nodes,
  membership,
});

const agentNode: AnnouncedNode = {
  service: 'www.example.org.',
  node: 'n1',
  addresses: ['192.0.2.77'],
  load: 10,
  connections: undefined,
  capacity: undefined,
  admin: 'enabled',
  intervalMs: 1000,
  heardAt: 1,
  expiresAt: 10_000,
};

test('node: a node that joins rebuilds the services; a load figure does not', async () => {
  const node = await nodeFor(config(30));
  const before = node.snapshot().services;
  await node.publish({ kind: 'agents', agents: announced([agentNode], 'n1') });
  const joined = node.snapshot().services;
  assert.notEqual(joined, before);
  const pools = [...joined.byKey.values()][0]!.service.pools.map((p) => p.name);
  assert.deepEqual(pools, ['web', 'agents']);
  await node.publish({
    kind: 'agents',
    agents: announced([{ ...agentNode, load: 90 }], 'n1'),
  });
  assert.equal(node.snapshot().services, joined, 'same members: same services');
  const key = memberKey('www.example.org.', 'agents', 'n1');
  assert.equal(node.snapshot().state.member(key).load, 90);
});

test('node: persistence tables outlive reloads', async () => {
  const node = await nodeFor(config(30));
  const store = node.persistence.forService('www.example.org.', 10);
  store.set('198.51.100.1', { member: 'web/a', created: 1, lastSeen: 1, ttlMs: 60_000, hits: 1 });
  await node.publish(await configChange(config(20, `          - { name: b, address: 192.0.2.2 }`)));
  assert.equal(node.persistence.get('www.example.org.')?.get('198.51.100.1')?.member, 'web/a');
  assert.equal(node.snapshot().state.member(B).up, undefined, 'b is a member now');
});
