// Memory of the persistence store with N entries (default 1,000,000): heap, typed arrays and
// RSS added by filling an LruPersistenceStore, after a full GC.
//   node --expose-gc --import tsx bench/micro/persistence-memory.ts [ENTRIES] [resolver|subnet]
// Keys are distinct resolver addresses as text ('10.x.y.z', the policy's key for a whole
// IPv4 resolver), or with `subnet` masked ECS subnets ('10.x.y.0/24', what `key: subnet`
// writes); members one of 8 ids, as the persistence policy writes them. Measured
// twice: as the answer path leaves the store (every set is also a pending change, flags
// and a queue of slot numbers, for a replicator that nothing runs yet on a single node),
// and after drainChanges() has taken them. Typed arrays are outside the V8 heap
// (process.memoryUsage().arrayBuffers): both are reported, and their sum.
import process from 'node:process';
import { LruPersistenceStore } from '../../src/steering/persistence-store.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  process.stderr.write(
    'run with node --expose-gc --import tsx bench/micro/persistence-memory.ts\n',
  );
  process.exit(2);
}
const entries = Number(process.argv[2] ?? 1_000_000);
const subnets = process.argv[3] === 'subnet';

interface Snapshot {
  heap: number;
  buffers: number;
  rss: number;
}
const snapshot = (): Snapshot => {
  gc();
  gc();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, buffers: m.arrayBuffers, rss: m.rss };
};
const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
const show = (label: string, from: Snapshot, to: Snapshot): void => {
  const total = to.heap - from.heap + (to.buffers - from.buffers);
  console.log(
    `${label.padEnd(34)} heap +${mib(to.heap - from.heap)}, typed arrays +${mib(to.buffers - from.buffers)}, ` +
      `heap+arrays +${mib(total)} (${(total / entries).toFixed(0)} B/entry), RSS +${mib(to.rss - from.rss)}`,
  );
};

const members = Array.from({ length: 8 }, (_, i) => `web/m${i + 1}`);
const before = snapshot();
const store = new LruPersistenceStore(entries);
const now = Date.now();
for (let i = 0; i < entries; i++) {
  const key = subnets
    ? `${10 + (i >>> 16)}.${(i >>> 8) & 255}.${i & 255}.0/24`
    : `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
  store.set(key, {
    member: members[i & 7]!,
    created: now,
    lastSeen: now,
    ttlMs: 3_600_000,
    hits: 1,
  });
}
const filled = snapshot();
console.log(
  `${entries.toLocaleString('en-US')} ${subnets ? 'subnet' : 'resolver'} keys (store.size ${store.size.toLocaleString('en-US')}), ${process.version}`,
);
show('filled (changes not drained)', before, filled);
// (in a function: a temporary still held by this module's own frame would not be collected)
const drain = (): number => store.drainChanges().length;
const drained = drain();
const after = snapshot();
show(`after drainChanges() (${drained} changes)`, before, after);
// keep the store alive until here
if (store.size !== entries) throw new Error(`expected ${entries} entries, got ${store.size}`);
