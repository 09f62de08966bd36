/**
 * The wire fuzzer (wire.ts) against a server on the batched UDP engine (the native/udp addon):
 *   node --import tsx test/fuzz/fuzz-batched.ts [COUNT]          (default 100,000 packets)
 * With the addon built with sanitizers (`node scripts/build-native.mjs --sanitize`), preload
 * their runtime into the server: FUZZ_PRELOAD=$(cc -print-file-name=libasan.so) (leak checks
 * off: Node itself is not built for them). Rebuild without --sanitize afterwards.
 * Exits non-zero if the server died or stopped answering.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { startServer, tmpdirWith, UDP_ENGINE_ENV } from '../helpers/server-process.js';
import { FUZZ_ZONE, formatReport, runWireFuzz } from './wire.js';

process.env[UDP_ENGINE_ENV] = 'batched';
const count = Number(process.argv[2] ?? 100_000);
const preload = process.env['FUZZ_PRELOAD'];
const dir = await tmpdirWith({
  'example.org.zone': FUZZ_ZONE,
  'steerdns.yaml': `listen: ['127.0.0.1:0']\nworkers: 1\nzones:\n  - origin: example.org\n    file: example.org.zone\n`,
});
try {
  const server = await startServer(['serve', '--config', join(dir, 'steerdns.yaml')], {
    addListen: false,
    maxLogLines: 1000,
    env: preload ? { LD_PRELOAD: preload, ASAN_OPTIONS: 'detect_leaks=0' } : {},
  });
  const report = await runWireFuzz({
    target: server.address,
    isAlive: server.isAlive,
    count,
    seconds: 3600,
    seed: 7,
  });
  const exit = await server.stop();
  process.stdout.write(`${formatReport(report)}\nexit: ${JSON.stringify(exit)}\n`);
  const sanitizer = server.stderr().filter((l) => /ERROR: AddressSanitizer|runtime error/.test(l));
  if (sanitizer.length > 0) process.stdout.write(`sanitizer:\n${sanitizer.join('\n')}\n`);
  process.exitCode =
    report.failure === undefined && sanitizer.length === 0 && exit.code === 0 ? 0 : 1;
} finally {
  await rm(dir, { recursive: true, force: true });
}
