import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Member } from '../types.js';
import { decide } from '../chain.js';
import {
  context,
  members,
  names,
  policyDeps,
  service,
  stateView,
} from '../../../test/helpers/steering.js';
import { cost } from './cost.js';
import { responseTime } from './response-time.js';
import { up } from './up.js';

const priced = (...costs: (number | undefined)[]): Member[] =>
  members(...costs.map((c, i) => ({ name: String.fromCharCode(97 + i), cost: c })));

test('cost orders cheapest first, or keeps the cheapest within a margin', () => {
  const cases: {
    row: string;
    costs: (number | undefined)[];
    settings: { keep: 'all' | 'cheapest'; margin: number };
    want: string[];
  }[] = [
    {
      row: 'cheapest first',
      costs: [3, 1, 2],
      settings: { keep: 'all', margin: 0 },
      want: ['b', 'c', 'a'],
    },
    {
      row: 'ties keep order',
      costs: [2, 1, 1],
      settings: { keep: 'all', margin: 0 },
      want: ['b', 'c', 'a'],
    },
    {
      row: 'no cost: after every priced member',
      costs: [undefined, 5, 0],
      settings: { keep: 'all', margin: 0 },
      want: ['c', 'b', 'a'],
    },
    {
      row: 'cheapest only',
      costs: [3, 1, 1, 2],
      settings: { keep: 'cheapest', margin: 0 },
      want: ['b', 'c'],
    },
    {
      row: 'within a margin',
      costs: [3, 1, 2, 2.5],
      settings: { keep: 'cheapest', margin: 1 },
      want: ['b', 'c'],
    },
    {
      row: 'unpriced dropped when some are priced',
      costs: [undefined, 4],
      settings: { keep: 'cheapest', margin: 0 },
      want: ['b'],
    },
    {
      row: 'nothing priced: all kept, in order',
      costs: [undefined, undefined],
      settings: { keep: 'cheapest', margin: 0 },
      want: ['a', 'b'],
    },
  ];
  for (const { row, costs, settings, want } of cases) {
    const list = priced(...costs);
    const policy = cost.create(settings, policyDeps(list));
    assert.deepEqual(names(policy.apply(list, context()).candidates), want, row);
  }
});

test('a combination: the fastest of the cheapest, as a chain [up, cost cheapest, response-time]', () => {
  const list = priced(1, 1, 5);
  const deps = policyDeps(list);
  const steered = service({
    pools: [['p', list]],
    chain: [
      up.create({}, deps),
      cost.create({ keep: 'cheapest', margin: 0 }, deps),
      responseTime.create({ mode: 'order' }, deps),
    ],
    allDown: { action: 'servfail' },
  });
  const answer = (states: Parameters<typeof stateView>[0]): string[] =>
    names(decide(steered, context({ state: stateView(states) }), 4).members);
  const at = (a: number | undefined, b: number | undefined, c: number | undefined) => ({
    a: { up: a !== undefined, responseMs: a },
    b: { up: b !== undefined, responseMs: b },
    c: { up: c !== undefined, responseMs: c },
  });
  // c is fastest but dear: the cheaper a and b compete on time.
  assert.deepEqual(answer(at(80, 40, 5)), ['b']);
  assert.deepEqual(answer(at(30, 40, 5)), ['a']);
  // Both cheap sites down: the dear one answers.
  assert.deepEqual(answer(at(undefined, undefined, 5)), ['c']);
});

test('cost explains each candidate with its cost', () => {
  const list = priced(2, undefined);
  const result = cost
    .create({ keep: 'all', margin: 0 }, policyDeps(list))
    .apply(list, context({ explain: true }));
  assert.deepEqual(result.notes, ['p/a cost 2', 'p/b no cost']);
});
