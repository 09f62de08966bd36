import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeAnnouncement, encodeAnnouncement, type Announcement } from './announcement.js';
import { AgentRegistry } from './registry.js';

const KEY = Buffer.alloc(32, 7);
const NOW = 1_750_000_000_000;

const announcement = (fields: Partial<Announcement> = {}): Announcement => ({
  node: 'web-1',
  service: 'app.example.org',
  addresses: ['192.0.2.10'],
  admin: 'enabled',
  intervalMs: 1000,
  timestamp: NOW,
  epoch: '00000000000000aa',
  sequence: 1,
  ...fields,
});

const decode = (addresses: string[]) =>
  decodeAnnouncement(encodeAnnouncement(announcement({ addresses }), KEY), KEY);

test('announced addresses: unspecified, broadcast, multicast and IPv4-mapped are refused', () => {
  const refused: [string, RegExp][] = [
    ['0.0.0.0', /unspecified/],
    ['::', /unspecified/],
    ['0:0:0:0:0:0:0:0', /unspecified/],
    ['255.255.255.255', /broadcast/],
    ['224.0.0.1', /multicast/],
    ['239.255.53.1', /multicast/],
    ['ff02::1', /multicast/],
    ['FF05::5380', /multicast/],
    ['::ffff:192.0.2.1', /IPv4-mapped/],
    ['::ffff:7f00:1', /IPv4-mapped/],
  ];
  for (const [address, why] of refused) {
    // Refused beside a good address too: one bad address drops the announcement.
    const got = decode(['192.0.2.10', address]);
    assert.ok(!got.ok, address);
    assert.equal(got.reason, 'bad-address', address);
    assert.match(got.detail ?? '', why, address);
  }
});

test('announced addresses: others are taken, in canonical form (RFC 5952)', () => {
  const rows: [string, string][] = [
    ['192.0.2.10', '192.0.2.10'],
    ['127.0.0.1', '127.0.0.1'],
    ['223.255.255.255', '223.255.255.255'],
    ['255.255.255.254', '255.255.255.254'],
    ['::1', '::1'],
    ['2001:0db8:0:0::1', '2001:db8::1'],
    ['2001:DB8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['fe80::1', 'fe80::1'],
    ['64:FF9B::C000:201', '64:ff9b::c000:201'],
  ];
  for (const [written, canonical] of rows) {
    const got = decode([written]);
    assert.deepEqual(got.ok && got.announcement.addresses, [canonical], written);
  }
});

test('announced addresses: one address in two spellings is listed twice', () => {
  const got = decode(['2001:db8::1', '2001:0db8:0:0::1']);
  assert.deepEqual(got, { ok: false, reason: 'invalid-field', detail: 'addresses: listed twice' });
});

test('registry: a bad address is counted as bad-address; two spellings are one node, not a collision', () => {
  const registry = new AgentRegistry({
    key: KEY,
    missedIntervals: 3,
    maxSkewMs: 30_000,
    now: () => NOW,
  });
  const send = (fields: Partial<Announcement>) =>
    registry.receive(encodeAnnouncement(announcement(fields), KEY), '127.0.0.1:40000');

  const multicast = send({ addresses: ['224.0.0.251'] });
  assert.deepEqual(
    { accepted: multicast.accepted, reason: !multicast.accepted && multicast.reason },
    { accepted: false, reason: 'bad-address' },
  );
  assert.equal(registry.counts.get('bad-address'), 1);
  assert.equal(registry.snapshot().nodes.length, 0);

  const first = send({ addresses: ['2001:0db8:0:0::1'] });
  assert.ok(first.accepted && first.change === 'joined');
  // Another run (a restart) with the same address spelt otherwise takes over at once.
  const restarted = send({
    addresses: ['2001:db8::1'],
    epoch: '00000000000000bb',
    sequence: 1,
    timestamp: NOW + 1,
  });
  assert.ok(restarted.accepted, JSON.stringify(restarted));
  assert.equal(restarted.change, 'none');
  assert.deepEqual(
    registry.snapshot().nodes.map((n) => [n.node, n.addresses]),
    [['web-1', ['2001:db8::1']]],
  );
  assert.equal(registry.counts.get('collision'), undefined);
});
