import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startEtcd, type EtcdCluster } from '../../test/helpers/etcd.js';
import { EtcdClient } from './etcd-client.js';
import { Membership, parseMember } from './membership.js';
import { LeaseSession, type LeaseApi } from './session.js';

async function waitFor(condition: () => boolean, ms: number, what: string): Promise<number> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > ms) throw new Error(`waited ${ms} ms for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return Date.now() - started;
}

/** A node: client, session (crashable: its lease calls then never settle) and membership. */
function node(etcd: EtcdCluster, name: string, prefix: string) {
  const client = new EtcdClient({ endpoints: etcd.endpoints, timeoutMs: 500 });
  let crashed = false;
  const hang = new Promise<never>(() => undefined);
  const leases: LeaseApi = {
    leaseGrant: (ttl) => (crashed ? hang : client.leaseGrant(ttl)),
    leaseKeepAlive: (id) => (crashed ? hang : client.leaseKeepAlive(id)),
    leaseRevoke: (id) => (crashed ? hang : client.leaseRevoke(id)),
  };
  const session = new LeaseSession({ client: leases, ttlSeconds: 2 });
  const membership = new Membership({ client, session, prefix, name, livenessMs: 500 });
  session.start();
  const ready = membership.start({ addresses: [`192.0.2.${name.slice(1)}`], role: 'initial' });
  const names = (): string => membership.members.map((m) => m.name).join(',');
  return {
    name,
    client,
    session,
    membership,
    ready,
    names,
    crash: () => (crashed = true),
    stop: async () => {
      await membership.close();
      if (crashed) void session.close();
      else await session.close();
      client.close();
    },
  };
}

describe('Membership on real etcd', () => {
  let etcd: EtcdCluster;
  before(async () => {
    etcd = await startEtcd();
  });
  after(async () => {
    await etcd.remove();
  });

  it('three nodes see each other and each update; a node whose lease expires is dropped by the others within TTL + 1 s', async (t) => {
    const prefix = '/m1/nodes/';
    const nodes = ['n1', 'n2', 'n3'].map((name) => node(etcd, name, prefix));
    t.after(() => Promise.all(nodes.map((n) => n.stop())));
    await Promise.all(nodes.map((n) => n.ready));
    for (const n of nodes)
      await waitFor(() => n.names() === 'n1,n2,n3', 3000, `${n.name} to see all three`);
    const [n1, n2, n3] = nodes as [
      ReturnType<typeof node>,
      ReturnType<typeof node>,
      ReturnType<typeof node>,
    ];
    const seen = n2.membership.members.find((m) => m.name === 'n1');
    assert.deepEqual(seen?.addresses, ['192.0.2.1']);
    assert.equal(seen.role, 'initial');
    assert.equal(seen.lease, n1.session.lease?.id, 'the entry lives under its session lease');
    assert.ok(Object.isFrozen(n2.membership.members));

    await n1.membership.update({ role: 'active', epoch: 42 });
    await waitFor(
      () => n3.membership.members.find((m) => m.name === 'n1')?.role === 'active',
      2000,
      'n3 to see the update',
    );
    assert.equal(n3.membership.members.find((m) => m.name === 'n1')?.epoch, 42);

    const renewal = await n2.membership.lastRenewal('n1');
    assert.ok(
      renewal !== undefined && Date.now() - renewal <= 2000,
      `n1 renewed ${Date.now() - (renewal ?? 0)} ms ago`,
    );
    assert.equal(await n2.membership.lastRenewal('n2'), n2.session.lease?.renewedAt);

    const crashedAt = Date.now();
    n1.crash();
    await waitFor(
      () => n2.names() === 'n2,n3' && n3.names() === 'n2,n3',
      3000,
      'n2 and n3 to drop n1 within TTL + 1 s',
    );
    console.log(`# membership: n1 dropped ${Date.now() - crashedAt} ms after its crash`);
    assert.equal(await n2.membership.lastRenewal('n1'), undefined);
  });

  it('a node that closes is gone for the others at once', async (t) => {
    const prefix = '/m2/nodes/';
    const nodes = ['n1', 'n2'].map((name) => node(etcd, name, prefix));
    t.after(() => Promise.all(nodes.map((n) => n.stop())));
    await waitFor(() => nodes.every((n) => n.names() === 'n1,n2'), 3000, 'both to see both');
    await nodes[0]!.membership.close();
    await waitFor(
      () => nodes[1]!.names() === 'n2',
      500,
      'n2 to drop n1 within 500 ms of its close',
    );
  });

  it('skips entries that are not node statuses', () => {
    const kv = { key: '/p/x', createRevision: 1, modRevision: 2, version: 1, lease: '7' };
    const rows = [
      { value: 'not json', ok: false },
      { value: '[]', ok: false },
      { value: '{"name":"x","addresses":["a"],"role":"active"}', ok: false },
      { value: '{"name":"x","addresses":[1],"role":"active","updatedAt":"t"}', ok: false },
      {
        value: '{"name":"x","addresses":["a"],"role":"active","updatedAt":"t","epoch":3}',
        ok: true,
      },
    ];
    for (const row of rows)
      assert.equal(parseMember({ ...kv, value: row.value }) !== undefined, row.ok, row.value);
  });
});
