/**
 * End to end (issue 8, seed 001 "virtual EDNS"): persistence entries shared by every node
 * of a cluster, node to node. Real steerdns processes on loopback joined through a real
 * etcd on unix sockets; each node listens for its peers on 127.0.0.1:0 and registers the
 * bound address. What one node decides, the others answer within 1 s, after it dies too;
 * a node that joins later gets the full table; forged and replayed frames are dropped and
 * counted; without `replication` the nodes disagree (so these checks can fail).
 */
import assert from 'node:assert/strict';
import type { Socket as UdpSocket } from 'node:dgram';
import { rm } from 'node:fs/promises';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  encodeFrame,
  FrameType,
  GREETING_BYTES,
  greetingNonce,
} from '../../src/cluster/peer-frame.js';
import { decodeReply, encodeQuery } from '../helpers/dns-wire.js';
import { startEtcd, type EtcdCluster } from '../helpers/etcd.js';
import { startServer, tmpdirWith, type ServerProcess } from '../helpers/server-process.js';
import { resolverAt } from '../helpers/sockets.js';

const KEY = '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff';
const SERVICE = 'sticky.example.org';
const ADDRESS: Readonly<Record<string, string>> = {
  'web/a': '192.0.2.1',
  'web/b': '192.0.2.2',
  'web/c': '192.0.2.3',
};
const SUBNETS = 60;
const RESOLVERS = 4;

const config = (node: string, endpoints: readonly string[], workers: number, share: boolean) => `
listen: ['127.0.0.1:0']
workers: ${workers}
log: { level: info }
api: { listen: '127.0.0.1:0' }
zones:
  - origin: example.org
    ttl: 3600
    records: |
      @ IN SOA ns1 hostmaster 1 7200 3600 1209600 300
      @ IN NS ns1
      ns1 IN A 192.0.2.53
services:
  - name: ${SERVICE}
    pools:
      - name: web
        members:
          - { name: a, address: ${ADDRESS['web/a']} }
          - { name: b, address: ${ADDRESS['web/b']} }
          - { name: c, address: ${ADDRESS['web/c']} }
    policies: [up, admin, random-weighted, { policy: persistence, key: subnet, ttl: 600, maxNewPerSourcePerSecond: 0 }]
cluster:
  node: ${node}
  name: ${share ? 'shared' : 'apart'}
  etcd: { endpoints: [${endpoints.map((e) => `'${e}'`).join(', ')}] }
${share ? "  replication: { listen: '127.0.0.1:0', keyFile: peer.key }" : ''}
`;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A key of the table: an ECS subnet asked through one resolver, or a resolver without ECS. */
interface Client {
  readonly socket: UdpSocket;
  readonly resolver: string;
  readonly ecs?: string;
}

/** Asks the service from `client`; resolves the answered address. */
function ask(client: Client, server: ServerProcess, timeoutMs = 3000): Promise<string> {
  const bytes = encodeQuery({
    name: SERVICE,
    type: 'A',
    ...(client.ecs === undefined
      ? {}
      : { edns: { ecs: { family: 1, sourcePrefix: 24, address: client.ecs } } }),
  });
  const id = bytes.readUInt16BE(0);
  const { host, port } = server.dnsAt('127.0.0.1');
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.socket.off('message', onMessage);
      reject(new Error(`no answer from ${host}:${port} within ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (message: Buffer): void => {
      if (message.readUInt16BE(0) !== id) return;
      clearTimeout(timer);
      client.socket.off('message', onMessage);
      const first = decodeReply(message).answers[0];
      if (first?.type !== 'A') reject(new Error('no A record in the answer'));
      else resolve(first.data);
    };
    client.socket.on('message', onMessage);
    client.socket.send(bytes, port, host);
  });
}

/**
 * The address of the member `server` holds an entry of `client` for, by GET /explain (which
 * changes no entry): its persistence step says `KEY stays on pool/member`. Undefined
 * without an entry (an answer that merely happens to match does not count).
 */
function explain(server: ServerProcess, client: Client): Promise<string | undefined> {
  const query = new URLSearchParams({ name: SERVICE, type: 'A', client: client.resolver });
  if (client.ecs !== undefined) query.set('ecs', `${client.ecs}/24`);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: server.api!.host,
        port: server.api!.port,
        path: `/explain?${query.toString()}`,
        timeout: 3000,
      },
      (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => {
          try {
            const parsed = JSON.parse(body) as {
              explanation?: { steps?: { notes?: string[] }[] };
            };
            const notes = (parsed.explanation?.steps ?? []).flatMap((step) => step.notes ?? []);
            const member = notes.map((note) => / stays on (\S+)$/.exec(note)?.[1]).find(Boolean);
            resolve(member === undefined ? undefined : ADDRESS[member]);
          } catch (error) {
            reject(error instanceof Error ? error : new Error(String(error)));
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('explain: no answer within 3000 ms')));
    req.on('error', reject);
    req.end();
  });
}

/** What a node answered each client, and when. */
type Answers = Map<Client, { readonly address: string; readonly at: number }>;

/** Asks `server` for every client in turn. */
async function askAll(server: ServerProcess, clients: readonly Client[]): Promise<Answers> {
  const out: Answers = new Map();
  for (const client of clients)
    out.set(client, { address: await ask(client, server), at: Date.now() });
  return out;
}

/**
 * Polls `server` (GET /explain, which changes no entry) until it answers every client as
 * `want` says; returns the clients it still answered otherwise `withinMs` after `want`'s
 * answer to them.
 */
async function agreeWithin(
  server: ServerProcess,
  want: Answers,
  withinMs: number,
): Promise<Client[]> {
  let missing = [...want.keys()];
  const late: Client[] = [];
  for (;;) {
    const answers = await Promise.all(missing.map((client) => explain(server, client)));
    const now = Date.now();
    missing = missing.filter((client, i) => {
      if (answers[i] === want.get(client)!.address) return false;
      if (now <= want.get(client)!.at + withinMs) return true;
      late.push(client);
      return false;
    });
    if (missing.length === 0) return late;
    await sleep(50);
  }
}

const named = (clients: readonly Client[]): string[] => clients.map((c) => c.ecs ?? c.resolver);

/** Resolves once `server` has logged a connection to each of `peers`. */
async function meshed(server: ServerProcess, peers: readonly string[]): Promise<void> {
  for (const peer of peers)
    await server.waitForLog(
      (entry) => entry?.['msg'] === `replication: connected to ${peer}`,
      15_000,
    );
}

let etcd: EtcdCluster;
const dirs: string[] = [];
const servers: ServerProcess[] = [];
const sockets: UdpSocket[] = [];

async function startNode(name: string, workers: number, share: boolean): Promise<ServerProcess> {
  const dir = await tmpdirWith({
    'steerdns.yaml': config(name, etcd.endpoints, workers, share),
    'peer.key': KEY,
  });
  dirs.push(dir);
  const server = await startServer(['serve', '--config', join(dir, 'steerdns.yaml')], {
    addListen: false,
  });
  servers.push(server);
  return server;
}

async function clients(prefix: string): Promise<Client[]> {
  const viaEcs = await resolverAt(`127.0.${prefix}.1`);
  sockets.push(viaEcs);
  const out: Client[] = Array.from({ length: SUBNETS }, (_, i) => ({
    socket: viaEcs,
    resolver: `127.0.${prefix}.1`,
    ecs: `10.${prefix}.${i}.0`,
  }));
  for (let i = 0; i < RESOLVERS; i++) {
    const socket = await resolverAt(`127.0.${prefix}.${10 + i}`);
    sockets.push(socket);
    out.push({ socket, resolver: `127.0.${prefix}.${10 + i}` });
  }
  return out;
}

before(async () => {
  etcd = await startEtcd();
});

after(async () => {
  for (const socket of sockets) socket.close();
  await Promise.all(servers.map((server) => server.stop()));
  await etcd.remove();
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('persistence shared by every node', { timeout: 180_000 }, () => {
  let a: ServerProcess;
  let b: ServerProcess;
  let c: ServerProcess;

  test('what A decides, B (2 workers) and C answer within 1 s, and after A dies', async () => {
    [a, b, c] = await Promise.all([
      startNode('n1', 1, true),
      startNode('n2', 2, true),
      startNode('n3', 1, true),
    ]);
    await Promise.all([meshed(a, ['n2', 'n3']), meshed(b, ['n1', 'n3']), meshed(c, ['n1', 'n2'])]);
    const keys = await clients('20');
    const want = await askAll(a, keys);
    const [lateB, lateC] = await Promise.all([
      agreeWithin(b, want, 1000),
      agreeWithin(c, want, 1000),
    ]);
    assert.deepEqual(
      [named(lateB), named(lateC)],
      [[], []],
      `B and C answer as A within 1 s of A's answer (${keys.length} keys)`,
    );

    // Decided by B's workers: A and C follow.
    const wantB = await askAll(b, await clients('21'));
    const [lateA2, lateC2] = await Promise.all([
      agreeWithin(a, wantB, 1000),
      agreeWithin(c, wantB, 1000),
    ]);
    assert.deepEqual(
      [named(lateA2), named(lateC2)],
      [[], []],
      "A and C answer as B's workers within 1 s",
    );

    // C's status shows the replication lag from each peer it heard from (reported each second).
    const lagDeadline = Date.now() + 5000;
    let lags: Record<string, number | undefined>;
    for (;;) {
      const response = await fetch(`http://${c.bound.api}/status`);
      const body = (await response.json()) as {
        cluster?: { nodes: { name: string; replicationLagMs?: number }[] };
      };
      lags = Object.fromEntries(
        (body.cluster?.nodes ?? []).map((n) => [n.name, n.replicationLagMs]),
      );
      if (lags['n1'] !== undefined && lags['n2'] !== undefined) break;
      assert.ok(
        Date.now() < lagDeadline,
        `no replication lag in C's status: ${JSON.stringify(lags)}`,
      );
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const fromN1 = lags['n1'];
    assert.ok(fromN1 >= -2000 && fromN1 < 5000, `lag from n1: ${fromN1} ms`);

    a.signal('SIGKILL');
    await a.exited;
    for (const [client, answer] of want) {
      const key = client.ecs ?? client.resolver;
      assert.equal(await ask(client, b), answer.address, `B after A died: ${key}`);
      assert.equal(await ask(client, c), answer.address, `C after A died: ${key}`);
    }
  });

  test('a node that joins later gets the full table', async () => {
    const want = await askAll(c, await clients('22'));
    const d = await startNode('n4', 1, true);
    await meshed(d, ['n2', 'n3']);
    // Counted from the time n4 is connected, not from C's answers (made before it started).
    const joined = Date.now();
    const since = new Map([...want].map(([client, answer]) => [client, { ...answer, at: joined }]));
    const late = await agreeWithin(d, since, 5000);
    assert.deepEqual(named(late), [], 'n4 answers as C for entries made before it joined');
  });

  test('forged and replayed frames are dropped and counted', async () => {
    const address = await registeredReplication(c);
    // A wrong key.
    const forged = await dial(address, '127.0.0.21');
    forged.socket.write(
      frame(Buffer.alloc(32, 7), forged.nonce, FrameType.hello, 0, { node: 'x' }),
    );
    await closedBy(forged.socket, 'the forged connection');
    // A valid frame, then the same frame again on its connection.
    const valid = await dial(address, '127.0.0.22');
    const key = Buffer.from(KEY, 'hex');
    const hello = frame(key, valid.nonce, FrameType.hello, 0, { node: 'tester' });
    const now = Date.now();
    const batch = frame(key, valid.nonce, FrameType.batch, 1, {
      table: 'persistence',
      rows: [
        {
          service: `${SERVICE}.`,
          changes: [
            {
              key: '10.99.0.0/24',
              entry: { member: 'web/c', created: now, lastSeen: now, ttlMs: 600_000, hits: 1 },
            },
          ],
        },
      ],
    });
    valid.socket.write(Buffer.concat([hello, batch, batch]));
    await closedBy(valid.socket, 'the replaying connection');
    const probe: Client = { socket: sockets[0]!, resolver: '127.0.20.1', ecs: '10.99.0.0' };
    assert.equal(await explain(c, probe), ADDRESS['web/c'], 'the authentic frame was applied');
    // The same frames on a new connection (another nonce).
    const replay = await dial(address, '127.0.0.23');
    replay.socket.write(Buffer.concat([hello, batch]));
    await closedBy(replay.socket, 'the connection replaying frames of another');
    const drops = await dropLines(c, 3);
    assert.deepEqual(
      drops.map((d) => [d['remote'], d['reason']]),
      [
        ['127.0.0.21', 'forged'],
        ['127.0.0.22', 'replayed'],
        ['127.0.0.23', 'forged'],
      ],
    );
    const last = drops[2]!['counters'] as Record<string, number>;
    assert.equal(last['forged'], 2, 'forged frames counted');
    assert.equal(last['replayed'], 1, 'replayed frames counted');
  });
});

describe('without replication', { timeout: 120_000 }, () => {
  test('the nodes disagree (what the tests above rely on can fail)', async () => {
    const [a, b] = await Promise.all([startNode('m1', 1, false), startNode('m2', 1, false)]);
    await Promise.all([
      a.waitForLog((entry) => entry?.['msg'] === 'ready', 15_000),
      b.waitForLog((entry) => entry?.['msg'] === 'ready', 15_000),
    ]);
    const want = await askAll(a, await clients('30'));
    await sleep(1500);
    const late = await agreeWithin(b, want, 1000);
    assert.equal(late.length, want.size, 'B holds none of the entries A made');
  });
});

/** The replication address `server` registered, read from its status. */
async function registeredReplication(
  server: ServerProcess,
): Promise<{ host: string; port: number }> {
  const line = await server.waitForLog(
    (entry) =>
      typeof entry?.['msg'] === 'string' && entry['msg'].startsWith('replication: listening'),
    5000,
  );
  const text = (JSON.parse(line) as { address: string }).address;
  const [host, port] = text.split(':');
  return { host: host!, port: Number(port) };
}

function frame(key: Buffer, nonce: Buffer, type: FrameType, seq: number, value: unknown): Buffer {
  return encodeFrame(
    key,
    nonce,
    { type, seq, sentAt: Date.now() },
    Buffer.from(JSON.stringify(value)),
  );
}

/** Connects from `localAddress` and reads the listener's greeting. */
async function dial(
  to: { host: string; port: number },
  localAddress: string,
): Promise<{ socket: Socket; nonce: Buffer }> {
  const socket = connect({ host: to.host, port: to.port, localAddress });
  return new Promise((resolve, reject) => {
    let got = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no greeting from ${to.host}:${to.port} within 3000 ms`));
    }, 3000);
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      got = Buffer.concat([got, chunk]);
      if (got.length < GREETING_BYTES) return;
      clearTimeout(timer);
      const nonce = greetingNonce(got.subarray(0, GREETING_BYTES));
      if (nonce) resolve({ socket, nonce });
      else reject(new Error('not a greeting'));
    });
  });
}

function closedBy(socket: Socket, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`${what}: the node did not close it within 3000 ms`));
    }, 3000);
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

async function dropLines(server: ServerProcess, count: number): Promise<Record<string, unknown>[]> {
  const deadline = Date.now() + 3000;
  for (;;) {
    const lines = server
      .entries()
      .filter((e) => String(e['msg']).startsWith('replication: dropped a frame'));
    if (lines.length >= count || Date.now() > deadline) return lines;
    await sleep(20);
  }
}
