/**
 * End to end (issue 12): `steerdns drain`, `enable`, `disable` and `override` against a
 * running server's REST API, with their exit codes and messages; `status --server` beside
 * them.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { query } from '../helpers/dns-client.js';
import {
  REPO_ROOT,
  startServer,
  tmpdirWith,
  type ServerProcess,
} from '../helpers/server-process.js';
import { rdataTexts } from '../e2e/fixtures/server.js';
import { ZONE } from './fixtures.js';

const execute = promisify(execFile);
const TOKEN = 'cli-operator-secret-01234';
let dir = '';
let server: ServerProcess | undefined;
let address = '';

/** Runs `steerdns ARGS`; resolves its exit code and output whatever the code. */
async function steerdns(
  args: readonly string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execute(
      process.execPath,
      ['--import', 'tsx', 'src/main.ts', ...args],
      { cwd: REPO_ROOT, timeout: 30_000 },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

async function answers(): Promise<string[]> {
  const reply = await query(server!.address, { name: 'www.example.org', type: 'A' });
  return rdataTexts(reply.answers).sort();
}

before(async () => {
  dir = await tmpdirWith({
    // The server's own token file works for the command too: its first token is sent.
    'api.tokens': `# operators\ncli ${TOKEN}\n`,
    'wrong.token': 'not-the-right-secret-000\n',
    'steerdns.yaml': `workers: 1\napi: { listen: 127.0.0.1:0, tokenFile: api.tokens }\n${ZONE}`,
  });
  server = await startServer(['serve', '--config', join(dir, 'steerdns.yaml')]);
  address = `${server.api!.host}:${server.api!.port}`;
});

after(async () => {
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const auth = (): string[] => ['--server', address, '--token-file', join(dir, 'api.tokens')];

test('drain and enable: exit 0, the member printed, the next answers follow', async () => {
  const drained = await steerdns([
    'drain',
    'www.example.org',
    'web/a',
    ...auth(),
    '--reason',
    'patching',
  ]);
  assert.equal(drained.code, 0, drained.stderr);
  assert.equal(
    drained.stdout.trim(),
    'www.example.org. web/a: admin draining by cli: patching (real: health unchecked, admin enabled)',
  );
  assert.deepEqual(await answers(), ['192.0.2.2']);
  await server!.waitForLog(
    (e) => e?.['action'] === 'drain' && e['by'] === 'cli' && e['reason'] === 'patching',
  );
  const enabled = await steerdns(['enable', 'www.example.org. web/a', ...auth()]);
  assert.equal(enabled.code, 0, enabled.stderr);
  assert.match(enabled.stdout, /^www\.example\.org\. web\/a: no override/);
  assert.deepEqual(await answers(), ['192.0.2.1', '192.0.2.2']);
});

test('disable, and override --health down --for, then --clear', async () => {
  const disabled = await steerdns(['disable', 'www.example.org', 'web/b', ...auth(), '--json']);
  assert.equal(disabled.code, 0, disabled.stderr);
  assert.equal(
    (JSON.parse(disabled.stdout) as { effective: { admin: string } }).effective.admin,
    'disabled',
  );
  assert.deepEqual(await answers(), ['192.0.2.1']);
  const forced = await steerdns([
    'override',
    'www.example.org',
    'web/b',
    '--health',
    'up',
    ...auth(),
  ]);
  assert.equal(forced.code, 0, forced.stderr);
  assert.match(forced.stdout, /admin disabled, health up by cli/, 'the admin part stays');
  const down = await steerdns([
    'override',
    'www.example.org',
    'web/a',
    '--health',
    'down',
    '--for',
    '1h',
    '--reason',
    'bad deploy',
    ...auth(),
  ]);
  assert.equal(down.code, 0, down.stderr);
  assert.match(
    down.stdout,
    /web\/a: health down until \d{4}-\d\d-\d\dT[\d:.]+Z by cli: bad deploy/,
  );
  for (const member of ['web/a', 'web/b']) {
    const cleared = await steerdns(['override', 'www.example.org', member, '--clear', ...auth()]);
    assert.equal(cleared.code, 0, cleared.stderr);
  }
  assert.deepEqual(await answers(), ['192.0.2.1', '192.0.2.2']);
});

test('refusals exit 1 with the code; usage mistakes exit 2', async () => {
  const wrong = await steerdns([
    'drain',
    'www.example.org',
    'web/a',
    '--server',
    address,
    '--token-file',
    join(dir, 'wrong.token'),
  ]);
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /^steerdns drain: .*401 STEERDNS_ERR_API_TOKEN_WRONG/);
  const unknown = await steerdns(['drain', 'www.example.org', 'web/zz', ...auth()]);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /404 STEERDNS_ERR_API_NO_MEMBER: no member web\/zz/);
  const noServer = await steerdns([
    'drain',
    'www.example.org',
    'web/a',
    '--token-file',
    join(dir, 'api.tokens'),
  ]);
  assert.equal(noServer.code, 2);
  assert.match(noServer.stderr, /needs --server ADDR:PORT/);
  const noHealth = await steerdns(['override', 'www.example.org', 'web/a', ...auth()]);
  assert.equal(noHealth.code, 2);
  const noFile = await steerdns([
    'enable',
    'www.example.org',
    'web/a',
    '--server',
    address,
    '--token-file',
    join(dir, 'none'),
  ]);
  assert.equal(noFile.code, 1);
  assert.match(noFile.stderr, /token file .*none: cannot read it \(ENOENT\)/);
  const unreachable = await steerdns([
    'enable',
    'www.example.org',
    'web/a',
    '--server',
    '127.0.0.1:1',
    '--token-file',
    join(dir, 'api.tokens'),
  ]);
  assert.equal(unreachable.code, 1);
  assert.match(unreachable.stderr, /cannot reach http:\/\/127\.0\.0\.1:1/);
});

test('status --server still reads GET /status, with the overrides applied', async () => {
  await steerdns(['drain', 'www.example.org', 'web/a', ...auth()]);
  const status = await steerdns(['status', '--server', address, '--json']);
  assert.equal(status.code, 0, status.stderr);
  const rows = JSON.parse(status.stdout) as { service: string; member: string; admin: string }[];
  assert.equal(rows.find((r) => r.member === 'web/a')?.admin, 'draining');
  await steerdns(['enable', 'www.example.org', 'web/a', ...auth()]);
});
