import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Policy } from '../types.js';
import { context, members, policyDeps, stateView } from '../../../test/helpers/steering.js';
import { capacity } from './capacity.js';
import { leastConnections, leastLoad } from './least.js';

// Seeds 003/004, "the right server, not always the best": capacities 1,000 and 500 with
// 100 connections each leave headroom 900 and 400, so 10,000 answers split 900:400.
const list = members({ name: 'big', capacity: 1000 }, { name: 'small', capacity: 500 });
const connections = stateView({ big: { connections: 100 }, small: { connections: 100 } });
const loads = stateView({ big: { load: 10 }, small: { load: 60 } });

function share(policy: Policy, state: ReturnType<typeof stateView>): number {
  let big = 0;
  for (let i = 0; i < 10_000; i++)
    if (policy.apply(list, context({ state })).candidates[0]?.name === 'big') big++;
  return (100 * big) / 10_000;
}

test('proportional mode splits by headroom, 900:400 within 1 point over 10,000 answers', () => {
  const want = (100 * 900) / 1300;
  const rows: { row: string; policy: Policy; state: ReturnType<typeof stateView> }[] = [
    {
      row: 'capacity',
      policy: capacity.create({ threshold: 100, mode: 'proportional' }, policyDeps(list)),
      state: connections,
    },
    {
      row: 'least-connections',
      policy: leastConnections.create({ mode: 'proportional' }, policyDeps(list)),
      state: connections,
    },
    {
      row: 'least-load (loads 10 and 60: headroom 90 and 40)',
      policy: leastLoad.create({ mode: 'proportional' }, policyDeps(list)),
      state: loads,
    },
  ];
  for (const { row, policy, state } of rows) {
    const got = share(policy, state);
    assert.ok(
      Math.abs(got - want) <= 1,
      `${row}: big ${got.toFixed(2)}%, want ${want.toFixed(2)}%`,
    );
  }
});

test('order mode still answers the emptiest every time', () => {
  const policy = capacity.create({ threshold: 100, mode: 'order' }, policyDeps(list));
  assert.equal(share(policy, connections), 100);
});
