// Cost of persistence store inserts (new keys) and hits at 0%, 50% and 100% full of a
// 1,000,000-entry store, and of inserts after 1,000,000 more keys have churned through it
// (each insert into a full store evicts the least recently used entry).
//   node --import tsx bench/micro/persistence-cost.ts [STORE_MODULE]
// STORE_MODULE: another file exporting LruPersistenceStore (e.g. an older version of
// src/steering/persistence-store.ts), to compare. Keys are masked ECS subnets as text
// ('10.1.2.0/24', what `key: subnet` writes), built before the clock starts.
import process from 'node:process';
import { pathToFileURL } from 'node:url';
import type { PersistenceEntry, PersistenceStore } from '../../src/steering/persistence-store.js';

const moduleArg = process.argv[2];
const { LruPersistenceStore } = (await import(
  moduleArg ? pathToFileURL(moduleArg).href : '../../src/steering/persistence-store.js'
)) as { LruPersistenceStore: new (max: number) => PersistenceStore };

const MAX = 1_000_000;
const BATCH = 100_000;
const keyOf = (i: number): string => `${10 + (i >>> 16)}.${(i >>> 8) & 255}.${i & 255}.0/24`;
const keys = Array.from({ length: 2 * MAX + 2 * BATCH }, (_, i) => keyOf(i));
const members = Array.from({ length: 8 }, (_, i) => `web/m${i + 1}`);
const T = Date.now();
let next = 0;
let now = T;
const entry = (i: number): PersistenceEntry => ({
  member: members[i & 7]!,
  created: now,
  lastSeen: now,
  ttlMs: 3_600_000,
  hits: 1,
});

let store = new LruPersistenceStore(MAX);
/** Inserts `count` new keys; ns per insert. */
const insert = (count: number): number => {
  const start = process.hrtime.bigint();
  for (let n = 0; n < count; n++, next++) store.set(keys[next]!, entry(next));
  return Number(process.hrtime.bigint() - start) / count;
};
/** Hits `count` keys spread over what the store holds, each its first hit in a second. */
const hit = (count: number): number => {
  now += 1001;
  const held = Math.min(store.size, next);
  const oldest = next - held;
  let found = 0;
  const start = process.hrtime.bigint();
  for (let n = 0; n < count; n++) {
    const key = keys[oldest + ((n * 7919) % held)]!;
    if (store.hit(key, now) !== undefined) found++;
  }
  const ns = Number(process.hrtime.bigint() - start) / count;
  if (found !== count) throw new Error(`only ${found} of ${count} hits found their entry`);
  return ns;
};
const fill = (to: number): void => {
  while (next < to) store.set(keys[next]!, entry(next++));
};

console.log(`${moduleArg ?? 'src/steering/persistence-store.ts'}, ${process.version}`);
console.log(
  '| state when the batch starts | insert, ns (100k new keys) | hit, ns (100k keys held) |',
);
console.log('| --- | --- | --- |');
/** One row, printed at once (an old store may never get to the last). */
const measure = (label: string): void => {
  const h = store.size > 0 ? hit(BATCH) : NaN;
  const at = store.size.toLocaleString('en-US');
  const ins = insert(BATCH);
  console.log(
    `| ${label} (${at} entries) | ${ins.toFixed(0)} | ${Number.isNaN(h) ? '-' : h.toFixed(0)} |`,
  );
};
const timed = (label: string, to: number): void => {
  const count = to - next;
  const start = process.hrtime.bigint();
  fill(to);
  const s = Number(process.hrtime.bigint() - start) / 1e9;
  console.log(
    `(${label}: ${count.toLocaleString('en-US')} inserts in ${s.toFixed(1)} s, ${((s * 1e9) / count).toFixed(0)} ns each)`,
  );
};

// Warm-up on a throw-away store, then start again from empty.
insert(BATCH);
hit(BATCH);
store = new LruPersistenceStore(MAX);
next = 0;

measure('0% full');
timed('fill to 50%', MAX / 2);
measure('50% full');
timed('fill to 100%', MAX);
measure('100% full');
timed('churn: 1M more keys, 1M evictions', next + MAX);
measure('100% full, after 1M evictions');
