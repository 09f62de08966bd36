import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mock, test, type TestContext } from 'node:test';
import { runCommand } from './command.js';
import {
  clampPercent,
  countEstablished,
  cpuBusyPercent,
  createConnectionMeter,
  createLoadMeter,
  fetchText,
  firstNumber,
  isLoadUrl,
  MAX_BODY,
  parseProcStat,
} from './metrics.js';

// Captured from a Linux host serving on 8080, trimmed to the columns that matter at the end.
const PROC_NET_TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 41234 1 0000000000000000 100 0 0 10 0
   1: 0100007F:0035 00000000:0000 0A 00000000:00000000 00:00000000 00000000   101        0 21817 1 0000000000000000 100 0 0 10 5
   2: 0A00020F:1F90 0100020A:D431 01 00000000:00000000 02:000A3E8C 00000000  1000        0 52111 2 0000000000000000 20 4 30 10 -1
   3: 0A00020F:1F90 0200020A:B8F2 01 00000000:00000000 02:000A3E8C 00000000  1000        0 52112 2 0000000000000000 20 4 30 10 -1
   4: 0A00020F:1F90 0300020A:9C01 06 00000000:00000000 03:00001769 00000000     0        0 0 3 0000000000000000
   5: 0A00020F:1F90 0400020A:E8A0 08 00000000:00000000 00:00000000 00000000  1000        0 52119 1 0000000000000000 20 4 1 10 -1
   6: 0A00020F:0016 0500020A:C350 01 00000000:00000000 02:0008F3B1 00000000     0        0 33007 4 0000000000000000 20 4 31 10 -1
   7: 0A00020F:D431 0100020A:1F90 01 00000000:00000000 02:000A3E8C 00000000  1000        0 52120 2 0000000000000000 20 4 30 10 -1
`;
const PROC_NET_TCP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 41235 1 0000000000000000 100 0 0 10 0
   1: 0000000000000000FFFF00000A00020F:1F90 0000000000000000FFFF00000600020A:C001 01 00000000:00000000 02:000A3E8C 00000000  1000        0 52130 2 0000000000000000 20 4 30 10 -1
   2: B80D0120000000000000000010000000:1F91 B80D0120000000000000000020000000:C002 01 00000000:00000000 02:000A3E8C 00000000  1000        0 52131 2 0000000000000000 20 4 30 10 -1
`;

// Two reads of /proc/stat one second apart on a 2-CPU host.
const STAT_BEFORE = `cpu  338434 0 172600 2026956 1101 0 50590 972 0 0
cpu0 173550 0 102650 997047 125 0 23443 377 0 0
cpu1 164884 0 69949 1029909 975 0 27146 594 0 0
intr 123456 0 0
ctxt 987654
`;
const STAT_AFTER = `cpu  338484 0 172630 2027046 1111 0 50600 982 5 0
cpu0 173575 0 102645 997091 130 0 23448 382 0 0
cpu1 164909 0 69985 1029955 981 0 27152 600 0 0
`;

test('ESTABLISHED sockets on the given local ports are counted, IPv4 and IPv6', () => {
  const cases: { ports: number[]; v4: number; v6: number }[] = [
    { ports: [8080], v4: 2, v6: 1 }, // not LISTEN (0A), TIME_WAIT (06), FIN_WAIT2 (08), remote 8080
    { ports: [22], v4: 1, v6: 0 },
    { ports: [8080, 8081, 22], v4: 3, v6: 2 },
    { ports: [53], v4: 0, v6: 0 }, // listening only
    { ports: [], v4: 0, v6: 0 },
  ];
  for (const { ports, v4, v6 } of cases) {
    const set = new Set(ports);
    assert.equal(countEstablished(PROC_NET_TCP, set), v4, `tcp ${ports.join(',')}`);
    assert.equal(countEstablished(PROC_NET_TCP6, set), v6, `tcp6 ${ports.join(',')}`);
  }
  assert.equal(countEstablished('', new Set([8080])), 0);
});

test('CPU busy % comes from the difference of two /proc/stat reads', () => {
  const before = parseProcStat(STAT_BEFORE);
  const after = parseProcStat(STAT_AFTER);
  // total = user..steal; busy = total - idle - iowait.
  assert.deepEqual(before, { busy: 562596, total: 2590653 });
  assert.deepEqual(after, { busy: 562696, total: 2590853 });
  assert.equal(cpuBusyPercent(before, after), 50);
  assert.equal(cpuBusyPercent(after, after), undefined, 'no tick passed');
  assert.equal(cpuBusyPercent(after, before), undefined, 'counters went back');
  for (const bad of ['', 'intr 1 2 3', 'cpu  a b c d', 'cpu  1 2']) {
    assert.equal(parseProcStat(bad), undefined, JSON.stringify(bad));
  }
});

test('numbers in command output', () => {
  const cases: [string, number | undefined][] = [
    ['42\n', 42],
    ['load: 37.5% (4 cpus)', 37.5],
    ['-3', -3],
    ['1e2', 100],
    ['.5', 0.5],
    ['none', undefined],
    ['', undefined],
  ];
  for (const [text, want] of cases) assert.equal(firstNumber(text), want, JSON.stringify(text));
  assert.deepEqual([-5, 0, 33.333, 100, 250].map(clampPercent), [0, 0, 33.3, 100, 100]);
});

test('the load meter reads /proc/stat; its first call uses the load average', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'steerdns-proc-'));
  t.after(() => {
    rmSync(root, { recursive: true, force: true });
  });
  const signal = new AbortController().signal;
  const meter = createLoadMeter({ timeoutMs: 1000, procRoot: root });
  writeFileSync(join(root, 'stat'), STAT_BEFORE);
  const first = await meter(signal);
  assert.ok(first >= 0 && first <= 100);
  writeFileSync(join(root, 'stat'), STAT_AFTER);
  assert.equal(await meter(signal), 50);
  assert.equal(await meter(signal), 50, 'no tick since: the previous figure');
  writeFileSync(join(root, 'stat'), 'intr 1\n');
  await assert.rejects(meter(signal), /no cpu line/);
  const noProc = createLoadMeter({ timeoutMs: 1000, procRoot: join(root, 'absent') });
  const fallback = await noProc(signal);
  assert.ok(fallback >= 0 && fallback <= 100);
});

test('the connection meter reads /proc/net/tcp and tcp6', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'steerdns-proc-'));
  t.after(() => {
    rmSync(root, { recursive: true, force: true });
  });
  const signal = new AbortController().signal;
  assert.equal(createConnectionMeter({ timeoutMs: 1000, procRoot: root }), undefined);
  const meter = createConnectionMeter({ ports: [8080], timeoutMs: 1000, procRoot: root })!;
  await assert.rejects(meter(signal), /net\/tcp: not found/);
  mkdirSync(join(root, 'net'));
  writeFileSync(join(root, 'net', 'tcp'), PROC_NET_TCP);
  assert.equal(await meter(signal), 2, 'no tcp6: IPv4 only');
  writeFileSync(join(root, 'net', 'tcp6'), PROC_NET_TCP6);
  assert.equal(await meter(signal), 3);
});

test('commands: the first number printed, clamped, and short failure reasons', async () => {
  const signal = new AbortController().signal;
  const load = (command: string): Promise<number> =>
    createLoadMeter({ command, timeoutMs: 5000 })(signal);
  const connections = (command: string): Promise<number> =>
    createConnectionMeter({ command, timeoutMs: 5000 })!(signal);
  assert.equal(await load('echo 42.5'), 42.5);
  assert.equal(await load('printf "cpu 250%%"'), 100);
  assert.equal(await load('echo -7'), 0);
  assert.equal(await connections('echo 12.6'), 13);
  assert.equal(await connections('echo -2'), 0);
  await assert.rejects(load('echo none'), /^Error: no number in the output$/);
  await assert.rejects(load('echo 50; exit 3'), /^Error: exit 3$/);
  await assert.rejects(connections('kill -SEGV $$'), /^Error: signal SIGSEGV$/);
  await assert.rejects(load('exec /nonexistent/x'), /^Error: exit 127$/);
});

test('a command is killed with what it started: on exit, on timeout, on abort', async (t) => {
  const started = Date.now();
  // Without the group kill, the background sleep would hold the pipe open for 30 s.
  assert.equal(await runCommand('sleep 30 & echo 5', { timeoutMs: 20_000 }), '5\n');
  assert.ok(Date.now() - started < 10_000);

  const controller = new AbortController();
  const aborted = runCommand('sleep 30', { timeoutMs: 20_000, signal: controller.signal });
  controller.abort();
  await assert.rejects(aborted, /^Error: aborted$/);
  await assert.rejects(
    runCommand('echo 1', { timeoutMs: 1000, signal: controller.signal }),
    /aborted/,
  );

  mock.timers.enable({ apis: ['setTimeout'] });
  t.after(() => {
    mock.timers.reset();
  });
  const slow = runCommand('sleep 30', { timeoutMs: 1000 });
  mock.timers.tick(1000);
  await assert.rejects(slow, /^Error: timeout$/);
});

interface LoadServer {
  readonly url: string;
  /** Requests seen: method and path. */
  readonly requests: string[];
  /** Connections still open. */
  readonly open: () => number;
}

/** An HTTP(S) server on 127.0.0.1 (port 0) answering with `handler`; closed after the test. */
async function loadServer(
  t: TestContext,
  handler: (request: IncomingMessage, response: ServerResponse) => void,
  tls?: { key: string; cert: string },
): Promise<LoadServer> {
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  const listener = (request: IncomingMessage, response: ServerResponse): void => {
    requests.push(`${request.method ?? ''} ${request.url ?? ''}`);
    handler(request, response);
  };
  const server: Server = tls ? createHttpsServer(tls, listener) : createServer(listener);
  server.on(tls ? 'secureConnection' : 'connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  );
  const { port } = server.address() as AddressInfo;
  return {
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    requests,
    open: () => sockets.size,
  };
}

const until = async (condition: () => boolean, ms = 2000): Promise<void> => {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

test('load URLs: http and https only', () => {
  for (const good of [
    'http://127.0.0.1:8080/load',
    'https://lb.example.net/x?y=1',
    'http://[::1]/',
  ]) {
    assert.ok(isLoadUrl(good), good);
  }
  for (const bad of ['ftp://127.0.0.1/', 'file:///proc/loadavg', '127.0.0.1:8080', 'http://', '']) {
    assert.ok(!isLoadUrl(bad), bad);
  }
  assert.throws(
    () => createLoadMeter({ command: 'echo 1', url: 'http://127.0.0.1/', timeoutMs: 1000 }),
    /not both/,
  );
});

test('a load URL: GET, the first number in the body, clamped; nothing left open', async (t) => {
  const bodies = ['42.5\n', '{"load": 250, "cpus": 4}', 'load: -3 %', 'x'.repeat(MAX_BODY) + ' 7'];
  const server = await loadServer(t, (_request, response) => {
    response.end(bodies.shift() ?? '');
  });
  const meter = createLoadMeter({ url: `${server.url}/load?node=web-1`, timeoutMs: 5000 });
  const signal = new AbortController().signal;
  assert.equal(await meter(signal), 42.5);
  assert.equal(await meter(signal), 100);
  assert.equal(await meter(signal), 0);
  // Only the first 64 KiB are read: the number after them is not seen.
  await assert.rejects(meter(signal), /^Error: no number in the body$/);
  await assert.rejects(meter(signal), /^Error: no number in the body$/, 'empty body');
  assert.deepEqual(server.requests, Array(5).fill('GET /load?node=web-1'));
  await until(() => server.open() === 0); // no keep-alive: each request's connection closes
});

test('a load URL that fails: status, refused, timeout, abort', async (t) => {
  const held: ServerResponse[] = [];
  const server = await loadServer(t, (request, response) => {
    if (request.url === '/down') {
      response.statusCode = 503;
      response.end('50');
    } else if (request.url === '/moved') {
      response.writeHead(302, { location: '/load' }).end();
    } else held.push(response); // never answered
  });
  const meter = (path: string, timeoutMs = 5000) =>
    createLoadMeter({ url: server.url + path, timeoutMs });
  const signal = new AbortController().signal;
  await assert.rejects(meter('/down')(signal), /^Error: HTTP 503$/);
  await assert.rejects(meter('/moved')(signal), /^Error: HTTP 302$/, 'redirects are not followed');

  const started = Date.now();
  await assert.rejects(meter('/slow', 300)(signal), /^Error: timeout$/);
  const took = Date.now() - started;
  assert.ok(took >= 290 && took < 3000, `gave up after ${took} ms`);

  const controller = new AbortController();
  const aborted = meter('/slow')(controller.signal);
  await until(() => held.length === 2);
  controller.abort();
  await assert.rejects(aborted, /^Error: aborted$/);
  await assert.rejects(meter('/load')(controller.signal), /^Error: aborted$/, 'aborted already');
  await until(() => server.open() === 0);

  // A port nobody listens on (taken from a server that is closed again).
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const { port } = closed.address() as AddressInfo;
  await new Promise((resolve) => closed.close(resolve));
  await assert.rejects(
    createLoadMeter({ url: `http://127.0.0.1:${port}/`, timeoutMs: 5000 })(signal),
    new RegExp(`^Error: connect ECONNREFUSED 127\\.0\\.0\\.1:${port}$`),
  );
});

test('an https load URL: the certificate is verified', async (t) => {
  let tls: { key: string; cert: string };
  const dir = mkdtempSync(join(tmpdir(), 'steerdns-tls-'));
  t.after(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    tls = {
      key: readFileSync(join(dir, 'key.pem'), 'utf8'),
      cert: readFileSync(join(dir, 'cert.pem'), 'utf8'),
    };
  } catch {
    t.skip('openssl is needed to make a test certificate');
    return;
  }
  const server = await loadServer(t, (_request, response) => response.end('load 12.3'), tls);
  const signal = new AbortController().signal;
  const url = `${server.url}/load`;
  await assert.rejects(
    createLoadMeter({ url, timeoutMs: 5000 })(signal),
    /^Error: self[- ]signed certificate$/,
  );
  assert.equal(await createLoadMeter({ url, timeoutMs: 5000, ca: tls.cert })(signal), 12.3);
  assert.equal(await fetchText(url, { timeoutMs: 5000, ca: tls.cert }), 'load 12.3');
  assert.equal(server.requests.length, 2, 'the unverified connection sent no request');
});
