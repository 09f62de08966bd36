import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { after, test } from 'node:test';
import { query } from '../helpers/dns-client.js';
import {
  REPO_ROOT,
  startServer,
  tmpdirWith,
  type ServerProcess,
} from '../helpers/server-process.js';

/**
 * A real server and real `steerdns agent` processes: a member with `announce: required` is
 * down unless its agent announces; an agent stopped with SIGTERM takes its node out of the
 * answers at once (its leave), one killed with SIGKILL after its missed intervals.
 */

const KEY_FILE = resolve(REPO_ROOT, 'examples/agent.key');
const MISSED = 3;

const ZONE = `
zones:
  - origin: example.org
    ttl: 3600
    records: |
      @   IN SOA ns1 hostmaster 1 7200 3600 1209600 300
      @   IN NS  ns1
      ns1 IN A   192.0.2.53
`;

async function serve(services: string): Promise<ServerProcess> {
  const dir = await tmpdirWith({
    'steerdns.yaml': `listen: [127.0.0.1:0]
workers: 1
agents:
  listen: [127.0.0.1:0]
  keyFile: ${KEY_FILE}
  missed: ${MISSED}
${ZONE}
services:
${services}`,
  });
  const server = await startServer(['serve', '--config', join(dir, 'steerdns.yaml')], {
    addListen: false,
  });
  after(() => server.stop());
  return server;
}

interface AgentRun {
  readonly child: ChildProcess;
  /** stdout lines parsed (pino JSON). */
  readonly entries: Record<string, unknown>[];
  /** Resolves the first entry (past or future) matching, or rejects after `ms`. */
  waitLog(
    what: string,
    match: (e: Record<string, unknown>) => boolean,
    ms?: number,
  ): Promise<Record<string, unknown>>;
  readonly exited: Promise<void>;
}

const running = new Set<ChildProcess>();
after(() => {
  for (const child of running) child.kill('SIGKILL');
});

/** A real `steerdns agent`, its log lines collected (the shared helper discards them). */
function agent(
  port: number,
  node: string | undefined,
  address: string,
  intervalMs: number,
): AgentRun {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'src/main.ts',
      'agent',
      '--to',
      `127.0.0.1:${port}`,
      '--key-file',
      KEY_FILE,
      '--service',
      'app.example.org',
      '--address',
      address,
      ...(node === undefined ? [] : ['--node', node]),
      '--interval',
      `${intervalMs}ms`,
      '--load-command',
      'echo 10',
    ],
    { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  running.add(child);
  const exited = new Promise<void>((done) => {
    child.once('exit', () => {
      running.delete(child);
      done();
    });
  });
  const entries: Record<string, unknown>[] = [];
  const listeners = new Set<() => void>();
  createInterface({ input: child.stdout }).on('line', (line) => {
    try {
      entries.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      return;
    }
    for (const listener of listeners) listener();
  });
  return {
    child,
    entries,
    exited,
    waitLog: (what, match, ms = 10_000) =>
      new Promise((done, fail) => {
        const check = (): void => {
          const found = entries.find(match);
          if (!found) return;
          listeners.delete(check);
          clearTimeout(timer);
          done(found);
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          fail(
            new Error(
              `agent ${node}: no log line "${what}" in ${ms} ms; lines: ${JSON.stringify(entries)}`,
            ),
          );
        }, ms);
        listeners.add(check);
        check();
      }),
  };
}

/** The A records answered for app.example.org now. */
async function answered(server: ServerProcess): Promise<string[]> {
  const reply = await query(
    server.address,
    { name: 'app.example.org', type: 'A' },
    { timeoutMs: 1000 },
  );
  assert.equal(reply.rcode, 'NOERROR');
  return reply.answers.flatMap((a) => (a.type === 'A' ? [a.data] : [])).sort();
}

/** Polls DNS every 10 ms until `done` holds for the answer; rejects after `ms`. */
async function until(
  server: ServerProcess,
  what: string,
  done: (a: string[]) => boolean,
  ms = 10_000,
): Promise<string[]> {
  const deadline = Date.now() + ms;
  let last: string[] = [];
  while (Date.now() < deadline) {
    last = await answered(server);
    if (done(last)) return last;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`waited ${ms} ms for ${what}; last answer: ${last.join(', ')}`);
}

const time = (entry: Record<string, unknown>): number => {
  assert.equal(typeof entry['time'], 'number', 'pino lines carry their time');
  return entry['time'] as number;
};

test('announce: required: down before its agent announces, up while it does, down soon after SIGKILL', async () => {
  const intervalMs = 300;
  const server = await serve(`  - name: app.example.org
    ttl: 5
    answers: 2
    pools:
      - name: fixed
        members:
          - { name: web-1, address: 192.0.2.10, announce: required }
          - { name: web-2, address: 192.0.2.11 }
    policies: [up]
    allDown: nodata
`);
  const [agents] = server.agents;
  assert.ok(agents, 'the server has an agents socket');
  assert.deepEqual(await answered(server), ['192.0.2.11'], 'never heard: down');

  const run = agent(agents.port, 'web-1', '192.0.2.10', intervalMs);
  await until(server, 'web-1 announced', (a) => a.includes('192.0.2.10'));
  assert.deepEqual(await answered(server), ['192.0.2.10', '192.0.2.11']);

  const killedAt = Date.now();
  run.child.kill('SIGKILL');
  await run.exited;
  await until(server, 'web-1 down again', (a) => !a.includes('192.0.2.10'));
  // Measured on the server's own clock (one host: the same clock as ours), so that a slow
  // test process polling late does not count against the server.
  const removed = await server.waitForLog(
    (e) =>
      typeof e?.['msg'] === 'string' && e['msg'].includes('web-1') && e['msg'].includes('removed'),
  );
  const removedAt = time(JSON.parse(removed) as Record<string, unknown>);
  const bound = MISSED * intervalMs * 1.1 + 200; // the last announcement came before the kill
  assert.ok(
    removedAt - killedAt < bound,
    `removed ${removedAt - killedAt} ms after SIGKILL, bound ${bound} ms`,
  );
  assert.deepEqual(await answered(server), ['192.0.2.11'], 'no live node: down');
});

test('SIGTERM: the agent sends a leave and its node leaves the answers at once, not after its missed intervals', async () => {
  // A long interval, so that a removal for silence (>= 3 x 1.8 s after the last
  // announcement) cannot pass for a removal by the leave.
  const intervalMs = 2000;
  const server = await serve(`  - name: app.example.org
    ttl: 5
    answers: 2
    dynamic: { pool: agents }
    policies: [up, admin]
    allDown: nodata
`);
  const [agents] = server.agents;
  assert.ok(agents);
  const stays = agent(agents.port, 'a2', '192.0.2.22', intervalMs);
  const goes = agent(agents.port, 'a1', '192.0.2.21', intervalMs);
  await until(server, 'both nodes joined', (a) => a.length === 2);

  // Poll from before the signal; every answer is stamped with when its query was sent.
  const samples: { sentAt: number; addresses: string[] }[] = [];
  let polling = true;
  const poller = (async () => {
    while (polling) {
      const sentAt = Date.now();
      samples.push({ sentAt, addresses: await answered(server) });
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  const firstSample = Date.now() + 5000;
  while (samples.length === 0 && Date.now() < firstSample)
    await new Promise((r) => setTimeout(r, 5));
  assert.ok(samples[0]?.addresses.includes('192.0.2.21'), 'a1 answered before the signal');
  const signalledAt = Date.now();
  goes.child.kill('SIGTERM');
  const sent = await goes.waitLog('left', (e) => String(e['msg']).startsWith('left:'));
  assert.equal(sent['msg'], 'left: sent a leave to 1 of 1 destination(s)');
  await goes.exited;
  const line = await server.waitForLog(
    (e) => e?.['msg'] === 'agent a1 (app.example.org.) left: its agent stopped',
  );
  await until(server, 'a1 gone from the answers', (a) => a.join() === '192.0.2.22', 2000);
  polling = false;
  await poller;

  const sentAt = time(sent);
  const leftAt = time(JSON.parse(line) as Record<string, unknown>);
  assert.ok(
    leftAt - sentAt < 100,
    `server removed a1 ${leftAt - sentAt} ms after the agent sent its leave`,
  );
  // An answer with a1 to a query sent more than 100 ms after the leave went out would be
  // an answer from a server that kept the node: none may exist. (A late poll only makes
  // fewer samples; it cannot make this fail.)
  const late = samples.filter((s) => s.sentAt > sentAt + 100 && s.addresses.includes('192.0.2.21'));
  assert.deepEqual(late, [], 'a1 answered more than 100 ms after its leave');
  // From the signal: the agent's own stop path included; far from the >= 5.4 s of silence.
  assert.ok(leftAt - signalledAt < 1000, `removed ${leftAt - signalledAt} ms after SIGTERM`);
  assert.deepEqual(await answered(server), ['192.0.2.22']);
  stays.child.kill('SIGTERM');
  await stays.exited;
});

test('two agents of one host without --node: the second is refused, warned about once, and takes over when the first leaves', async () => {
  const intervalMs = 200;
  const server = await serve(`  - name: app.example.org
    ttl: 5
    answers: 2
    dynamic: { pool: agents }
    policies: [up, admin]
    allDown: nodata
`);
  const [agents] = server.agents;
  assert.ok(agents);
  const first = agent(agents.port, undefined, '192.0.2.31', intervalMs);
  await until(server, 'the first agent joined', (a) => a.join() === '192.0.2.31');
  const second = agent(agents.port, undefined, '192.0.2.32', intervalMs);
  const warned = await server.waitForLog(
    (e) => typeof e?.['msg'] === 'string' && e['msg'].includes('but held by'),
    10_000,
  );
  assert.match(warned, /with 192\.0\.2\.32, but held by 127\.0\.0\.1:\d+ with 192\.0\.2\.31/);
  // Several of the second agent's intervals: the answer never flips to it.
  const seen = new Set<string>();
  const until2 = Date.now() + 5 * intervalMs;
  while (Date.now() < until2) for (const a of await answered(server)) seen.add(a);
  assert.deepEqual([...seen], ['192.0.2.31']);
  const collisions = server.entries().filter((e) => String(e['msg']).includes('but held by'));
  assert.equal(collisions.length, 1, 'warned once');

  first.child.kill('SIGTERM');
  await first.exited;
  await until(server, 'the second agent took the node', (a) => a.join() === '192.0.2.32', 5000);
  second.child.kill('SIGTERM');
  await second.exited;
});
