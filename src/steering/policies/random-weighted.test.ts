import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  context,
  members,
  names,
  policyDeps,
  seededRandom,
  type MemberSpec,
} from '../../../test/helpers/steering.js';
import { randomWeighted } from './random-weighted.js';

const w = (...weights: number[]): MemberSpec[] =>
  weights.map((weight, i) => ({ name: String.fromCharCode(97 + i), weight }));

test('random-weighted picks by where the random number falls in the weights', () => {
  const cases: { row: string; weights: number[]; random: number; want: string[] }[] = [
    { row: 'random 0: first', weights: [1, 2, 3], random: 0, want: ['a', 'b', 'c'] },
    { row: 'inside the first share', weights: [1, 2, 3], random: 0.16, want: ['a', 'b', 'c'] },
    { row: 'on the boundary: the next', weights: [1, 1], random: 0.5, want: ['b', 'a'] },
    { row: 'last share', weights: [1, 2, 3], random: 0.9, want: ['c', 'a', 'b'] },
    {
      row: 'weight 0 first is skipped at random 0',
      weights: [0, 1, 1],
      random: 0,
      want: ['b', 'c'],
    },
    {
      row: 'weight 0 in the middle is skipped',
      weights: [1, 0, 1],
      random: 0.5,
      want: ['c', 'a'],
    },
    { row: 'all weight 0: nothing', weights: [0, 0], random: 0.3, want: [] },
    { row: 'none', weights: [], random: 0.3, want: [] },
  ];
  for (const { row, weights, random, want } of cases) {
    const list = members(...w(...weights));
    const policy = randomWeighted.create({}, policyDeps(list));
    assert.deepEqual(
      names(policy.apply(list, context({ random: () => random })).candidates),
      want,
      row,
    );
  }
});

test('random-weighted shares follow the weights (100,000 seeded picks, within half a point)', () => {
  const cases: { row: string; weights: number[]; seed: number; want: Record<string, number> }[] = [
    { row: '1:2:3:4', weights: [1, 2, 3, 4], seed: 7, want: { a: 10, b: 20, c: 30, d: 40 } },
    { row: 'equal', weights: [1, 1], seed: 8, want: { a: 50, b: 50 } },
    { row: 'weight 0 never', weights: [3, 0, 1], seed: 9, want: { a: 75, c: 25 } },
  ];
  for (const { row, weights, seed, want } of cases) {
    const list = members(...w(...weights));
    const policy = randomWeighted.create({}, policyDeps(list));
    const random = seededRandom(seed);
    const seen: Record<string, number> = {};
    for (let i = 0; i < 100_000; i++) {
      const name = policy.apply(list, context({ random })).candidates[0]!.name;
      seen[name] = (seen[name] ?? 0) + 1;
    }
    assert.deepEqual(Object.keys(seen).sort(), Object.keys(want).sort(), `${row}: members picked`);
    for (const [name, percent] of Object.entries(want)) {
      const got = (seen[name] ?? 0) / 1000;
      assert.ok(
        Math.abs(got - percent) <= 0.5,
        `${row}: ${name} got ${got.toFixed(2)}%, want ${String(percent)}%`,
      );
    }
  }
});

test('random-weighted never picks a weight-0 member, even at the top of the random range', () => {
  // Fractional weights leave a rounding residue when subtracted one by one from
  // random * total; the residue must not fall through to a last member of weight 0.
  const top = 1 - 2 ** -53;
  const cases = [
    { row: '0.13/0.301/0.813 then 0', weights: [0.13, 0.301, 0.813, 0] },
    { row: '0.145/0.135/0.127 then 0', weights: [0.145, 0.135, 0.127, 0] },
    { row: 'integers then 0', weights: [1, 2, 3, 0] },
  ];
  for (const { row, weights } of cases) {
    const list = members(...w(...weights));
    const policy = randomWeighted.create({}, policyDeps(list));
    const first = policy.apply(list, context({ random: () => top })).candidates[0]?.name;
    assert.notEqual(first, 'd', `${row}: random ${String(top)} chose the weight-0 member`);
  }
});
