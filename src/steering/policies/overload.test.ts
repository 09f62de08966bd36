import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MemberState } from '../types.js';
import { context, members, names, policyDeps, stateView } from '../../../test/helpers/steering.js';
import { overload } from './overload.js';
import { weighted } from './weighted.js';

const cluster = members('n1', 'n2', 'n3', 'n4');
const loads = (...values: (number | undefined)[]): Record<string, Partial<MemberState>> =>
  Object.fromEntries(values.map((load, i) => [`n${String(i + 1)}`, { load }]));

test('overload drops a member more than margin% above the average of the others', () => {
  const cases: {
    row: string;
    margin?: number;
    metric?: 'load' | 'connections';
    states: Record<string, Partial<MemberState>>;
    want: string[];
  }[] = [
    // seed 000: the others' average is 25, 80 > 25 * 1.5
    { row: 'seed 000: 20/25/30/80', states: loads(20, 25, 30, 80), want: ['n1', 'n2', 'n3'] },
    {
      row: 'seed 000: back within at 35',
      states: loads(20, 25, 30, 35),
      want: ['n1', 'n2', 'n3', 'n4'],
    },
    {
      row: 'exactly at the limit 37.5 is within',
      states: loads(20, 25, 30, 37.5),
      want: ['n1', 'n2', 'n3', 'n4'],
    },
    { row: 'just above the limit', states: loads(20, 25, 30, 37.6), want: ['n1', 'n2', 'n3'] },
    { row: 'all equal', states: loads(40, 40, 40, 40), want: ['n1', 'n2', 'n3', 'n4'] },
    { row: 'all idle', states: loads(0, 0, 0, 0), want: ['n1', 'n2', 'n3', 'n4'] },
    // relative only: when the others are idle any load is "more than 50% above" (no floor)
    { row: 'others idle, 1%', states: loads(0, 0, 0, 1), want: ['n1', 'n2', 'n3'] },
    {
      row: 'margin 0: equal kept',
      margin: 0,
      states: loads(10, 10, 10, 10),
      want: ['n1', 'n2', 'n3', 'n4'],
    },
    {
      row: 'margin 0: any excess dropped',
      margin: 0,
      states: loads(10, 10, 10, 11),
      want: ['n1', 'n2', 'n3'],
    },
    {
      row: 'margin 300: 80 within 4x 25',
      margin: 300,
      states: loads(20, 25, 30, 80),
      want: ['n1', 'n2', 'n3', 'n4'],
    },
    // fewer than 2 figures: nothing to compare with
    { row: 'nothing known', states: {}, want: ['n1', 'n2', 'n3', 'n4'] },
    { row: 'one known', states: loads(undefined, 99), want: ['n1', 'n2', 'n3', 'n4'] },
    // a member without a figure is kept, and left out of the others' average
    {
      row: 'unknown kept, not averaged',
      states: loads(20, undefined, 20, 80),
      want: ['n1', 'n2', 'n3'],
    },
    {
      row: 'two known, one far above',
      states: loads(10, undefined, undefined, 100),
      want: ['n1', 'n2', 'n3'],
    },
    {
      row: 'metric connections',
      metric: 'connections',
      states: {
        n1: { connections: 100 },
        n2: { connections: 120 },
        n3: { connections: 80 },
        n4: { connections: 400 },
      },
      want: ['n1', 'n2', 'n3'],
    },
    {
      row: 'metric connections ignores load',
      metric: 'connections',
      states: loads(20, 25, 30, 80),
      want: ['n1', 'n2', 'n3', 'n4'],
    },
    {
      row: 'metric load ignores connections',
      states: { n4: { connections: 1e6 }, n1: { connections: 1 } },
      want: ['n1', 'n2', 'n3', 'n4'],
    },
  ];
  for (const { row, margin = 50, metric = 'load', states, want } of cases) {
    const policy = overload.create({ margin, metric }, policyDeps(cluster));
    const got = names(policy.apply(cluster, context({ state: stateView(states) })).candidates);
    assert.deepEqual(got, want, row);
  }
});

test('overload readmits a member as soon as its load is back within the margin', () => {
  const policy = overload.create({ margin: 50, metric: 'load' }, policyDeps(cluster));
  const steps = [
    { load: 80, want: ['n1', 'n2', 'n3'] },
    { load: 38, want: ['n1', 'n2', 'n3'] },
    { load: 35, want: ['n1', 'n2', 'n3', 'n4'] },
    { load: 60, want: ['n1', 'n2', 'n3'] },
  ];
  for (const { load, want } of steps) {
    const state = stateView(loads(20, 25, 30, load));
    assert.deepEqual(
      names(policy.apply(cluster, context({ state })).candidates),
      want,
      `n4 at ${String(load)}%`,
    );
  }
});

test('seed 000: with overload then weighted, the other three share the answers in turn', () => {
  const state = stateView(loads(20, 25, 30, 80));
  const filter = overload.create({ margin: 50, metric: 'load' }, policyDeps(cluster));
  const select = weighted.create({}, policyDeps(cluster));
  const firsts: string[] = [];
  for (let i = 0; i < 6; i++) {
    const ctx = context({ state });
    firsts.push(select.apply(filter.apply(cluster, ctx).candidates, ctx).candidates[0]!.name);
  }
  assert.deepEqual(firsts, ['n1', 'n2', 'n3', 'n1', 'n2', 'n3'], 'answers in turn');
});

test('overload explains a drop with the figures', () => {
  const policy = overload.create({ margin: 50, metric: 'load' }, policyDeps(cluster));
  const state = stateView(loads(20, 25, 30, 80));
  const cases = [
    { explain: true, want: ["p/n4 load 80 > 37.5 (others' average 25.0 + 50%)"] },
    { explain: false, want: [] },
  ];
  for (const { explain, want } of cases)
    assert.deepEqual(
      policy.apply(cluster, context({ state, explain })).notes ?? [],
      want,
      `explain ${String(explain)}`,
    );
});
