/**
 * End to end (issue 12): the operator interface is up before the server is ready, and
 * /readyz says so: 503 while the first round of health checks runs (here a check against a
 * backend that accepts and never answers, so the round lasts its timeout), 200 once the
 * zones answer. /healthz answers all along.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';
import { apiCall } from '../helpers/api-client.js';
import { REPO_ROOT, endpoint, tmpdirWith } from '../helpers/server-process.js';

let dir = '';
let silent: Server;
const sockets = new Set<Socket>();

before(async () => {
  // Accepts connections and never answers: an HTTP check on it ends only by its timeout.
  silent = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((done) => silent.listen(0, '127.0.0.1', done));
  const port = (silent.address() as { port: number }).port;
  dir = await tmpdirWith({
    'steerdns.yaml': `
workers: 1
api: { listen: 127.0.0.1:0 }
health: { startupGrace: 20s }
zones:
  - origin: example.org
    ttl: 3600
    records: |
      @    IN SOA ns1 hostmaster 1 7200 3600 1209600 300
      @    IN NS  ns1
      ns1  IN A   192.0.2.53
services:
  - name: www.example.org
    pools:
      - name: web
        members:
          - { name: a, address: 192.0.2.1, healthTarget: '127.0.0.1:${port}', health: { type: http, path: /, interval: 10s, timeout: 6s, rise: 1, fall: 1 } }
`,
  });
});

after(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((done) => silent.close(done));
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('/readyz is 503 during the first health round, 200 once ready; /healthz all along', async () => {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'src/main.ts',
      'serve',
      '--config',
      join(dir, 'steerdns.yaml'),
      '--listen',
      '127.0.0.1:0',
    ],
    { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise((done) => child.once('exit', done));
  const lines: Record<string, unknown>[] = [];
  const waiters = new Set<() => void>();
  createInterface({ input: child.stdout }).on('line', (line) => {
    try {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      return;
    }
    for (const wake of waiters) wake();
  });
  const waitFor = (what: string, match: (e: Record<string, unknown>) => boolean, ms = 60_000) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const check = (): void => {
        const found = lines.find(match);
        if (!found) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve(found);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no log line ${what} in ${ms} ms`));
      }, ms);
      waiters.add(check);
      check();
    });
  try {
    const up = await waitFor('operator interface', (e) =>
      String(e['msg']).startsWith('operator interface'),
    );
    const api = endpoint(String(up['api']));
    const early = await apiCall(api, '/readyz');
    // The check's first result comes after its 6 s timeout: the round is still running.
    assert.equal(early.status, 503, early.text);
    assert.deepEqual(early.json, { ready: false, zones: false, health: false });
    assert.equal((await apiCall(api, '/healthz')).status, 200);
    await waitFor('ready', (e) => e['msg'] === 'ready');
    const ready = await apiCall(api, '/readyz');
    assert.equal(ready.status, 200, ready.text);
    assert.deepEqual(ready.json, { ready: true, zones: true, health: true });
  } finally {
    if (child.exitCode === null) child.kill('SIGTERM');
    const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(kill);
  }
});
