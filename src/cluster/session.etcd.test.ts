import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { startEtcd } from '../../test/helpers/etcd.js';
import { EtcdClient } from './etcd-client.js';
import { LeaseSession, type SessionEvents, type SessionLease } from './session.js';

/** The next `event` of `session`, within `ms`. */
async function next<E extends keyof SessionEvents>(
  session: LeaseSession,
  event: E,
  ms: number,
): Promise<SessionEvents[E]> {
  const signal = AbortSignal.timeout(ms);
  try {
    return (await once(session, event, { signal })) as SessionEvents[E];
  } catch (error) {
    if (signal.aborted) throw new Error(`no ${event} within ${ms} ms`, { cause: error });
    throw error;
  }
}

describe('LeaseSession on real etcd', () => {
  it('renews its lease so that it outlives its TTL; is lost while etcd is paused; comes back with a new lease', async (t) => {
    const etcd = await startEtcd();
    const client = new EtcdClient({ endpoints: etcd.endpoints, timeoutMs: 500 });
    const session = new LeaseSession({ client, ttlSeconds: 1 });
    t.after(async () => {
      await session.close();
      client.close();
      await etcd.remove();
    });
    const granted = next(session, 'granted', 5000);
    session.start();
    const [lease] = await granted;
    assert.equal(lease.grantedTtl, 2, 'etcd raised the TTL of 1 s to its minimum');
    const renewals: SessionLease[] = [];
    session.on('renewed', (renewed) => renewals.push(renewed));
    await new Promise((resolve) => setTimeout(resolve, 3000)); // 1.5 TTLs: the lease must survive it
    assert.ok(renewals.length >= 3, `${renewals.length} renewals in 3 s`);
    assert.ok((await client.leaseTimeToLive(lease.id)).ttl > 0, 'etcd still has the lease');
    const lost = next(session, 'lost', 4000);
    const pausedAt = Date.now();
    etcd.pause('a');
    const [gone, reason] = await lost;
    assert.equal(gone.id, lease.id);
    assert.equal(reason, 'no renewal before the local deadline');
    assert.ok(
      Date.now() - pausedAt <= 2100,
      `lost ${Date.now() - pausedAt} ms after the pause (TTL 2 s)`,
    );
    const regranted = next(session, 'granted', 8000);
    etcd.resume('a');
    const [fresh] = await regranted;
    assert.notEqual(fresh.id, lease.id);
    assert.ok((await client.leaseTimeToLive(fresh.id)).ttl > 0);
  });

  it('fires at-risk while etcd still holds the lease (seen from another member)', async (t) => {
    const etcd = await startEtcd({ size: 3 });
    t.after(() => etcd.remove()); // first: whatever fails below, the cluster goes
    // The session talks to a follower, so that pausing it does not start an etcd election.
    const statuses = await Promise.all(
      etcd.endpoints.map(async (endpoint) => {
        const probe = new EtcdClient({ endpoints: [endpoint] });
        const status = await probe.status();
        probe.close();
        return { endpoint, follower: status.leader !== status.memberId };
      }),
    );
    const [sessionMember, observerMember] = statuses
      .filter((s) => s.follower)
      .map((s) => s.endpoint);
    assert.ok(sessionMember !== undefined && observerMember !== undefined, 'two followers');
    const member = etcd.names[etcd.endpoints.indexOf(sessionMember)]!;
    const client = new EtcdClient({ endpoints: [sessionMember], timeoutMs: 500 });
    const observer = new EtcdClient({ endpoints: [observerMember] });
    const session = new LeaseSession({ client, ttlSeconds: 2 });
    t.after(async () => {
      etcd.resume(member);
      await session.close();
      client.close();
      observer.close();
    });
    const granted = next(session, 'granted', 5000);
    session.start();
    const [lease] = await granted;
    await client.put('held', 'by the session', { lease: lease.id });
    await next(session, 'renewed', 2000);
    const atRisk = next(session, 'at-risk', 3000);
    etcd.pause(member);
    const [risky] = await atRisk;
    // At this moment etcd has not expired the lease: its key is still there.
    const seen = await observer.range('held');
    assert.equal(seen.kvs[0]?.lease, lease.id, 'the key of the lease is still at etcd at at-risk');
    assert.ok((await observer.leaseTimeToLive(lease.id)).ttl >= 0, 'the lease is alive at etcd');
    assert.ok(Date.now() < risky.deadline, 'at-risk comes before the local deadline');
    await next(session, 'lost', 2000);
    // And etcd expires it on its own within about a TTL after that.
    const deadline = Date.now() + 4000;
    while ((await observer.range('held')).kvs.length > 0) {
      assert.ok(Date.now() < deadline, 'etcd did not expire the lease within 4 s of the loss');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });
});
