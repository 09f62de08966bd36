import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { query } from '../helpers/dns-client.js';
import { listenOnOnePort } from '../helpers/sockets.js';
import {
  replaced,
  startServer,
  tmpdirWith,
  type ServerProcess,
} from '../helpers/server-process.js';

// examples/health-failover.yaml with real HTTP backends on 127.0.0.11-14, all on one port
// the system chose; the server on port 0. A backend stopped and started again listens on
// its own address and port again (no one else listens on 127.0.0.12).

const ADDRESSES = ['127.0.0.11', '127.0.0.12', '127.0.0.13', '127.0.0.14'];
const backends = new Map<string, http.Server>();
let backendPort = 0;
let server: ServerProcess;

function backendOn(address: string): http.Server {
  const backend = http.createServer((req, res) => {
    res.writeHead(req.url === '/health' ? 200 : 404).end('ok');
  });
  backends.set(address, backend);
  return backend;
}

function startBackend(address: string): Promise<void> {
  const backend = backendOn(address);
  return new Promise((resolve, reject) => {
    backend.once('error', reject);
    backend.listen(backendPort, address, resolve);
  });
}

function stopBackend(address: string): Promise<void> {
  const backend = backends.get(address)!;
  backends.delete(address);
  backend.closeAllConnections();
  return new Promise((resolve) => {
    backend.close(() => {
      resolve();
    });
  });
}

async function answersSeen(rounds: number): Promise<Set<string>> {
  const seen = new Set<string>();
  for (let i = 0; i < rounds; i++) {
    const reply = await query(server.address, { name: 'www.example.org', type: 'A' });
    for (const a of reply.answers) if (a.type === 'A') seen.add(a.data);
  }
  return seen;
}

async function within(ms: number, condition: () => Promise<boolean>): Promise<number> {
  const start = performance.now();
  while (performance.now() - start < ms) {
    if (await condition()) return performance.now() - start;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`condition not met within ${ms} ms`);
}

before(async () => {
  backendPort = await listenOnOnePort(ADDRESSES.map((address) => [backendOn(address), address]));
  const example = await readFile('examples/health-failover.yaml', 'utf8');
  const dir = await tmpdirWith({
    'steerdns.yaml': replaced(example, 'port: 18080', `port: ${backendPort}`),
  });
  server = await startServer([
    'serve',
    '--config',
    join(dir, 'steerdns.yaml'),
    '--listen',
    '127.0.0.1:0',
    '--log-level',
    'info',
  ]);
});

after(async () => {
  await server.stop();
  for (const address of [...backends.keys()]) await stopBackend(address);
});

test('all four healthy members are answered in turn', async () => {
  assert.deepEqual([...(await answersSeen(8))].sort(), ADDRESSES);
});

test('a dead backend leaves the answers within interval x fall + 200 ms, and comes back after rise', async (t) => {
  await stopBackend('127.0.0.12');
  const gone = await within(5000, async () => !(await answersSeen(6)).has('127.0.0.12'));
  t.diagnostic(`out after ${gone.toFixed(0)} ms`);
  // interval 500 ms x fall 2, plus 200 ms.
  assert.ok(gone <= 1200, `out after ${gone.toFixed(0)} ms`);
  const log = await server.waitForLog(
    (_entry, line) => line.includes('127.0.0.12') && line.includes('-> down'),
    2000,
  );
  assert.match(log, /refused|status|timeout/);
  await startBackend('127.0.0.12');
  const back = await within(5000, async () => (await answersSeen(6)).has('127.0.0.12'));
  t.diagnostic(`back after ${back.toFixed(0)} ms`);
  // interval 500 ms x rise 2, plus 200 ms.
  assert.ok(back <= 1200, `back after ${back.toFixed(0)} ms`);
});
