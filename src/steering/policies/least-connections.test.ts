import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MemberState } from '../types.js';
import { context, members, names, policyDeps, stateView } from '../../../test/helpers/steering.js';
import { leastConnections } from './least.js';

const list = members('a', 'b', 'c', 'd');
const policy = leastConnections.create({ mode: 'order' }, policyDeps(list));
const m = (...values: (number | undefined)[]): Record<string, Partial<MemberState>> =>
  Object.fromEntries(
    values.map((value, i) => [String.fromCharCode(97 + i), { connections: value }]),
  );

test('least-connections orders by connections, lowest first; ties and unknowns keep their order', () => {
  const cases: { row: string; states: Record<string, Partial<MemberState>>; want: string[] }[] = [
    { row: 'lowest first', states: m(300, 900, 100, 500), want: ['c', 'a', 'd', 'b'] },
    { row: 'already ordered', states: m(0, 1, 2, 3), want: ['a', 'b', 'c', 'd'] },
    { row: 'ties keep input order', states: m(40, 20, 40, 20), want: ['b', 'd', 'a', 'c'] },
    { row: 'all equal', states: m(7, 7, 7, 7), want: ['a', 'b', 'c', 'd'] },
    { row: 'zero first', states: m(5, 5, 5, 0), want: ['d', 'a', 'b', 'c'] },
    {
      row: 'unknown last, in order',
      states: m(undefined, 10, undefined, 80),
      want: ['b', 'd', 'a', 'c'],
    },
    { row: 'nothing known: input order', states: {}, want: ['a', 'b', 'c', 'd'] },
    {
      row: 'load is ignored',
      states: { a: { load: 90 }, b: { load: 1 } },
      want: ['a', 'b', 'c', 'd'],
    },
  ];
  for (const { row, states, want } of cases)
    assert.deepEqual(
      names(policy.apply(list, context({ state: stateView(states) })).candidates),
      want,
      row,
    );
});

test('least-connections keeps every member and handles an empty list', () => {
  assert.deepEqual(policy.apply([], context()).candidates, [], 'empty');
  const state = stateView(m(300, 900, 100, 500));
  assert.equal(policy.apply(list, context({ state })).candidates.length, 4, 'nothing dropped');
});

test('least-connections lists each figure when explaining', () => {
  const state = stateView(m(20, undefined, 5, 5));
  const cases = [
    {
      explain: true,
      want: [
        'p/c connections 5',
        'p/d connections 5',
        'p/a connections 20',
        'p/b connections unknown',
      ],
    },
    { explain: false, want: [] },
  ];
  for (const { explain, want } of cases)
    assert.deepEqual(
      policy.apply(list, context({ state, explain })).notes ?? [],
      want,
      `explain ${String(explain)}`,
    );
});
