import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Value } from '@sinclair/typebox/value';
import {
  client,
  context,
  members,
  policyDeps,
  seededRandom,
  service,
  type MemberSpec,
} from '../../../test/helpers/steering.js';
import { decide } from '../chain.js';
import { PersistenceStores, type PersistenceChange } from '../persistence-store.js';
import type { Service } from '../service.js';
import type { Member, PolicyDefinition, PolicyDeps } from '../types.js';
import { handoff, handoffTotals } from './handoff.js';
import { persistence } from './persistence.js';
import { roundRobin } from './round-robin.js';
import { up } from './up.js';
import { weighted } from './weighted.js';

const T = 1_700_000_000_000;

/**
 * With `workers: 2` every worker process builds its own policy instances, so the rotation
 * state (round-robin's counter, the smooth weighted round robin `current` array) is one per
 * process, and the kernel splits the queries between processes. Smooth weighted round
 * robin is exact over any run of one process's picks, so the two halves add up to the
 * weights however the queries were split.
 */

const MATRIX = { A: { B: 5, C: 9 }, B: { A: 4, C: 1 }, C: { A: 3, B: 2 } }; // totals A 2, B 6, C 4
const HANDOFF = { weights: [3, 1], matrix: MATRIX };
const sites = (...names: string[]): MemberSpec[] => names.map((name) => ({ name, site: name }));

const ROWS: readonly {
  row: string;
  definition: PolicyDefinition;
  settings: object;
  list: readonly MemberSpec[];
  /** The share each member should get, by weight. */
  weightOf: (m: Member) => number;
}[] = [
  {
    row: 'weighted 1:3',
    definition: weighted,
    settings: {},
    list: [
      { name: 'a', weight: 1 },
      { name: 'b', weight: 3 },
    ],
    weightOf: (m) => m.weight,
  },
  {
    row: 'weighted 1:2:3:4',
    definition: weighted,
    settings: {},
    list: [1, 2, 3, 4].map((weight, i) => ({ name: 'abcd'[i]!, weight })),
    weightOf: (m) => m.weight,
  },
  {
    row: 'round-robin',
    definition: roundRobin,
    settings: {},
    list: ['a', 'b', 'c'].map((name) => ({ name })),
    weightOf: () => 1,
  },
  {
    row: 'handoff',
    definition: handoff,
    settings: HANDOFF,
    list: sites('A', 'B', 'C'),
    weightOf: (m) => handoffTotals(HANDOFF).get(m.site!) ?? 0,
  },
];

/** How the kernel might split 20,000 queries between two workers. */
const SPLITS: readonly { row: string; worker: (i: number) => number }[] = [
  { row: 'alternating', worker: (i) => i % 2 },
  (() => {
    const random = seededRandom(11);
    const picks = Array.from({ length: 20_000 }, () => (random() < 0.5 ? 0 : 1));
    return { row: 'seeded random', worker: (i: number) => picks[i]! };
  })(),
  { row: 'uneven 1:4, in bursts', worker: (i) => (i % 50 < 10 ? 0 : 1) },
];

test('two workers with their own rotation state add up to the weights (±1 point)', () => {
  for (const { row, definition, settings, list, weightOf } of ROWS)
    for (const split of SPLITS) {
      const label = `${row}, ${split.row}`;
      const pool = members(...list);
      const config = Value.Default(definition.config, structuredClone(settings));
      const workers = [0, 1].map(() => definition.create(config, policyDeps(pool)));
      const counts = new Map<string, number>();
      for (let i = 0; i < 20_000; i++) {
        const id = workers[split.worker(i)]!.apply(pool, context()).candidates[0]!.id;
        counts.set(id, (counts.get(id) ?? 0) + 1);
      }
      const total = pool.reduce((sum, m) => sum + weightOf(m), 0);
      for (const m of pool) {
        const share = ((counts.get(m.id) ?? 0) / 20_000) * 100;
        const want = (weightOf(m) / total) * 100;
        assert.ok(
          Math.abs(share - want) <= 1,
          `${label}: ${m.id} ${share.toFixed(2)}% vs ${want.toFixed(2)}%`,
        );
        // exact, not just close: each worker is off by less than one pick per member
        const exact = (weightOf(m) / total) * 20_000;
        assert.ok(Math.abs((counts.get(m.id) ?? 0) - exact) < 2, `${label}: ${m.id} count`);
      }
    }
});

/** A worker's chain [up, weighted 1:3, persistence] with its own store. */
function worker(pool: readonly Member[]) {
  const stores = new PersistenceStores();
  const deps: PolicyDeps = { ...policyDeps(pool), persistence: (s, n) => stores.forService(s, n) };
  const svc: Service = {
    ...service({ pools: [['p', []]], chain: [] }),
    pools: [{ name: 'p', members: pool, ipv4Members: pool, ipv6Members: [] }],
    chain: [
      up.create({}, deps),
      weighted.create({}, deps),
      persistence.create(Value.Default(persistence.config, { ttl: 60 }) as never, deps),
    ],
  };
  return { svc, store: stores.forService(deps.service, 1_000_000) };
}

test('two workers sharing decisions through drainChanges/merge keep returning resolvers', () => {
  const cases: { row: string; lag: number; maxMoves: number }[] = [
    { row: 'inserts delivered before the next query', lag: 0, maxMoves: 0 },
    { row: 'inserts delivered 5 queries late', lag: 5, maxMoves: 1 },
  ];
  for (const { row, lag, maxMoves } of cases) {
    const pool = members({ name: 'a', weight: 1 }, { name: 'b', weight: 3 });
    const workers = [worker(pool), worker(pool)] as const;
    const random = seededRandom(3);
    const inFlight: { at: number; to: 0 | 1; changes: PersistenceChange[] }[] = [];
    const answers = new Map<string, string[]>();
    const fresh = new Map<string, number>();
    for (let i = 0; i < 20_000; i++) {
      for (const batch of inFlight.filter((b) => b.at <= i))
        workers[batch.to].store.merge(batch.changes);
      inFlight.splice(0, inFlight.length, ...inFlight.filter((b) => b.at > i));
      const returning = random() < 0.5;
      const resolver = returning ? `203.0.113.${i % 40}` : `10.0.${i >> 8}.${i & 255}`;
      const w = random() < 0.5 ? 0 : 1; // the kernel picks a worker per query
      const now = T + i * 10;
      const id = decide(workers[w].svc, context({ client: client(resolver), now }), 4).members[0]!
        .id;
      answers.set(resolver, [...(answers.get(resolver) ?? []), id]);
      if (!returning) fresh.set(id, (fresh.get(id) ?? 0) + 1);
      // the replicator: inserts at once (after `lag` queries), refreshes every 100 queries
      const changes = workers[w].store.drainChanges({ refreshes: i % 100 === 0 });
      if (changes.length > 0) inFlight.push({ at: i + 1 + lag, to: w === 0 ? 1 : 0, changes });
    }
    for (const [resolver, got] of answers) {
      const moves = got.filter((id, k) => k > 0 && id !== got[k - 1]).length;
      assert.ok(moves <= maxMoves, `${row}: ${resolver} moved ${moves} times: ${got.join(' ')}`);
    }
    const total = (fresh.get('p/a') ?? 0) + (fresh.get('p/b') ?? 0);
    const share = ((fresh.get('p/a') ?? 0) / total) * 100;
    assert.ok(Math.abs(share - 25) <= 1, `${row}: new resolvers on a ${share.toFixed(2)}%`);
  }
});
