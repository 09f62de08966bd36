/**
 * What operators share through etcd, end to end: a real etcd (unix sockets), two real
 * server processes on loopback, and the real `steerdns cluster` command. Overrides apply on
 * every node within 1 s, survive a restart, expire; a pushed configuration is loaded by
 * every node, a bad one is refused before it is stored, and one a node cannot load is
 * reported with file:line while that node keeps its old one; GET /status and `steerdns
 * status --server` show the cluster.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EtcdClient } from '../../src/cluster/etcd-client.js';
import { startEtcd, type EtcdCluster } from '../helpers/etcd.js';
import { query } from '../helpers/dns-client.js';
import { rdataTexts } from '../e2e/fixtures/server.js';
import {
  REPO_ROOT,
  startServer,
  tmpdirWith,
  type ServerProcess,
} from '../helpers/server-process.js';

const PREFIX = '/steerdns/ops/';
const A = '192.0.2.11';
const B = '192.0.2.12';

/** Zones and services: what is pushed (no node-local section). */
const shared = (www: string, extra = ''): string => `workers: 1
log: { level: info }
zones:
  - origin: example.org
    records: |
      @ 300 IN SOA ns1 hostmaster 1 7200 3600 1209600 300
      @ 300 IN NS ns1
      ns1 300 IN A 192.0.2.53
      www 300 IN A ${www}
${extra}services:
  - name: app.example.org
    ttl: 5
    answers: 2
    pools:
      - name: main
        members:
          - { name: a, address: ${A} }
          - { name: b, address: ${B} }
    policies: [up, admin, round-robin]
`;

/** A node's own file: the shared part and its cluster section. */
const nodeConfig = (
  node: string,
  endpoint: string,
): string => `${shared('198.51.100.10')}api: { listen: '127.0.0.1:0' }
cluster:
  name: ops
  node: ${node}
  etcd: { endpoints: ['${endpoint}'] }
`;

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the real command line (`src/main.ts`) to its end. */
const steerdns = (args: readonly string[]): Promise<Run> =>
  new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/main.ts', ...args],
      { cwd: REPO_ROOT, timeout: 90_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });

const addresses = async (server: ServerProcess, name = 'app.example.org'): Promise<string[]> =>
  rdataTexts((await query(server.address, { name, type: 'A' })).answers).sort();

/** Polls `probe` every 20 ms until it holds; fails with `what` after `timeoutMs`. */
async function within(
  what: string,
  timeoutMs: number,
  probe: () => Promise<boolean>,
): Promise<number> {
  const start = performance.now();
  for (;;) {
    if (await probe()) return performance.now() - start;
    if (performance.now() - start > timeoutMs) assert.fail(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

let etcd: EtcdCluster | undefined;
let client: EtcdClient | undefined;
let dirA: string;
let dirB: string;
const servers = new Map<string, ServerProcess>();
const fileOf = (node: string): string => join(node === 'nA' ? dirA : dirB, `${node}.yaml`);

async function start(node: string): Promise<ServerProcess> {
  const server = await startServer(['serve', '--config', fileOf(node)]);
  servers.set(node, server);
  await server.waitForLog((entry) => entry?.['msg'] === 'ready', 30_000);
  return server;
}

const both = (): ServerProcess[] => [servers.get('nA')!, servers.get('nB')!];

before(async () => {
  const cluster = await startEtcd();
  etcd = cluster;
  client = new EtcdClient({ endpoints: cluster.endpoints, timeoutMs: 1000 });
  const endpoint = cluster.endpoints[0]!;
  dirA = await tmpdirWith({
    'nA.yaml': nodeConfig('nA', endpoint),
    // Only node A has this file: a configuration naming it loads on A, not on B.
    'extra.zone': '@ 300 IN SOA ns1 hostmaster 1 7200 3600 1209600 300\n@ 300 IN NS ns1\n',
  });
  dirB = await tmpdirWith({ 'nB.yaml': nodeConfig('nB', endpoint) });
  await Promise.all([start('nA'), start('nB')]);
});

after(async () => {
  await Promise.all([...servers.values()].map((s) => s.stop()));
  client?.close();
  await etcd?.remove();
  for (const dir of [dirA, dirB]) if (dir) await rm(dir, { recursive: true, force: true });
});

describe('operator overrides in etcd', () => {
  it('disable: every node stops answering the member within 1 s; a restarted node keeps it; clear brings it back', async () => {
    for (const server of both()) assert.deepEqual(await addresses(server), [A, B]);
    const set = await steerdns([
      'cluster',
      'override',
      'set',
      'app.example.org main/a',
      '--admin',
      'disable',
      '--reason',
      'maintenance',
      '--config',
      fileOf('nA'),
    ]);
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, /app\.example\.org\. main\/a: admin disabled by .*: maintenance/);
    await Promise.all(
      both().map((server) =>
        within(
          `node ${server.pid} drops ${A}`,
          1000,
          async () => (await addresses(server)).join() === B,
        ),
      ),
    );
    const list = await steerdns([
      'cluster',
      'override',
      'list',
      '--config',
      fileOf('nB'),
      '--json',
    ]);
    assert.equal(list.code, 0, list.stderr);
    const rows = JSON.parse(list.stdout) as { member: string; admin: string }[];
    assert.deepEqual(
      rows.map((r) => [r.member, r.admin]),
      [['app.example.org. main/a', 'disabled']],
    );

    await servers.get('nB')!.stop();
    const restarted = await start('nB');
    assert.deepEqual(
      await addresses(restarted),
      [B],
      'a restarted node applies the override at once',
    );

    const clear = await steerdns([
      'cluster',
      'override',
      'clear',
      'app.example.org. main/a',
      '--config',
      fileOf('nA'),
    ]);
    assert.equal(clear.code, 0, clear.stderr);
    assert.match(clear.stdout, /override cleared/);
    await Promise.all(
      both().map((server) =>
        within(
          `node ${server.pid} answers ${A} again`,
          1000,
          async () => (await addresses(server)).join() === `${A},${B}`,
        ),
      ),
    );
  });

  it('an override with --for expires on every node', async () => {
    const set = await steerdns([
      'cluster',
      'override',
      'set',
      'app.example.org',
      'main/b',
      '--health',
      'down',
      '--for',
      '3s',
      '--config',
      fileOf('nB'),
    ]);
    const setAt = performance.now();
    assert.equal(set.code, 0, set.stderr);
    await Promise.all(
      both().map((server) =>
        within('b forced down', 1000, async () => (await addresses(server)).join() === A),
      ),
    );
    await Promise.all(
      both().map((server) =>
        within(
          'b back after the expiry',
          5000,
          async () => (await addresses(server)).join() === `${A},${B}`,
        ),
      ),
    );
    // The CLI wrote `until` before it exited: b cannot be back before 3 s after that.
    assert.ok(
      performance.now() - setAt > 1500,
      `expired too early: ${performance.now() - setAt} ms`,
    );
  });

  it('an unknown member is refused (exit 2) and nothing is written', async () => {
    for (const member of ['app.example.org main/zz', 'nope.example.org main/a']) {
      const run = await steerdns([
        'cluster',
        'override',
        'set',
        member,
        '--admin',
        'drain',
        '--config',
        fileOf('nA'),
      ]);
      assert.equal(run.code, 2, run.stderr);
      assert.match(
        run.stderr,
        /steerdns cluster: no (member main\/zz in service app\.example\.org\.|service nope\.example\.org\.)/,
      );
    }
    for (const key of ['app.example.org. main/zz', 'nope.example.org. main/a']) {
      const written = await client!.range(`${PREFIX}overrides/${key}`);
      assert.equal(written.kvs.length, 0, `nothing written for ${key}`);
    }
  });
});

describe('steerdns cluster config push', () => {
  it('a good configuration is loaded by every node, which answer from it', async () => {
    const file = join(dirA, 'good.yaml');
    await writeFile(file, shared('198.51.100.99'));
    const run = await steerdns(['cluster', 'config', 'push', file, '--config', fileOf('nA')]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^nA: loaded version \d+$/m);
    assert.match(run.stdout, /^nB: loaded version \d+$/m);
    for (const server of both())
      assert.deepEqual(await addresses(server, 'www.example.org'), ['198.51.100.99']);
  });

  it('a configuration with a mistake is refused by the command with file:line, and not stored', async () => {
    const stored = await client!.range(`${PREFIX}config`);
    const file = join(dirA, 'bad.yaml');
    await writeFile(file, shared('198.51.100.77').replace('ttl: 5', 'ttl: soon'));
    const run = await steerdns(['cluster', 'config', 'push', file, '--config', fileOf('nA')]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /rejected here, nothing pushed/);
    assert.ok(run.stderr.includes(`${file}:12: `), run.stderr);
    const now = await client!.range(`${PREFIX}config`);
    assert.equal(
      now.kvs[0]?.modRevision,
      stored.kvs[0]?.modRevision,
      'the stored configuration is unchanged',
    );
    for (const server of both())
      assert.deepEqual(await addresses(server, 'www.example.org'), ['198.51.100.99']);
  });

  it('a configuration a node cannot load is reported by that node with file:line; it keeps the old one', async () => {
    const file = join(dirA, 'extra.yaml');
    const extra = `  - origin: other.example\n    file: extra.zone\n`;
    await writeFile(file, shared('198.51.100.55', extra));
    const run = await steerdns([
      'cluster',
      'config',
      'push',
      file,
      '--config',
      fileOf('nA'),
      '--timeout',
      '20s',
    ]);
    assert.equal(run.code, 1, run.stdout);
    assert.match(run.stdout, /^nA: loaded version \d+$/m);
    assert.match(run.stderr, /nB: rejected version \d+, still serving the previous configuration:/);
    assert.ok(
      run.stderr.includes(
        `${file}:10: zone other.example.: cannot read ${join(dirB, 'extra.zone')}: ENOENT`,
      ),
      run.stderr,
    );
    assert.deepEqual(await addresses(servers.get('nA')!, 'www.example.org'), ['198.51.100.55']);
    assert.deepEqual(await addresses(servers.get('nB')!, 'www.example.org'), ['198.51.100.99']);
    const statusB = await client!.range(`${PREFIX}config-status/nB`);
    assert.equal((JSON.parse(statusB.kvs[0]!.value) as { ok: boolean }).ok, false);
  });
});

describe('status shows the cluster', () => {
  it('GET /status has the cluster view; steerdns status --server prints the cluster table', async () => {
    const nA = servers.get('nA')!;
    const api = `127.0.0.1:${nA.api!.port}`;
    let view:
      | { node: string; role: string; nodes: { name: string; role: string; epoch: number }[] }
      | undefined;
    await within('nA sees both nodes', 10_000, async () => {
      const response = await fetch(`http://${api}/status`);
      view = ((await response.json()) as { cluster?: typeof view }).cluster;
      return (
        view?.nodes.length === 2 &&
        view.nodes.every((n) => n.role === 'active' || n.role === 'standby')
      );
    });
    assert.equal(view!.node, 'nA');
    assert.deepEqual(view!.nodes.map((n) => n.name).sort(), ['nA', 'nB']);
    const text = await steerdns(['status', '--server', api]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(
      text.stdout,
      /^cluster ops, seen from nA: (active|standby), epoch \d+, master n[AB], session ok/m,
    );
    assert.match(text.stdout, /^ NODE +ROLE +EPOCH +UPDATED$/m);
    assert.match(text.stdout, /^\*nA +(active|standby) +\d+ +\d+\.\d s ago$/m);
    assert.match(text.stdout, /^ nB +(active|standby) +\d+ +\d+\.\d s ago$/m);
    const json = await steerdns(['status', '--server', api, '--json']);
    const document = JSON.parse(json.stdout) as { members: unknown[]; cluster: { node: string } };
    assert.equal(document.cluster.node, 'nA');
    assert.equal(document.members.length, 2);
  });
});
