import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { test, type TestContext } from 'node:test';
import { pino } from 'pino';
import { encodeAnnouncement, type Announcement } from '../../src/agent/announcement.js';
import type { AgentSnapshot } from '../../src/agent/registry.js';
import type { AgentsConfig } from '../../src/config/load.js';
import {
  classifierFor,
  startAgentListener,
  type AgentListener,
  type AgentListenerOptions,
} from '../../src/server/agents.js';

/**
 * The agent listener on a real UDP socket (port 0), fed by real sockets: who holds a node
 * id, what is logged for collisions, rejects and ignored nodes, and leaves.
 */

const KEY = Buffer.alloc(32, 5);
const CONFIG: AgentsConfig = {
  listen: [{ host: '127.0.0.1', port: 0 }],
  keyFile: 'agent.key',
  key: KEY.toString('base64'),
  previousKey: undefined,
  missedIntervals: 3,
  maxSkewMs: 30_000,
  multicastInterface: undefined,
};

interface LogEntry {
  readonly level: number;
  readonly msg: string;
  readonly bound?: unknown;
  readonly holder?: unknown;
  readonly refused?: unknown;
  readonly sources?: unknown;
}

interface Harness {
  readonly listener: AgentListener;
  readonly port: number;
  readonly logs: LogEntry[];
  readonly snapshots: AgentSnapshot[];
  /** Resolves the first log entry (past or future) matching, or rejects after `ms`. */
  waitLog(what: string, match: (e: LogEntry) => boolean, ms?: number): Promise<LogEntry>;
  /** Resolves the first published snapshot (past or future) matching. */
  waitSnapshot(what: string, match: (s: AgentSnapshot) => boolean, ms?: number): Promise<void>;
}

async function harness(t: TestContext, options: AgentListenerOptions = {}): Promise<Harness> {
  const logs: LogEntry[] = [];
  const snapshots: AgentSnapshot[] = [];
  const waiters = new Set<() => void>();
  const wake = (): void => {
    for (const waiter of waiters) waiter();
  };
  const log = pino(
    { level: 'debug', base: null },
    {
      write(line: string) {
        logs.push(JSON.parse(line) as LogEntry);
        wake();
      },
    },
  );
  const listener = await startAgentListener(
    CONFIG,
    log,
    (snapshot) => {
      snapshots.push(snapshot);
      wake();
    },
    options,
  );
  t.after(() => listener.close());
  const [bound] = listener.bound();
  const port = Number(/:(\d+)$/.exec(bound ?? '')?.[1]);
  assert.ok(port > 0, `bound to a port: ${String(bound)}`);
  const wait = <T>(what: string, find: () => T | undefined, ms: number): Promise<T> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const found = find();
        if (found === undefined) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(found);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(
          new Error(`waited ${ms} ms for ${what}; logs:\n${logs.map((l) => l.msg).join('\n')}`),
        );
      }, ms);
      waiters.add(check);
      check();
    });
  return {
    listener,
    port,
    logs,
    snapshots,
    // Deadlines, not delays: generous for a loaded machine, a passing wait returns at once.
    waitLog: (what, match, ms = 10_000) => wait(what, () => logs.find(match), ms),
    waitSnapshot: async (what, match, ms = 10_000) => {
      await wait(what, () => (snapshots.some(match) ? true : undefined), ms);
    },
  };
}

/**
 * Announcement timestamps, strictly increasing across every sender of the file: a new agent
 * run (epoch) is accepted only with a timestamp later than the node's last one, and two
 * senders of a test can send within one millisecond (a flake seen in CI), which real runs
 * of an agent, seconds apart, never do.
 */
let lastTimestamp = 0;
const nextTimestamp = (): number => (lastTimestamp = Math.max(Date.now(), lastTimestamp + 1));

/** A sender with its own socket (own source port) and agent run (epoch). */
async function sender(t: TestContext, port: number, epoch: string, addresses: string[]) {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  t.after(
    () =>
      new Promise<void>((resolve) =>
        socket.close(() => {
          resolve();
        }),
      ),
  );
  let sequence = 0;
  return {
    source: `127.0.0.1:${socket.address().port}`,
    send(fields: Partial<Announcement> = {}, key = KEY): Promise<void> {
      const bytes = encodeAnnouncement(
        {
          node: 'web-1',
          service: 'app.example.org',
          addresses,
          admin: 'enabled',
          intervalMs: 1000,
          timestamp: nextTimestamp(),
          epoch,
          sequence: ++sequence,
          ...fields,
        },
        key,
      );
      return new Promise((resolve, reject) => {
        socket.send(bytes, port, '127.0.0.1', (error) => {
          if (error) reject(error);
          else resolve();
        });
      });
    },
  };
}

const WARN = 40;
const nodesOf = (s: AgentSnapshot): string[] =>
  s.nodes.map((n) => `${n.node} ${n.addresses.join()}`);

test('listener: bound to the port the system chose, and says so', async (t) => {
  const h = await harness(t);
  const line = await h.waitLog('the listening line', (e) => e.msg.startsWith('receiving'));
  assert.deepEqual(line.bound, [`127.0.0.1:${h.port}`]);
  assert.equal(line.msg, `receiving agent announcements on 127.0.0.1:${h.port}`);
});

test('listener: a second agent run with other addresses for one node id is refused and logged once, naming both', async (t) => {
  const h = await harness(t);
  const first = await sender(t, h.port, '00000000000000aa', ['192.0.2.10']);
  const second = await sender(t, h.port, '00000000000000bb', ['192.0.2.20']);
  await first.send();
  await h.waitSnapshot('web-1 joined', (s) => s.nodes.length === 1);
  for (let i = 0; i < 3; i++) {
    await second.send();
    await first.send();
  }
  await h.waitSnapshot('the holder’s last announcement', () => {
    return h.listener.counts().get('accepted') === 4 && h.listener.counts().get('collision') === 3;
  });
  const collisions = h.logs.filter((e) => e.level === WARN && e.msg.includes('held by'));
  assert.equal(collisions.length, 1, 'logged once');
  const collision = collisions[0];
  assert.ok(collision);
  assert.equal(
    collision.msg,
    `agent web-1 (app.example.org.): announced from ${second.source} with 192.0.2.20, but held by ${first.source} with 192.0.2.10: refused until that one leaves or goes silent (two agents with one node id: give each its own --node)`,
  );
  assert.deepEqual(collision.holder, { source: first.source, addresses: ['192.0.2.10'] });
  assert.deepEqual(collision.refused, { source: second.source, addresses: ['192.0.2.20'] });
  assert.ok(
    h.snapshots.every((s) => nodesOf(s).join() === 'web-1 192.0.2.10'),
    'never flipped',
  );
  assert.ok(!h.logs.some((e) => e.msg.includes('dropped')), 'not in the generic reject log');

  // The holder leaves; the other run takes the node with its next announcement.
  await first.send({ kind: 'leave' });
  await h.waitSnapshot('web-1 gone', (s) => s.nodes.length === 0);
  await second.send();
  await h.waitSnapshot(
    'web-1 from the second run',
    (s) => nodesOf(s).join() === 'web-1 192.0.2.20',
  );
});

test('listener: a leave is published at once and logged', async (t) => {
  const h = await harness(t);
  const agent = await sender(t, h.port, '00000000000000aa', ['192.0.2.10']);
  await agent.send();
  await h.waitSnapshot('joined', (s) => s.nodes.length === 1);
  const sent = Date.now();
  await agent.send({ kind: 'leave' });
  // The figures batch waits 250 ms: a leave published sooner did not wait for it.
  await h.waitSnapshot('the node gone', (s) => s.nodes.length === 0, 200);
  assert.ok(Date.now() - sent < 200);
  const left = await h.waitLog('the leave line', (e) => e.msg.includes('left'));
  assert.equal(left.msg, 'agent web-1 (app.example.org.) left: its agent stopped');
});

test('listener: a rejected datagram is logged with the source of the latest of its reason', async (t) => {
  const h = await harness(t);
  const forger = await sender(t, h.port, '00000000000000aa', ['192.0.2.10']);
  await forger.send({}, Buffer.alloc(32, 6));
  const line = await h.waitLog('the reject line', (e) => e.msg.includes('dropped'));
  assert.equal(line.msg, `agent announcements dropped: bad-mac 1 (last from ${forger.source})`);
  assert.deepEqual(line.sources, { 'bad-mac': forger.source });
});

test('listener: a node no service takes is logged once as ignored, and joins when a reload adds its service', async (t) => {
  const services = [
    { name: 'app.example.org', dynamic: { pool: 'agents' }, pools: [] },
    { name: 'fixed.example.org.', pools: [{ members: [{ name: 'web-1' }] }] },
  ];
  const h = await harness(t, { classify: classifierFor(services) });
  const stray = await sender(t, h.port, '00000000000000aa', ['192.0.2.30']);
  const member = await sender(t, h.port, '00000000000000bb', ['192.0.2.31']);
  for (let i = 0; i < 3; i++) await stray.send({ service: 'other.example.org' });
  await member.send({ service: 'fixed.example.org' });
  await h.waitLog('the member joined', (e) => e.msg.includes('fixed'));
  await h.waitSnapshot('the stray’s figures', () => h.listener.counts().get('accepted') === 4);
  const about = (name: string) =>
    h.logs.filter((e) => e.msg.includes(`(${name})`)).map((e) => e.msg);
  assert.deepEqual(about('other.example.org.'), [
    'agent web-1 (other.example.org.) ignored: no service other.example.org. with dynamic members or a member web-1',
  ]);
  assert.deepEqual(about('fixed.example.org.'), [
    'agent web-1 (fixed.example.org.) joined with 192.0.2.31 (a configured member)',
  ]);
  h.listener.setClassify(
    classifierFor([...services, { name: 'other.example.org', dynamic: {}, pools: [] }]),
  );
  assert.deepEqual(about('other.example.org.').slice(1), [
    'agent web-1 (other.example.org.) joined with 192.0.2.30',
  ]);
});

test('classifierFor: members, dynamic services and the rest', () => {
  const classify = classifierFor([
    {
      name: 'App.Example.org.',
      dynamic: { pool: 'agents' },
      pools: [{ members: [{ name: 'm1' }] }],
    },
    { name: 'static.example.org', pools: [{ members: [{ name: 'm1' }] }] },
    { name: 'alias.example.org', type: 'CNAME', dynamic: {}, pools: [] },
  ]);
  const rows: [string, string, string][] = [
    ['app.example.org.', 'm1', 'member'],
    ['app.example.org.', 'n9', 'dynamic'],
    ['static.example.org.', 'm1', 'member'],
    ['static.example.org.', 'n9', 'unknown'],
    ['alias.example.org.', 'n9', 'unknown'],
    ['nowhere.example.org.', 'm1', 'unknown'],
  ];
  assert.deepEqual(
    rows.map(([service, node]) => [service, node, classify(service, node)]),
    rows,
  );
});
