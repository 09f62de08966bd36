/**
 * Failover times of a three-node cluster (issue 8): the lab of test/helpers/cluster-lab.ts
 * (network namespaces, a three-member etcd, documentation addresses, no route out), a client
 * probing the service address 1,000 times a second. Root only.
 *   node --import tsx bench/cluster-failover.ts [RUNS]
 * For each of RUNS (default 10): kill -9 of the master, the longest gap in answers; then a
 * graceful stop (SIGTERM) of the master, the time until another node holds the address.
 * Prints one JSON line per run and a summary (median and worst).
 */
import { startClusterLab, type ClusterLab } from '../test/helpers/cluster-lab.js';

const runs = Number(process.argv[2] ?? 10);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function killRun(cluster: ClusterLab): Promise<number> {
  const master = await cluster.onlyHolder();
  const probe = await cluster.probe(1);
  await sleep(500);
  const server = cluster.servers.get(master)!;
  server.signal('SIGKILL');
  await server.exited;
  await cluster.onlyHolder(master);
  await sleep(1000);
  const result = await probe.stop();
  await cluster.startNode(master);
  return result.longestGapMs;
}

async function gracefulRun(cluster: ClusterLab): Promise<number> {
  const master = await cluster.onlyHolder();
  const started = performance.now();
  const stopping = cluster.servers.get(master)!.stop(5000);
  await cluster.onlyHolder(master);
  const moved = performance.now() - started;
  await stopping;
  await cluster.startNode(master);
  return Math.round(moved);
}

const summary = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)], worst: sorted.at(-1), all: values };
};

const cluster = await startClusterLab();
try {
  const kills: number[] = [];
  const graceful: number[] = [];
  for (let i = 0; i < runs; i++) {
    kills.push(await killRun(cluster));
    await sleep(2000); // the restarted node registers and becomes standby
    graceful.push(await gracefulRun(cluster));
    await sleep(2000);
    process.stdout.write(
      `${JSON.stringify({ run: i + 1, killGapMs: kills.at(-1), gracefulMoveMs: graceful.at(-1) })}\n`,
    );
  }
  process.stdout.write(
    `${JSON.stringify({ killGapMs: summary(kills), gracefulMoveMs: summary(graceful) })}\n`,
  );
} finally {
  await cluster.remove();
}
