import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startEtcd, type EtcdCluster } from '../../test/helpers/etcd.js';
import { Election, guardedTxn, observeLeader, type Leader } from './election.js';
import { EtcdClient } from './etcd-client.js';
import { LeaseSession, type LeaseApi } from './session.js';

/** Polls `condition` every 10 ms until it holds; fails with `what` after `ms`. */
async function waitFor(condition: () => boolean, ms: number, what: string): Promise<number> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > ms) throw new Error(`waited ${ms} ms for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return Date.now() - started;
}

/** A candidate: its own client, session and election; `crash()` stops its renewals dead. */
function candidate(etcd: EtcdCluster, name: string, prefix: string) {
  const client = new EtcdClient({ endpoints: etcd.endpoints, timeoutMs: 500 });
  let crashed = false;
  const hang = new Promise<never>(() => undefined);
  // A crashed process sends no keepalive and revokes nothing: calls never settle.
  const leases: LeaseApi = {
    leaseGrant: (ttl) => (crashed ? hang : client.leaseGrant(ttl)),
    leaseKeepAlive: (id) => (crashed ? hang : client.leaseKeepAlive(id)),
    leaseRevoke: (id) => (crashed ? hang : client.leaseRevoke(id)),
  };
  const session = new LeaseSession({ client: leases, ttlSeconds: 2 });
  const election = new Election(session, { client, prefix, livenessMs: 500 });
  const log: string[] = [];
  election.on('leader', (epoch) => log.push(`leader ${epoch}`));
  election.on('follower', (value, epoch) => log.push(`follower ${value} ${epoch}`));
  session.start();
  election.campaign(name);
  return {
    name,
    client,
    session,
    election,
    log,
    crash: () => (crashed = true),
    stop: async () => {
      await election.close();
      // A crashed candidate's revoke would never settle: its session only stops its timers.
      if (crashed) void session.close();
      else await session.close();
      client.close();
    },
  };
}

type Candidate = ReturnType<typeof candidate>;

function leaders(candidates: readonly Candidate[]): Candidate[] {
  return candidates.filter((c) => c.election.isLeader);
}

describe('Election on real etcd', () => {
  let etcd: EtcdCluster;
  before(async () => {
    etcd = await startEtcd();
  });
  after(async () => {
    await etcd.remove();
  });

  it('three candidates: one leader at any time; a crashed leader is replaced within TTL + 1 s with a greater epoch; its late guarded write fails', async (t) => {
    const prefix = '/crash/election/';
    const candidates = ['n1', 'n2', 'n3'].map((name) => candidate(etcd, name, prefix));
    const seen: (Leader | undefined)[] = [];
    const observer = observeLeader({ client: candidates[0]!.client, prefix }, (leader) =>
      seen.push(leader),
    );
    let overlap = 0;
    const sampler = setInterval(() => {
      if (leaders(candidates).length > 1) overlap++;
    }, 5);
    t.after(async () => {
      clearInterval(sampler);
      observer.close();
      await Promise.all(candidates.map((c) => c.stop()));
    });
    await waitFor(() => leaders(candidates).length === 1, 5000, 'a first leader');
    await new Promise((resolve) => setTimeout(resolve, 500));
    const [first] = leaders(candidates);
    assert.ok(first !== undefined && leaders(candidates).length === 1);
    const epoch = first.election.epoch!;
    await waitFor(
      () => observer.current()?.epoch === epoch,
      2000,
      'the observer to see the leader',
    );
    assert.equal(observer.current()?.value, first.name);
    for (const other of candidates.filter((c) => c !== first))
      await waitFor(
        () => other.log.at(-1) === `follower ${first.name} ${epoch}`,
        2000,
        `${other.name} to follow`,
      );
    const leaderKey = observer.current()!.key;
    const write = {
      success: [{ op: 'put', key: '/crash/state', value: 'from the first leader' }],
    } as const;
    assert.equal((await first.election.guardedTxn(write)).succeeded, true, 'the leader writes');

    const crashedAt = Date.now();
    first.crash();
    await waitFor(
      () => !first.election.isLeader,
      2100,
      'the crashed leader to step down by its local deadline',
    );
    const stepDown = Date.now() - crashedAt;
    const rest = candidates.filter((c) => c !== first);
    await waitFor(
      () => leaders(rest).length === 1,
      3000 - stepDown,
      'a new leader within TTL + 1 s',
    );
    const elected = Date.now() - crashedAt;
    const [second] = leaders(rest);
    assert.ok(
      second?.election.epoch !== undefined && second.election.epoch > epoch,
      'a greater epoch',
    );
    assert.ok(stepDown < elected, `stepped down at ${stepDown} ms, new leader at ${elected} ms`);
    assert.ok(elected <= 3000, `new leader ${elected} ms after the crash`);
    console.log(`# crash: old leader stepped down at ${stepDown} ms, new leader at ${elected} ms`);
    assert.equal(overlap, 0, 'never two leaders at once');
    await waitFor(
      () => observer.current()?.epoch === second.election.epoch,
      2000,
      'the observer to follow',
    );
    assert.ok(seen.some((leader) => leader?.epoch === epoch));

    // The deposed leader's late write: its epoch is gone, nothing is written.
    const late = await guardedTxn(
      first.client,
      { key: leaderKey, epoch },
      {
        success: [{ op: 'put', key: '/crash/state', value: 'late' }],
      },
    );
    assert.equal(late.succeeded, false);
    assert.equal((await first.client.range('/crash/state')).kvs[0]?.value, 'from the first leader');
    assert.equal(
      (await second.election.guardedTxn(write)).succeeded,
      true,
      'the new leader writes',
    );
  });

  it('resign hands leadership over within 500 ms', async (t) => {
    const prefix = '/resign/election/';
    const candidates = ['r1', 'r2'].map((name) => candidate(etcd, name, prefix));
    t.after(async () => {
      await Promise.all(candidates.map((c) => c.stop()));
    });
    await waitFor(() => leaders(candidates).length === 1, 5000, 'a first leader');
    const [first] = leaders(candidates);
    const other = candidates.find((c) => c !== first)!;
    await waitFor(() => other.log.length > 0, 2000, 'the other to follow');
    const started = Date.now();
    await first!.election.resign();
    assert.equal(first!.election.isLeader, false, 'not the leader once resign resolved');
    await waitFor(
      () => other.election.isLeader,
      500,
      'the other to lead within 500 ms of the resign',
    );
    assert.ok(Date.now() - started < 500);
  });

  it('a candidate whose lease is revoked at etcd campaigns again with its next lease', async (t) => {
    const prefix = '/revoke/election/';
    const only = candidate(etcd, 'solo', prefix);
    t.after(() => only.stop());
    await waitFor(() => only.election.isLeader, 5000, 'the only candidate to lead');
    const epoch = only.election.epoch!;
    await only.client.leaseRevoke(only.session.lease!.id);
    await waitFor(
      () => only.log.some((line) => line.startsWith('follower')),
      2000,
      'a step down once its lease is gone',
    );
    await waitFor(
      () => (only.election.epoch ?? 0) > epoch,
      5000,
      'leadership again with a new lease and epoch',
    );
  });
});
