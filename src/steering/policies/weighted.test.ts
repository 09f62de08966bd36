import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  context,
  members,
  names,
  policyDeps,
  type MemberSpec,
} from '../../../test/helpers/steering.js';
import { weighted } from './weighted.js';

const w = (...weights: number[]): MemberSpec[] =>
  weights.map((weight, i) => ({ name: String.fromCharCode(97 + i), weight }));

/** The first member of each of `n` answers from a fresh instance. */
function firsts(specs: MemberSpec[], n: number): string[] {
  const list = members(...specs);
  const policy = weighted.create({}, policyDeps(list));
  return Array.from({ length: n }, () => policy.apply(list, context()).candidates[0]?.name ?? '-');
}

const count = (picks: string[]): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const p of picks) out[p] = (out[p] ?? 0) + 1;
  return out;
};

test('weighted splits answers exactly by weight', () => {
  const cases: { row: string; weights: number[]; picks: number; want: Record<string, number> }[] = [
    {
      row: '1:2:3:4 over 1000',
      weights: [1, 2, 3, 4],
      picks: 1000,
      want: { a: 100, b: 200, c: 300, d: 400 },
    },
    { row: 'equal', weights: [1, 1, 1], picks: 300, want: { a: 100, b: 100, c: 100 } },
    { row: 'weight 0 never', weights: [0, 1, 3], picks: 400, want: { b: 100, c: 300 } },
    { row: 'only one weighted', weights: [0, 5, 0], picks: 10, want: { b: 10 } },
    { row: 'fractional 0.5:1.5', weights: [0.5, 1.5], picks: 400, want: { a: 100, b: 300 } },
    { row: 'all weight 0: nothing', weights: [0, 0], picks: 5, want: { '-': 5 } },
  ];
  for (const { row, weights, picks, want } of cases)
    assert.deepEqual(count(firsts(w(...weights), picks)), want, row);
});

test('weighted interleaves smoothly (every window of one total weight is exact)', () => {
  const picks = firsts(w(1, 2, 3, 4), 1000);
  for (let start = 0; start < picks.length; start += 10) {
    assert.deepEqual(
      count(picks.slice(start, start + 10)),
      { a: 1, b: 2, c: 3, d: 4 },
      `picks ${String(start)}-${String(start + 9)}`,
    );
  }
  const cases = [
    { row: 'nginx 5:1:1', weights: [5, 1, 1], want: 'aabacaa' },
    { row: '1:1 alternates', weights: [1, 1], want: 'abababab' },
    { row: '3:1', weights: [3, 1], want: 'aabaaaba' },
  ];
  for (const { row, weights, want } of cases)
    assert.equal(firsts(w(...weights), want.length).join(''), want, row);
});

test('weighted puts the chosen member first and the rest in their order', () => {
  const list = members(...w(1, 1, 1));
  const policy = weighted.create({}, policyDeps(list));
  const got = [0, 1, 2].map(() => names(policy.apply(list, context()).candidates).join(''));
  assert.deepEqual(got, ['abc', 'bac', 'cab'], 'preference lists');
});

test('weighted keeps the split when a member leaves and comes back', () => {
  const list = members(...w(1, 1, 2));
  const policy = weighted.create({}, policyDeps(list));
  const picks: string[] = [];
  const pick = (l: typeof list): void => {
    picks.push(policy.apply(l, context()).candidates[0]!.name);
  };
  for (let i = 0; i < 3; i++) pick(list);
  for (let i = 0; i < 40; i++) pick(list.slice(1)); // a is down
  const back = picks.length;
  for (let i = 0; i < 400; i++) pick(list);
  assert.deepEqual(count(picks.slice(back)), { a: 100, b: 100, c: 200 }, 'after a returns');
});
