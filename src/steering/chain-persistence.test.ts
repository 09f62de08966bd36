import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Value } from '@sinclair/typebox/value';
import {
  client,
  context,
  policyDeps,
  seededRandom,
  service,
  type MemberSpec,
} from '../../test/helpers/steering.js';
import { decide } from './chain.js';
import { PersistenceStores } from './persistence-store.js';
import { admin } from './policies/admin.js';
import { handoff } from './policies/handoff.js';
import { persistence } from './policies/persistence.js';
import { roundRobin } from './policies/round-robin.js';
import { up } from './policies/up.js';
import { weighted } from './policies/weighted.js';
import type { Service } from './service.js';
import type { Policy, PolicyDefinition, PolicyDeps } from './types.js';

const T = 1_700_000_000_000;

/** A rotating policy under test, built from its definition and settings. */
interface Rotation {
  readonly row: string;
  readonly definition: PolicyDefinition;
  readonly settings: object;
  readonly members: readonly MemberSpec[];
}

const ROTATIONS: readonly Rotation[] = [
  {
    row: 'weighted 1:3',
    definition: weighted,
    settings: {},
    members: [
      { name: 'a', weight: 1 },
      { name: 'b', weight: 3 },
    ],
  },
  {
    row: 'round-robin',
    definition: roundRobin,
    settings: {},
    members: ['a', 'b', 'c'].map((name) => ({ name })),
  },
  {
    row: 'handoff',
    definition: handoff,
    settings: {
      weights: [3, 1],
      matrix: { A: { B: 5, C: 9 }, B: { A: 4, C: 1 }, C: { A: 2, B: 3 } },
    },
    members: [
      { name: 'a', site: 'A' },
      { name: 'b', site: 'B' },
      { name: 'c', site: 'C' },
    ],
  },
];

const build = (definition: PolicyDefinition, settings: object, deps: PolicyDeps): Policy =>
  definition.create(Value.Default(definition.config, structuredClone(settings)), deps);

/**
 * [up, admin, rotation, persistence ttl 60 s] over the rotation's members, and a twin of the
 * rotation that only new decisions are fed to: what the chain should answer them.
 */
function setup(rotation: Rotation, stores = new PersistenceStores(), extra: Policy[] = []) {
  const bare = service({ pools: [['web', rotation.members]], chain: [] });
  const members = bare.pools[0]!.members;
  const deps: PolicyDeps = {
    ...policyDeps(members),
    persistence: (s, n) => stores.forService(s, n),
  };
  const svc: Service = {
    ...bare,
    chain: [
      up.create({}, deps),
      admin.create({}, deps),
      build(rotation.definition, rotation.settings, deps),
      ...extra,
      build(persistence, { ttl: 60 }, deps),
    ],
  };
  const twin = build(rotation.definition, rotation.settings, policyDeps(members));
  return { svc, members, twin };
}

/** Which resolver asks, query by query: half from 20 returning ones, half always new. */
const INTERLEAVINGS: readonly { row: string; returning: (i: number) => boolean }[] = [
  { row: 'alternating', returning: (i) => i % 2 === 1 },
  { row: 'two and two', returning: (i) => i % 4 >= 2 },
  (() => {
    const random = seededRandom(7);
    const picks = Array.from({ length: 20_000 }, () => random() < 0.5);
    return { row: 'seeded random', returning: (i: number) => picks[i]! };
  })(),
];

test('a persistent hit skips the rotation: new resolvers keep the exact split', () => {
  for (const rotation of ROTATIONS)
    for (const { row, returning } of INTERLEAVINGS) {
      const label = `${rotation.row}, ${row}`;
      const { svc, members, twin } = setup(rotation);
      const firstOf = new Map<string, string>();
      const counts = new Map<string, number>();
      let fresh = 0;
      for (let i = 0; i < 20_000; i++) {
        const resolver = returning(i)
          ? `203.0.113.${i % 20}`
          : `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
        const now = T + i * 10;
        const got = decide(svc, context({ client: client(resolver), now }), 4).members[0]!.id;
        const first = firstOf.get(resolver);
        if (first !== undefined) {
          assert.equal(got, first, `${label}: query ${i} from returning ${resolver}`);
          continue;
        }
        // a new decision: exactly what the rotation would pick had it seen only these
        const want = twin.apply(members, context({ now })).candidates[0]!.id;
        assert.equal(got, want, `${label}: query ${i}, new decision for ${resolver}`);
        firstOf.set(resolver, got);
        if (!returning(i)) {
          fresh++;
          counts.set(got, (counts.get(got) ?? 0) + 1);
        }
      }
      // new resolvers alone split by the rotation's shares, within 1 point
      const shares = twinShares(rotation);
      for (const [id, share] of shares) {
        const got = ((counts.get(id) ?? 0) / fresh) * 100;
        assert.ok(Math.abs(got - share) <= 1, `${label}: ${id} ${got.toFixed(2)}% vs ${share}%`);
      }
    }
});

/** Each member's share in percent over 12,000 picks of a fresh instance (exact for these). */
function twinShares(rotation: Rotation): Map<string, number> {
  const { members, twin } = setup(rotation);
  const counts = new Map<string, number>();
  for (let i = 0; i < 12_000; i++) {
    const id = twin.apply(members, context()).candidates[0]!.id;
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return new Map([...counts].map(([id, n]) => [id, (n / 12_000) * 100]));
}

test('twinShares is the rotation split (weights 1:3 -> 25/75)', () => {
  assert.deepEqual(
    twinShares(ROTATIONS[0]!),
    new Map([
      ['web/b', 75],
      ['web/a', 25],
    ]),
  );
});

test('explain says the rotation was skipped and why', () => {
  const { svc } = setup(ROTATIONS[0]!);
  const ask = (now: number) =>
    decide(svc, context({ client: client('203.0.113.1'), now, explain: true }), 4);
  const first = ask(T);
  const kept = first.members[0]!.id;
  const hit = ask(T + 1_000);
  assert.deepEqual(
    hit.steps.map((s) => [s.policy, s.notes]),
    [
      ['up', []],
      ['admin', []],
      ['weighted', [`skipped: the client stays on ${kept}`]],
      ['persistence', [`203.0.113.1 stays on ${kept}`, 'rotation skipped']],
    ],
  );
  assert.deepEqual(
    first.steps.map((s) => s.policy),
    ['up', 'admin', 'weighted', 'persistence'],
    'a new client: every policy ran',
  );
  assert.equal(first.steps[3]!.notes[0], `203.0.113.1 new or expired: now ${kept}`);
});

test('when the remembered member is no longer eligible the client is balanced afresh', () => {
  const dropped = new Set<string>();
  const dropper: Policy = {
    name: 'dropper',
    apply: (candidates) => ({ candidates: candidates.filter((m) => !dropped.has(m.id)) }),
  };
  const cases: {
    row: string;
    extra: Policy[];
    change: (svc: Service) => Service;
  }[] = [
    {
      row: 'dropped by a filter before the rotation',
      extra: [],
      change: (svc) => ({ ...svc, chain: [dropper, ...svc.chain] }),
    },
    {
      row: 'dropped by a filter between rotation and persistence',
      extra: [dropper],
      change: (svc) => svc,
    },
  ];
  for (const { row, extra, change } of cases) {
    dropped.clear();
    const { svc, members, twin } = setup(ROTATIONS[1]!, new PersistenceStores(), extra);
    const ask = (s: Service, now: number) =>
      decide(s, context({ client: client('203.0.113.1'), now }), 4).members[0]!;
    const kept = ask(svc, T);
    twin.apply(members, context());
    dropped.add(kept.id);
    const changed = change(svc);
    const left = members.filter((m) => m !== kept);
    const want = twin.apply(left, context()).candidates[0]!;
    const moved = ask(changed, T + 1_000);
    assert.equal(moved.id, want.id, `${row}: the rotation's choice among the rest`);
    assert.equal(ask(changed, T + 2_000).id, moved.id, `${row}: and stays there`);
  }
});

test('a member whose weight became 0 is not kept (a reload keeps the store)', () => {
  const stores = new PersistenceStores();
  const rotation = ROTATIONS[0]!;
  const before = setup(rotation, stores);
  const ask = (svc: Service, now: number) =>
    decide(svc, context({ client: client('203.0.113.1'), now }), 4).members[0]!.id;
  const kept = ask(before.svc, T);
  assert.equal(ask(before.svc, T + 1), kept, 'remembered');
  const reloaded = setup(
    {
      ...rotation,
      members: rotation.members.map((m) => (`web/${m.name}` === kept ? { ...m, weight: 0 } : m)),
    },
    stores,
  );
  const moved = ask(reloaded.svc, T + 2);
  assert.notEqual(moved, kept, 'weight 0: balanced afresh');
  assert.equal(ask(reloaded.svc, T + 3), moved, 'and remembered there');
});
