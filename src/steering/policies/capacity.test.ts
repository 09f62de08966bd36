import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MemberState } from '../types.js';
import {
  context,
  members,
  names,
  policyDeps,
  stateView,
  type MemberSpec,
} from '../../../test/helpers/steering.js';
import { capacity } from './capacity.js';

test('capacity drops members at or above the threshold and orders the rest by headroom', () => {
  const cases: {
    row: string;
    threshold?: number;
    specs: MemberSpec[];
    states: Record<string, Partial<MemberState>>;
    want: string[];
  }[] = [
    {
      row: 'emptiest first',
      specs: [
        { name: 'a', capacity: 100 },
        { name: 'b', capacity: 50 },
        { name: 'c', capacity: 40 },
      ],
      states: { a: { connections: 50 }, b: { connections: 10 }, c: { connections: 30 } },
      want: ['b', 'a', 'c'],
    },
    {
      row: 'default threshold 100: full dropped',
      specs: [
        { name: 'a', capacity: 100 },
        { name: 'b', capacity: 100 },
      ],
      states: { a: { connections: 100 }, b: { connections: 99 } },
      want: ['b'],
    },
    {
      row: 'over capacity dropped',
      specs: [
        { name: 'a', capacity: 10 },
        { name: 'b', capacity: 10 },
      ],
      states: { a: { connections: 25 }, b: { connections: 0 } },
      want: ['b'],
    },
    {
      row: 'threshold 80: at 80% dropped, 79% kept',
      threshold: 80,
      specs: [
        { name: 'a', capacity: 100 },
        { name: 'b', capacity: 100 },
      ],
      states: { a: { connections: 80 }, b: { connections: 79 } },
      want: ['b'],
    },
    {
      row: 'threshold 1: only empty members stay',
      threshold: 1,
      specs: [
        { name: 'a', capacity: 1000 },
        { name: 'b', capacity: 1000 },
      ],
      states: { a: { connections: 10 }, b: { connections: 0 } },
      want: ['b'],
    },
    {
      row: 'all full',
      specs: [
        { name: 'a', capacity: 5 },
        { name: 'b', capacity: 5 },
      ],
      states: { a: { connections: 5 }, b: { connections: 9 } },
      want: [],
    },
    {
      row: 'unknown last, in order: no capacity, no connections',
      specs: [
        { name: 'u1' },
        { name: 'a', capacity: 10 },
        { name: 'u2', capacity: 10 },
        { name: 'b', capacity: 10 },
      ],
      states: { u1: { connections: 0 }, a: { connections: 5 }, b: { connections: 2 } },
      want: ['b', 'a', 'u1', 'u2'],
    },
    {
      row: 'nothing known: input order',
      specs: [{ name: 'c' }, { name: 'a' }, { name: 'b' }],
      states: {},
      want: ['c', 'a', 'b'],
    },
    {
      row: 'ties keep input order',
      specs: [
        { name: 'a', capacity: 10 },
        { name: 'b', capacity: 20 },
        { name: 'c', capacity: 10 },
      ],
      states: { a: { connections: 5 }, b: { connections: 10 }, c: { connections: 5 } },
      want: ['a', 'b', 'c'],
    },
    {
      row: 'load is not connections',
      specs: [
        { name: 'a', capacity: 10 },
        { name: 'b', capacity: 10 },
      ],
      states: { a: { load: 100, connections: 1 }, b: { load: 0, connections: 2 } },
      want: ['a', 'b'],
    },
  ];
  for (const { row, threshold = 100, specs, states, want } of cases) {
    const list = members(...specs);
    const policy = capacity.create({ threshold, mode: 'order' }, policyDeps(list));
    const got = names(policy.apply(list, context({ state: stateView(states) })).candidates);
    assert.deepEqual(got, want, row);
  }
});

test('capacity explains a drop with the fill and the threshold', () => {
  const list = members({ name: 'a', capacity: 100 }, { name: 'b', capacity: 100 });
  const state = stateView({ a: { connections: 95 }, b: { connections: 10 } });
  const policy = capacity.create({ threshold: 90, mode: 'order' }, policyDeps(list));
  const cases = [
    { explain: true, want: ['p/a is 95% full (threshold 90%)'] },
    { explain: false, want: [] },
  ];
  for (const { explain, want } of cases)
    assert.deepEqual(
      policy.apply(list, context({ state, explain })).notes ?? [],
      want,
      `explain ${String(explain)}`,
    );
});
