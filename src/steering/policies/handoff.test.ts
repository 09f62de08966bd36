import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  context,
  members,
  names,
  policyDeps,
  type MemberSpec,
} from '../../../test/helpers/steering.js';
import { handoff, handoffTotals } from './handoff.js';

/** Seed 003 response times, matrix[tester][tested] in ms (SYSTEMS.md, transposed). */
const SEED_003 = {
  A: { B: 2925, C: 1364, D: 197, E: 3702, F: 1759 },
  B: { A: 3155, C: 207, D: 2490, E: 1106, F: 1409 },
  C: { A: 1073, B: 1314, D: 1997, E: 1743, F: 683 },
  D: { A: 3439, B: 378, C: 3869, E: 2344, F: 2235 },
  E: { A: 113, B: 813, C: 995, D: 1190, F: 419 },
  F: { A: 641, B: 1827, C: 3883, D: 339, E: 468 },
};

const sites = (...names: string[]): MemberSpec[] => names.map((name) => ({ name, site: name }));

test('handoffTotals counts each rank a site gets from the others, by the rank weights', () => {
  const cases: {
    row: string;
    weights: number[];
    matrix: Record<string, Record<string, number>>;
    want: Record<string, number>;
  }[] = [
    {
      row: 'seed 003, weights 4,2,1',
      weights: [4, 2, 1],
      matrix: SEED_003,
      want: { A: 7, B: 6, C: 6, D: 8, E: 5, F: 10 },
    },
    {
      row: 'seed 003, weights 6,4,2,1',
      weights: [6, 4, 2, 1],
      matrix: SEED_003,
      want: { A: 13, B: 12, C: 11, D: 13, E: 11, F: 18 },
    },
    // first places only: A->D, B->C, C->F, D->B, E->A, F->D
    {
      row: 'seed 003, weights 1',
      weights: [1],
      matrix: SEED_003,
      want: { A: 1, B: 1, C: 1, D: 2, E: 0, F: 1 },
    },
    {
      row: 'weight 0 for every rank',
      weights: [0],
      matrix: SEED_003,
      want: { A: 0, B: 0, C: 0, D: 0, E: 0, F: 0 },
    },
    {
      row: 'a tester nobody tests',
      weights: [3, 1],
      matrix: { A: { B: 10, C: 20 } },
      want: { A: 0, B: 3, C: 1 },
    },
    {
      row: 'a tester timing itself is ignored',
      weights: [3],
      matrix: { A: { A: 0, B: 10 } },
      want: { A: 0, B: 3 },
    },
    {
      row: 'more ranks than weights',
      weights: [2],
      matrix: { A: { B: 1, C: 2, D: 3 } },
      want: { A: 0, B: 2, C: 0, D: 0 },
    },
    { row: 'empty matrix', weights: [4, 2, 1], matrix: {}, want: {} },
  ];
  for (const { row, weights, matrix, want } of cases)
    assert.deepEqual(Object.fromEntries([...handoffTotals({ weights, matrix })].sort()), want, row);
});

test('handoff splits answers exactly by the totals', () => {
  const cases: { row: string; list: string[]; picks: number; want: Record<string, number> }[] = [
    {
      row: 'seed 003: 42 answers',
      list: ['A', 'B', 'C', 'D', 'E', 'F'],
      picks: 42,
      want: { A: 7, B: 6, C: 6, D: 8, E: 5, F: 10 },
    },
    {
      row: 'seed 003: 4200 answers',
      list: ['A', 'B', 'C', 'D', 'E', 'F'],
      picks: 4200,
      want: { A: 700, B: 600, C: 600, D: 800, E: 500, F: 1000 },
    },
    // F down (dropped by up): the others share by their own totals, 7:6:6:8:5
    {
      row: 'F not eligible',
      list: ['A', 'B', 'C', 'D', 'E'],
      picks: 320,
      want: { A: 70, B: 60, C: 60, D: 80, E: 50 },
    },
    // G is in no row of the matrix: total 0, never chosen
    { row: 'site with total 0', list: ['A', 'G', 'F'], picks: 170, want: { A: 70, F: 100 } },
  ];
  for (const { row, list, picks, want } of cases) {
    const candidates = members(...sites(...list));
    const policy = handoff.create({ weights: [4, 2, 1], matrix: SEED_003 }, policyDeps(candidates));
    const seen: Record<string, number> = {};
    for (let i = 0; i < picks; i++) {
      const name = policy.apply(candidates, context()).candidates[0]!.name;
      seen[name] = (seen[name] ?? 0) + 1;
    }
    assert.deepEqual(seen, want, row);
  }
});

test('handoff answers nothing when every eligible site has total 0', () => {
  const cases = [
    { row: 'weights all 0', weights: [0], list: sites('A', 'B') },
    { row: 'sites not in the matrix', weights: [4, 2, 1], list: sites('X', 'Y') },
    { row: 'no candidates', weights: [4, 2, 1], list: [] },
  ];
  for (const { row, weights, list } of cases) {
    const candidates = members(...list);
    const policy = handoff.create({ weights, matrix: SEED_003 }, policyDeps(candidates));
    assert.deepEqual(policy.apply(candidates, context()).candidates, [], row);
  }
});

test('handoff finds a member by its site, else by its name; the chosen one first', () => {
  const candidates = members(
    { name: 'web-f', site: 'F' },
    { name: 'E' },
    { name: 'web-x', site: 'X' },
  );
  const policy = handoff.create({ weights: [4, 2, 1], matrix: SEED_003 }, policyDeps(candidates));
  // totals: F 10, E (by name) 5, X 0 -> over 15 picks F 10, E 5
  const got = Array.from({ length: 15 }, () =>
    names(policy.apply(candidates, context()).candidates),
  );
  const firsts = got.map((list) => list[0]);
  assert.equal(firsts.filter((n) => n === 'web-f').length, 10, 'site F by site');
  assert.equal(firsts.filter((n) => n === 'E').length, 5, 'site E by name');
  assert.deepEqual(
    got[0],
    ['web-f', 'E'],
    'preference list: chosen, then input order, total 0 left out',
  );
  const notes = policy.apply(candidates, context({ explain: true })).notes;
  assert.deepEqual(
    notes,
    ['p/web-f site F total 10', 'p/E site E total 5', 'p/web-x site X total 0'],
    'explain',
  );
});
