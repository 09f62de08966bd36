import assert from 'node:assert/strict';
import test from 'node:test';
import { parseAddress } from '../lib/ip.js';
import { RateLimiter, RateVerdict, type RateLimitSettings } from './rrl.js';

const SETTINGS: RateLimitSettings = {
  responsesPerSecond: 10,
  windowSeconds: 1,
  slip: 2,
  ipv4Prefix: 24,
  ipv6Prefix: 56,
  exempt: [],
  tableSize: 1024,
};

/** A limiter on a clock the test moves. */
function limiter(settings: Partial<RateLimitSettings> = {}) {
  const clock = { ms: 1_000_000 };
  const rrl = new RateLimiter({ ...SETTINGS, ...settings });
  const take = (address: string) => rrl.take(parseAddress(address)!, clock.ms);
  return { rrl, clock, take };
}

/** How many of `n` responses to `address` get each verdict. */
function tally(take: (address: string) => RateVerdict, address: string, n: number) {
  const counts = { send: 0, drop: 0, slip: 0 };
  for (let i = 0; i < n; i++) {
    const verdict = take(address);
    if (verdict === RateVerdict.SEND) counts.send++;
    else if (verdict === RateVerdict.DROP) counts.drop++;
    else counts.slip++;
  }
  return counts;
}

test('rrl: a prefix gets rate × window at once, then every slip-th is TC, the rest dropped', () => {
  const { take } = limiter();
  assert.deepEqual(tally(take, '192.0.2.1', 30), { send: 10, drop: 10, slip: 10 });
});

test('rrl: the bucket refills at the rate, never above rate × window', () => {
  const { take, clock } = limiter({ windowSeconds: 2 });
  assert.equal(tally(take, '192.0.2.1', 25).send, 20);
  clock.ms += 500;
  assert.equal(tally(take, '192.0.2.1', 10).send, 5, 'half a second: 5 more');
  clock.ms += 60_000;
  assert.equal(tally(take, '192.0.2.1', 30).send, 20, 'a long pause fills it to 20, no more');
});

test('rrl: clients of one /24 share a bucket; the next /24 has its own', () => {
  const { take } = limiter({ slip: 0 });
  assert.equal(tally(take, '198.51.100.1', 6).send, 6);
  assert.equal(tally(take, '198.51.100.250', 10).send, 4);
  assert.equal(tally(take, '198.51.101.1', 10).send, 10);
});

test('rrl: the IPv4 and IPv6 prefix lengths are configurable', () => {
  const narrow = limiter({ ipv4Prefix: 32, ipv6Prefix: 64, slip: 0 });
  assert.equal(tally(narrow.take, '198.51.100.1', 20).send, 10);
  assert.equal(tally(narrow.take, '198.51.100.2', 20).send, 10, '/32: each address alone');
  assert.equal(tally(narrow.take, '2001:db8:0:1::1', 20).send, 10);
  assert.equal(tally(narrow.take, '2001:db8:0:1::2', 20).send, 0, 'same /64');
  assert.equal(tally(narrow.take, '2001:db8:0:2::1', 20).send, 10, 'another /64');
  const wide = limiter({ ipv6Prefix: 56, slip: 0 });
  assert.equal(tally(wide.take, '2001:db8:0:100::1', 20).send, 10);
  assert.equal(tally(wide.take, '2001:db8:0:1ff::1', 20).send, 0, 'same /56');
  assert.equal(tally(wide.take, '2001:db8:0:200::1', 20).send, 10, 'another /56');
});

test('rrl: slip 0 never sends TC, slip 1 always does', () => {
  assert.deepEqual(tally(limiter({ slip: 0 }).take, '192.0.2.1', 20), {
    send: 10,
    drop: 10,
    slip: 0,
  });
  assert.deepEqual(tally(limiter({ slip: 1 }).take, '192.0.2.1', 20), {
    send: 10,
    drop: 0,
    slip: 10,
  });
  assert.deepEqual(tally(limiter({ slip: 3 }).take, '192.0.2.1', 19), {
    send: 10,
    drop: 6,
    slip: 3,
  });
});

test('rrl: exempt prefixes are never limited, others are', () => {
  const { take, rrl } = limiter({ exempt: ['192.0.2.0/25', '2001:db8::/32'] });
  assert.equal(tally(take, '192.0.2.100', 100).send, 100);
  assert.equal(tally(take, '2001:db8:1::1', 100).send, 100);
  assert.equal(tally(take, '192.0.2.200', 100).send, 10, 'outside the /25');
  assert.equal(rrl.isExempt(parseAddress('192.0.2.127')!), true);
  assert.equal(rrl.isExempt(parseAddress('192.0.2.128')!), false);
});

test('rrl: the table is bounded; a prefix pushed out starts again with a full bucket', () => {
  const { take, clock } = limiter({ tableSize: 1024, slip: 0 });
  assert.equal(tally(take, '203.0.113.1', 20).send, 10);
  // 4096 other /24s, each touched later: the table has 1024 slots, so the first is pushed out.
  for (let i = 0; i < 4096; i++) {
    clock.ms += 1;
    take(`10.${i >> 8}.${i & 0xff}.1`);
  }
  clock.ms += 1;
  assert.equal(tally(take, '203.0.113.1', 20).send, 10);
});

test('rrl: a clock that goes back does not add tokens', () => {
  const { take, clock } = limiter({ slip: 0 });
  assert.equal(tally(take, '192.0.2.1', 10).send, 10);
  clock.ms -= 5000;
  assert.equal(tally(take, '192.0.2.1', 10).send, 0);
});
