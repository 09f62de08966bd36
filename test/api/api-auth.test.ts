/**
 * End to end (issue 12): the REST API of a running server, every endpoint without a token
 * (401), with a wrong one (401) and with a right one (as X-API-Key and as Bearer); the
 * routes that need none; a server without a token file (reads on loopback, no writes);
 * the OpenAPI document validates and every GET route in it answers; the dashboard files
 * without directory traversal.
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { query } from '../helpers/dns-client.js';
import { apiCall, errorCode, type ApiReply } from '../helpers/api-client.js';
import { ZONE } from './fixtures.js';
import {
  startServer,
  tmpdirWith,
  type Endpoint,
  type ServerProcess,
} from '../helpers/server-process.js';

const ALICE = 'alice-secret-0123456789';
const ANONYMOUS_TOKEN = 'unnamed-secret-9876543210';
const WRONG = 'not-the-secret-0123456789';
const TOKENS = `# operators of this test\nalice ${ALICE}\n\n${ANONYMOUS_TOKEN}   # no name: line-4\n`;

let dir = '';
let server: ServerProcess | undefined;
let api: Endpoint;

before(async () => {
  dir = await tmpdirWith({
    tokens: TOKENS,
    'steerdns.yaml': `workers: 1\napi: { listen: 127.0.0.1:0, tokenFile: tokens }\n${ZONE}`,
  });
  const started = await startServer(['serve', '--config', join(dir, 'steerdns.yaml')]);
  server = started;
  api = started.api!;
  // One answer for sticky: a persistence entry for this resolver (127.0.0.1).
  await query(started.address, { name: 'sticky.example.org', type: 'A' });
});

after(async () => {
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const MEMBER = '/api/v1/services/www.example.org/members/web/a';
const PERSISTENCE = '/api/v1/persistence?service=sticky.example.org&key=127.0.0.1';

/** Every /api/v1 endpoint, with what a right token gets. */
const ENDPOINTS: { method: string; path: string; body?: unknown; status: number; code?: string }[] =
  [
    { method: 'GET', path: '/api/v1/services', status: 200 },
    { method: 'GET', path: '/api/v1/services/www.example.org', status: 200 },
    {
      method: 'GET',
      path: '/api/v1/services/nowhere.example.org',
      status: 404,
      code: 'STEERDNS_ERR_API_NO_SERVICE',
    },
    { method: 'GET', path: MEMBER, status: 200 },
    { method: 'POST', path: `${MEMBER}/drain`, body: { reason: 'test' }, status: 200 },
    { method: 'POST', path: `${MEMBER}/disable`, status: 200 },
    { method: 'POST', path: `${MEMBER}/enable`, status: 200 },
    {
      method: 'POST',
      path: `${MEMBER}/override`,
      body: { health: 'down', expiresIn: '1h' },
      status: 200,
    },
    { method: 'DELETE', path: `${MEMBER}/override`, status: 200 },
    {
      method: 'POST',
      path: '/api/v1/services/www.example.org/members/web/zz/drain',
      status: 404,
      code: 'STEERDNS_ERR_API_NO_MEMBER',
    },
    {
      method: 'GET',
      path: '/api/v1/explain?name=www.example.org&type=A&client=192.0.2.9',
      status: 200,
    },
    {
      method: 'GET',
      path: '/api/v1/explain?name=www.example.org&type=BAD',
      status: 400,
      code: 'STEERDNS_ERR_EXPLAIN',
    },
    { method: 'GET', path: PERSISTENCE, status: 200 },
    { method: 'GET', path: '/api/v1/agents', status: 200 },
    { method: 'GET', path: '/api/v1/decisions', status: 200 },
    { method: 'GET', path: '/api/v1/cluster', status: 404, code: 'STEERDNS_ERR_API_NOT_CLUSTERED' },
    { method: 'GET', path: '/api/v1/sites', status: 404, code: 'STEERDNS_ERR_API_NOT_A_SITE' },
    { method: 'POST', path: '/api/v1/reload', status: 200 },
    { method: 'DELETE', path: PERSISTENCE, status: 200 },
    { method: 'GET', path: PERSISTENCE, status: 404, code: 'STEERDNS_ERR_API_NO_ENTRY' },
  ];

describe('every /api/v1 endpoint', () => {
  for (const [i, e] of ENDPOINTS.entries()) {
    test(`${e.method} ${e.path}: no token 401, wrong token 401, right token ${e.status}`, async () => {
      const call = (token?: string, bearer = false): Promise<ApiReply> =>
        apiCall(api, e.path, {
          method: e.method,
          body: e.body,
          ...(token ? { token, bearer } : {}),
        });
      const missing = await call();
      assert.equal(missing.status, 401, missing.text);
      assert.equal(errorCode(missing), 'STEERDNS_ERR_API_TOKEN_MISSING');
      const wrong = await call(WRONG, i % 2 === 0);
      assert.equal(wrong.status, 401, wrong.text);
      assert.equal(errorCode(wrong), 'STEERDNS_ERR_API_TOKEN_WRONG');
      const right = await call(i % 3 === 0 ? ANONYMOUS_TOKEN : ALICE, i % 2 === 1);
      assert.equal(right.status, e.status, right.text);
      if (e.code) assert.equal(errorCode(right), e.code);
    });
  }
});

test('a path written with percent escapes needs the token too (auth goes by the route matched)', async () => {
  for (const [method, path] of [
    ['GET', '/%61pi/v1/services'],
    ['GET', '/api/v%31/services'],
    ['POST', '/api/v%31/services/www.example.org/members/web/a/drain'],
    ['GET', '/api/v1/services/www%2Eexample.org'],
  ] as const) {
    const reply = await apiCall(api, path, { method });
    assert.equal(reply.status, 401, `${method} ${path}: ${reply.text}`);
    assert.equal(errorCode(reply), 'STEERDNS_ERR_API_TOKEN_MISSING');
  }
  // A path that is no route is a 404, token or not.
  const unknown = await apiCall(api, '/api/v1/nothing-here');
  assert.equal(unknown.status, 404);
  assert.equal(errorCode(unknown), 'STEERDNS_ERR_API_NOT_FOUND');
});

test('a write is logged with the name of its token and the reason', async () => {
  // The drain (endpoint 4) went with alice's token; endpoint 0 with the unnamed one.
  const line = await server!.waitForLog(
    (entry) => entry?.['action'] === 'drain' && entry['reason'] === 'test',
  );
  assert.match(line, /"by":"alice"/);
});

test('GET /api/v1/services: services, pools, members with live state', async () => {
  const reply = await apiCall(api, '/api/v1/services', { token: ALICE });
  const body = reply.json as {
    services: { name: string; pools: { name: string; members: Record<string, unknown>[] }[] }[];
  };
  assert.deepEqual(
    body.services.map((s) => s.name),
    ['www.example.org.', 'sticky.example.org.'],
  );
  const a = body.services[0]!.pools[0]!.members[0]!;
  assert.equal(a['key'], 'www.example.org. web/a');
  assert.deepEqual(a['addresses'], ['192.0.2.1']);
  assert.equal(a['admin'], 'enabled');
  assert.equal(a['override'], null);
  assert.deepEqual(a['effective'], { up: null, admin: 'enabled' });
  assert.ok('shareLastMinute' in a);
});

test('no token needed: /healthz, /readyz, /openapi.json, /status, /explain, /metrics-less, /ui/', async () => {
  for (const path of [
    '/healthz',
    '/readyz',
    '/openapi.json',
    '/status',
    '/explain?name=www.example.org',
  ]) {
    const reply = await apiCall(api, path);
    assert.equal(reply.status, 200, `${path}: ${reply.text}`);
  }
  assert.deepEqual((await apiCall(api, '/readyz')).json, {
    ready: true,
    zones: true,
    health: true,
  });
  const ui = await apiCall(api, '/ui/');
  assert.equal(ui.status, 200);
  assert.match(String(ui.headers['content-type']), /^text\/html/);
  assert.match(ui.text, /<html/i);
  const redirect = await apiCall(api, '/ui');
  assert.equal(redirect.status, 301);
  assert.equal(redirect.headers['location'], '/ui/');
});

/** Sends a request line as written (no client normalises the path) and resolves the status. */
function rawStatus(target: Endpoint, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect(target.port, target.host, () => {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    });
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    socket.on('end', () => {
      resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0));
    });
    socket.on('error', reject);
    socket.setTimeout(10_000, () => socket.destroy(new Error(`no answer to ${path}`)));
  });
}

test('/ui/: no directory traversal, however the path is written', async () => {
  for (const path of [
    '/ui/../package.json',
    '/ui/%2e%2e/package.json',
    '/ui/%2E%2E%2Fpackage.json',
    '/ui/..%2fpackage.json',
    '/ui/%252e%252e/package.json',
    '/ui/..\\package.json',
    '/ui//etc/passwd',
    '/ui/.hidden',
    '/ui/index.html%00.txt',
  ]) {
    const status = await rawStatus(api, path);
    assert.ok(status === 404 || status === 400, `${path}: ${status}`);
  }
  assert.equal(await rawStatus(api, '/ui/index.html'), 200);
});

test('the OpenAPI document validates, and every GET route in it answers (with the token)', async () => {
  const document = (await apiCall(api, '/openapi.json')).json as {
    paths: Record<string, Record<string, { parameters?: { in: string; name: string }[] }>>;
  };
  const validator = new Validator();
  const result = await validator.validate(document);
  assert.equal(result.valid, true, JSON.stringify(result.errors));
  const fill: Record<string, string> = {
    service: 'www.example.org',
    pool: 'web',
    member: 'b',
    name: 'www.example.org',
    type: 'A',
    client: '192.0.2.9',
    ecs: '198.51.100.0/24',
    key: '127.0.0.1',
    '*': 'index.html',
  };
  let routes = 0;
  for (const [template, methods] of Object.entries(document.paths)) {
    const get = methods['get'];
    if (!get) continue;
    const path = template.replace(/\{([^}]+)\}/g, (_, name: string) => fill[name] ?? name);
    const queryString = (get.parameters ?? [])
      .filter((p) => p.in === 'query')
      .map(
        (p) =>
          `${p.name}=${encodeURIComponent(fill[p.name === 'service' ? 'service' : p.name] ?? 'x')}`,
      )
      .join('&');
    const url =
      path === '/api/v1/persistence'
        ? '/api/v1/persistence?service=sticky.example.org&key=x'
        : queryString
          ? `${path}?${queryString}`
          : path;
    const reply = await apiCall(api, url, { token: ALICE });
    const known404 = [
      'STEERDNS_ERR_API_NOT_CLUSTERED',
      'STEERDNS_ERR_API_NOT_A_SITE',
      'STEERDNS_ERR_API_NO_ENTRY',
    ];
    assert.ok(
      reply.status < 400 || (reply.status === 404 && known404.includes(errorCode(reply) ?? '')),
      `GET ${url}: ${reply.status} ${reply.text.slice(0, 200)}`,
    );
    routes++;
  }
  assert.ok(routes >= 10, `GET routes in the document: ${routes}`);
});

describe('a server without api.tokenFile', () => {
  let bare: ServerProcess | undefined;
  let bareDir = '';
  before(async () => {
    bareDir = await tmpdirWith({
      'steerdns.yaml': `workers: 1\napi: { listen: 127.0.0.1:0 }\n${ZONE}`,
    });
    bare = await startServer(['serve', '--config', join(bareDir, 'steerdns.yaml')]);
  });
  after(async () => {
    await bare?.stop();
    if (bareDir) await rm(bareDir, { recursive: true, force: true });
  });

  test('reads are allowed on loopback without a token', async () => {
    const reply = await apiCall(bare!.api!, '/api/v1/services');
    assert.equal(reply.status, 200, reply.text);
  });

  test('every write is refused (403), with or without a token', async () => {
    for (const token of [undefined, ALICE]) {
      for (const [method, path] of [
        ['POST', `${MEMBER}/drain`],
        ['POST', `${MEMBER}/enable`],
        ['DELETE', `${MEMBER}/override`],
        ['POST', '/api/v1/reload'],
      ] as const) {
        const reply = await apiCall(bare!.api!, path, { method, ...(token ? { token } : {}) });
        assert.equal(reply.status, 403, `${method} ${path}: ${reply.text}`);
        assert.equal(errorCode(reply), 'STEERDNS_ERR_API_WRITES_DISABLED');
      }
    }
  });
});
