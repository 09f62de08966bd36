/**
 * The local balancer pair (issue 11): the lab of test/helpers/lb-lab.ts (network namespaces,
 * documentation addresses, no route out). Root only.
 *   node --import tsx bench/lb-pair.ts [RUNS]
 * 1. Throughput and latency, new connection per request (connect, GET, close) from the client
 *    namespace: through the balancer (cluster address) and direct to one server's own address,
 *    alternating, RUNS rounds of 5 s each with 8 parallel loops.
 * 2. Failover gap: a new connection every millisecond (1,000 a second) through the balancer,
 *    after 1 s the active balancer dies: kill -9 of steerdns, keepalived and conntrackd, and
 *    its link down (a killed process leaves the kernel's rules and the address in place, and
 *    the kernel would go on forwarding: the machine's death is what a failover is for). The
 *    longest time without a successful request; RUNS times (link up, balancer started again).
 * 3. Sync lag: conntrack NEW events on the active and on the standby (`conntrack -E -o
 *    timestamp`) for 200 new connections: the standby's time minus the active's, per flow.
 * Prints one JSON line per measurement and a summary.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { CLUSTER, createLbLab, SERVERS, type LbLab } from '../test/helpers/lb-lab.js';

const runs = Number(process.argv[2] ?? 3);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? NaN;
};
const print = (record: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify(record)}\n`);
};

async function throughput(lab: LbLab): Promise<void> {
  const rows: { via: string; rps: number; p50Ms: number; p99Ms: number }[] = [];
  for (let i = 0; i < runs; i++) {
    for (const [via, host] of [
      ['balancer', CLUSTER],
      ['direct', SERVERS.s1],
    ] as const) {
      const r = await lab.client.send({ op: 'flood', parallel: 8, ms: 5000, host }, 60_000);
      const row = {
        via,
        rps: r['rps'] as number,
        p50Ms: r['p50Ms'] as number,
        p99Ms: r['p99Ms'] as number,
      };
      rows.push(row);
      print({ kind: 'throughput', run: i + 1, ...row, errors: r['errors'] });
    }
  }
  for (const via of ['balancer', 'direct']) {
    const mine = rows.filter((r) => r.via === via);
    print({
      kind: 'throughput-median',
      via,
      rps: median(mine.map((r) => r.rps)),
      p50Ms: median(mine.map((r) => r.p50Ms)),
      p99Ms: median(mine.map((r) => r.p99Ms)),
    });
  }
}

async function failoverGap(lab: LbLab): Promise<void> {
  const gaps: number[] = [];
  for (let i = 0; i < runs; i++) {
    const active = (await lab.holders()).length === 1 ? (await lab.holders())[0]! : 'b1';
    const op =
      process.env['FLOWS'] === undefined
        ? { op: 'rate' }
        : { op: 'rate-flows', n: Number(process.env['FLOWS']) };
    const probing = lab.client.send({ ...op, rps: 1000, ms: 4000 }, 60_000);
    await sleep(1000);
    await lab.killBalancer(active);
    await lab.host(active).run(['ip', 'link', 'set', 'eth0', 'down']);
    const r = await probing;
    await lab.host(active).run(['ip', 'link', 'set', 'eth0', 'up']);
    gaps.push(r['gapMs'] as number);
    print({ kind: 'failover', run: i + 1, killed: active, ...r });
    await lab.startBalancer(active);
    // It takes the address back (higher priority) and its flows from the peer.
    await lab.waitHolders([active], 30_000);
    await sleep(2000);
  }
  print({ kind: 'failover-median', gapMs: median(gaps), worstMs: Math.max(...gaps) });
}

/** NEW events of flows to the cluster address in a namespace: source port -> time (ms). */
function watchNew(ns: string): { times: Map<number, number>; stop: () => void } {
  const child = spawn('ip', [
    'netns',
    'exec',
    ns,
    'conntrack',
    '-E',
    '-e',
    'NEW',
    '-p',
    'tcp',
    '--orig-dst',
    CLUSTER,
    '-o',
    'timestamp',
  ]);
  const times = new Map<number, number>();
  createInterface({ input: child.stdout }).on('line', (line) => {
    const at = /^\[(\d+\.\d+)\]/.exec(line);
    const sport = /sport=(\d+)/.exec(line);
    if (at && sport) times.set(Number(sport[1]), Number(at[1]) * 1000);
  });
  return { times, stop: () => child.kill('SIGTERM') };
}

async function syncLag(lab: LbLab): Promise<void> {
  const holders = await lab.holders();
  const active = holders.includes('b1') ? 'b1' : 'b2';
  const standby = active === 'b1' ? 'b2' : 'b1';
  const onActive = watchNew(lab.host(active).ns);
  const onStandby = watchNew(lab.host(standby).ns);
  await sleep(500);
  await lab.client.send({ op: 'new', n: 200, parallel: 4 });
  await sleep(2000);
  onActive.stop();
  onStandby.stop();
  const lags: number[] = [];
  for (const [sport, at] of onActive.times) {
    const there = onStandby.times.get(sport);
    if (there !== undefined) lags.push(there - at);
  }
  lags.sort((a, b) => a - b);
  print({
    kind: 'sync-lag',
    flows: onActive.times.size,
    synced: lags.length,
    p50Ms: median(lags),
    p99Ms: lags[Math.floor(0.99 * (lags.length - 1))],
    maxMs: lags.at(-1),
  });
}

const lab = await createLbLab();
try {
  await lab.startBalancer('b1');
  await lab.waitHolders(['b1'], 10_000);
  await lab.startBalancer('b2');
  await sleep(1000);
  const only = process.env['ONLY'];
  if (only === undefined || only === 'throughput') await throughput(lab);
  if (only === undefined || only === 'sync') await syncLag(lab);
  if (only === undefined || only === 'failover') await failoverGap(lab);
} finally {
  await lab.remove();
}
