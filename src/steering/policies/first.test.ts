import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MemberState } from '../types.js';
import { context, members, names, policyDeps, stateView } from '../../../test/helpers/steering.js';
import { first } from './first.js';

test('first keeps the candidates in configuration order, whatever their state', () => {
  const cases: {
    row: string;
    input: string[];
    states: Record<string, Partial<MemberState>>;
    want: string[];
  }[] = [
    { row: 'in order', input: ['a', 'b', 'c'], states: {}, want: ['a', 'b', 'c'] },
    {
      row: 'input order, not name order',
      input: ['c', 'a', 'b'],
      states: {},
      want: ['c', 'a', 'b'],
    },
    {
      row: 'load ignored',
      input: ['a', 'b'],
      states: { a: { load: 99 }, b: { load: 1 } },
      want: ['a', 'b'],
    },
    // first does not check health: put up before it
    { row: 'down kept', input: ['a', 'b'], states: { a: { up: false } }, want: ['a', 'b'] },
    { row: 'one', input: ['a'], states: {}, want: ['a'] },
    { row: 'none', input: [], states: {}, want: [] },
  ];
  for (const { row, input, states, want } of cases) {
    const list = members(...input);
    const policy = first.create({}, policyDeps(list));
    const got = Array.from({ length: 3 }, () =>
      names(policy.apply(list, context({ state: stateView(states) })).candidates),
    );
    assert.deepEqual(got, [want, want, want], row);
  }
});
