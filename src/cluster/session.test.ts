import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LeaseGrant } from './etcd-client.js';
import { LeaseSession, type Clock, type LeaseApi, type SessionLease } from './session.js';

/** A clock whose time moves only with `advance`, running due timers in order. */
class FakeClock implements Clock {
  time = 1_000_000;
  #timers: { at: number; seq: number; callback: () => void }[] = [];
  #seq = 0;
  now(): number {
    return this.time;
  }
  setTimeout(callback: () => void, ms: number): unknown {
    const timer = { at: this.time + ms, seq: this.#seq++, callback };
    this.#timers.push(timer);
    return timer;
  }
  clearTimeout(handle: unknown): void {
    this.#timers = this.#timers.filter((timer) => timer !== handle);
  }
  /** Moves time forward by `ms`, running every timer due on the way (and microtasks between). */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    for (;;) {
      await flush();
      const due = this.#timers
        .filter((timer) => timer.at <= end)
        .sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (due === undefined) break;
      this.#timers = this.#timers.filter((timer) => timer !== due);
      this.time = Math.max(this.time, due.at);
      due.callback();
    }
    this.time = end;
    await flush();
  }
}

async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

/** A lease API whose answers the test gives: each call waits until answered. */
class FakeLeases implements LeaseApi {
  readonly calls: { call: string; id?: string; answer: (grant: LeaseGrant | Error) => void }[] = [];
  #next = 1;
  leaseGrant(): Promise<LeaseGrant> {
    return new Promise((resolve, reject) => {
      this.calls.push({
        call: 'grant',
        answer: (a) => {
          if (a instanceof Error) reject(a);
          else resolve(a);
        },
      });
    });
  }
  leaseKeepAlive(id: string): Promise<LeaseGrant> {
    return new Promise((resolve, reject) => {
      this.calls.push({
        call: 'keepalive',
        id,
        answer: (a) => {
          if (a instanceof Error) reject(a);
          else resolve(a);
        },
      });
    });
  }
  leaseRevoke(id: string): Promise<number> {
    this.calls.push({ call: 'revoke', id, answer: () => undefined });
    return Promise.resolve(1);
  }
  /** Answers the oldest open call named `call`. */
  async answer(call: string, grant: LeaseGrant | Error): Promise<void> {
    const index = this.calls.findIndex((c) => c.call === call);
    assert.ok(index >= 0, `no open ${call} call`);
    const [open] = this.calls.splice(index, 1);
    open!.answer(grant);
    await flush();
  }
  /** Answers the open grant with a new lease of `ttl`. */
  async grant(ttl: number): Promise<string> {
    const id = String(this.#next++);
    await this.answer('grant', { id, ttl });
    return id;
  }
  open(call: string): number {
    return this.calls.filter((c) => c.call === call).length;
  }
}

function leaseOf(subject: LeaseSession): SessionLease {
  const lease = subject.lease;
  assert.ok(lease !== undefined, 'the session holds no lease');
  return lease;
}

function session(options: { ttlSeconds?: number; marginMs?: number } = {}) {
  const clock = new FakeClock();
  const leases = new FakeLeases();
  const subject = new LeaseSession({
    client: leases,
    clock,
    ttlSeconds: options.ttlSeconds ?? 1,
    ...options,
  });
  const events: string[] = [];
  const at = (name: string) => () => events.push(`${name}@${clock.time - 1_000_000}`);
  subject.on('granted', (lease) =>
    events.push(`granted ${lease.id} ttl ${lease.grantedTtl}@${clock.time - 1_000_000}`),
  );
  subject.on('renewed', at('renewed'));
  subject.on('at-risk', at('at-risk'));
  subject.on('lost', (_, reason) => events.push(`lost (${reason})@${clock.time - 1_000_000}`));
  subject.start();
  return { clock, leases, subject, events };
}

describe('LeaseSession on a fake clock', () => {
  it('reports the TTL etcd granted and renews every TTL/3', async () => {
    const { clock, leases, subject, events } = session({ ttlSeconds: 1 });
    await leases.grant(2);
    assert.deepEqual(subject.lease, {
      id: '1',
      grantedTtl: 2,
      renewedAt: 1_000_000,
      deadline: 1_002_000,
    });
    await clock.advance(666);
    assert.equal(leases.open('keepalive'), 0, 'no renewal before TTL/3');
    await clock.advance(1);
    assert.equal(leases.open('keepalive'), 1);
    await leases.answer('keepalive', { id: '1', ttl: 2 });
    assert.deepEqual(events, ['granted 1 ttl 2@0', 'renewed@667']);
    assert.equal(leaseOf(subject).deadline, 1_002_667);
  });

  it('sets the deadline from when the renewal was SENT, not when it was answered', async () => {
    const { clock, leases, subject } = session();
    await leases.grant(2);
    await clock.advance(667); // keepalive sent at 667
    await clock.advance(800); // answered at 1467
    await leases.answer('keepalive', { id: '1', ttl: 2 });
    assert.equal(leaseOf(subject).renewedAt, 1_000_667);
    assert.equal(leaseOf(subject).deadline, 1_002_667);
  });

  it('fires at-risk at the deadline minus the margin, then lost at the deadline, then grants anew', async () => {
    const { clock, leases, subject, events } = session({ marginMs: 400 });
    await leases.grant(2);
    // The keepalive at 667 never gets an answer; its retries are not sent while one is open.
    await clock.advance(1599);
    assert.deepEqual(events, ['granted 1 ttl 2@0']);
    await clock.advance(1);
    assert.deepEqual(events.slice(1), ['at-risk@1600']);
    assert.equal(subject.state, 'at-risk');
    await clock.advance(399);
    assert.equal(events.length, 2);
    await clock.advance(1);
    assert.deepEqual(events.slice(2), ['lost (no renewal before the local deadline)@2000']);
    assert.equal(subject.lease, undefined);
    assert.ok(
      leases.calls.some((c) => c.call === 'revoke' && c.id === '1'),
      'the lost lease is revoked',
    );
    await leases.answer('keepalive', { id: '1', ttl: 2 }); // late: ignored
    assert.equal(events.length, 3);
    await clock.advance(250);
    assert.equal(leases.open('grant'), 1, 'a new grant after the backoff');
    await leases.grant(2);
    assert.deepEqual(events.slice(3), ['granted 2 ttl 2@2250']);
  });

  it('the default margin is min(500 ms, TTL/4)', async () => {
    const { clock, leases, events } = session();
    await leases.grant(2);
    await clock.advance(1499);
    assert.equal(events.length, 1);
    await clock.advance(1);
    assert.deepEqual(events.slice(1), ['at-risk@1500']);
  });

  it('is lost at once when a keepalive says TTL 0', async () => {
    const { clock, leases, events } = session();
    await leases.grant(2);
    await clock.advance(667);
    await leases.answer('keepalive', { id: '1', ttl: 0 });
    assert.deepEqual(events.slice(1), ['lost (etcd says the lease is gone)@667']);
  });

  it('retries a failed renewal soon and, renewed in time, never reaches at-risk', async () => {
    const { clock, leases, events } = session();
    await leases.grant(2);
    await clock.advance(667);
    await leases.answer('keepalive', new Error('etcd unreachable'));
    await clock.advance(200);
    await leases.answer('keepalive', { id: '1', ttl: 2 });
    assert.deepEqual(events.slice(1), ['renewed@867']);
    for (let step = 0; step < 30; step++) {
      await clock.advance(100);
      if (leases.open('keepalive') > 0) await leases.answer('keepalive', { id: '1', ttl: 2 });
    }
    assert.ok(!events.some((e) => e.startsWith('at-risk')), 'no at-risk: ' + events.join(', '));
    assert.ok(events.filter((e) => e.startsWith('renewed')).length >= 4, events.join(', '));
  });

  it('backs off grants while etcd is unreachable (250, 500, 1000 ms)', async () => {
    const { clock, leases, events } = session();
    await leases.answer('grant', new Error('down'));
    const sent: number[] = [];
    for (const wait of [250, 500, 1000]) {
      await clock.advance(wait - 1);
      assert.equal(leases.open('grant'), 0);
      await clock.advance(1);
      assert.equal(leases.open('grant'), 1);
      sent.push(clock.time - 1_000_000);
      await leases.answer('grant', new Error('down'));
    }
    assert.deepEqual(sent, [250, 750, 1750]);
    assert.deepEqual(events, []);
  });

  it('revokes its lease on close and stops renewing', async () => {
    const { clock, leases, subject } = session();
    await leases.grant(2);
    await subject.close();
    assert.ok(leases.calls.some((c) => c.call === 'revoke' && c.id === '1'));
    await clock.advance(5000);
    assert.equal(leases.open('keepalive'), 0);
    assert.equal(subject.state, 'closed');
  });
});
