// Builds the UDP fast path addon (native/udp/udp.c -> native/udp/build/udp.node) with the
// machine's C compiler against the Node headers on the machine; nothing is downloaded. It
// never fails the install or the tests: without Linux, a compiler or the headers it prints
// one line and exits 0, and steerdns answers UDP with node:dgram (dns.udpEngine).
//   node scripts/build-native.mjs [--sanitize] [--out FILE]
//   (--sanitize: -fsanitize=address,undefined; --out: write FILE instead of the addon that
//   steerdns loads, e.g. a sanitized build for a test, loaded through STEERDNS_UDP_ADDON)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import process from 'node:process';
import { fileURLToPath, URL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const source = join(root, 'native/udp/udp.c');
const outAt = process.argv.indexOf('--out');
const output =
  outAt > 0 && process.argv[outAt + 1]
    ? process.argv[outAt + 1]
    : join(root, 'native/udp/build/udp.node');

/** The first directory holding node_api.h and uv.h: the install prefix's, then /usr's. */
function headers() {
  const prefix = process.config.variables.node_prefix ?? '/usr';
  const candidates = [join(prefix, 'include/node'), '/usr/include/node', '/usr/local/include/node'];
  return candidates.find(
    (dir) => existsSync(join(dir, 'node_api.h')) && existsSync(join(dir, 'uv.h')),
  );
}

function skip(reason) {
  process.stdout.write(`build-native: UDP addon not built (${reason}); UDP uses node:dgram\n`);
  process.exit(0);
}

if (process.platform !== 'linux') skip(`not Linux: ${process.platform}`);
const include = headers();
if (include === undefined) skip('no Node headers with node_api.h and uv.h');
const compiler = process.env.CC ?? 'cc';
const sanitize = process.argv.includes('--sanitize')
  ? ['-fsanitize=address,undefined', '-fno-omit-frame-pointer', '-g']
  : [];
mkdirSync(dirname(output), { recursive: true });
const args = [
  '-O2',
  '-Wall',
  '-Wextra',
  '-shared',
  '-fPIC',
  ...sanitize,
  `-I${include}`,
  '-o',
  output,
  source,
];
const result = spawnSync(compiler, args, {
  stdio: ['ignore', 'inherit', 'pipe'],
  encoding: 'utf8',
});
if (result.error !== undefined) skip(`${compiler}: ${result.error.message}`);
if (result.status !== 0)
  skip(`${compiler} failed: ${result.stderr.trim().split('\n').slice(-1)[0] ?? ''}`);
