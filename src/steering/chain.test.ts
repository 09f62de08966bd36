import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AllDownAction } from './service.js';
import type { Member, MemberState, Policy, PolicyResult } from './types.js';
import { decide } from './chain.js';
import { admin } from './policies/admin.js';
import { first } from './policies/first.js';
import { up } from './policies/up.js';
import { context, ids, policyDeps, service, stateView } from '../../test/helpers/steering.js';

const upPolicy = up.create({}, policyDeps());
const adminPolicy = admin.create({}, policyDeps());
const firstPolicy = first.create({}, policyDeps());

/** A policy that keeps every candidate and reports fixed TTL cap and scope. */
const fixed = (name: string, result: Omit<PolicyResult, 'candidates'>): Policy => ({
  name,
  apply: (candidates) => ({ ...result, candidates }),
});

/** A policy that keeps nothing. */
const nothing: Policy = { name: 'nothing', apply: () => ({ candidates: [] }) };

/** A policy that records how often it ran. */
function spy(): Policy & { calls: number } {
  const policy = {
    name: 'spy',
    calls: 0,
    apply(candidates: readonly Member[]): PolicyResult {
      policy.calls++;
      return { candidates };
    },
  };
  return policy;
}

const down = (...ids: string[]): Record<string, Partial<MemberState>> =>
  Object.fromEntries(ids.map((id) => [id, { up: false }]));

test('decide tries pools in order until one has candidates left', () => {
  const cases: {
    row: string;
    states: Record<string, Partial<MemberState>>;
    pool: string | undefined;
    want: string[];
  }[] = [
    { row: 'first pool up', states: {}, pool: 'main', want: ['main/a'] },
    { row: 'first pool partly down', states: down('main/a'), pool: 'main', want: ['main/b'] },
    {
      row: 'first pool down: backup',
      states: down('main/a', 'main/b'),
      pool: 'backup',
      want: ['backup/c'],
    },
    {
      row: 'two pools down: last resort',
      states: down('main/a', 'main/b', 'backup/c'),
      pool: 'last',
      want: ['last/d'],
    },
    // fail-open: every member of the first pool, even down ones
    {
      row: 'all down: fail open',
      states: down('main/a', 'main/b', 'backup/c', 'last/d'),
      pool: undefined,
      want: ['main/a', 'main/b'],
    },
  ];
  const svc = service({
    pools: [
      ['main', ['a', 'b']],
      ['backup', ['c']],
      ['last', ['d']],
    ],
    chain: [upPolicy, firstPolicy],
  });
  for (const { row, states, pool, want } of cases) {
    const decision = decide(svc, context({ state: stateView(states) }), 4);
    assert.deepEqual(
      { pool: decision.pool, members: ids(decision.members), allDown: decision.allDown },
      { pool, members: want, allDown: pool === undefined },
      row,
    );
  }
});

test('decide folds TTL caps (smallest) and ECS scopes (largest)', () => {
  const cases: {
    row: string;
    ttl: number;
    results: Omit<PolicyResult, 'candidates'>[];
    want: { ttl: number; scope: number };
  }[] = [
    { row: 'nothing said', ttl: 30, results: [{}, {}], want: { ttl: 30, scope: 0 } },
    { row: 'one cap', ttl: 30, results: [{ maxTtl: 10 }, {}], want: { ttl: 10, scope: 0 } },
    {
      row: 'smallest cap',
      ttl: 30,
      results: [{ maxTtl: 10 }, { maxTtl: 5 }, { maxTtl: 20 }],
      want: { ttl: 5, scope: 0 },
    },
    {
      row: 'a cap above the service TTL does not raise it',
      ttl: 30,
      results: [{ maxTtl: 300 }],
      want: { ttl: 30, scope: 0 },
    },
    { row: 'cap 0', ttl: 30, results: [{ maxTtl: 0 }], want: { ttl: 0, scope: 0 } },
    {
      row: 'largest scope',
      ttl: 30,
      results: [{ scope: 16 }, { scope: 24 }, { scope: 20 }],
      want: { ttl: 30, scope: 24 },
    },
    {
      row: 'both',
      ttl: 60,
      results: [
        { maxTtl: 7, scope: 56 },
        { scope: 48, maxTtl: 9 },
      ],
      want: { ttl: 7, scope: 56 },
    },
  ];
  for (const { row, ttl, results, want } of cases) {
    const svc = service({
      ttl,
      pools: [['p', ['a']]],
      chain: results.map((r, i) => fixed(`f${String(i)}`, r)),
    });
    const decision = decide(svc, context(), 4);
    assert.deepEqual({ ttl: decision.ttl, scope: decision.scope }, want, row);
  }
});

test('decide keeps the TTL caps of pools that came out empty', () => {
  // the main pool's health hints say when it may be back; the backup answer must not outlive them
  const svc = service({
    ttl: 30,
    pools: [
      ['main', ['a']],
      ['backup', ['b']],
    ],
    chain: [upPolicy],
  });
  const state = stateView({ 'main/a': { up: false, ttlHint: 4 }, 'backup/b': { ttlHint: 12 } });
  const decision = decide(svc, context({ state }), 4);
  assert.deepEqual(
    { pool: decision.pool, ttl: decision.ttl },
    { pool: 'backup', ttl: 4 },
    'backup with main hint',
  );
});

test('decide answers at most `answers` members, in the chain order', () => {
  const cases = [
    { answers: 1, want: ['p/a'] },
    { answers: 2, want: ['p/a', 'p/b'] },
    { answers: 3, want: ['p/a', 'p/b', 'p/c'] },
    { answers: 8, want: ['p/a', 'p/b', 'p/c'] },
  ];
  for (const { answers, want } of cases) {
    const svc = service({ answers, pools: [['p', ['a', 'b', 'c']]], chain: [firstPolicy] });
    assert.deepEqual(ids(decide(svc, context(), 4).members), want, `answers ${String(answers)}`);
  }
});

test('decide only offers members with an address of the family asked', () => {
  const pools: [string, { name: string; ipv4?: string[]; ipv6?: string[] }[]][] = [
    ['p', [{ name: 'v4', ipv6: [] }, { name: 'v6', ipv4: [] }, { name: 'both' }]],
  ];
  const cases: { family: 4 | 6 | 0; want: string[] }[] = [
    { family: 4, want: ['p/v4', 'p/both'] },
    { family: 6, want: ['p/v6', 'p/both'] },
    { family: 0, want: ['p/v4', 'p/v6', 'p/both'] },
  ];
  for (const { family, want } of cases) {
    const svc = service({ answers: 8, pools, chain: [firstPolicy] });
    assert.deepEqual(ids(decide(svc, context(), family).members), want, `family ${String(family)}`);
  }
});

test('decide applies the all-down behaviour when every pool is empty', () => {
  const state = stateView({
    ...down('main/a', 'main/b', 'backup/c'),
    'main/a': { up: false, ttlHint: 3 },
  });
  const actions: { action: AllDownAction; want: string[] }[] = [
    // fail open: every member of the first pool, not cut to `answers`, with the shortest TTL
    { action: { action: 'fail-open' }, want: ['main/a', 'main/b'] },
    { action: { action: 'nodata' }, want: [] },
    { action: { action: 'servfail' }, want: [] },
    { action: { action: 'rcode', rcode: 3, ttl: 60 }, want: [] },
    {
      action: { action: 'fallback', ipv4: ['198.51.100.1'], ipv6: [], cname: undefined },
      want: [],
    },
  ];
  for (const { action, want } of actions) {
    const svc = service({
      ttl: 30,
      answers: 1,
      allDown: action,
      pools: [
        ['main', ['a', 'b']],
        ['backup', ['c']],
      ],
      chain: [upPolicy],
    });
    const decision = decide(svc, context({ state }), 4);
    assert.deepEqual(
      {
        members: ids(decision.members),
        allDown: decision.allDown,
        pool: decision.pool,
        ttl: decision.ttl,
      },
      { members: want, allDown: true, pool: undefined, ttl: 3 },
      action.action,
    );
  }
});

test('decide fails open only with members of the family asked', () => {
  const svc = service({
    pools: [
      [
        'main',
        [
          { name: 'v4', ipv6: [] },
          { name: 'v6', ipv4: [] },
        ],
      ],
    ],
    chain: [nothing],
  });
  const cases: { family: 4 | 6 | 0; want: string[] }[] = [
    { family: 4, want: ['main/v4'] },
    { family: 6, want: ['main/v6'] },
    { family: 0, want: ['main/v4', 'main/v6'] },
  ];
  for (const { family, want } of cases)
    assert.deepEqual(ids(decide(svc, context(), family).members), want, `family ${String(family)}`);
});

test('decide stops a pool at the first policy that leaves nothing', () => {
  const after = spy();
  const svc = service({
    pools: [
      ['main', ['a']],
      ['backup', ['b']],
    ],
    chain: [upPolicy, after],
  });
  decide(svc, context({ state: stateView(down('main/a')) }), 4);
  assert.equal(after.calls, 1, 'ran for backup only');
});

test('decide explains each step: pool, policy, kept, dropped, notes', () => {
  const svc = service({
    pools: [
      ['main', [{ name: 'a' }, { name: 'b', admin: 'disabled' }]],
      ['backup', ['c', 'd']],
    ],
    chain: [upPolicy, adminPolicy, firstPolicy],
  });
  const state = stateView(down('main/a', 'backup/d'));
  const decision = decide(svc, context({ state, explain: true }), 4);
  assert.deepEqual(
    decision.steps,
    [
      {
        pool: 'main',
        policy: 'up',
        kept: ['main/b'],
        dropped: ['main/a'],
        notes: ['main/a is down'],
      },
      {
        pool: 'main',
        policy: 'admin',
        kept: [],
        dropped: ['main/b'],
        notes: ['main/b is disabled'],
      },
      {
        pool: 'backup',
        policy: 'up',
        kept: ['backup/c'],
        dropped: ['backup/d'],
        notes: ['backup/d is down'],
      },
      { pool: 'backup', policy: 'admin', kept: ['backup/c'], dropped: [], notes: [] },
      { pool: 'backup', policy: 'first', kept: ['backup/c'], dropped: [], notes: [] },
    ],
    'steps',
  );
  const quiet = decide(svc, context({ state, explain: false }), 4);
  assert.deepEqual(
    { steps: quiet.steps, members: ids(quiet.members) },
    { steps: [], members: ['backup/c'] },
    'no explain',
  );
});

test('decide with no pools or an empty chain', () => {
  const cases = [
    {
      row: 'empty chain answers the first pool',
      svc: service({ answers: 2, pools: [['p', ['a', 'b', 'c']]], chain: [] }),
      want: ['p/a', 'p/b'],
      allDown: false,
    },
    {
      row: 'no pools: all down, nothing to fail open to',
      svc: service({ pools: [], chain: [upPolicy] }),
      want: [],
      allDown: true,
    },
  ];
  for (const { row, svc, want, allDown } of cases) {
    const decision = decide(svc, context(), 4);
    assert.deepEqual(
      { members: ids(decision.members), allDown: decision.allDown },
      { members: want, allDown },
      row,
    );
  }
});
