import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  DEFAULT_MAX_ENTRIES,
  LruPersistenceStore,
  mergeEntries,
  PersistenceStores,
  type PersistenceChange,
  type PersistenceEntry,
} from './persistence-store.js';

const T = 1_700_000_000_000;

const entry = (spec: Partial<PersistenceEntry> = {}): PersistenceEntry => ({
  member: 'web/a',
  created: T,
  lastSeen: spec.created ?? T,
  ttlMs: 60_000,
  hits: 1,
  ...spec,
});

/** The table as sorted [key, entry] pairs: two stores are equal when these are. */
const table = (store: LruPersistenceStore): [string, PersistenceEntry][] =>
  [...store.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

/** Changes as `kind key` (insert/refresh told apart by the caller's expectation). */
const keysOf = (changes: PersistenceChange[]): string[] =>
  changes.map((c) => (c.deleted ? `-${c.key}` : c.key));

test('an entry holds while now <= lastSeen + ttlMs, and every hit slides it', () => {
  const cases: { row: string; hits: number[]; at: number; want: string | undefined }[] = [
    { row: 'at the TTL', hits: [], at: T + 60_000, want: 'web/a' },
    { row: 'one ms past the TTL', hits: [], at: T + 60_001, want: undefined },
    { row: 'slid by a hit at 50 s', hits: [T + 50_000], at: T + 110_000, want: 'web/a' },
    { row: 'past the slid TTL', hits: [T + 50_000], at: T + 110_001, want: undefined },
    {
      row: 'a hit every 10 s for 5 min, then 60 s',
      hits: Array.from({ length: 30 }, (_, i) => T + (i + 1) * 10_000),
      at: T + 360_000,
      want: 'web/a',
    },
  ];
  for (const { row, hits, at, want } of cases) {
    const store = new LruPersistenceStore(10);
    store.set('r', entry());
    for (const now of hits) assert.equal(store.hit('r', now), 'web/a', `${row}: hit at ${now}`);
    assert.equal(store.peek('r', at), want, `${row}: peek`);
    assert.equal(store.hit('r', at), want, `${row}: hit`);
  }
});

test('hit counts, moves lastSeen and takes the TTL in force; peek changes nothing', () => {
  const store = new LruPersistenceStore(10);
  store.set('r', entry());
  store.peek('r', T + 5_000);
  assert.deepEqual(store.get('r'), entry(), 'after peek');
  store.hit('r', T + 5_000, 120_000);
  assert.deepEqual(store.get('r'), entry({ lastSeen: T + 5_000, ttlMs: 120_000, hits: 2 }));
  assert.equal(store.hit('r', T + 125_000), 'web/a', 'held by the new TTL');
  assert.equal(store.hit('missing', T), undefined);
});

test('drainChanges tells inserts from refreshes and deletions; evictions are not changes', () => {
  const cases: {
    row: string;
    run: (s: LruPersistenceStore) => void;
    drains: { refreshes: boolean; want: string[] }[];
  }[] = [
    {
      row: 'an insert',
      run: (s) => {
        s.set('a', entry());
      },
      drains: [
        { refreshes: false, want: ['a'] },
        { refreshes: true, want: [] },
      ],
    },
    {
      row: 'an insert refreshed before the drain stays an insert',
      run: (s) => {
        s.set('a', entry());
        s.hit('a', T + 1);
      },
      drains: [
        { refreshes: false, want: ['a'] },
        { refreshes: true, want: [] },
      ],
    },
    {
      row: 'a refresh waits for a drain with refreshes',
      run: (s) => {
        s.set('a', entry());
        s.drainChanges();
        s.hit('a', T + 1);
        s.hit('a', T + 2);
      },
      drains: [
        { refreshes: false, want: [] },
        { refreshes: true, want: ['a'] },
        { refreshes: true, want: [] },
      ],
    },
    {
      row: 'a refresh then a new decision: one insert',
      run: (s) => {
        s.set('a', entry());
        s.drainChanges();
        s.hit('a', T + 1);
        s.set('a', entry({ member: 'web/b', created: T + 2 }));
      },
      drains: [
        { refreshes: false, want: ['a'] },
        { refreshes: true, want: [] },
      ],
    },
    {
      row: 'a deletion',
      run: (s) => {
        s.set('a', entry());
        s.drainChanges();
        s.delete('a');
        s.delete('never');
      },
      drains: [{ refreshes: false, want: ['-a'] }],
    },
    {
      row: 'set, delete and set again before a drain: the insert',
      run: (s) => {
        s.set('a', entry());
        s.delete('a');
        s.set('a', entry({ created: T + 1 }));
      },
      drains: [{ refreshes: true, want: ['a'] }],
    },
    {
      row: 'evicted keys are not reported (bound 2)',
      run: (s) => {
        for (const key of ['a', 'b', 'c', 'd']) s.set(key, entry());
      },
      drains: [{ refreshes: true, want: ['c', 'd'] }],
    },
    {
      row: 'an expired hit is no refresh',
      run: (s) => {
        s.set('a', entry());
        s.drainChanges();
        s.hit('a', T + 60_001);
      },
      drains: [{ refreshes: true, want: [] }],
    },
  ];
  for (const { row, run, drains } of cases) {
    const store = new LruPersistenceStore(row.includes('bound 2') ? 2 : 10);
    run(store);
    drains.forEach(({ refreshes, want }, i) => {
      const got = store.drainChanges({ refreshes });
      assert.deepEqual(keysOf(got).sort(), want, `${row}: drain ${i}`);
      for (const change of got)
        if (!change.deleted) assert.deepEqual(change.entry, store.get(change.key), row);
    });
  }
});

test('pending changes stay bounded by the table when nobody drains', () => {
  const store = new LruPersistenceStore(100);
  for (let i = 0; i < 10_000; i++) {
    store.set(`k${i}`, entry({ created: T + i }));
    store.hit(`k${i}`, T + i + 1);
  }
  const changes = store.drainChanges();
  assert.equal(changes.length, 100, 'one change per key still held');
  assert.deepEqual(new Set(keysOf(changes)), new Set([...store.entries()].map(([k]) => k)));
});

test('mergeEntries: one decision per key, the same whichever side it is given', () => {
  const a = entry({ member: 'web/a', created: T, lastSeen: T + 5_000, hits: 7 });
  const cases: {
    row: string;
    left: PersistenceEntry;
    right: PersistenceEntry;
    want: PersistenceEntry;
  }[] = [
    {
      row: 'same decision: latest sighting, most hits',
      left: a,
      right: entry({ lastSeen: T + 9_000, ttlMs: 30_000, hits: 3 }),
      want: entry({ lastSeen: T + 9_000, ttlMs: 30_000, hits: 7 }),
    },
    {
      row: 'same sighting: the longer TTL',
      left: a,
      right: { ...a, ttlMs: 90_000 },
      want: { ...a, ttlMs: 90_000 },
    },
    {
      row: 'made after the other expired: the newer wins',
      left: a,
      right: entry({ member: 'web/b', created: T + 70_000 }),
      want: entry({ member: 'web/b', created: T + 70_000 }),
    },
    {
      row: 'a failover decision beats a stale copy of the old one',
      left: entry({ member: 'web/a', created: T, lastSeen: T + 20_000, hits: 9 }),
      right: entry({ member: 'web/b', created: T + 10_000 }),
      want: entry({ member: 'web/b', created: T + 10_000, lastSeen: T + 20_000 }),
    },
    {
      row: 'two writers at once: the later decision',
      left: entry({ member: 'web/b', created: T }),
      right: entry({ member: 'web/a', created: T + 3 }),
      want: entry({ member: 'web/a', created: T + 3 }),
    },
    {
      row: 'same time: the smaller member id',
      left: entry({ member: 'web/b' }),
      right: entry({ member: 'web/a' }),
      want: entry({ member: 'web/a' }),
    },
  ];
  for (const { row, left, right, want } of cases) {
    assert.deepEqual(mergeEntries(left, right), want, `${row} (left, right)`);
    assert.deepEqual(mergeEntries(right, left), want, `${row} (right, left)`);
  }
});

const arbitraryEntry = fc.record({
  member: fc.constantFrom('web/a', 'web/b', 'web/c'),
  created: fc.integer({ min: T, max: T + 50 }),
  lastSeen: fc.integer({ min: 0, max: 100 }),
  ttlMs: fc.constantFrom(10, 30, 60),
  hits: fc.integer({ min: 1, max: 5 }),
});
/** Entries whose lastSeen is at or after created (as stores write them). */
const wellFormed = arbitraryEntry.map((e) => ({ ...e, lastSeen: e.created + e.lastSeen }));

test('mergeEntries is commutative, associative and idempotent (property)', () => {
  fc.assert(
    fc.property(wellFormed, wellFormed, wellFormed, (a, b, c) => {
      assert.deepEqual(mergeEntries(a, b), mergeEntries(b, a));
      assert.deepEqual(mergeEntries(mergeEntries(a, b), c), mergeEntries(a, mergeEntries(b, c)));
      assert.deepEqual(mergeEntries(a, a), a);
    }),
    { numRuns: 2000 },
  );
});

test('merging the same changes in any order and batching gives the same table (property)', () => {
  const change = fc.record({ key: fc.constantFrom('r1', 'r2', 'r3', 'r4'), entry: wellFormed });
  fc.assert(
    fc.property(
      fc.array(change, { minLength: 1, maxLength: 40 }),
      fc.array(fc.nat(), { maxLength: 40 }),
      fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 8 }),
      (changes: PersistenceChange[], swaps, batches) => {
        const shuffled = [...changes];
        swaps.forEach((swap, i) => {
          const j = i % shuffled.length;
          const k = swap % shuffled.length;
          [shuffled[j], shuffled[k]] = [shuffled[k]!, shuffled[j]!];
        });
        const inOrder = new LruPersistenceStore(10);
        inOrder.merge(changes);
        const inBatches = new LruPersistenceStore(10);
        for (let at = 0, b = 0; at < shuffled.length; at += batches[b++ % batches.length]!)
          inBatches.merge(shuffled.slice(at, at + batches[b % batches.length]!));
        assert.deepEqual(table(inBatches), table(inOrder));
      },
    ),
    { numRuns: 500 },
  );
});

test('two stores exchanging their changes converge, and stop talking (property)', () => {
  const action = fc.record({
    store: fc.constantFrom(0, 1),
    key: fc.constantFrom('r1', 'r2', 'r3'),
    kind: fc.constantFrom('set', 'hit', 'sync'),
    member: fc.constantFrom('web/a', 'web/b'),
    step: fc.integer({ min: 0, max: 40 }),
  });
  fc.assert(
    fc.property(fc.array(action, { maxLength: 60 }), (actions) => {
      const stores = [new LruPersistenceStore(10), new LruPersistenceStore(10)] as const;
      const inFlight: PersistenceChange[][] = [[], []];
      let now = T;
      for (const { store, key, kind, member, step } of actions) {
        now += step;
        const s = stores[store];
        if (kind === 'set') s.set(key, { member, created: now, lastSeen: now, ttlMs: 60, hits: 1 });
        else if (kind === 'hit') s.hit(key, now);
        // deliver what the other store sent earlier, then send ours (inserts only)
        else {
          s.merge(inFlight[1 - store]!.splice(0));
          inFlight[store]!.push(...s.drainChanges({ refreshes: false }));
        }
      }
      // the rest: deliver and drain everything until nobody has anything to say
      for (let round = 0; round < 4; round++)
        for (const i of [0, 1]) {
          stores[i]!.merge(inFlight[1 - i]!.splice(0));
          inFlight[i]!.push(...stores[i]!.drainChanges());
        }
      assert.deepEqual(table(stores[0]), table(stores[1]));
      assert.deepEqual([...inFlight[0]!, ...inFlight[1]!], [], 'quiet after convergence');
    }),
    { numRuns: 500 },
  );
});

test('merge: news for the peer only when the local table adds to what it sent', () => {
  const cases: {
    row: string;
    mine: PersistenceEntry | undefined;
    theirs: PersistenceEntry;
    want: string[];
  }[] = [
    { row: 'unknown key', mine: undefined, theirs: entry(), want: [] },
    { row: 'the same entry', mine: entry(), theirs: entry(), want: [] },
    { row: 'theirs newer', mine: entry(), theirs: entry({ lastSeen: T + 9 }), want: [] },
    {
      row: 'ours seen later: a refresh',
      mine: entry({ lastSeen: T + 9 }),
      theirs: entry(),
      want: ['refresh'],
    },
    {
      row: 'our decision wins: an insert',
      mine: entry({ member: 'web/b', created: T + 5 }),
      theirs: entry(),
      want: ['insert'],
    },
  ];
  for (const { row, mine, theirs, want } of cases) {
    const store = new LruPersistenceStore(10);
    if (mine) store.set('r', mine);
    store.drainChanges();
    store.merge([{ key: 'r', entry: theirs }]);
    const inserts = store.drainChanges({ refreshes: false }).map(() => 'insert');
    const refreshes = store.drainChanges().map(() => 'refresh');
    assert.deepEqual([...inserts, ...refreshes], want, row);
    assert.deepEqual(store.get('r'), mine ? mergeEntries(mine, theirs) : theirs, row);
  }
});

test('merge applies a deletion without reporting it back', () => {
  const store = new LruPersistenceStore(10);
  store.set('r', entry());
  store.merge([{ key: 'r', deleted: true }]);
  assert.equal(store.get('r'), undefined);
  assert.deepEqual(store.drainChanges(), []);
});

test('PersistenceStores keeps stores by service and lets a replicator reach them', () => {
  const stores = new PersistenceStores();
  const www = stores.forService('www.example.org.', 2);
  www.set('r', entry());
  assert.equal(stores.forService('www.example.org.', 2), www, 'kept across loads');
  stores.merge('api.example.org.', [{ key: 'r', entry: entry({ member: 'api/x' }) }]);
  assert.deepEqual(
    [...stores.all()].map(([service, store]) => [service, store.size]),
    [
      ['www.example.org.', 1],
      ['api.example.org.', 1],
    ],
  );
  const api = stores.get('api.example.org.') as LruPersistenceStore;
  assert.equal(api.maxEntries, DEFAULT_MAX_ENTRIES, 'created by a merge: the default bound');
  assert.equal(stores.forService('api.example.org.', 5), api, 'the configuration finds it');
  assert.equal(api.maxEntries, 5, 'and sets its bound');
  for (const key of ['a', 'b', 'c']) www.set(key, entry());
  stores.forService('www.example.org.', 1);
  assert.deepEqual(
    [...www.entries()].map(([key]) => key),
    ['c'],
    'a lower bound evicts at once',
  );
});

test('LRU: eviction takes the least recently used; hits, sets and merges refresh', () => {
  const store = new LruPersistenceStore(3);
  store.set('a', entry());
  store.set('b', entry());
  store.set('c', entry());
  store.hit('a', T + 10); // order, oldest first: b c a
  store.set('d', entry()); // evicts b
  assert.deepEqual(
    [...store.entries()].map(([k]) => k),
    ['c', 'a', 'd'],
  );
  store.set('c', entry({ member: 'web/b' })); // a d c
  store.merge([{ key: 'a', entry: entry({ lastSeen: T + 20 }) }]); // d c a
  store.merge([{ key: 'd', entry: entry({ lastSeen: T - 5 }) }]); // older news: d stays oldest
  store.set('e', entry()); // evicts d
  assert.deepEqual(
    [...store.entries()].map(([k]) => k),
    ['c', 'a', 'e'],
  );
  store.delete('a');
  store.set('f', entry());
  store.set('g', entry()); // evicts c
  assert.deepEqual(
    [...store.entries()].map(([k]) => k),
    ['e', 'f', 'g'],
  );
  store.maxEntries = 1;
  assert.deepEqual(
    [...store.entries()].map(([k]) => k),
    ['g'],
  );
  assert.equal(store.get('g')?.member, 'web/a');
});

test('LRU under churn: 50,000 keys through a store of 1,000 keep it whole and bounded', () => {
  const store = new LruPersistenceStore(1000);
  for (let i = 0; i < 50_000; i++) {
    store.set(`k${i}`, entry({ hits: i }));
    if (i % 7 === 0) store.hit(`k${i - 500}`, T); // keeps some older keys alive
    if (i % 11 === 0) store.delete(`k${i - 3}`);
  }
  const keys = [...store.entries()].map(([k]) => k);
  assert.equal(keys.length, store.size);
  assert.ok(store.size <= 1000 && store.size > 900, `size ${store.size}`);
  assert.equal(new Set(keys).size, keys.length, 'each key once');
  assert.deepEqual(keys.slice(-1), ['k49999'], 'the newest last');
  for (const [key, got] of store.entries())
    assert.ok(got.hits === Number(key.slice(1)) || got.hits === Number(key.slice(1)) + 1, key);
  assert.equal(store.get('k0'), undefined, 'long evicted');
});

test('keys are kept as given: built by concatenation, with capitals, or not', () => {
  const store = new LruPersistenceStore(10);
  const [net, mask] = ['192.0.2', 24];
  const keys = [`${net}.0/${mask}`, 'group:Web', 'group:web', 'GROUP:web', '2001:db8::/56'];
  keys.forEach((key, i) => {
    store.set(key, entry({ member: `web/m${i}` }));
  });
  assert.equal(store.size, keys.length, 'keys differing only in case are distinct');
  keys.forEach((key, i) => {
    assert.equal(store.hit(key, T), `web/m${i}`, key);
  });
  assert.deepEqual(
    table(store).map(([key]) => key),
    [...keys].sort(),
  );
  assert.deepEqual(keysOf(store.drainChanges()).sort(), [...keys].sort());
});
