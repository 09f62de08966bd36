import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MemberState } from '../types.js';
import { context, members, names, policyDeps, stateView } from '../../../test/helpers/steering.js';
import { responseTime } from './response-time.js';

const list = members('a', 'b', 'c', 'd');
const times = (...values: (number | undefined)[]): Record<string, Partial<MemberState>> =>
  Object.fromEntries(values.map((ms, i) => [String.fromCharCode(97 + i), { responseMs: ms }]));

test('response-time orders by measured time, fastest first; unmeasured last, in order', () => {
  const policy = responseTime.create({ mode: 'order' }, policyDeps(list));
  const cases: { row: string; states: Record<string, Partial<MemberState>>; want: string[] }[] = [
    { row: 'fastest first', states: times(900, 100, 450, 120), want: ['b', 'd', 'c', 'a'] },
    { row: 'ties keep input order', states: times(50, 10, 50, 10), want: ['b', 'd', 'a', 'c'] },
    { row: 'zero is fastest', states: times(5, 0, 5, 5), want: ['b', 'a', 'c', 'd'] },
    {
      row: 'unmeasured after measured, in order',
      states: times(undefined, 300, undefined, 200),
      want: ['d', 'b', 'a', 'c'],
    },
    { row: 'nothing measured: input order', states: {}, want: ['a', 'b', 'c', 'd'] },
    {
      row: 'load and connections are ignored',
      states: { a: { load: 99, responseMs: 1 }, b: { connections: 0, responseMs: 2 } },
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

test('response-time follows the state of each query: swapped times reorder at once', () => {
  const two = members('fast', 'slow');
  const policy = responseTime.create({ mode: 'order' }, policyDeps(two));
  const first = stateView({ fast: { responseMs: 100 }, slow: { responseMs: 900 } });
  const swapped = stateView({ fast: { responseMs: 900 }, slow: { responseMs: 100 } });
  assert.deepEqual(names(policy.apply(two, context({ state: first })).candidates), [
    'fast',
    'slow',
  ]);
  assert.deepEqual(names(policy.apply(two, context({ state: swapped })).candidates), [
    'slow',
    'fast',
  ]);
});

/** How often each member is answered first over `n` queries. */
function firstCounts(
  mode: 'order' | 'split',
  states: Record<string, Partial<MemberState>>,
  n: number,
): Record<string, number> {
  const policy = responseTime.create({ mode }, policyDeps(list));
  const ctx = context({ state: stateView(states) });
  const counts: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const top = policy.apply(list, ctx).candidates[0]!.name;
    counts[top] = (counts[top] ?? 0) + 1;
  }
  return counts;
}

test('response-time split shares answers by the inverse of the time, exactly', () => {
  const cases: {
    row: string;
    states: Record<string, Partial<MemberState>>;
    want: Record<string, number>;
  }[] = [
    // 1/100 : 1/900 = 9 : 1.
    { row: '100 and 900 ms: 9 to 1', states: times(100, 900), want: { a: 9000, b: 1000 } },
    // 1/100 : 1/200 : 1/400 = 4 : 2 : 1.
    {
      row: '100, 200, 400 ms: 4, 2, 1',
      states: times(100, 200, 400),
      want: { a: 5714, b: 2857, c: 1429 },
    },
    // Below 1 ms counts as 1 ms: 0 and 1 share equally, 0 does not take everything.
    { row: '0 counts as 1 ms', states: times(0, 1), want: { a: 5000, b: 5000 } },
    {
      row: 'unmeasured get no share while any is measured',
      states: times(undefined, 50, undefined, 50),
      want: { b: 5000, d: 5000 },
    },
    { row: 'nothing measured: the first, always', states: {}, want: { a: 10000 } },
  ];
  for (const { row, states, want } of cases) {
    const got = firstCounts('split', states, 10_000);
    for (const [name, count] of Object.entries(want))
      assert.ok(Math.abs((got[name] ?? 0) - count) <= 1, `${row}: ${JSON.stringify(got)}`);
    assert.deepEqual(Object.keys(got).sort(), Object.keys(want).sort(), `${row}: who answers`);
  }
});

test('response-time split: the rest of the list is fastest first, unmeasured last', () => {
  const policy = responseTime.create({ mode: 'split' }, policyDeps(list));
  const state = stateView(times(400, undefined, 100, 200));
  const seen = new Set<string>();
  for (let i = 0; i < 7; i++) {
    const order = names(policy.apply(list, context({ state })).candidates);
    const rest = order.filter((n) => n !== order[0]);
    const want = ['c', 'd', 'a', 'b'].filter((n) => n !== order[0]);
    assert.deepEqual(rest, want, `query ${String(i)}: ${order.join(',')}`);
    seen.add(order[0]!);
  }
  assert.deepEqual([...seen].sort(), ['a', 'c', 'd'], 'every measured member is answered');
});

test('response-time explains the times and shares it used', () => {
  const state = stateView(times(100, 900, undefined));
  const three = list.slice(0, 3);
  const order = responseTime.create({ mode: 'order' }, policyDeps(list));
  assert.deepEqual(order.apply(three, context({ state, explain: true })).notes, [
    'p/a 100.0 ms',
    'p/b 900.0 ms',
    'p/c not measured',
  ]);
  const split = responseTime.create({ mode: 'split' }, policyDeps(list));
  assert.deepEqual(split.apply(three, context({ state, explain: true })).notes, [
    'p/a 100.0 ms share 90.0%',
    'p/b 900.0 ms share 10.0%',
    'p/c not measured share 0.0%',
  ]);
  assert.deepEqual(split.apply(three, context({ state })).notes, [], 'no notes unless asked');
});

test('response-time keeps every member and handles an empty list', () => {
  for (const mode of ['order', 'split'] as const) {
    const policy = responseTime.create({ mode }, policyDeps(list));
    assert.deepEqual(policy.apply([], context()).candidates, [], `${mode}: empty`);
    const state = stateView(times(3, 2, 1));
    assert.equal(policy.apply(list, context({ state })).candidates.length, 4, `${mode}: all kept`);
  }
});
