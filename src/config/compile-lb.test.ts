import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../lib/errors.js';
import { parseLbConfig } from './load.js';

const good = `lb:
  node: b1
  interface: eth0
  floating: 192.0.2.10/24
  cluster: 203.0.113.10
  ports: [80]
  vrrp: { id: 51, priority: 150 }
  sync: { address: 192.0.2.11, peer: 192.0.2.12 }
  servers:
    - { name: s1, address: 192.0.2.21, weight: 2, health: { type: tcp, port: 80, interval: 1s } }
    - { name: s2, address: 192.0.2.22 }
  scripts: { active: [up.sh] }
`;

const problems = (text: string): string[] => {
  try {
    parseLbConfig(text, '/etc/steerdns/lb.yaml');
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => `${p.line}: ${p.reason}`);
    throw error;
  }
  return [];
};

test('a balancer file compiles with every default applied', () => {
  const lb = parseLbConfig(good, '/etc/steerdns/lb.yaml')!;
  assert.deepEqual(lb.floating, { address: '192.0.2.10', prefixLength: 24 });
  assert.deepEqual(lb.vrrp, {
    routerId: 51,
    priority: 150,
    advertMs: 100,
    preempt: true,
    peers: [],
  });
  assert.deepEqual(lb.sync, { address: '192.0.2.11', peer: '192.0.2.12', port: 3780 });
  assert.equal(lb.servers[0]!.weight, 2);
  assert.equal(lb.servers[0]!.check?.target.address, '192.0.2.21');
  assert.equal(lb.servers[1]!.check, undefined);
  assert.deepEqual(lb.balance, { mode: 'adaptive', intervalMs: 1000, floor: 0.25 });
  assert.deepEqual(lb.scripts.active, ['/etc/steerdns/up.sh']);
  assert.equal(lb.runDirectory, '/run/steerdns-lb-b1');
});

test('a bad balancer file is rejected with its lines and reasons', () => {
  assert.deepEqual(problems(good.replace('  ports: [80]\n', '  ports: [80]\n  bogus: 1\n')), [
    '7: lb.bogus: unexpected property',
  ]);
  assert.deepEqual(
    problems(
      good
        .replace('cluster: 203.0.113.10', 'cluster: 2001:db8::1')
        .replace('{ name: s2, address: 192.0.2.22 }', '{ name: s1, address: 192.0.2.22 }')
        .replace(
          'vrrp: { id: 51, priority: 150 }',
          'vrrp: { id: 51, priority: 150, advert: 15ms }',
        ),
    ),
    [
      '5: lb.cluster: expected an IPv4 address, got "2001:db8::1"',
      '7: lb.vrrp.advert: VRRP v3 adverts are 10ms steps up to 40.95s',
      '11: lb.servers.1.name: "s1" appears twice',
    ],
  );
  assert.deepEqual(problems('zones: []\nlb: { node: b1 }\n').length > 0, true);
});
