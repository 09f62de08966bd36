import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { query } from '../helpers/dns-client.js';
import { startEtcd, type EtcdCluster } from '../helpers/etcd.js';
import { startServer, tmpdirWith, type ServerProcess } from '../helpers/server-process.js';

/**
 * Health probed once per cluster: three real servers on loopback joined through a real etcd
 * (unix sockets), 12 members each checked over TCP at targets the test listens on, so the
 * test counts how often each target is connected to. Each check has one owner; the others
 * get its results through etcd.
 */

const TARGETS = 12;
const INTERVAL_MS = 500;
const FALL = 2;

interface Target {
  readonly server: Server;
  readonly port: number;
  connections: number;
  readonly sockets: Set<Socket>;
}

async function listenTarget(): Promise<Target> {
  const sockets = new Set<Socket>();
  const target: { connections: number } = { connections: 0 };
  const server = createServer((socket) => {
    target.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return Object.assign(target, { server, port, sockets });
}

const configOf = (node: string, endpoints: readonly string[], targets: readonly Target[]) => `
listen: ['127.0.0.1:0']
api: { listen: '127.0.0.1:0' }
workers: 1
health: { startupGrace: 2s }
zones:
  - origin: example.org
    records: |
      @ 300 IN SOA ns1 hostmaster 1 7200 3600 1209600 300
      @ 300 IN NS ns1
      ns1 300 IN A 192.0.2.53
services:
  - name: app.example.org
    ttl: 5
    answers: ${TARGETS}
    pools:
      - name: p
        members:
${targets.map((t, i) => `          - { name: m${i}, address: 198.51.100.${i + 1}, healthTarget: '127.0.0.1:${t.port}' }`).join('\n')}
    health: { type: tcp, interval: ${INTERVAL_MS}ms, timeout: 400ms, fall: ${FALL}, rise: 1 }
    policies: [up]
cluster:
  node: ${node}
  etcd: { endpoints: [${endpoints.map((e) => `'${e}'`).join(', ')}] }
`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const answered = async (server: ServerProcess): Promise<string[]> => {
  const reply = await query(server.address, { name: 'app.example.org', type: 'A' });
  return reply.answers.flatMap((a) => (a.type === 'A' ? [a.data] : [])).sort();
};

describe('health checked once per cluster', { timeout: 180_000 }, () => {
  let etcd: EtcdCluster;
  let targets: Target[];
  let dir: string;
  const servers = new Map<string, ServerProcess>();

  const counts = () => targets.map((t) => t.connections);
  const total = () => counts().reduce((a, b) => a + b, 0);

  before(async () => {
    etcd = await startEtcd();
    targets = await Promise.all(Array.from({ length: TARGETS }, () => listenTarget()));
    dir = await tmpdirWith({});
    for (const node of ['n1', 'n2', 'n3']) {
      await writeFile(join(dir, `${node}.yaml`), configOf(node, etcd.endpoints, targets));
      servers.set(
        node,
        await startServer(['serve', '--config', join(dir, `${node}.yaml`)], { addListen: false }),
      );
    }
    // Every node has seen the three registrations and assigned the checks.
    for (const server of servers.values())
      await server.waitForLog(
        (e) => e?.['msg'] === 'health checks assigned' && e['nodes'] === 3,
        20_000,
      );
  });

  after(async () => {
    for (const server of servers.values()) await server.stop(3000);
    for (const t of (targets as Target[] | undefined) ?? []) {
      for (const socket of t.sockets) socket.destroy();
      t.server.close();
    }
    await (etcd as EtcdCluster | undefined)?.remove();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('runs about one check per target and interval across the cluster, not one per node', async () => {
    const before = total();
    const windowMs = 4000;
    await sleep(windowMs);
    const checks = total() - before;
    const perNode = (TARGETS * windowMs) / INTERVAL_MS;
    // One owner per check: about perNode checks in all; three times that without sharing.
    assert.ok(
      checks < perNode * 1.6,
      `${checks} checks in ${windowMs} ms (one node alone runs ${perNode})`,
    );
    assert.ok(checks > perNode * 0.5, `only ${checks} checks in ${windowMs} ms`);
    // Every node computes the same owner for each check, and shows it in GET /status.
    const views = await Promise.all(
      [...servers.values()].map(async (server) => {
        const response = await fetch(`http://${server.bound.api}/status`);
        const body = (await response.json()) as {
          cluster?: { healthOwners?: Record<string, string>; nodes: { targets?: number }[] };
        };
        return body.cluster;
      }),
    );
    const owners = views.map((view) => JSON.stringify(view?.healthOwners));
    assert.equal(Object.keys(views[0]?.healthOwners ?? {}).length, TARGETS);
    assert.deepEqual(new Set(owners).size, 1, `owners differ: ${owners.join(' / ')}`);
    const targetsShown = views[0]!.nodes.reduce((sum, n) => sum + (n.targets ?? 0), 0);
    assert.equal(targetsShown, TARGETS);
  });

  it('a target going down leaves every node within interval x fall + 500 ms', async () => {
    for (const server of servers.values()) assert.equal((await answered(server)).length, TARGETS);
    const victim = targets[3]!;
    victim.server.close();
    for (const socket of victim.sockets) socket.destroy();
    const started = performance.now();
    const bound = INTERVAL_MS * FALL + 500;
    for (const [name, server] of servers) {
      for (;;) {
        const addresses = await answered(server);
        if (!addresses.includes('198.51.100.4')) break;
        assert.ok(
          performance.now() - started < bound + 1500,
          `${name} still answers the down member`,
        );
        await sleep(20);
      }
    }
    const took = performance.now() - started;
    process.stdout.write(`# down on every node after ${Math.round(took)} ms (bound ${bound})\n`);
    assert.ok(took < bound + 1000, `down on every node only after ${Math.round(took)} ms`);
  });

  it('a node that leaves hands its checks to the others within a lease TTL', async () => {
    const n1 = servers.get('n1')!;
    n1.signal('SIGKILL');
    await n1.exited;
    servers.delete('n1');
    // Within the lease (2 s) and a second: every live target is connected to again.
    await sleep(3500);
    const before = counts();
    await sleep(2000);
    const after = counts();
    const silent = targets
      .map((_target, i) => ({ i, delta: after[i]! - before[i]! }))
      .filter((t) => t.i !== 3 && t.delta === 0);
    assert.deepEqual(silent, [], 'targets nobody checks after n1 left');
  });
});
