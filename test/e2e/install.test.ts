/**
 * Installing like a product (README "Install"): what the npm package ships, a global install
 * from the checkout that never asks a registry, the installed command serving from outside
 * the checkout, and the example systemd unit as systemd itself reads it.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { query } from '../helpers/dns-client.js';
import { REPO_ROOT, startServer } from '../helpers/server-process.js';

const run = promisify(execFile);
const NPM_TIMEOUT_MS = 120_000;

/** An npm environment where any registry request fails at once (nothing listens on port 9). */
const offlineNpm = {
  ...process.env,
  npm_config_registry: 'http://127.0.0.1:9/',
  npm_config_audit: 'false',
  npm_config_fund: 'false',
  npm_config_update_notifier: 'false',
};

let prefix = '';

before(async () => {
  prefix = await mkdtemp(join(tmpdir(), 'steerdns-install-'));
});

after(async () => {
  if (prefix) await rm(prefix, { recursive: true, force: true });
});

test('the npm package ships the command, its bundle, docs, license, examples and the addon source', async () => {
  const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: REPO_ROOT,
    env: offlineNpm,
    timeout: NPM_TIMEOUT_MS,
  });
  const [pack] = JSON.parse(stdout) as { files: { path: string }[] }[];
  assert.ok(pack, 'npm pack printed no package');
  const paths = new Set(pack.files.map((file) => file.path));
  for (const wanted of [
    'LICENSE',
    'README.md',
    'bin/steerdns.js',
    'dist/steerdns.mjs',
    'docs/errors.md',
    'docs/architecture.md',
    'examples/steerdns.yaml',
    'examples/systemd/steerdns.service',
    'schema/config.json',
    'native/udp/udp.c',
    'scripts/build-native.mjs',
  ])
    assert.ok(paths.has(wanted), `the package lacks ${wanted}`);
  for (const path of paths)
    assert.ok(!/^(src|test|bench)\//.test(path), `the package ships ${path}, a development file`);
});

test('the license file is the one package.json names', async () => {
  const { license } = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as {
    license: string;
  };
  assert.equal(license, 'Apache-2.0');
  const text = await readFile(join(REPO_ROOT, 'LICENSE'), 'utf8');
  assert.match(text, /Apache License\s+Version 2\.0, January 2004/);
});

test('npm install -g from the checkout asks no registry, and the command serves from elsewhere', async () => {
  // Bundle the current sources: dist/ may be older than them outside a fresh `npm ci`.
  await run(process.execPath, ['scripts/bundle.mjs'], { cwd: REPO_ROOT });
  await run('npm', ['install', '--global', '--prefix', prefix, '--offline', REPO_ROOT], {
    cwd: prefix,
    env: offlineNpm,
    timeout: NPM_TIMEOUT_MS,
  });
  const command = join(prefix, 'bin', 'steerdns');
  const { stdout } = await run(command, ['version'], { cwd: tmpdir() });
  assert.match(stdout, /^steerdns \d+\.\d+\.\d+/);
  const zone = join(REPO_ROOT, 'examples/zones/example.org.zone');
  const server = await startServer(['serve', '--zone', `example.org=${zone}`], {
    executable: command,
    cwd: prefix,
  });
  try {
    const reply = await query(server.address, { name: 'www.example.org', type: 'A' });
    assert.equal(reply.rcode, 'NOERROR');
    assert.ok(reply.answers.length > 0, 'the installed command answered no address');
  } finally {
    await server.stop();
  }
});

test('the example systemd unit passes systemd-analyze verify', async (t) => {
  const analyze = await run('sh', ['-c', 'command -v systemd-analyze']).catch(() => undefined);
  if (!analyze) {
    t.skip('systemd-analyze is not installed');
    return;
  }
  const unit = await readFile(join(REPO_ROOT, 'examples/systemd/steerdns.service'), 'utf8');
  for (const wanted of [
    /^AmbientCapabilities=CAP_NET_BIND_SERVICE$/m,
    /^Restart=on-failure$/m,
    /^ExecReload=\/bin\/kill -HUP \$MAINPID$/m,
  ])
    assert.match(unit, wanted);
  // systemd checks that the command exists: point it at this checkout's.
  const copy = join(prefix, 'steerdns.service');
  await writeFile(
    copy,
    unit.replaceAll('/usr/local/bin/steerdns', join(REPO_ROOT, 'bin/steerdns.js')),
  );
  const { stderr } = await run('systemd-analyze', ['verify', copy], { timeout: 30_000 });
  assert.equal(stderr.trim(), '', `systemd-analyze verify: ${stderr}`);
});
