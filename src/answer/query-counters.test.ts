import assert from 'node:assert/strict';
import { test } from 'node:test';
import dnsPacket from 'dns-packet';
import { fixtureZones } from '../../test/fixtures/zones.js';
import {
  addQueryTotals,
  bucketOf,
  DURATION_BUCKETS_MS,
  noQueryTotals,
  QueryCounters,
} from './query-counters.js';
import { Responder } from './responder.js';

test('bucketOf: the first bucket whose bound is at least the duration (0.25 ms doubling, then +Inf)', () => {
  const cases: [number, number][] = [
    [0, 0],
    [0.1, 0],
    [0.25, 0],
    [0.2501, 1],
    [0.5, 1],
    [0.75, 2],
    [1, 2],
    [1.01, 3],
    [8192, 15],
    [8192.5, 16],
    [1e9, 16],
  ];
  for (const [ms, bucket] of cases) assert.equal(bucketOf(ms), bucket, `${ms} ms`);
  for (const [k, bound] of DURATION_BUCKETS_MS.entries()) {
    assert.equal(bucketOf(bound), k, `bound ${bound} ms is in its own bucket`);
    assert.equal(bucketOf(bound * 1.001), k + 1, `just above ${bound} ms`);
  }
});

const ask = (name: string, type: dnsPacket.RecordType, id = 7): Buffer =>
  dnsPacket.encode({ type: 'query', id, questions: [{ name, type, class: 'IN' }] });

test('a responder counts every query by zone, proto, family, type and rcode; a new one goes on', () => {
  const zones = fixtureZones();
  const counters = new QueryCounters();
  const first = new Responder(zones, { counters });
  first.handle(ask('www.example.org', 'A'), 'udp', '192.0.2.1');
  first.handle(ask('www.example.org', 'A'), 'udp', '192.0.2.1');
  first.handle(ask('www.example.org', 'A'), 'udp', '192.0.2.1'); // cached by now
  first.handle(ask('nope.example.org', 'AAAA'), 'tcp', '2001:db8::1');
  first.handle(ask('www.example.com', 'TXT'), 'udp', '192.0.2.1');
  first.handle(Buffer.from([1, 2, 3]), 'udp', '192.0.2.1'); // malformed: dropped
  // A reload: a new responder on the same counters.
  const second = new Responder(zones, { counters });
  second.handle(ask('www.example.org', 'A'), 'udp', '192.0.2.1');
  const totals = counters.totals();
  assert.deepEqual(totals.requests, {
    '.\tudp\t1\tTXT': 1,
    '.\tudp\t1\tother': 1,
    'example.org.\tudp\t1\tA': 4,
    'example.org.\ttcp\t2\tAAAA': 1,
  });
  assert.deepEqual(totals.responses, {
    '.\tREFUSED': 1,
    'example.org.\tNOERROR': 4,
    'example.org.\tNXDOMAIN': 1,
  });
  assert.equal(
    totals.durationBuckets['example.org.\tAAAA']?.reduce((a, b) => a + b, 0),
    1,
    'a TCP query is always timed',
  );
  assert.equal(counters.count, 7);
});

test('durations: a sample of the UDP queries is timed, each standing for the untimed ones of its zone and type', () => {
  const zones = fixtureZones();
  const counters = new QueryCounters();
  const responder = new Responder(zones, { counters });
  // Four types in a fixed rotation: a sample that went by position would miss some of them.
  const types = ['A', 'TXT', 'MX', 'AAAA'] as const;
  const rounds = 2000;
  for (let i = 0; i < rounds; i++)
    for (const type of types) responder.handle(ask('www.example.org', type), 'udp', '192.0.2.1');
  const totals = counters.totals();
  for (const type of types) {
    const label = `example.org.\t${type}`;
    const timed = totals.durationBuckets[label]?.reduce((a, b) => a + b, 0) ?? 0;
    // Untimed queries after the cell's last timed one are not yet in the histogram; with one
    // in four timed at random, 60 or more in a row has a chance of 0.75^60 (3e-8).
    assert.ok(
      timed <= rounds && timed > rounds - 60,
      `${type}: ${timed} of ${rounds} in the histogram`,
    );
    assert.ok(totals.durationSeconds[label]! > 0, `${type}: a duration sum`);
    assert.equal(totals.requests[`example.org.\tudp\t1\t${type}`], rounds);
  }
});

test('addQueryTotals sums label by label, buckets cell by cell', () => {
  const sum = noQueryTotals();
  const one = { ...noQueryTotals(), requests: { a: 1 }, durationBuckets: { z: [1, 0, 2] } };
  addQueryTotals(sum, one);
  addQueryTotals(sum, {
    ...noQueryTotals(),
    requests: { a: 2, b: 5 },
    durationBuckets: { z: [0, 1, 1] },
  });
  assert.deepEqual(sum.requests, { a: 3, b: 5 });
  assert.deepEqual(sum.durationBuckets, { z: [1, 1, 3] });
});
