/**
 * The UDP probe of udp-probe.ts as a process of its own, for a client inside a network
 * namespace: `node --import tsx test/helpers/probe-process.ts HOST PORT NAME INTERVAL_MS`.
 * It prints `probing` once it sends, and on SIGTERM (or after 120 s, so that it never
 * outlives a test) it stops, prints its result as one JSON line and exits.
 */
import { startProbe } from './udp-probe.js';

const [host = '', port = '53', name = '', interval = '1'] = process.argv.slice(2);
const probe = await startProbe({
  server: { host, port: Number(port) },
  name,
  intervalMs: Number(interval),
  lostAfterMs: 500,
});
process.stdout.write('probing\n');
let stopping = false;
const stop = async (): Promise<void> => {
  if (stopping) return;
  stopping = true;
  const result = await probe.stop();
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
setTimeout(() => void stop(), 120_000).unref();
setInterval(() => undefined, 1000);
