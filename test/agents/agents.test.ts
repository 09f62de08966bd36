import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { encodeAnnouncement, readKeyFile } from '../../src/agent/announcement.js';
import {
  startAgentProcess,
  stopAgentProcess,
  stopAllAgentProcesses,
} from '../helpers/agent-process.js';
import { query } from '../helpers/dns-client.js';
import {
  replaced,
  REPO_ROOT,
  startServer,
  tmpdirWith,
  type ServerProcess,
} from '../helpers/server-process.js';

// examples/agents.yaml on port 0 (the ports from the server's listening line), with real `steerdns agent` processes announcing to it.

const KEY_FILE = resolve(REPO_ROOT, 'examples/agent.key');
const INTERVAL_MS = 300;

interface Setup {
  readonly server: ServerProcess;
  readonly agentPort: number;
}

async function startWithAgents(workers: number): Promise<Setup> {
  const example = await readFile('examples/agents.yaml', 'utf8');
  const edits: [string, string][] = [
    ['listen: [127.0.0.1:5380]', 'listen: [127.0.0.1:0]'],
    ['keyFile: agent.key', `keyFile: ${KEY_FILE}`],
    ['workers: 1', `workers: ${workers}`],
  ];
  const dir = await tmpdirWith({
    'steerdns.yaml': edits.reduce((text, [from, to]) => replaced(text, from, to), example),
  });
  const server = await startServer([
    'serve',
    '--config',
    join(dir, 'steerdns.yaml'),
    '--listen',
    '127.0.0.1:0',
  ]);
  await server.waitForLog((_e, line) => line.includes('receiving agent announcements'), 5000);
  assert.equal(server.agents.length, 1, `agents: ${JSON.stringify(server.bound)}`);
  return { server, agentPort: server.agents[0]!.port };
}

function startAgent(agentPort: number, node: string, address: string, load: number): ChildProcess {
  return startAgentProcess({
    port: agentPort,
    keyFile: KEY_FILE,
    node,
    address,
    load,
    intervalMs: INTERVAL_MS,
  });
}

async function answers(server: ServerProcess, rounds = 6): Promise<Set<string>> {
  const seen = new Set<string>();
  for (let i = 0; i < rounds; i++) {
    const reply = await query(server.address, { name: 'app.example.org', type: 'A' });
    assert.equal(reply.rcode, 'NOERROR');
    for (const a of reply.answers) if (a.type === 'A') seen.add(a.data);
  }
  return seen;
}

async function within(ms: number, condition: () => Promise<boolean>): Promise<number> {
  const start = performance.now();
  while (performance.now() - start < ms) {
    if (await condition()) return performance.now() - start;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`condition not met within ${ms} ms`);
}

const same = (seen: Set<string>, ...expected: string[]): boolean =>
  seen.size === expected.length && expected.every((a) => seen.has(a));

after(async () => {
  await stopAllAgentProcesses();
});

describe('agents announce, join, drain and leave (one worker)', () => {
  let setup: Setup;
  let app1: ChildProcess;
  let app2: ChildProcess;

  before(async () => {
    setup = await startWithAgents(1);
  });
  after(async () => {
    await setup.server.stop();
  });

  test('before any node announces, the service answers NODATA (its all-down behaviour)', async () => {
    const reply = await query(setup.server.address, { name: 'app.example.org', type: 'A' });
    assert.equal(reply.rcode, 'NOERROR');
    assert.equal(reply.answers.length, 0);
    assert.equal(reply.authorities[0]?.type, 'SOA');
  });

  test('a node that announces with the key joins without any configuration change', async () => {
    app1 = startAgent(setup.agentPort, 'app1', '127.0.0.21', 40);
    await within(10_000, async () => same(await answers(setup.server), '127.0.0.21'));
    await setup.server.waitForLog(
      (_e, line) => line.includes('agent app1') && line.includes('joined'),
    );
  });

  test('least-load: a second, less loaded node takes the answers', async () => {
    app2 = startAgent(setup.agentPort, 'app2', '127.0.0.22', 10);
    await within(10_000, async () => same(await answers(setup.server), '127.0.0.22'));
  });

  test('a draining node gets no new answers and comes back when enabled', async () => {
    app2.kill('SIGUSR1');
    const drained = await within(3000, async () => same(await answers(setup.server), '127.0.0.21'));
    assert.ok(drained <= INTERVAL_MS + 300, `drained after ${drained.toFixed(0)} ms`);
    await setup.server.waitForLog((_e, line) => line.includes('app2') && line.includes('draining'));
    app2.kill('SIGUSR2');
    await within(3000, async () => same(await answers(setup.server), '127.0.0.22'));
  });

  test('a node that goes silent is out within 3 missed intervals + 200 ms', async () => {
    // Wait for a fresh announcement, then kill the agent at once: the worst case starts here.
    await setup.server.waitForLog(
      (_e, line) => line.includes('app2') && line.includes('enabled again'),
      3000,
    );
    await stopAgentProcess(app2, 'SIGKILL');
    const gone = await within(5000, async () => same(await answers(setup.server, 3), '127.0.0.21'));
    assert.ok(gone <= 3 * INTERVAL_MS + 200, `out after ${gone.toFixed(0)} ms`);
    await setup.server.waitForLog((_e, line) => line.includes('app2') && line.includes('removed'));
  });

  test('forged, replayed and malformed announcements are dropped and counted; nothing breaks', async () => {
    const key = readKeyFile(KEY_FILE);
    const announcement = (node: string, address: string, sequence: number) => ({
      node,
      service: 'app.example.org',
      addresses: [address],
      load: 0,
      admin: 'enabled' as const,
      intervalMs: 60_000,
      timestamp: Date.now(),
      epoch: '0123456789abcdef',
      sequence,
    });
    const forged = encodeAnnouncement(announcement('evil', '127.0.0.66', 1), randomBytes(32));
    const valid = encodeAnnouncement(announcement('replayer', '127.0.0.77', 1), key);
    const altered = Buffer.from(valid);
    altered[altered.length - 40] = (altered[altered.length - 40] ?? 0) ^ 1;
    const stale = encodeAnnouncement(
      { ...announcement('old', '127.0.0.88', 1), timestamp: Date.now() - 3_600_000 },
      key,
    );
    const socket = createSocket('udp4');
    const send = (bytes: Buffer): Promise<void> =>
      new Promise((done, fail) => {
        socket.send(bytes, setup.agentPort, '127.0.0.1', (error) => {
          if (error) fail(error);
          else done();
        });
      });
    try {
      await send(forged);
      await send(randomBytes(200));
      await send(Buffer.alloc(0));
      await send(altered);
      await send(stale);
      await send(valid);
      await send(valid); // the same datagram again: a replay
    } finally {
      socket.close();
    }
    const dropped = await setup.server.waitForLog((_e, line) =>
      line.includes('agent announcements dropped'),
    );
    assert.match(dropped, /bad-mac/);
    // The valid one joined (least-load 0), the others never show up.
    await within(3000, async () => (await answers(setup.server)).has('127.0.0.77'));
    const seen = await answers(setup.server, 10);
    for (const address of ['127.0.0.66', '127.0.0.88']) assert.ok(!seen.has(address));
    assert.ok(setup.server.isAlive());
    const joined = setup.server
      .logs()
      .filter((line) => line.includes('joined'))
      .join('\n');
    assert.doesNotMatch(joined, /evil|"old"/);
    await stopAgentProcess(app1);
  });
});

describe('agents with two workers: the primary hears them, every worker answers with them', () => {
  let setup: Setup;

  before(async () => {
    setup = await startWithAgents(2);
  });
  after(async () => {
    await setup.server.stop();
  });

  test('join and silent removal reach every worker', async () => {
    const node = startAgent(setup.agentPort, 'w1', '127.0.0.31', 5);
    // Many queries, so that both workers answer some of them.
    await within(10_000, async () => same(await answers(setup.server, 20), '127.0.0.31'));
    await stopAgentProcess(node, 'SIGKILL');
    await within(5000, async () => (await answers(setup.server, 20)).size === 0);
  });
});
