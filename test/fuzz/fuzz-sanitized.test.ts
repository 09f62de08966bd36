import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { UDP_ADDON_ENV } from '../../src/dns/udp-addon.js';
import { startServer, tmpdirWith } from '../helpers/server-process.js';
import { FUZZ_ZONE, formatReport, runWireFuzz } from './wire.js';

// The UDP addon built with -fsanitize=address,undefined, under a short run of the wire
// fuzzer: an out-of-bounds access or undefined behaviour on either side of the addon's
// boundary is reported by the sanitizers on the server's stderr and fails the test. The
// sanitized build goes to a temporary file (the normal addon stays as it is) and is loaded
// through STEERDNS_UDP_ADDON; the ASan runtime is preloaded since Node is not built with it.

const COMPILER = process.env['CC'] ?? 'cc';
const PACKETS = 20_000;

/** The ASan runtime the compiler links against, or why there is none. */
function asanRuntime(): { path?: string; reason?: string } {
  const found = spawnSync(COMPILER, ['-print-file-name=libasan.so'], { encoding: 'utf8' });
  if (found.error !== undefined) return { reason: `${COMPILER}: ${found.error.message}` };
  const path = found.stdout.trim();
  // Without the library, the compiler prints the bare name back.
  return path.startsWith('/') && existsSync(path)
    ? { path }
    : { reason: `${COMPILER} has no libasan` };
}

const runtime = process.platform === 'linux' ? asanRuntime() : { reason: 'not Linux' };

test(
  'the sanitized UDP addon under 20,000 fuzzed packets: no sanitizer report, the server answers and exits cleanly',
  { skip: runtime.reason, timeout: 240_000 },
  async () => {
    const dir = await tmpdirWith({
      'example.org.zone': FUZZ_ZONE,
      'steerdns.yaml': `listen: ['127.0.0.1:0']\nworkers: 1\ndns:\n  udpEngine: batched\nzones:\n  - origin: example.org\n    file: example.org.zone\n`,
    });
    try {
      const addon = join(dir, 'udp-sanitized.node');
      const build = spawnSync(
        process.execPath,
        ['scripts/build-native.mjs', '--sanitize', '--out', addon],
        { encoding: 'utf8' },
      );
      assert.ok(existsSync(addon), `sanitized build failed: ${build.stdout}${build.stderr}`);
      const server = await startServer(['serve', '--config', join(dir, 'steerdns.yaml')], {
        addListen: false,
        maxLogLines: 2000,
        env: {
          [UDP_ADDON_ENV]: addon,
          LD_PRELOAD: runtime.path!,
          // Node itself leaks by design at exit and is not built for the leak checker.
          ASAN_OPTIONS: 'detect_leaks=0:abort_on_error=1',
          UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1',
        },
      });
      const maps = readFileSync(`/proc/${server.pid}/maps`, 'utf8');
      assert.match(maps, /libasan/, 'the server runs with the ASan runtime');
      assert.ok(maps.includes(addon), 'the server loaded the sanitized addon');
      const report = await runWireFuzz({
        target: server.address,
        isAlive: server.isAlive,
        count: PACKETS,
        seconds: 180,
        seed: 11,
      });
      const exit = await server.stop();
      const sanitizer = server
        .stderr()
        .filter((line) => /AddressSanitizer|UndefinedBehaviorSanitizer|runtime error/.test(line));
      assert.deepEqual(sanitizer, [], 'sanitizer reports');
      assert.equal(report.failure, undefined, formatReport(report));
      assert.equal(report.sent.udp, PACKETS, formatReport(report));
      assert.deepEqual(exit, { code: 0, signal: null });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
);
