import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MemberState } from '../types.js';
import { context, ids, members, policyDeps, stateView } from '../../../test/helpers/steering.js';
import { up } from './up.js';

const policy = up.create({}, policyDeps());

test('up keeps members that are up or not checked yet, and caps the TTL', () => {
  const cases: {
    row: string;
    states: Record<string, Partial<MemberState>>;
    want: string[];
    maxTtl: number | undefined;
  }[] = [
    { row: 'nothing known', states: {}, want: ['a', 'b', 'c'], maxTtl: undefined },
    {
      row: 'all up',
      states: { a: { up: true }, b: { up: true }, c: { up: true } },
      want: ['a', 'b', 'c'],
      maxTtl: undefined,
    },
    { row: 'down dropped', states: { b: { up: false } }, want: ['a', 'c'], maxTtl: undefined },
    {
      row: 'unknown kept beside down',
      states: { a: { up: false }, c: { up: true } },
      want: ['b', 'c'],
      maxTtl: undefined,
    },
    {
      row: 'all down',
      states: { a: { up: false }, b: { up: false }, c: { up: false } },
      want: [],
      maxTtl: undefined,
    },
    { row: 'one hint', states: { b: { ttlHint: 7 } }, want: ['a', 'b', 'c'], maxTtl: 7 },
    {
      row: 'min of hints',
      states: { a: { up: true, ttlHint: 20 }, b: { ttlHint: 5 }, c: { ttlHint: 9 } },
      want: ['a', 'b', 'c'],
      maxTtl: 5,
    },
    // a down member's hint still counts: it says when the answer may change again
    {
      row: 'hint of a down member',
      states: { a: { ttlHint: 30 }, b: { up: false, ttlHint: 2 } },
      want: ['a', 'c'],
      maxTtl: 2,
    },
    { row: 'hint 0', states: { c: { ttlHint: 0 } }, want: ['a', 'b', 'c'], maxTtl: 0 },
    {
      row: 'load and connections ignored',
      states: { a: { load: 100, connections: 1e6 } },
      want: ['a', 'b', 'c'],
      maxTtl: undefined,
    },
  ];
  for (const { row, states, want, maxTtl } of cases) {
    const result = policy.apply(members('a', 'b', 'c'), context({ state: stateView(states) }));
    assert.deepEqual(
      { kept: result.candidates.map((m) => m.name), maxTtl: result.maxTtl },
      { kept: want, maxTtl },
      row,
    );
  }
});

test('up keeps the input order and handles an empty list', () => {
  const list = members('c', 'a', 'b');
  assert.deepEqual(ids(policy.apply(list, context()).candidates), ['p/c', 'p/a', 'p/b'], 'order');
  const empty = policy.apply([], context());
  assert.deepEqual(
    { kept: empty.candidates, maxTtl: empty.maxTtl },
    { kept: [], maxTtl: undefined },
    'empty',
  );
});

test('up says which members are down when explaining, and nothing otherwise', () => {
  const state = stateView({ a: { up: false }, c: { up: false } });
  const cases = [
    { explain: true, want: ['p/a is down', 'p/c is down'] },
    { explain: false, want: [] },
  ];
  for (const { explain, want } of cases) {
    const notes = policy.apply(members('a', 'b', 'c'), context({ state, explain })).notes ?? [];
    assert.deepEqual(notes, want, `explain ${String(explain)}`);
  }
});
