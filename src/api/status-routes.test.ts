import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { ExplainError, type ExplainRequest, type QueryExplanation } from '../answer/explain.js';
import type { MemberStatus } from '../server/member-status.js';
import { startStatusApi } from './bare.js';
import type { ApiServer as StatusApi } from './server.js';

const log = pino({ level: 'silent' });

const ROW: MemberStatus = {
  service: 'www.example.org.',
  member: 'main/a',
  addresses: ['192.0.2.1'],
  state: 'down',
  since: undefined,
  check: 'tcp:192.0.2.1:80:0123456789ab',
  last: 'connect ECONNREFUSED',
  averageMs: undefined,
  resets: undefined,
  abnormal: undefined,
  load: undefined,
  connections: undefined,
  admin: 'enabled',
};

const explanationFor = (request: ExplainRequest): QueryExplanation => ({
  kind: 'steered',
  name: request.name,
  type: request.type ?? 'A',
  client: request.client ?? '127.0.0.1',
  ecs: request.ecs,
  rcode: 'NOERROR',
  answers: ['192.0.2.2'],
  ttl: 30,
  scope: 0,
  pool: 'main',
  allDown: false,
  steps: [{ pool: 'main', policy: 'up', kept: ['main/b'], dropped: ['main/a'], notes: [] }],
  notes: [],
});

/** Explains like a server would: rejects type BAD, throws for name boom.example.org. */
const seen: ExplainRequest[] = [];
function explain(request: ExplainRequest): QueryExplanation | ExplainError {
  seen.push(request);
  if (request.name === 'boom.example.org') throw new Error('a bug');
  if (request.type === 'BAD') return new ExplainError('unknown type "BAD"');
  return explanationFor(request);
}

let api: StatusApi;
let base = '';

before(async () => {
  api = await startStatusApi({ host: '127.0.0.1', port: 0 }, () => [ROW], log, explain);
  base = `http://127.0.0.1:${api.listen.port}`;
});
after(() => api.close());

test('listen holds the bound address, not port 0', () => {
  assert.equal(api.listen.host, '127.0.0.1');
  assert.ok(api.listen.port > 0, `port ${api.listen.port}`);
});

describe('GET /explain', () => {
  const rows: {
    why: string;
    query: string;
    status: number;
    request?: ExplainRequest;
    error?: RegExp;
    code?: string;
  }[] = [
    {
      why: 'a name alone',
      query: '?name=www.example.org',
      status: 200,
      request: { name: 'www.example.org' },
    },
    {
      why: 'every parameter',
      query: '?name=www.example.org&type=AAAA&client=192.0.2.9&ecs=198.51.100.0%2F24',
      status: 200,
      request: {
        name: 'www.example.org',
        type: 'AAAA',
        client: '192.0.2.9',
        ecs: '198.51.100.0/24',
      },
    },
    { why: 'no name', query: '?type=A', status: 400, error: /"name" is required/ },
    { why: 'an empty name', query: '?name=', status: 400, error: /"name" is required/ },
    {
      why: 'an unknown parameter',
      query: '?name=a&qtype=A',
      status: 400,
      error: /unknown parameter "qtype"/,
    },
    { why: 'a parameter twice', query: '?name=a&name=b', status: 400, error: /"name" given twice/ },
    {
      why: 'an ExplainError from the callback keeps its code and message',
      query: '?name=www.example.org&type=BAD',
      status: 400,
      error: /^unknown type "BAD"$/,
      code: 'STEERDNS_ERR_EXPLAIN',
    },
    {
      why: 'a thrown error is a 500',
      query: '?name=boom.example.org',
      status: 500,
      error: /internal error/,
    },
  ];
  for (const row of rows) {
    test(row.why, async () => {
      seen.length = 0;
      const response = await fetch(`${base}/explain${row.query}`);
      assert.equal(response.status, row.status);
      assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
      const body = (await response.json()) as {
        explanation?: QueryExplanation;
        error?: { code: string; message: string };
      };
      if (row.request) {
        assert.deepEqual(seen, [row.request]);
        assert.deepEqual(body.explanation, JSON.parse(JSON.stringify(explanationFor(row.request))));
      } else {
        assert.equal(body.explanation, undefined);
        assert.match(body.error?.message ?? '', row.error!);
        assert.match(
          body.error?.code ?? '',
          row.code ? new RegExp(`^${row.code}$`) : /^STEERDNS_ERR_/,
        );
      }
    });
  }
});

describe('paths and methods', () => {
  const rows = [
    { why: 'status', path: '/status', method: 'GET', status: 200 },
    { why: 'status, HEAD', path: '/status', method: 'HEAD', status: 200 },
    { why: 'status with a query string', path: '/status?x=1', method: 'GET', status: 200 },
    { why: 'explain, POST', path: '/explain?name=a', method: 'POST', status: 405 },
    { why: 'status, DELETE', path: '/status', method: 'DELETE', status: 405 },
    { why: 'elsewhere', path: '/explain/more', method: 'GET', status: 404 },
    { why: 'the root', path: '/', method: 'GET', status: 404 },
  ];
  for (const row of rows) {
    test(`${row.why}: ${row.status}`, async () => {
      const response = await fetch(`${base}${row.path}`, { method: row.method });
      assert.equal(response.status, row.status);
      if (row.status === 200 && row.method === 'GET')
        assert.deepEqual(await response.json(), JSON.parse(JSON.stringify({ members: [ROW] })));
      else await response.arrayBuffer();
    });
  }
});

test('without an explain callback, /explain is 501 with a JSON error', async () => {
  const bare = await startStatusApi({ host: '127.0.0.1', port: 0 }, () => [], log);
  try {
    const response = await fetch(`http://127.0.0.1:${bare.listen.port}/explain?name=a`);
    assert.equal(response.status, 501);
    const body = (await response.json()) as { error: { code: string } };
    assert.equal(body.error.code, 'STEERDNS_ERR_EXPLAIN_UNAVAILABLE');
  } finally {
    await bare.close();
  }
});
