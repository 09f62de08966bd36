import { spawn, type ChildProcess } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { query } from '../helpers/dns-client.js';
import { deadline } from '../helpers/cluster-lab.js';
import { startEtcd, type EtcdCluster } from '../helpers/etcd.js';
import {
  REPO_ROOT,
  startServer,
  tmpdirWith,
  type ServerProcess,
} from '../helpers/server-process.js';

/**
 * Agent announcements in a cluster (issue 8): a real `steerdns agent` given one `--to` per
 * node announces to every node of a two-node cluster (a real etcd on unix sockets), so each
 * node answers the announced member, and a leave takes it out of both.
 */

const KEY_FILE = resolve(REPO_ROOT, 'examples/agent.key');

const configOf = (node: string, endpoints: readonly string[]) => `
listen: ['127.0.0.1:0']
workers: 1
agents:
  listen: ['127.0.0.1:0']
  keyFile: ${KEY_FILE}
zones:
  - origin: example.org
    records: |
      @ 3600 IN SOA ns1 hostmaster 1 7200 3600 1209600 300
      @ 3600 IN NS ns1
      ns1 3600 IN A 192.0.2.53
services:
  - name: app.example.org
    ttl: 5
    answers: 2
    dynamic: { pool: agents }
    policies: [up, admin]
    allDown: nodata
cluster:
  node: ${node}
  etcd: { endpoints: [${endpoints.map((e) => `'${e}'`).join(', ')}] }
`;

const addressesOf = async (server: ServerProcess): Promise<string[]> => {
  const reply = await query(server.address, { name: 'app.example.org', type: 'A' });
  return reply.answers.flatMap((a) => (a.type === 'A' ? [a.data] : [])).sort();
};

/** Waits (10 s at most) until `check` holds. */
const until = (what: string, check: () => Promise<boolean>): Promise<true> =>
  deadline(what, 10_000, async () => ((await check()) ? true : undefined), undefined, 50);

describe('agents announce to every node of a cluster', { timeout: 120_000 }, () => {
  let etcd: EtcdCluster;
  let dir: string;
  const servers: ServerProcess[] = [];
  let agent: ChildProcess | undefined;

  before(async () => {
    etcd = await startEtcd();
    dir = await tmpdirWith({});
    for (const node of ['n1', 'n2']) {
      await writeFile(join(dir, `${node}.yaml`), configOf(node, etcd.endpoints));
      servers.push(
        await startServer(['serve', '--config', join(dir, `${node}.yaml`)], { addListen: false }),
      );
    }
  });

  after(async () => {
    agent?.kill('SIGKILL');
    for (const server of servers) await server.stop(3000);
    await (etcd as EtcdCluster | undefined)?.remove();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('every node answers the announced member, and a leave takes it out of all', async () => {
    const targets = servers.flatMap((server) => ['--to', `127.0.0.1:${server.agents[0]!.port}`]);
    agent = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/main.ts', 'agent', ...targets, '--key-file', KEY_FILE]
        .concat(['--service', 'app.example.org', '--address', '192.0.2.41'])
        .concat(['--node', 'a1', '--interval', '300ms']),
      { cwd: REPO_ROOT, stdio: 'ignore' },
    );
    for (const [i, server] of servers.entries())
      await until(`node ${i + 1} to answer the agent`, async () =>
        (await addressesOf(server)).includes('192.0.2.41'),
      );
    const exited = new Promise((done) => agent!.once('exit', done));
    agent.kill('SIGTERM');
    await exited;
    for (const [i, server] of servers.entries())
      await until(
        `node ${i + 1} to drop the agent`,
        async () => (await addressesOf(server)).length === 0,
      );
  });
});
