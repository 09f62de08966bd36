/**
 * End to end (issue 12): on a clustered node, the REST API writes overrides where
 * `steerdns cluster override` does (etcd, `PREFIX overrides/<member key>`), so every node of
 * the cluster applies them; no state file is written. A real etcd, two real servers.
 */
import assert from 'node:assert/strict';
import { access, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { EtcdClient } from '../../src/cluster/etcd-client.js';
import { apiCall, errorCode, until } from '../helpers/api-client.js';
import { query } from '../helpers/dns-client.js';
import { startEtcd, type EtcdCluster } from '../helpers/etcd.js';
import { startServer, tmpdirWith, type ServerProcess } from '../helpers/server-process.js';
import { rdataTexts } from '../e2e/fixtures/server.js';

const TOKEN = 'cluster-operator-secret-01';
const MEMBER = '/api/v1/services/app.example.org/members/main/a';
const A = '192.0.2.11';
const B = '192.0.2.12';

const nodeConfig = (node: string, endpoint: string): string => `workers: 1
api: { listen: '127.0.0.1:0', tokenFile: tokens }
zones:
  - origin: example.org
    records: |
      @ 300 IN SOA ns1 hostmaster 1 7200 3600 1209600 300
      @ 300 IN NS ns1
      ns1 300 IN A 192.0.2.53
services:
  - name: app.example.org
    ttl: 5
    answers: 2
    pools:
      - name: main
        members:
          - { name: a, address: ${A} }
          - { name: b, address: ${B} }
cluster:
  name: apitest
  node: ${node}
  etcd: { endpoints: ['${endpoint}'] }
`;

let etcd: EtcdCluster | undefined;
let client: EtcdClient | undefined;
let dir = '';
const servers: ServerProcess[] = [];

const addresses = async (server: ServerProcess): Promise<string[]> =>
  rdataTexts((await query(server.address, { name: 'app.example.org', type: 'A' })).answers).sort();

before(async () => {
  etcd = await startEtcd();
  client = new EtcdClient({ endpoints: etcd.endpoints, timeoutMs: 1000 });
  const endpoint = etcd.endpoints[0]!;
  dir = await tmpdirWith({
    tokens: `ops ${TOKEN}\n`,
    'n1.yaml': nodeConfig('n1', endpoint),
    'n2.yaml': nodeConfig('n2', endpoint),
  });
  for (const node of ['n1', 'n2']) {
    const server = await startServer(['serve', '--config', join(dir, `${node}.yaml`)]);
    servers.push(server);
    await server.waitForLog((entry) => entry?.['msg'] === 'ready', 30_000);
  }
});

after(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  client?.close();
  await etcd?.remove();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('a drain through one node reaches etcd and every node; a clear through the other ends it', async () => {
  const [n1, n2] = servers as [ServerProcess, ServerProcess];
  const drained = await apiCall(n1.api!, `${MEMBER}/drain`, {
    method: 'POST',
    token: TOKEN,
    body: { reason: 'cluster maintenance' },
  });
  assert.equal(drained.status, 200, drained.text);
  assert.equal(
    (drained.json as { member: { override: { admin: string } } }).member.override.admin,
    'draining',
    'the answer comes once the node applies it',
  );
  const { kvs } = await client!.range('/steerdns/apitest/overrides/', { prefix: true });
  assert.deepEqual(
    kvs.map((kv) => kv.key),
    ['/steerdns/apitest/overrides/app.example.org. main/a'],
  );
  const stored = JSON.parse(kvs[0]!.value) as { admin: string; by: string; reason: string };
  assert.deepEqual(
    [stored.admin, stored.by, stored.reason],
    ['draining', 'ops', 'cluster maintenance'],
  );
  for (const server of servers)
    await until(`node ${server.pid} leaves ${A} out`, async () =>
      (await addresses(server)).join() === B ? true : undefined,
    );
  await assert.rejects(access(join(dir, 'n1.overrides.json')), 'no state file when clustered');
  const cluster = await apiCall(n2.api!, '/api/v1/cluster', { token: TOKEN });
  assert.equal(cluster.status, 200, cluster.text);
  assert.equal((cluster.json as { node: string }).node, 'n2');
  const cleared = await apiCall(n2.api!, `${MEMBER}/override`, { method: 'DELETE', token: TOKEN });
  assert.equal(cleared.status, 200, cleared.text);
  assert.equal((cleared.json as { member: { override: unknown } }).member.override, null);
  for (const server of servers)
    await until(`node ${server.pid} answers ${A} again`, async () =>
      (await addresses(server)).join() === `${A},${B}` ? true : undefined,
    );
  const wrong = await apiCall(n1.api!, `${MEMBER}/drain`, {
    method: 'POST',
    token: 'x'.repeat(20),
  });
  assert.equal(errorCode(wrong), 'STEERDNS_ERR_API_TOKEN_WRONG');
});
