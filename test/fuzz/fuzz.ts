import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { startServer, tmpdirWith } from '../helpers/server-process.js';
import type { StartOptions } from '../helpers/server-process.js';
import { FUZZ_ZONE, formatReport, runWireFuzz } from './wire.js';
import type { WireFuzzOptions, WireFuzzReport } from './wire.js';

/**
 * `npm run fuzz [-- --count N] [--seconds S] [--seed N] [--workers N]`: starts the server on
 * a temporary zone and fuzzes it over the wire (see wire.ts). Exits non-zero if the server
 * died or stopped answering. Also the home of the in-process decoder fuzzer.
 */

export { fuzzDecoder, DecoderFuzzError } from './decoder.js';
export type { DecoderFuzzOptions, DecoderFuzzReport } from './decoder.js';
export { runWireFuzz, formatReport, FUZZ_ZONE } from './wire.js';
export type { WireFuzzOptions, WireFuzzReport } from './wire.js';

/** Options of {@link fuzzServer}. */
export type FuzzServerOptions = Omit<WireFuzzOptions, 'target' | 'isAlive'> & {
  /** @default 1 */
  readonly workers?: number;
  /** Passed to startServer (e.g. `entry` to fuzz the helpers' stub server). */
  readonly server?: StartOptions;
};

/** Starts a server on {@link FUZZ_ZONE}, fuzzes it, stops it. The report includes its exit. */
export async function fuzzServer(opts: FuzzServerOptions): Promise<WireFuzzReport> {
  const dir = await tmpdirWith({ 'example.org.zone': FUZZ_ZONE });
  const zone = join(dir, 'example.org.zone');
  const args = ['serve', '--zone', `example.org=${zone}`, '--workers', String(opts.workers ?? 1)];
  const server = await startServer([...args, '--log-level', 'warn'], opts.server);
  try {
    const report = await runWireFuzz({ ...opts, target: server.address, isAlive: server.isAlive });
    const exit = await server.stop();
    if (exit.code !== 0 && report.failure === undefined) {
      report.failure = `server did not stop cleanly on SIGTERM: code ${exit.code}, signal ${exit.signal}`;
    }
    if (report.failure !== undefined) {
      report.failure += `\nserver stderr (last lines):\n${server.stderr().slice(-30).join('\n')}`;
    }
    return report;
  } finally {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      count: { type: 'string', default: '1000000' },
      seconds: { type: 'string', default: '300' },
      seed: { type: 'string' },
      workers: { type: 'string', default: '1' },
      entry: { type: 'string' },
    },
  });
  const seed = values.seed === undefined ? Date.now() % 0x100000000 : Number(values.seed);
  console.log(`fuzz: seed ${seed} (rerun with --seed ${seed})`);
  const report = await fuzzServer({
    count: Number(values.count),
    seconds: Number(values.seconds),
    seed,
    workers: Number(values.workers),
    ...(values.entry === undefined ? {} : { server: { entry: values.entry } }),
    onProgress: (r) => {
      console.log(
        `fuzz: ${r.sent.udp + r.sent.tcp} sent, ${r.replies.udp + r.replies.tcp} replies, checks ${r.checks.passed} ok`,
      );
    },
  });
  console.log(formatReport(report));
  return report.failure === undefined && report.alive && report.answering ? 0 : 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}
