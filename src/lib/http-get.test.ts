import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, mock, test } from 'node:test';
import { httpGet, HttpGetError, type HttpGetOptions } from './http-get.js';

/** Requests seen (method and path) and the connections still open. */
const seen: string[] = [];
const sockets = new Set<Socket>();

const routes: Record<string, (request: IncomingMessage, response: ServerResponse) => void> = {
  '/ok': (_q, r) => r.end('load 42'),
  '/fail': (_q, r) => {
    r.statusCode = 503;
    r.end('unavailable');
  },
  '/big': (_q, r) => r.end('x'.repeat(100_000)),
  // Streams forever: only a reader that stops can settle.
  '/endless': (_q, r) => {
    const more = (): void => {
      if (r.write('y'.repeat(1024))) setImmediate(more);
      else r.once('drain', more);
    };
    r.write('needle ');
    more();
    r.on('close', () => r.removeAllListeners('drain'));
  },
  '/cut': (_q, r) => {
    r.writeHead(200, { 'content-length': '1000' });
    r.write('partial');
    setImmediate(() => r.socket?.destroy());
  },
  '/reset': (q) => q.socket.destroy(),
  '/silent': () => undefined,
  '/echo': (q, r) => {
    r.setHeader('x-method', q.method ?? '');
    r.end(`${q.method ?? ''} ${q.headers.connection ?? ''}`);
  },
};

const server = createServer((request, response) => {
  seen.push(`${request.method ?? ''} ${request.url ?? ''}`);
  (routes[request.url ?? ''] ?? routes['/ok']!)(request, response);
});
server.on('connection', (socket: Socket) => {
  sockets.add(socket);
  socket.once('close', () => sockets.delete(socket));
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address() as AddressInfo;
// A port with nothing listening: bound once, then released (as the monitor contract does).
const closed = createServer();
await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
const closedPort = (closed.address() as AddressInfo).port;
await new Promise((resolve) => closed.close(resolve));
after(
  () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(resolve);
    }),
);

/** Waits, at most 2 s, until every connection to the test server has closed. */
async function noConnectionsLeft(row: string): Promise<void> {
  const deadline = Date.now() + 2000;
  while (sockets.size > 0) {
    if (Date.now() > deadline) throw new Error(`${row}: ${sockets.size} connection(s) still open`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const get = (path: string, options: Partial<HttpGetOptions> = {}, at = port) =>
  httpGet({ host: '127.0.0.1', port: at, path }, { tls: false, maxBodyBytes: 1024, ...options });

test('httpGet: status and the body read within bounds; nothing left open', async () => {
  const cases: {
    row: string;
    path: string;
    options?: Partial<HttpGetOptions>;
    status: number;
    body: string | RegExp;
  }[] = [
    { row: '200', path: '/ok', status: 200, body: 'load 42' },
    { row: 'any status, body read', path: '/fail', status: 503, body: 'unavailable' },
    {
      row: 'body not wanted for this status',
      path: '/fail',
      options: { readBody: (s) => s === 200 },
      status: 503,
      body: '',
    },
    { row: 'capped', path: '/big', status: 200, body: 'x'.repeat(1024) },
    {
      row: 'capped at 0',
      path: '/ok',
      options: { maxBodyBytes: 0 },
      status: 200,
      body: '',
    },
    {
      row: 'endless body: capped',
      path: '/endless',
      options: { maxBodyBytes: 4096 },
      status: 200,
      body: /^needle y{4089}$/,
    },
    {
      row: 'endless body: enough stops it early',
      path: '/endless',
      options: { maxBodyBytes: 1 << 20, enough: (b) => b.includes('needle') },
      status: 200,
      body: /^needle/,
    },
    { row: 'GET, no keep-alive', path: '/echo', status: 200, body: 'GET close' },
  ];
  for (const { row, path, options, status, body } of cases) {
    const response = await get(path, options);
    assert.equal(response.status, status, row);
    if (typeof body === 'string') assert.equal(response.body.toString(), body, row);
    else assert.match(response.body.toString(), body, row);
    await noConnectionsLeft(row);
  }
  const head = await httpGet(
    { host: '127.0.0.1', port, path: '/echo', method: 'HEAD' },
    { tls: false, maxBodyBytes: 64 },
  );
  assert.equal(head.status, 200, 'another method');
  assert.equal(head.headers['x-method'], 'HEAD', 'the headers');
  assert.equal(seen.at(-1), 'HEAD /echo');
});

test('httpGet: failures reject with a kind and the cause', async () => {
  const cases: {
    row: string;
    run: () => Promise<unknown>;
    kind: HttpGetError['kind'];
    message: RegExp;
    code?: string;
  }[] = [
    {
      row: 'refused',
      run: () => get('/ok', {}, closedPort),
      kind: 'failed',
      message: /^connect ECONNREFUSED 127\.0\.0\.1:\d+$/,
      code: 'ECONNREFUSED',
    },
    {
      row: 'connection closed before an answer',
      run: () => get('/reset'),
      kind: 'failed',
      message: /socket hang up/,
      code: 'ECONNRESET',
    },
    {
      row: 'connection closed in the body',
      run: () => get('/cut'),
      kind: 'failed',
      message: /^aborted$/,
      code: 'ECONNRESET',
    },
    {
      row: 'bad options',
      run: () =>
        httpGet(
          { host: '127.0.0.1', port, headers: { 'x-bad': 'a\nb' } },
          { tls: false, maxBodyBytes: 1 },
        ),
      kind: 'failed',
      message: /Invalid character in header content/,
      code: 'ERR_INVALID_CHAR',
    },
    {
      row: 'tls to a plain http server',
      run: () =>
        httpGet(
          { host: '127.0.0.1', port, path: '/ok', rejectUnauthorized: false },
          { tls: true, maxBodyBytes: 1 },
        ),
      kind: 'failed',
      message: /./,
    },
    {
      row: 'already aborted',
      run: () => get('/ok', { signal: AbortSignal.abort() }),
      kind: 'aborted',
      message: /^aborted$/,
    },
  ];
  for (const { row, run, kind, message, code } of cases) {
    const error = await run().then(
      () => assert.fail(`${row}: resolved`),
      (e: unknown) => e,
    );
    assert.ok(error instanceof HttpGetError, `${row}: ${String(error)}`);
    assert.equal(error.kind, kind, row);
    assert.match(error.message, message, row);
    if (code !== undefined) assert.equal((error.cause as { code?: string }).code, code, row);
    assert.equal(error.tls, row.startsWith('tls'), `${row}: tls`);
    await noConnectionsLeft(row);
  }
});

test('httpGet: an abort or a timeout ends a request that gets no answer', async (t) => {
  const controller = new AbortController();
  const aborted = get('/silent', { signal: controller.signal });
  await until(() => seen.at(-1) === 'GET /silent', 'the request reached the server');
  controller.abort();
  await assert.rejects(aborted, (e) => e instanceof HttpGetError && e.kind === 'aborted');
  await noConnectionsLeft('aborted');

  mock.timers.enable({ apis: ['setTimeout'] });
  t.after(() => {
    mock.timers.reset();
  });
  seen.length = 0;
  const slow = get('/silent', { timeoutMs: 1000 });
  let settled = false;
  void slow.catch(() => (settled = true));
  await until(() => seen.at(-1) === 'GET /silent', 'the request reached the server');
  mock.timers.tick(999);
  await new Promise((r) => setImmediate(r));
  assert.equal(settled, false, 'not given up before it is due');
  mock.timers.tick(1);
  await assert.rejects(slow, (e) => e instanceof HttpGetError && e.kind === 'timeout');
  mock.timers.reset();
  await noConnectionsLeft('timeout');
});

/** Waits for `condition` on the event loop (no timers, so that mocked ones do not matter). */
async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 2000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not within 2 s: ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}
