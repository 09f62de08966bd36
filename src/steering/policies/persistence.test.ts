import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Value } from '@sinclair/typebox/value';
import { client, context, policyDeps, service } from '../../../test/helpers/steering.js';
import { decide } from '../chain.js';
import { PersistenceStores } from '../persistence-store.js';
import type { Policy, PolicyDeps } from '../types.js';
import { parseAddress } from '../../lib/ip.js';
import { persistence, SourceRateLimiter } from './persistence.js';
import { roundRobin } from './round-robin.js';
import { up } from './up.js';

/** 2023-11-14T00:00:00Z: hour 0 UTC. */
const MIDNIGHT = Date.UTC(2023, 10, 14);
const HOUR = 3_600_000;

/** A service a, b, c under [up, round-robin, persistence(settings)], sharing `stores`. */
function setup(settings: object, stores = new PersistenceStores()) {
  const deps: PolicyDeps = { ...policyDeps(), persistence: (s, n) => stores.forService(s, n) };
  const config = Value.Default(persistence.config, structuredClone(settings));
  const keeper = persistence.create(config as never, deps);
  const rotation = roundRobin.create({}, deps);
  const svc = service({
    pools: [['web', ['a', 'b', 'c']]],
    chain: [up.create({}, deps), rotation, keeper] as Policy[],
  });
  const store = stores.forService(deps.service, 1_000_000);
  let decisions = 0;
  /** The member answered to `resolver` at `now`. */
  const ask = (resolver: string, now: number): string =>
    decide(svc, context({ client: client(resolver), now }), 4).members[0]!.id;
  /** Round robin's next choice if a new resolver asked now (its counter = new decisions). */
  const rotationNext = (): string => ['web/a', 'web/b', 'web/c'][decisions % 3]!;
  const askNew = (resolver: string, now: number): string => {
    const got = ask(resolver, now);
    decisions++;
    return got;
  };
  return { ask, askNew, rotationNext, store, countDecision: () => decisions++ };
}

test('persistence slides: a query every 10 s holds the member for 5 minutes', () => {
  const { ask, askNew, rotationNext, store, countDecision } = setup({ ttl: 60 });
  const first = rotationNext();
  assert.equal(askNew('203.0.113.1', MIDNIGHT), first);
  const others = new Set<string>();
  for (let s = 10; s <= 300; s += 10) {
    const now = MIDNIGHT + s * 1000;
    // a new resolver each time moves the rotation on: it would now pick others
    others.add(askNew(`198.51.100.${s / 10}`, now));
    assert.equal(ask('203.0.113.1', now + 1), first, `query at ${s} s`);
  }
  assert.ok(others.size === 3, 'the rotation kept turning for new resolvers');
  assert.equal(store.get('203.0.113.1')?.hits, 31, 'every query counted');
  // 60 s of silence still holds (now <= lastSeen + ttl); 61 s does not.
  const last = MIDNIGHT + 300_001;
  assert.equal(ask('203.0.113.1', last + 60_000), first, 'after 60 s of silence');
  const fresh = rotationNext();
  assert.equal(ask('203.0.113.1', last + 60_000 + 61_000), fresh, 'after 61 s: balanced afresh');
  countDecision();
  assert.equal(store.get('203.0.113.1')?.created, last + 121_000, 'a new decision');
});

test('ttlByHour: the TTL in force at each hit holds the entry', () => {
  const byHour = {
    ttl: 3600,
    ttlByHour: [
      { from: 0, to: 12, ttl: 10 },
      { from: 12, to: 24, ttl: 120 },
    ],
  };
  const cases: { row: string; at: number; silence: number; held: boolean }[] = [
    { row: 'hour 3, 10 s TTL: 10 s of silence holds', at: 3 * HOUR, silence: 10_000, held: true },
    { row: 'hour 3: 11 s expires', at: 3 * HOUR, silence: 11_000, held: false },
    { row: 'hour 15, 120 s TTL: 120 s holds', at: 15 * HOUR, silence: 120_000, held: true },
    { row: 'hour 15: 121 s expires', at: 15 * HOUR, silence: 121_000, held: false },
    // made at 11:59:55 with 10 s; seen at 12:00:04, refreshed with the 120 s in force then
    {
      row: 'refreshed across the hour: the new TTL',
      at: 12 * HOUR - 5_000,
      silence: 9_000,
      held: true,
    },
  ];
  for (const { row, at, silence, held } of cases) {
    const { ask, store } = setup(byHour);
    const start = MIDNIGHT + at;
    const first = ask('203.0.113.9', start);
    let seen = start;
    if (row.startsWith('refreshed')) {
      assert.equal(ask('203.0.113.9', (seen += silence)), first, `${row}: refresh`);
      assert.equal(store.get('203.0.113.9')?.ttlMs, 120_000, `${row}: TTL taken at the hit`);
      assert.equal(ask('203.0.113.9', seen + 119_000), first, `${row}: 119 s later`);
      continue;
    }
    ask('203.0.113.9', seen + silence);
    const created = store.get('203.0.113.9')?.created;
    assert.equal(created === start, held, `${row}: entry created ${String(created)}`);
  }
});

test('the first matching ttlByHour rule wins; no rule: ttl', () => {
  const cases: { row: string; hour: number; want: number }[] = [
    { row: 'first of two overlapping', hour: 9, want: 20_000 },
    { row: 'second only', hour: 13, want: 40_000 },
    { row: 'no rule', hour: 20, want: 5_000 },
  ];
  const settings = {
    ttl: 5,
    ttlByHour: [
      { from: 8, to: 12, ttl: 20 },
      { from: 8, to: 14, ttl: 40 },
    ],
  };
  for (const { row, hour, want } of cases) {
    const { ask, store } = setup(settings);
    ask('203.0.113.9', MIDNIGHT + hour * HOUR + 1);
    assert.equal(store.get('203.0.113.9')?.ttlMs, want, row);
  }
});

test('SourceRateLimiter: cap per source /24 and /56 per second, reset each second', () => {
  const limiter = new SourceRateLimiter(3);
  const at = (text: string): Uint8Array => parseAddress(text)!;
  const admitted = (source: string, now: number, times: number): number => {
    let n = 0;
    for (let i = 0; i < times; i++) if (limiter.admit(at(source), now)) n++;
    return n;
  };
  const T0 = 1_700_000_000_000;
  assert.equal(admitted('198.51.100.1', T0, 5), 3, 'the cap in one second');
  assert.equal(admitted('198.51.100.250', T0 + 999, 2), 0, 'the same /24 shares it');
  assert.equal(admitted('::ffff:198.51.100.7', T0 + 999, 1), 0, 'IPv4-mapped: the same /24');
  assert.equal(admitted('198.51.101.1', T0, 3), 3, 'another /24 has its own');
  assert.equal(admitted('198.51.100.1', T0 + 1000, 3), 3, 'the next second starts afresh');
  assert.equal(admitted('2001:db8:0:ff::1', T0, 4), 3, 'IPv6: per /56');
  assert.equal(admitted('2001:db8:0:aa::2', T0, 1), 0, 'same /56');
  assert.equal(admitted('2001:db8:0:100::1', T0, 1), 1, 'the next /56');
  assert.equal(limiter.refused, 2 + 2 + 1 + 1 + 1);
  assert.equal(new SourceRateLimiter(0).admit(at('192.0.2.1'), T0), true, '0: no cap');
});

test('SourceRateLimiter: 100,000 sources, one entry each, all admitted (fixed table)', () => {
  const limiter = new SourceRateLimiter(100);
  const T0 = 1_700_000_000_000;
  let refused = 0;
  for (let i = 0; i < 100_000; i++) {
    const source = new Uint8Array([10 + (i >> 16), (i >> 8) & 255, i & 255, 1]);
    if (!limiter.admit(source, T0)) refused++;
  }
  assert.equal(refused, 0);
});

test('maxNewPerSourcePerSecond: above it the answer is not remembered and has no scope', () => {
  const stores = new PersistenceStores();
  const deps: PolicyDeps = { ...policyDeps(), persistence: (s, n) => stores.forService(s, n) };
  const settings = { key: 'subnet', maxNewPerSourcePerSecond: 2 };
  const keeper = persistence.create(Value.Default(persistence.config, settings) as never, deps);
  const svc = service({
    pools: [['web', ['a', 'b', 'c']]],
    chain: [up.create({}, deps), roundRobin.create({}, deps), keeper] as Policy[],
  });
  const store = stores.forService(deps.service, 1_000_000);
  const ask = (resolver: string, ecs: string, now: number) =>
    decide(svc, context({ client: client(resolver, ecs), now, explain: true }), 4);
  const T0 = MIDNIGHT;
  assert.equal(ask('192.0.2.53', '10.0.1.0/24', T0).scope, 24);
  assert.equal(ask('192.0.2.53', '10.0.2.0/24', T0 + 1).scope, 24);
  const capped = ask('192.0.2.54', '10.0.3.0/24', T0 + 2);
  assert.equal(capped.scope, 0, 'the same source /24: over the cap');
  assert.equal(capped.members.length, 1, 'answered all the same');
  assert.deepEqual(capped.steps.at(-1)?.notes, [
    '10.0.3.0/24 not remembered: over 2 new entries this second from 192.0.2.0/24',
  ]);
  assert.equal(store.size, 2, 'nothing written for it');
  // A remembered subnet is still answered from its entry; another source is not capped.
  const held = store.get('10.0.1.0/24')!.member;
  assert.equal(ask('192.0.2.53', '10.0.1.0/24', T0 + 3).members[0]!.id, held);
  assert.equal(ask('203.0.113.1', '10.0.3.0/24', T0 + 4).scope, 24, 'another source');
  assert.equal(ask('192.0.2.53', '10.0.4.0/24', T0 + 1000).scope, 24, 'the next second');
  assert.equal(store.size, 4);
});
