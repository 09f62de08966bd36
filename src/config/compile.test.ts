import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, formatProblem } from '../lib/errors.js';
import { parseConfig, readConfig } from './load.js';
import { memberKey, parseMemberKey } from './member-key.js';

const examples = readdirSync('examples')
  .filter((file) => file.endsWith('.yaml'))
  .map((file) => join('examples', file));

const zone = `zones:
  - origin: example.org
    ttl: 300
    records: |
      @ IN SOA ns1 hostmaster 1 7200 3600 1209600 300
      @ IN NS ns1
      ns1 IN A 192.0.2.53
`;

const problemsOf = (text: string, file = 'test.yaml'): string[] => {
  try {
    parseConfig(text, file);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map(formatProblem);
    throw error;
  }
  return [];
};

test('compiled configuration: every example round-trips through JSON and is frozen', async () => {
  assert.ok(examples.length >= 5, `examples found: ${examples.join(', ')}`);
  for (const file of examples) {
    const compiled = await readConfig(file);
    assert.deepEqual(JSON.parse(JSON.stringify(compiled)), compiled, file);
    assert.ok(Object.isFrozen(compiled), `${file}: the configuration is frozen`);
    for (const service of compiled.services) {
      assert.ok(Object.isFrozen(service), `${file}: ${service.name} is frozen`);
      for (const pool of service.pools)
        for (const member of pool.members) assert.ok(Object.isFrozen(member), member.key);
    }
  }
});

test('compiled configuration: defaults are applied once, at compile time', () => {
  const compiled = parseConfig(
    `${zone}services:
  - name: www.example.org
    pools:
      - name: main
        members:
          - name: a
            address: 192.0.2.10
            health: { type: tcp, port: 80 }
`,
    'defaults.yaml',
  );
  assert.deepEqual(compiled.listen, [{ host: '127.0.0.1', port: 5353 }]);
  assert.deepEqual(compiled.dns, {
    udpPayloadMax: 1232,
    tcpIdleTimeoutMs: 10_000,
    tcpMessageTimeoutMs: 1000,
    tcpMaxConnections: 1024,
    tcpMaxPerSource: 64,
    tcpOutputLimit: 131_072,
    udpEngine: 'dgram',
  });
  assert.deepEqual(compiled.log, { level: 'info', explainSample: 0 });
  const [service] = compiled.services;
  assert.ok(service);
  assert.equal(service.name, 'www.example.org.');
  assert.equal(service.ttl, 30);
  assert.equal(service.answers, 1);
  assert.deepEqual(
    service.policies.map((p) => p.policy),
    ['up', 'admin', 'weighted'],
  );
  const member = service.pools[0]?.members[0];
  assert.ok(member);
  assert.equal(member.key, memberKey('www.example.org.', 'main', 'a'));
  assert.equal(member.weight, 1);
  assert.equal(member.admin, 'enabled');
  assert.equal(member.announce, 'optional');
  const [check] = compiled.health.checks;
  assert.ok(check);
  assert.equal(member.check, check.id);
  assert.deepEqual(check.tracker, { rise: 2, fall: 3, intervalMs: 5000, initial: 'unknown' });
  assert.equal(check.timeoutMs, 2000);
  assert.equal(compiled.health.startupGraceMs, 3000);
});

test('compiled configuration: policy settings carry their schema defaults', () => {
  const compiled = parseConfig(
    `${zone}services:
  - name: www.example.org
    policies: [up, { policy: persistence, ttl: 60 }, weighted]
    pools: [{ name: main, members: [{ name: a, address: 192.0.2.10 }] }]
`,
    'policies.yaml',
  );
  const persistence = compiled.services[0]?.policies[1];
  assert.equal(persistence?.policy, 'persistence');
  assert.equal(persistence.settings['ttl'], 60);
  assert.equal(persistence.settings['key'], 'resolver');
  assert.equal(persistence.settings['maxEntries'], 1_000_000);
});

test('compiled configuration: every problem is reported at once, in file order, with its line', () => {
  const problems = problemsOf(
    `${zone}services:
  - name: www.example.org
    policies: [up, nosuchpolicy]
    pools:
      - name: main
        members:
          - name: a
            address: 192.0.2.10
          - name: a
            address: 192.0.2.11
          - name: b
            address: not-an-address
      - name: main
        members:
          - name: c
            address: 192.0.2.12
            healthTarget: nowhere:99999
            health: { type: tcp, port: 80 }
`,
  );
  assert.deepEqual(problems, [
    'test.yaml:10: unknown policy "nosuchpolicy"; known: up, admin, overload, capacity, round-robin, weighted, random-weighted, least-load, least-connections, stripe, consistent-hash, handoff, response-time, first, persistence, topology, geo, proximity, cost, measured',
    'test.yaml:16: pool main of www.example.org.: member "a" is defined twice',
    'test.yaml:18: member b: not an IP address: "not-an-address"',
    'test.yaml:20: service www.example.org.: pool "main" is defined twice',
    'test.yaml:24: healthTarget must be ADDR or ADDR:PORT, got "nowhere:99999"',
  ]);
});

test('compiled configuration: a listen address may ask for port 0', () => {
  const compiled = parseConfig(`listen: ['127.0.0.1:0', '[::1]:0']\n${zone}`, 'zero.yaml');
  assert.deepEqual(compiled.listen, [
    { host: '127.0.0.1', port: 0 },
    { host: '::1', port: 0 },
  ]);
});

test('member keys: one format, parsed back into its parts', () => {
  const key = memberKey('www.example.org.', 'main', 'web-1');
  assert.equal(key, 'www.example.org. main/web-1');
  assert.deepEqual(parseMemberKey(key), {
    service: 'www.example.org.',
    pool: 'main',
    member: 'web-1',
  });
  assert.equal(parseMemberKey('no-space'), undefined);
});
