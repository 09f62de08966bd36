// Run one of the Node baselines in N cluster workers (default 2) sharing one UDP port.
// Usage: WORKERS=2 node cluster.mjs raw.mjs
// Node 20's dgram has no SO_REUSEPORT; in a cluster, workers that bind the same UDP
// address share one socket handle owned by the primary (exclusive: false, the default),
// so the kernel hands each datagram to whichever worker is blocked in recv.
import cluster from 'node:cluster';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import process from 'node:process';
import { setTimeout } from 'node:timers';

const here = path.dirname(fileURLToPath(import.meta.url));
const script = path.resolve(here, process.argv[2] || 'raw.mjs');
const n = Number(process.env.WORKERS || 2);
if (cluster.isPrimary) {
  cluster.setupPrimary({ exec: script });
  for (let i = 0; i < n; i++) cluster.fork();
  let stopping = false;
  cluster.on('exit', (w, code, sig) => {
    if (!stopping) {
      process.stderr.write(`worker ${w.process.pid} died (${code ?? sig})\n`);
      process.exit(1);
    }
  });
  process.on('SIGTERM', () => {
    stopping = true;
    for (const w of Object.values(cluster.workers)) w.process.kill('SIGTERM');
    setTimeout(() => process.exit(0), 300);
  });
  process.stderr.write(
    `cluster primary ${process.pid}: ${n} workers running ${path.basename(script)}\n`,
  );
}
