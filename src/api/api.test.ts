import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { request as httpsRequest } from 'node:https';
import { promisify } from 'node:util';
import { mkdtemp, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { parseTokenFile, tokenDigest } from '../config/compile-api.js';
import { parseConfig } from '../config/load.js';
import { ControlNode } from '../control/node.js';
import { loadZones } from '../server/load-zones.js';
import { serviceNames } from '../server/load-services.js';
import { authorize, isLoopbackHost, matchToken, presentedToken } from './auth.js';
import { startApiConsumer } from './consumer.js';
import { startApiServer } from './server.js';
import { ApiError } from './errors.js';
import { parseStateFile } from './override-file.js';
import { decisionsOf, DecisionWindow, shareOf } from './shares.js';
import { staticFile } from './ui.js';

const log = pino({ level: 'silent' });

describe('token files', () => {
  test('NAME SECRET and SECRET lines, comments and blank lines', () => {
    const { tokens, problems } = parseTokenFile(
      '# ops\nalice 0123456789abcdef\n\n  fedcba9876543210fedc  # CI\n',
      'api.tokens',
    );
    assert.deepEqual(problems, []);
    assert.deepEqual(tokens, [
      { name: 'alice', digest: tokenDigest('0123456789abcdef') },
      { name: 'line-4', digest: tokenDigest('fedcba9876543210fedc') },
    ]);
  });

  test('every bad line is a problem at its line', () => {
    const { problems } = parseTokenFile(
      'alice short\nbob 0123456789abcdef extra\nalice 0123456789abcdef\nalice 0123456789abcdeg\n-x 0123456789abcdef\n',
      'api.tokens',
    );
    assert.deepEqual(
      problems.map((p) => [p.line, p.reason.replace(/;.*/, '')]),
      [
        [1, 'the secret of token "alice" has 5 bytes, at least 16 needed'],
        [2, 'expected SECRET or NAME SECRET'],
        [4, 'token name "alice" again (first at line 3)'],
        [5, 'token name "-x": 1-64 of A-Z a-z 0-9 . _ @ -, starting with a letter or digit'],
      ],
    );
  });

  test('a file without a token is a problem', () => {
    assert.equal(parseTokenFile('# nothing\n', 'f').problems[0]?.reason, 'no token in the file');
  });

  test('the configuration names the token file line of a short secret', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'steerdns-api-'));
    try {
      await writeFile(join(dir, 'tokens'), 'ok 0123456789abcdef\nbad tooshort\n');
      assert.throws(
        () =>
          parseConfig(
            `api: { listen: 127.0.0.1:0, tokenFile: tokens }\n${CONFIG.replace(/^api:.*$/m, '')}`,
            join(dir, 'c.yaml'),
          ),
        (error: Error) =>
          error.message.includes(`${join(dir, 'tokens')}:2: the secret of token "bad"`),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('auth', () => {
  const tokens = [
    { name: 'alice', digest: tokenDigest('alice-secret-0123') },
    { name: 'bob', digest: tokenDigest('bob-secret-456789') },
  ];
  test('X-API-Key or Bearer', () => {
    assert.equal(presentedToken({ 'x-api-key': 'k1' }), 'k1');
    assert.equal(presentedToken({ authorization: 'Bearer k2' }), 'k2');
    assert.equal(presentedToken({ authorization: 'bearer   k3 ' }), 'k3');
    assert.equal(presentedToken({ authorization: 'Basic a2V5' }), undefined);
    assert.equal(presentedToken({}), undefined);
  });
  test('matches by digest, every token compared', () => {
    assert.equal(matchToken(tokens, 'bob-secret-456789')?.name, 'bob');
    assert.equal(matchToken(tokens, 'bob-secret-45678'), undefined);
    assert.equal(matchToken(tokens, ''), undefined);
  });
  test('codes: missing, wrong, no token file', () => {
    const code = (f: () => unknown): string => {
      try {
        f();
      } catch (error) {
        return (error as ApiError).code;
      }
      return 'none';
    };
    assert.equal(
      code(() => authorize({}, tokens, 'read', true)),
      'STEERDNS_ERR_API_TOKEN_MISSING',
    );
    assert.equal(
      code(() => authorize({ 'x-api-key': 'nope-nope-nope-nope' }, tokens, 'read', true)),
      'STEERDNS_ERR_API_TOKEN_WRONG',
    );
    assert.equal(
      authorize({ 'x-api-key': 'alice-secret-0123' }, tokens, 'write', false).name,
      'alice',
    );
    assert.equal(authorize({}, undefined, 'read', true).name, 'anonymous');
    assert.equal(
      code(() => authorize({}, undefined, 'read', false)),
      'STEERDNS_ERR_API_READS_DISABLED',
    );
    assert.equal(
      code(() => authorize({}, undefined, 'write', true)),
      'STEERDNS_ERR_API_WRITES_DISABLED',
    );
  });
  test('loopback hosts', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', 'localhost', '::ffff:127.0.0.1'])
      assert.ok(isLoopbackHost(host), host);
    for (const host of ['0.0.0.0', '::', '192.0.2.1', '2001:db8::1'])
      assert.ok(!isLoopbackHost(host), host);
  });
});

describe('decision shares', () => {
  test('the difference over the last window, per service', () => {
    let now = 0;
    const totals = new Map([
      ['s. p/a', 100],
      ['s. p/b', 100],
    ]);
    const window = new DecisionWindow(
      () => totals,
      60_000,
      1_000_000,
      () => now,
    );
    try {
      totals.set('s. p/a', 130).set('s. p/b', 110);
      const decisions = window.decisions();
      const total = decisionsOf(decisions, ['s. p/a', 's. p/b']);
      assert.equal(total, 40);
      assert.equal(shareOf(decisions, 's. p/a', total), 0.75);
      assert.equal(shareOf(decisions, 's. p/b', total), 0.25);
      assert.equal(
        shareOf(decisions, 's. p/c', decisionsOf(decisions, ['s. p/c'])),
        0,
        'no decision: 0',
      );
      assert.equal(shareOf(undefined, 's. p/a', 0), null, 'no totals: null');
      now = 1000;
    } finally {
      window.stop();
    }
  });
});

describe('the state file', () => {
  test('expired and malformed overrides are dropped', () => {
    const now = 1_000_000;
    const { overrides, dropped } = parseStateFile(
      JSON.stringify({
        version: 1,
        overrides: {
          'a. p/x': { admin: 'draining', by: 'alice' },
          'a. p/y': { health: 'down', until: now - 1 },
          'a. p/z': { health: 'sideways' },
          'a. p/w': { health: 'down', until: now + 1000, reason: 'r' },
        },
      }),
      now,
    );
    assert.deepEqual([...overrides.keys()], ['a. p/x', 'a. p/w']);
    assert.deepEqual(dropped, ['a. p/y: expired', 'a. p/z: not an override']);
    assert.match(parseStateFile('{', now).problem ?? '', /^not JSON/);
  });
});

describe('dashboard files', () => {
  test('only files inside the folder', async () => {
    const base = await mkdtemp(join(tmpdir(), 'steerdns-ui-'));
    try {
      const root = join(base, 'ui');
      await mkdir(join(root, 'css'), { recursive: true });
      await writeFile(join(root, 'index.html'), '<html>');
      await writeFile(join(root, 'css', 'a.css'), 'a{}');
      await writeFile(join(base, 'secret'), 'no');
      await symlink(join(base, 'secret'), join(root, 'link'));
      assert.equal(await staticFile(root, ''), join(root, 'index.html'));
      assert.equal(await staticFile(root, 'css/a.css'), join(root, 'css', 'a.css'));
      for (const rest of [
        '../secret',
        '%2e%2e/secret',
        'link',
        'css',
        'css/',
        '.x',
        'a\\b',
        '%00',
        'missing',
      ])
        assert.equal(await staticFile(root, rest), undefined, rest);
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  });
});

const CONFIG = `
api: { listen: 127.0.0.1:0, tokenFile: tokens, stateFile: state/overrides.json }
zones:
  - origin: example.org
    ttl: 3600
    records: |
      @ IN SOA ns1 hostmaster 1 7200 3600 1209600 300
      @ IN NS ns1
      ns1 IN A 192.0.2.53
services:
  - name: www.example.org
    pools:
      - name: web
        members:
          - { name: a, address: 192.0.2.1 }
          - { name: b, address: 192.0.2.2 }
`;

test('the consumer: shares from the decision totals, overrides in the state file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'steerdns-api-'));
  await writeFile(join(dir, 'tokens'), 't 0123456789abcdef0123\n');
  const compiled = parseConfig(CONFIG, join(dir, 'c.yaml'));
  const { zones } = await loadZones(compiled.zones, serviceNames(compiled));
  const node = new ControlNode(compiled, zones);
  const totals = new Map([
    ['www.example.org. web/a', 10],
    ['www.example.org. web/b', 0],
  ]);
  const api = await startApiConsumer(node, log, { decisionTotals: () => totals });
  try {
    totals.set('www.example.org. web/a', 13).set('www.example.org. web/b', 1);
    const base = `http://${api.bound()!}`;
    const headers = { 'x-api-key': '0123456789abcdef0123' };
    const services = (await (await fetch(`${base}/api/v1/services`, { headers })).json()) as {
      services: { pools: { members: { shareLastMinute: number }[] }[] }[];
    };
    assert.deepEqual(
      services.services[0]!.pools[0]!.members.map((m) => m.shareLastMinute),
      [0.75, 0.25],
    );
    const drained = await fetch(`${base}/api/v1/services/www.example.org/members/web/b/drain`, {
      method: 'POST',
      headers,
    });
    assert.equal(drained.status, 200);
    const state = JSON.parse(await readFile(join(dir, 'state', 'overrides.json'), 'utf8')) as {
      overrides: Record<string, { admin: string; by: string }>;
    };
    assert.deepEqual(
      {
        admin: state.overrides['www.example.org. web/b']?.admin,
        by: state.overrides['www.example.org. web/b']?.by,
      },
      { admin: 'draining', by: 't' },
    );
    assert.equal(node.snapshot().state.member('www.example.org. web/b').admin, 'draining');
  } finally {
    await api.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test('/metrics: no token by default; with api.metricsAuth the token is needed', async () => {
  let metricsAuth = false;
  const metrics = {
    contentType: 'text/plain; version=0.0.4',
    text: () => Promise.resolve('up 1\n'),
  };
  const server = await startApiServer(
    {
      log,
      settings: () => ({
        listen: { host: '127.0.0.1', port: 0 },
        tokens: [{ name: 'prom', digest: tokenDigest('prometheus-secret-01') }],
        tls: undefined,
        stateFile: '/nonexistent/state.json',
        metricsAuth,
      }),
      status: () => ({ members: [] }),
      metrics,
    },
    { host: '127.0.0.1', port: 0 },
  );
  try {
    const url = `http://127.0.0.1:${server.listen.port}/metrics`;
    const open = await fetch(url);
    assert.equal(open.status, 200);
    assert.equal(open.headers.get('content-type'), 'text/plain; version=0.0.4');
    assert.equal(await open.text(), 'up 1\n');
    metricsAuth = true;
    const refused = await fetch(url);
    assert.equal(refused.status, 401);
    assert.equal(
      ((await refused.json()) as { error: { code: string } }).error.code,
      'STEERDNS_ERR_API_TOKEN_MISSING',
    );
    const allowed = await fetch(url, { headers: { authorization: 'Bearer prometheus-secret-01' } });
    assert.equal(allowed.status, 200);
    assert.equal(await allowed.text(), 'up 1\n');
  } finally {
    await server.close();
  }
});

test('the consumer: an api: section added by a reload serves /api/v1 with the node behind it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'steerdns-api-'));
  await writeFile(join(dir, 'tokens'), 't 0123456789abcdef0123\n');
  const without = parseConfig(CONFIG.replace(/^api:.*$/m, ''), join(dir, 'c.yaml'));
  const { zones } = await loadZones(without.zones, serviceNames(without));
  const node = new ControlNode(without, zones);
  const api = await startApiConsumer(node, log);
  try {
    assert.equal(api.bound(), undefined);
    const withApi = parseConfig(CONFIG, join(dir, 'c.yaml'));
    assert.deepEqual(await node.publish({ kind: 'config', config: withApi, zones }), []);
    const bound = api.bound();
    assert.ok(bound !== undefined);
    const reply = await fetch(`http://${bound}/api/v1/services`, {
      headers: { 'x-api-key': '0123456789abcdef0123' },
    });
    assert.equal(reply.status, 200);
  } finally {
    await api.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test('every error code of the interface is in docs/errors.md', async () => {
  const { API_ERRORS } = await import('./errors.js');
  const docs = await readFile(join(import.meta.dirname, '..', '..', 'docs', 'errors.md'), 'utf8');
  const codes = [
    ...Object.keys(API_ERRORS),
    'STEERDNS_ERR_API_STATE_FILE',
    'STEERDNS_ERR_API_CLIENT',
  ];
  for (const code of codes)
    assert.ok(docs.includes(`| \`${code}\``), `${code} is not in docs/errors.md`);
});

test('the consumer: new TLS files on the address it holds rebind it there (old listener first)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'steerdns-api-'));
  try {
    await writeFile(join(dir, 'tokens'), 't 0123456789abcdef0123\n');
    await promisify(execFile)(
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
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        join(dir, 'k.pem'),
        '-out',
        join(dir, 'c.pem'),
      ],
      { timeout: 30_000 },
    );
    const plain = parseConfig(CONFIG, join(dir, 'c.yaml'));
    const { zones } = await loadZones(plain.zones, serviceNames(plain));
    const node = new ControlNode(plain, zones);
    const api = await startApiConsumer(node, log);
    try {
      const port = Number(api.bound()!.split(':')[1]);
      const withTls = parseConfig(
        CONFIG.replace(
          'listen: 127.0.0.1:0,',
          `listen: '127.0.0.1:${port}', tls: { cert: c.pem, key: k.pem },`,
        ),
        join(dir, 'c.yaml'),
      );
      assert.deepEqual(await node.publish({ kind: 'config', config: withTls, zones }), []);
      assert.equal(api.bound(), `127.0.0.1:${port}`);
      const ca = await readFile(join(dir, 'c.pem'), 'utf8');
      const status = await new Promise<number>((resolve, reject) => {
        const req = httpsRequest(
          { host: '127.0.0.1', port, path: '/healthz', ca, agent: false },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        req.end();
      });
      assert.equal(status, 200);
    } finally {
      await api.stop();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
