import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ConfigError, formatProblem } from '../lib/errors.js';
import { parseConfig } from './load.js';

const zone = `zones:
  - origin: example.org
    records: |
      @ IN SOA ns1 hostmaster 1 7200 3600 1209600 300
      @ IN NS ns1
      ns1 IN A 192.0.2.53
`;

const dir = mkdtempSync(join(tmpdir(), 'steerdns-cluster-config-'));
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

const problemsOf = (text: string): string[] => {
  try {
    parseConfig(text, join(dir, 'c.yaml'));
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map(formatProblem);
    throw error;
  }
  return [];
};

test('a cluster section compiles with every default', () => {
  const compiled = parseConfig(
    `${zone}cluster:
  node: n1
  etcd:
    endpoints: [http://192.0.2.2:2379, unix:///run/etcd.sock]
  addresses:
    - { address: 192.0.2.53, prefix: 24, interface: eth0 }
    - { address: 2001:db8::53, interface: eth0 }
  hooks:
    active: [hooks/active.sh]
`,
    join(dir, 'c.yaml'),
  );
  const cluster = compiled.cluster!;
  assert.equal(cluster.node, 'n1');
  assert.equal(cluster.prefix, '/steerdns/default/');
  assert.deepEqual(cluster.etcd.endpoints, ['http://192.0.2.2:2379', 'unix:///run/etcd.sock']);
  assert.equal(cluster.etcd.timeoutMs, 1000);
  assert.equal(cluster.leaseTtlSeconds, 2);
  assert.equal(cluster.marginMs, 500);
  assert.deepEqual(cluster.addresses, [
    { address: '192.0.2.53', prefixLength: 24, interface: 'eth0' },
    { address: '2001:db8::53', prefixLength: 128, interface: 'eth0' },
  ]);
  assert.deepEqual(cluster.hooks.active, [join(dir, 'hooks/active.sh')]);
  assert.deepEqual(cluster.hooks.standby, []);
  assert.equal(cluster.selfQuery, true);
  assert.equal(parseConfig(zone, join(dir, 'c.yaml')).cluster, undefined);
});

test('a lease below a second is raised to whole seconds, and checks compile like health checks', () => {
  const compiled = parseConfig(
    `${zone}cluster:
  node: n1
  leaseTtl: 2500ms
  etcd: { endpoints: ['http://192.0.2.2:2379'] }
  checks:
    - { name: gateway, type: script, target: 192.0.2.1, command: [ping, -c1, -W1, 192.0.2.1], interval: 1s, fall: 2 }
`,
    join(dir, 'c.yaml'),
  );
  assert.equal(compiled.cluster!.leaseTtlSeconds, 3);
  const [check] = compiled.cluster!.checks;
  assert.ok(check !== undefined, 'no compiled check');
  assert.equal(check.name, 'gateway');
  assert.equal(check.type, 'script');
  assert.equal(check.address, '192.0.2.1');
  assert.equal(check.tracker.fall, 2);
});

test('mistakes in the cluster section are reported with their lines', () => {
  writeFileSync(join(dir, 'empty-password'), '\n');
  const problems = problemsOf(`${zone}cluster:
  node: n1
  margin: 1500ms
  etcd:
    endpoints: ['http://192.0.2.2:2379']
    username: root
    passwordFile: empty-password
    cert: no-such.pem
  addresses:
    - { address: 192.0.2.300, interface: eth0 }
  checks:
    - { name: gw, type: tcp, target: gateway }
`);
  const file = join(dir, 'c.yaml');
  assert.deepEqual(problems, [
    `${file}:9: cluster.margin (1500 ms) must be at most half the lease (2 s)`,
    `${file}:11: cluster.etcd: cert and key go together`,
    `${file}:13: cluster.etcd.passwordFile: ${join(dir, 'empty-password')} is empty`,
    `${file}:14: cluster.etcd.cert: cannot read ${join(dir, 'no-such.pem')}: ENOENT: no such file or directory, access '${join(dir, 'no-such.pem')}'`,
    `${file}:16: cluster.addresses: "192.0.2.300" is not an IP address`,
    `${file}:18: cluster.checks: target: expected ADDR or ADDR:PORT, got "gateway"`,
  ]);
});

test('a cluster without a node name or etcd endpoints is refused by the schema', () => {
  const problems = problemsOf(`${zone}cluster:\n  etcd: { endpoints: [] }\n`);
  assert.ok(
    problems.some((p) => p.includes('node')),
    problems.join('\n'),
  );
  assert.ok(
    problems.some((p) => p.includes('endpoints')),
    problems.join('\n'),
  );
});

test('the three-node example (examples/cluster) compiles: one node name each, one service address', async () => {
  const { readConfig } = await import('./load.js');
  for (const node of ['n1', 'n2', 'n3']) {
    const compiled = await readConfig(join('examples', 'cluster', `${node}.yaml`));
    assert.equal(compiled.cluster?.node, node);
    assert.deepEqual(compiled.cluster.addresses, [
      { address: '192.0.2.53', prefixLength: 24, interface: 'eth0' },
    ]);
  }
});
