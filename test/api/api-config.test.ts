/**
 * End to end (issue 12): the `api:` settings of a real server. HTTPS with a certificate made
 * by openssl here; a token file with a short secret is a configuration error naming its
 * file and line.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { apiCall, errorCode } from '../helpers/api-client.js';
import { REPO_ROOT, startServer, tmpdirWith } from '../helpers/server-process.js';
import { ZONE } from './fixtures.js';

const run = promisify(execFile);
const TOKEN = 'tls-operator-secret-0123';
let dir = '';

before(async () => {
  dir = await tmpdirWith({ tokens: `ops ${TOKEN}\n` });
});
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('api.tls: the interface speaks HTTPS with the configured certificate', async () => {
  await run(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
      '-keyout',
      join(dir, 'api.key'),
      '-out',
      join(dir, 'api.crt'),
    ],
    { timeout: 30_000 },
  );
  const config = join(dir, 'tls.yaml');
  await writeFile(
    config,
    `workers: 1\napi: { listen: 127.0.0.1:0, tokenFile: tokens, tls: { cert: api.crt, key: api.key } }\n${ZONE}`,
  );
  const server = await startServer(['serve', '--config', config]);
  try {
    const ca = await readFile(join(dir, 'api.crt'), 'utf8');
    const services = await apiCall(server.api!, '/api/v1/services', { token: TOKEN, ca });
    assert.equal(services.status, 200, services.text);
    const missing = await apiCall(server.api!, '/api/v1/services', { ca });
    assert.equal(errorCode(missing), 'STEERDNS_ERR_API_TOKEN_MISSING');
    assert.equal((await apiCall(server.api!, '/healthz', { ca })).status, 200);
    // The commands speak HTTPS with --ca (the address is 127.0.0.1: in the certificate).
    const at = `${server.api!.host}:${server.api!.port}`;
    const caFile = join(dir, 'api.crt');
    const cli = (args: string[]) =>
      run(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], {
        cwd: REPO_ROOT,
        timeout: 30_000,
      });
    const status = await cli(['status', '--server', at, '--ca', caFile, '--json']);
    assert.equal((JSON.parse(status.stdout) as unknown[]).length, 4);
    const explained = await cli([
      'explain',
      '--server',
      at,
      '--ca',
      caFile,
      'www.example.org',
      '--json',
    ]);
    assert.equal((JSON.parse(explained.stdout) as { rcode: string }).rcode, 'NOERROR');
    await writeFile(join(dir, 'ops.token'), `${TOKEN}\n`);
    const drained = await cli([
      'drain',
      'www.example.org',
      'web/a',
      '--server',
      at,
      '--ca',
      caFile,
      '--token-file',
      join(dir, 'ops.token'),
    ]);
    assert.match(drained.stdout, /web\/a: admin draining by ops/);
    // Plain HTTP to the TLS port gets no API answer.
    const plain = await apiCall(server.api!, '/healthz').then(
      (reply) => reply.status,
      () => 'refused',
    );
    assert.ok(plain === 'refused' || plain === 400, `plain HTTP: ${plain}`);
  } finally {
    await server.stop();
  }
});

test('a token file with a short secret is rejected with its file and line', async () => {
  const bad = await tmpdirWith({
    'short.tokens': '# ops\nalice alice-secret-0123456789\nbob short\n',
    'steerdns.yaml': `workers: 1\napi: { listen: 127.0.0.1:0, tokenFile: short.tokens }\n${ZONE}`,
  });
  try {
    const failure = await run(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/main.ts',
        'serve',
        '--config',
        join(bad, 'steerdns.yaml'),
        '--listen',
        '127.0.0.1:0',
      ],
      { cwd: REPO_ROOT, timeout: 30_000 },
    ).then(
      () => assert.fail('the server started with a short token'),
      (error: unknown) => error as { code: number; stderr: string },
    );
    assert.equal(failure.code, 1);
    assert.match(
      failure.stderr,
      new RegExp(
        `${join(bad, 'short.tokens').replace(/[.]/g, '\\.')}:3: the secret of token "bob" has 5 bytes, at least 16 needed`,
      ),
    );
  } finally {
    await rm(bad, { recursive: true, force: true });
  }
});
