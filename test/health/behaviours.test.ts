import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { query } from '../helpers/dns-client.js';
import { listenOnOnePort } from '../helpers/sockets.js';
import { startServer, tmpdirWith, type ServerProcess } from '../helpers/server-process.js';

// Real backends that answer, fail, answer slowly, answer the wrong content, flap, and a TCP
// listener that goes away; the DNS answers of a real server (two workers) follow them.

type Mode = 'ok' | 'error' | 'slow' | 'wrong' | 'flap';
const HTTP_MEMBERS = {
  '127.0.0.41': 'ok',
  '127.0.0.42': 'ok',
  '127.0.0.43': 'ok',
  '127.0.0.44': 'ok',
} satisfies Record<string, Mode>;
const modes = new Map<string, Mode>(Object.entries(HTTP_MEMBERS));
const TCP_MEMBER = '127.0.0.45';
const backends: http.Server[] = [];
let tcpListener: net.Server | undefined;
let httpPort = 0;
let tcpPort = 0;
let server: ServerProcess;
let flapCount = 0;

function handle(address: string, res: http.ServerResponse): void {
  const mode = modes.get(address) ?? 'ok';
  if (mode === 'error') res.writeHead(503).end('down for maintenance');
  else if (mode === 'wrong') res.writeHead(200).end('<html>default page</html>');
  else if (mode === 'slow') setTimeout(() => res.writeHead(200).end('status: healthy'), 1500);
  else if (mode === 'flap') {
    flapCount++;
    if (flapCount % 2 === 0) res.writeHead(503).end('no');
    else res.writeHead(200).end('status: healthy');
  } else res.writeHead(200).end('status: healthy');
}

/** The TCP member's listener: on port 0 the first time, then on that port again. */
function listenTcp(): Promise<void> {
  const listener = net.createServer((socket) => socket.destroy());
  tcpListener = listener;
  return new Promise((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(tcpPort, TCP_MEMBER, () => {
      tcpPort = (listener.address() as net.AddressInfo).port;
      resolve();
    });
  });
}

before(async () => {
  // The HTTP members on one port the system chose (the check has one port for all).
  for (const address of Object.keys(HTTP_MEMBERS)) {
    backends.push(
      http.createServer((_req, res) => {
        handle(address, res);
      }),
    );
  }
  const addresses = Object.keys(HTTP_MEMBERS);
  httpPort = await listenOnOnePort(backends.map((backend, i) => [backend, addresses[i]!]));
  await listenTcp();
  const members = Object.keys(HTTP_MEMBERS)
    .map((a, i) => `          - { name: h${i + 1}, address: ${a} }`)
    .join('\n');
  const dir = await tmpdirWith({
    'steerdns.yaml': `
workers: 2
zones:
  - origin: example.org
    ttl: 3600
    records: |
      @   IN SOA ns1 hostmaster 1 7200 3600 1209600 300
      @   IN NS  ns1
      ns1 IN A   192.0.2.53
services:
  - name: www.example.org
    ttl: 5
    answers: 8
    pools:
      - name: web
        members:
${members}
    health:
      type: http
      port: ${httpPort}
      path: /health
      contains: 'status: healthy'
      interval: 300ms
      timeout: 250ms
      fall: 2
      rise: 2
    policies: [up, admin, first]
  - name: tcp.example.org
    ttl: 5
    pools:
      - name: one
        members:
          - { name: t1, address: ${TCP_MEMBER} }
    health: { type: tcp, port: ${tcpPort}, interval: 300ms, timeout: 250ms, fall: 2, rise: 2 }
    policies: [up]
    allDown: nodata
`,
  });
  server = await startServer(['serve', '--config', join(dir, 'steerdns.yaml')]);
});

after(async () => {
  await server.stop();
  for (const backend of backends) {
    backend.closeAllConnections();
    backend.close();
  }
  tcpListener?.close();
});

async function answered(name = 'www.example.org'): Promise<string[]> {
  const reply = await query(server.address, { name, type: 'A' });
  return reply.answers.flatMap((a) => (a.type === 'A' ? [a.data] : [])).sort();
}

async function eventually(ms: number, condition: () => Promise<boolean>): Promise<number> {
  const start = performance.now();
  while (performance.now() - start < ms) {
    if (await condition()) return performance.now() - start;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`condition not met within ${ms} ms`);
}

const ALL = Object.keys(HTTP_MEMBERS).sort();
const without = (...out: string[]): string[] => ALL.filter((a) => !out.includes(a));

test('every healthy member is answered', async () => {
  await eventually(3000, async () => (await answered()).join() === ALL.join());
});

test('an error status, the wrong content and a slow answer each take a member out; all come back', async () => {
  modes.set('127.0.0.41', 'error');
  modes.set('127.0.0.42', 'wrong');
  modes.set('127.0.0.43', 'slow');
  const out = await eventually(3000, async () => {
    const now = await answered();
    return now.join() === without('127.0.0.41', '127.0.0.42', '127.0.0.43').join();
  });
  // Slow answers fail by timeout (250 ms) at the check: 2 x 300 ms + 250 ms + 200 ms.
  assert.ok(out <= 1050, `out after ${out.toFixed(0)} ms`);
  for (const reason of ['status 503', 'body mismatch', 'timeout']) {
    await server.waitForLog((_e, line) => line.includes('-> down') && line.includes(reason), 2000);
  }
  for (const address of ['127.0.0.41', '127.0.0.42', '127.0.0.43']) modes.set(address, 'ok');
  await eventually(3000, async () => (await answered()).join() === ALL.join());
});

test('a flapping backend does not flap the answers: alternating results never reach rise or fall', async () => {
  modes.set('127.0.0.44', 'flap');
  const seen = new Set<string>();
  const until = performance.now() + 2500;
  while (performance.now() < until) {
    seen.add((await answered()).join());
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.deepEqual([...seen], [ALL.join()]);
  modes.set('127.0.0.44', 'ok');
});

test('a TCP listener that goes away takes its member out, and back when it listens again', async () => {
  assert.deepEqual(await answered('tcp.example.org'), [TCP_MEMBER]);
  await new Promise<void>((resolve) =>
    tcpListener!.close(() => {
      resolve();
    }),
  );
  const out = await eventually(3000, async () => (await answered('tcp.example.org')).length === 0);
  assert.ok(out <= 2 * 300 + 200, `out after ${out.toFixed(0)} ms`);
  await listenTcp();
  await eventually(3000, async () => (await answered('tcp.example.org')).length === 1);
});
