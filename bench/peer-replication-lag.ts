/**
 * Replication lag of persistence entries between nodes (docs/cluster.md, "Persistence
 * shared by every node"): three processes on loopback, each with a persistence store, its
 * replicator and the peer link (src/control/peer-replication.ts, the code a node runs; the
 * peers are given directly instead of through etcd). Node 0 makes RATE new decisions a
 * second for SECONDS; nodes 1 and 2 record, for each key, the time from the decision
 * (`created`) to its merge. Then node 0 fills its table to FILL entries and every node
 * reports its memory once it holds them all, and the resident memory those entries added to
 * what it had before the first one (`rssAddedMiB`). Keys are ECS subnets as the answer path
 * writes them (`10.1.2.0/24`), the larger of the two kinds of key (BENCHMARKS.md §5.4).
 *
 *   node --expose-gc --import tsx bench/peer-replication-lag.ts [RATE] [SECONDS] [FILL] [FILL_STEP]
 *   defaults: 10000 10 1000000 2000. Bounded: every phase has a deadline. Add
 *   --max-semi-space-size=4 (as bin/steerdns.js runs) to measure memory as a node has it.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createLogger } from '../src/observability/log.js';
import { persistenceTable } from '../src/control/persistence-table.js';
import { startPeerReplication } from '../src/control/peer-replication.js';
import { startReplicator } from '../src/control/replication.js';
import type { ClusterNodeView } from '../src/control/cluster-view.js';
import { PersistenceStores } from '../src/steering/persistence-store.js';

const RATE = Number(process.argv[2] ?? 10_000);
const SECONDS = Number(process.argv[3] ?? 10);
const FILL = Number(process.argv[4] ?? 1_000_000);
/** Entries made every 20 ms while filling: 2,000 is 100,000 a second (20,000: as fast as it goes). */
const FILL_STEP = Number(process.argv[5] ?? 2_000);
const SERVICE = 'www.example.org.';
const KEY = Buffer.alloc(32, 1).toString('base64');

type ToChild =
  | { type: 'peers'; peers: { name: string; address: string }[] }
  | { type: 'produce'; rate: number; seconds: number }
  | { type: 'fill'; total: number }
  | { type: 'report' };

async function child(name: string): Promise<void> {
  const log = createLogger('warn', { node: name });
  const stores = new PersistenceStores();
  // Sized for what the run makes (passed by the parent), as `persistence.maxEntries` would be.
  const store = stores.forService(SERVICE, Number(process.argv[4]));
  const lags: number[] = [];
  // Lags are kept for the produce phase only: a million numbers kept during the fill would
  // be the bench's memory, not the node's.
  let recordLags = true;
  let baselineRss = 0;
  const table = persistenceTable(stores);
  const merge = table.merge.bind(table);
  table.merge = (rows) => {
    const now = Date.now();
    for (const row of rows as {
      changes: { key: string; entry?: { created: number; hits: number } }[];
    }[])
      for (const change of row.changes)
        if (recordLags && change.entry?.hits === 1 && store.get(change.key) === undefined)
          lags.push(now - change.entry.created);
    merge(rows);
  };
  const peers = await startPeerReplication(
    { host: '127.0.0.1', port: 0, keyFile: '', key: KEY, maxSkewMs: 2000 },
    name,
    log,
    (send) => {
      const replicator = startReplicator([table], send);
      return {
        snapshot: () => replicator.snapshot(),
        receive: (b) => {
          replicator.receive(b);
        },
        stop: () => {
          replicator.stop();
        },
      };
    },
  );
  process.send!({ type: 'address', address: peers.address });
  let made = 0;
  const decide = (): void => {
    const now = Date.now();
    const n = made++;
    store.set(`${10 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}.0/24`, {
      member: `web/m${made % 3}`,
      created: now,
      lastSeen: now,
      ttlMs: 3_600_000,
      hits: 1,
    });
  };
  process.on('message', (message: ToChild) => {
    if (message.type === 'peers') {
      const nodes = message.peers.map((p): ClusterNodeView => ({
        name: p.name,
        role: 'standby',
        epoch: 0,
        updatedAt: 0,
        dns: [],
        replication: p.address,
      }));
      peers.follow({ nodes: () => nodes, onNodes: () => () => undefined });
    }
    if (message.type === 'produce') {
      // Decisions spread over each millisecond tick, as queries would arrive.
      const start = Date.now();
      const timer = setInterval(() => {
        const due = Math.min(
          message.rate * message.seconds,
          Math.floor(((Date.now() - start) * message.rate) / 1000),
        );
        while (made < due) decide();
        if (made >= message.rate * message.seconds) {
          clearInterval(timer);
          process.send!({ type: 'produced', made });
        }
      }, 1);
    }
    if (message.type === 'fill') {
      const step = (): void => {
        for (let i = 0; i < FILL_STEP && made < message.total; i++) decide();
        if (made < message.total) setTimeout(step, 20);
        else process.send!({ type: 'filled', made });
      };
      step();
    }
    if (message.type === 'report') {
      (globalThis as { gc?: () => void }).gc?.();
      const memory = process.memoryUsage();
      if (store.size === 0) baselineRss = memory.rss;
      lags.sort((a, b) => a - b);
      const at = (q: number): number | undefined =>
        lags[Math.min(lags.length - 1, Math.floor(q * lags.length))];
      process.send!({
        type: 'report',
        name,
        entries: store.size,
        lagged: lags.length,
        p50: at(0.5),
        p99: at(0.99),
        max: lags.at(-1),
        rssMiB: Math.round(memory.rss / 2 ** 20),
        rssAddedMiB: Math.round((memory.rss - baselineRss) / 2 ** 20),
        heapMiB: Math.round(memory.heapUsed / 2 ** 20),
        heapTotalMiB: Math.round(memory.heapTotal / 2 ** 20),
        externalMiB: Math.round(memory.external / 2 ** 20),
        counters: peers.counters,
      });
      lags.length = 0;
      // Only node 0 is told to fill: every node stops keeping lags once the produce phase
      // is reported.
      if (store.size > 0) recordLags = false;
    }
  });
}

function waitFor<T>(worker: ChildProcess, type: string, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`no "${type}" within ${ms} ms`));
    }, ms);
    const on = (message: { type: string }): void => {
      if (message.type !== type) return;
      clearTimeout(timer);
      worker.off('message', on);
      resolve(message as T);
    };
    worker.on('message', on);
  });
}

async function main(): Promise<void> {
  const self = fileURLToPath(import.meta.url);
  const nodes = ['n0', 'n1', 'n2'].map((name) =>
    fork(self, ['child', name, String(Math.max(FILL, RATE * SECONDS))], {
      // The parent's flags (--expose-gc, --import tsx, and --max-semi-space-size if given).
      execArgv: process.execArgv,
    }),
  );
  try {
    const addresses = await Promise.all(
      nodes.map((n) => waitFor<{ address: string }>(n, 'address', 30_000)),
    );
    const peers = addresses.map((a, i) => ({ name: `n${i}`, address: a.address }));
    for (const n of nodes) n.send({ type: 'peers', peers } satisfies ToChild);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const report = async (label: string): Promise<void> => {
      const reports = nodes.map((n) => waitFor<Record<string, unknown>>(n, 'report', 30_000));
      for (const n of nodes) n.send({ type: 'report' } satisfies ToChild);
      for (const r of await Promise.all(reports)) console.log(label, JSON.stringify(r));
    };
    await report('before the first entry:');
    nodes[0]!.send({ type: 'produce', rate: RATE, seconds: SECONDS } satisfies ToChild);
    await waitFor(nodes[0]!, 'produced', SECONDS * 1000 + 30_000);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    await report(`lag at ${RATE}/s for ${SECONDS} s:`);
    if (FILL > 0) {
      nodes[0]!.send({ type: 'fill', total: FILL } satisfies ToChild);
      await waitFor(nodes[0]!, 'filled', 300_000);
      await new Promise((resolve) => setTimeout(resolve, 5000));
      await report(`memory at ${FILL} entries:`);
    }
  } finally {
    for (const n of nodes) n.kill('SIGKILL');
  }
}

if (process.argv[2] === 'child') void child(process.argv[3]!);
else await main();
