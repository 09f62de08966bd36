import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCheck } from './check.js';
import { formatLbStatus } from './lb.js';

test('steerdns check takes a balancer file (examples/local-lb)', async () => {
  const outcome = await runCheck(['examples/local-lb/b1.yaml', 'examples/local-lb/b2.yaml']);
  assert.deepEqual(outcome.errors, []);
  assert.deepEqual(outcome.out, [
    'examples/local-lb/b1.yaml: balancer b1, 3 servers: ok',
    'examples/local-lb/b2.yaml: balancer b2, 3 servers: ok',
  ]);
});

test('the balancer status as a table', () => {
  const lines = formatLbStatus({
    node: 'b1',
    role: 'active',
    vrrp: 'MASTER',
    floating: '192.0.2.10/24',
    clusterAddress: '203.0.113.10',
    faults: [],
    servers: [
      {
        name: 's1',
        address: '192.0.2.21',
        weight: 1,
        drain: false,
        health: 'down',
        reason: 'refused',
        responseMs: 8.1,
        open: 0,
        share: 0,
      },
      {
        name: 's2',
        address: '192.0.2.22',
        weight: 2,
        drain: true,
        health: 'up',
        reason: undefined,
        responseMs: undefined,
        open: 12,
        share: 0,
      },
    ],
    updatedAt: '2026-12-02T15:00:00.000Z',
  });
  assert.deepEqual(lines, [
    'balancer b1: active (keepalived MASTER), floating 192.0.2.10/24, cluster 203.0.113.10',
    'server          address          weight  state     open  share  response',
    's1              192.0.2.21            1  down         0    0.0%  8.1 ms (refused)',
    's2              192.0.2.22            2  draining    12    0.0%  -',
    'updated 2026-12-02T15:00:00.000Z',
  ]);
});
