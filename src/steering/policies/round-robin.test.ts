import assert from 'node:assert/strict';
import { test } from 'node:test';
import { context, members, names, policyDeps } from '../../../test/helpers/steering.js';
import { roundRobin } from './round-robin.js';

test('round-robin rotates the candidates by one position per query', () => {
  const cases: { row: string; input: string[]; want: string[][] }[] = [
    {
      row: 'three',
      input: ['a', 'b', 'c'],
      want: [
        ['a', 'b', 'c'],
        ['b', 'c', 'a'],
        ['c', 'a', 'b'],
        ['a', 'b', 'c'],
      ],
    },
    {
      row: 'two',
      input: ['a', 'b'],
      want: [
        ['a', 'b'],
        ['b', 'a'],
        ['a', 'b'],
      ],
    },
    { row: 'one', input: ['a'], want: [['a'], ['a'], ['a']] },
    { row: 'none', input: [], want: [[], [], []] },
  ];
  for (const { row, input, want } of cases) {
    const list = members(...input);
    const policy = roundRobin.create({}, policyDeps(list));
    const got = want.map(() => names(policy.apply(list, context()).candidates));
    assert.deepEqual(got, want, row);
  }
});

test('round-robin gives each member the first place equally often', () => {
  const list = members('a', 'b', 'c', 'd');
  const policy = roundRobin.create({}, policyDeps(list));
  const firsts = new Map<string, number>();
  for (let i = 0; i < 1000; i++) {
    const name = policy.apply(list, context()).candidates[0]!.name;
    firsts.set(name, (firsts.get(name) ?? 0) + 1);
  }
  assert.deepEqual(Object.fromEntries(firsts), { a: 250, b: 250, c: 250, d: 250 }, '1000 queries');
});

test('round-robin keeps rotating when the candidates change', () => {
  const policy = roundRobin.create({}, policyDeps());
  const all = members('a', 'b', 'c');
  const got = [all, all.slice(0, 2), all, all.slice(1)].map((list) =>
    names(policy.apply(list, context()).candidates).join(''),
  );
  // query k starts at position k mod (length of that query's list)
  assert.deepEqual(got, ['abc', 'ba', 'cab', 'cb'], 'counter shared across lists');
});

test('round-robin instances do not share a counter', () => {
  const list = members('a', 'b');
  const one = roundRobin.create({}, policyDeps(list));
  one.apply(list, context());
  const two = roundRobin.create({}, policyDeps(list));
  assert.equal(
    two.apply(list, context()).candidates[0]!.name,
    'a',
    'a fresh instance starts at the first',
  );
});
