import assert from 'node:assert/strict';
import { execFile, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { startAgentProcess } from '../helpers/agent-process.js';
import { resolve, join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { closedTcpPort, type ClosedPort } from '../helpers/sockets.js';
import {
  REPO_ROOT,
  startServer,
  tmpdirWith,
  type ServerProcess,
} from '../helpers/server-process.js';

// The operator interface of a running server with two workers: GET /status and
// `steerdns status --server`, with a health-checked service and a node that joined by
// announcement.

const run = promisify(execFile);
const KEY_FILE = resolve(REPO_ROOT, 'examples/agent.key');
let server: ServerProcess;
let agent: ChildProcess;
let apiPort = 0;
// The checked members: a TCP listener of this test's (up), and a port it holds closed (down).
let open: Server;
let closed: ClosedPort;

interface Row {
  service: string;
  member: string;
  state: string;
  last?: string;
  load?: number;
  admin: string;
}

before(async () => {
  open = createServer((socket) => socket.destroy());
  await new Promise<void>((done) => open.listen(0, '127.0.0.1', done));
  const openPort = (open.address() as AddressInfo).port;
  closed = await closedTcpPort('127.0.0.1');
  const dir = await tmpdirWith({
    'steerdns.yaml': `
listen: [127.0.0.1:0]
workers: 2
api: { listen: 127.0.0.1:0 }
agents: { listen: [127.0.0.1:0], keyFile: ${KEY_FILE} }
zones:
  - origin: example.org
    ttl: 3600
    records: |
      @   IN SOA ns1 hostmaster 1 7200 3600 1209600 300
      @   IN NS  ns1
      ns1 IN A   192.0.2.53
services:
  - name: app.example.org
    dynamic: {}
    policies: [up, admin, least-load]
  - name: www.example.org
    health: { type: tcp, interval: 500ms, fall: 1, rise: 1 }
    pools:
      - name: web
        members:
          - { name: open, address: 127.0.0.1, health: { type: tcp, port: ${openPort}, interval: 500ms } }
          - { name: closed, address: 127.0.0.1, healthTarget: '127.0.0.1:${closed.port}' }
`,
  });
  server = await startServer(['serve', '--config', join(dir, 'steerdns.yaml')], {
    addListen: false,
  });
  assert.ok(server.api, `no api in the listening line: ${JSON.stringify(server.bound)}`);
  apiPort = server.api.port;
  assert.equal(server.agents.length, 1, `agents: ${JSON.stringify(server.bound)}`);
  agent = startAgentProcess({
    port: server.agents[0]!.port,
    keyFile: KEY_FILE,
    node: 'app1',
    address: '127.0.0.21',
    load: 42,
    drain: true,
  });
  await server.waitForLog(
    (_e, line) => line.includes('agent app1') && line.includes('joined'),
    15_000,
  );
});

after(async () => {
  agent.kill('SIGKILL');
  await server.stop();
  open.close();
  await closed.close();
});

async function status(): Promise<Row[]> {
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', 'src/main.ts', 'status', '--server', `127.0.0.1:${apiPort}`, '--json'],
    { cwd: REPO_ROOT },
  );
  return JSON.parse(stdout) as Row[];
}

test('status --server lists checked members with their result and announced members with their figures', async () => {
  let rows: Row[] = [];
  for (let i = 0; i < 20; i++) {
    rows = await status();
    if (rows.find((r) => r.member === 'agents/app1')?.load === 42) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  const byMember = new Map(rows.map((r) => [r.member, r]));
  assert.equal(byMember.get('web/open')?.state, 'up');
  assert.match(byMember.get('web/open')?.last ?? '', /^ok /);
  assert.equal(byMember.get('web/closed')?.state, 'down');
  assert.match(byMember.get('web/closed')?.last ?? '', /refused/);
  const app1 = byMember.get('agents/app1');
  assert.ok(app1);
  assert.equal(app1.service, 'app.example.org.');
  assert.equal(app1.load, 42);
  assert.equal(app1.admin, 'draining');
});

test('the table form has one line per member', async () => {
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', 'src/main.ts', 'status', '--server', `127.0.0.1:${apiPort}`],
    { cwd: REPO_ROOT },
  );
  const lines = stdout.trim().split('\n');
  assert.match(lines[0] ?? '', /^SERVICE\s+MEMBER\s+ADDRESS\s+STATE/);
  // The header, three members, and the workers' rate-limit and cookie counters, summed.
  assert.equal(lines.length, 5, stdout);
  assert.match(lines[4] ?? '', /^rate limiting: \d+ responses dropped/);
});

test('other paths are 404, other methods 405', async () => {
  const missing = await fetch(`http://127.0.0.1:${apiPort}/nothing`);
  assert.equal(missing.status, 404);
  const post = await fetch(`http://127.0.0.1:${apiPort}/status`, { method: 'POST' });
  assert.equal(post.status, 405);
});

test('status --server against nothing listening exits 1 with a clear message', async () => {
  const nothing = await closedTcpPort('127.0.0.1');
  const { port } = nothing;
  try {
    await assert.rejects(
      run(
        process.execPath,
        ['--import', 'tsx', 'src/main.ts', 'status', '--server', `127.0.0.1:${port}`],
        {
          cwd: REPO_ROOT,
        },
      ),
      (error: { code?: number; stderr?: string }) => {
        assert.equal(error.code, 1);
        assert.match(
          error.stderr ?? '',
          new RegExp(`steerdns status: cannot reach http://127\\.0\\.0\\.1:${port}/status`),
        );
        return true;
      },
    );
  } finally {
    await nothing.close();
  }
});
