import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  AnnouncementError,
  decodeAnnouncement,
  encodeAnnouncement,
  MAX_ANNOUNCEMENT_BYTES,
  type Announcement,
} from './announcement.js';

const key = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
const otherKey = Buffer.from('ffeeddccbbaa99887766554433221100', 'hex');

const valid: Announcement = {
  node: 'web-1.dc1',
  service: 'app.example.org',
  addresses: ['192.0.2.10', '2001:db8::10'],
  load: 37.5,
  connections: 120,
  capacity: 1000,
  admin: 'enabled',
  intervalMs: 1000,
  timestamp: 1_750_000_000_000,
  epoch: '0123456789abcdef',
  sequence: 42,
};

/** A correctly signed datagram around any body bytes, for testing what follows the MAC. */
function signed(body: string | Buffer, version = 1, signingKey = key): Buffer {
  const head = Buffer.concat([Buffer.from('SDA1'), Buffer.from([version]), Buffer.from(body)]);
  return Buffer.concat([head, createHmac('sha256', signingKey).update(head).digest()]);
}
const signedJson = (value: unknown): Buffer => signed(JSON.stringify(value));

test('an announcement survives a round trip, with and without optional fields', () => {
  const optional = new Set(['load', 'connections', 'capacity']);
  const bare = Object.fromEntries(
    Object.entries(valid).filter(([name]) => !optional.has(name)),
  ) as unknown as Announcement;
  for (const a of [valid, { ...bare, admin: 'draining' as const }]) {
    const bytes = encodeAnnouncement(a, key);
    assert.ok(bytes.length <= MAX_ANNOUNCEMENT_BYTES);
    assert.equal(bytes.subarray(0, 5).toString('latin1'), 'SDA1\u0001');
    assert.deepEqual(decodeAnnouncement(bytes, key), { ok: true, announcement: a });
  }
});

test('a leave is version 2 with kind "leave"; a status stays version 1 without a kind', () => {
  const leave = encodeAnnouncement({ ...valid, kind: 'leave' }, key);
  assert.equal(leave.subarray(0, 5).toString('latin1'), 'SDA1\u0002');
  const body = JSON.parse(leave.subarray(5, leave.length - 32).toString('utf8')) as unknown;
  assert.deepEqual(body, { kind: 'leave', ...valid });
  assert.deepEqual(decodeAnnouncement(leave, key), {
    ok: true,
    announcement: { ...valid, kind: 'leave' },
  });
  const status = encodeAnnouncement({ ...valid, kind: 'status' }, key);
  assert.equal(status[4], 1);
  assert.deepEqual(decodeAnnouncement(status, key), { ok: true, announcement: valid });
  // Version 2 may carry a status too; it decodes as one.
  assert.deepEqual(
    decodeAnnouncement(signed(JSON.stringify({ ...valid, kind: 'status' }), 2), key),
    {
      ok: true,
      announcement: valid,
    },
  );
});

test('version 1 knows no kind: a "leave" in its body is an unknown field, not a leave', () => {
  // What a server of this version makes of a body that a later writer put a kind into.
  assert.deepEqual(
    decodeAnnouncement(signed(JSON.stringify({ ...valid, kind: 'leave' }), 1), key),
    {
      ok: true,
      announcement: valid,
    },
  );
});

test('the body is JSON between the header and the 32-byte MAC', () => {
  const bytes = encodeAnnouncement(valid, key);
  const body = JSON.parse(bytes.subarray(5, bytes.length - 32).toString('utf8')) as unknown;
  assert.deepEqual(body, valid);
  assert.deepEqual(decodeAnnouncement(signedJson(valid), key), { ok: true, announcement: valid });
});

test('damaged or foreign datagrams are rejected with their reason', () => {
  const good = encodeAnnouncement(valid, key);
  const flip = (at: number): Buffer => {
    const copy = Buffer.from(good);
    copy[at < 0 ? copy.length + at : at]! ^= 0x01;
    return copy;
  };
  const cases: { name: string; bytes: Buffer; key?: Buffer; reason: string }[] = [
    { name: 'empty', bytes: Buffer.alloc(0), reason: 'truncated' },
    { name: 'header only', bytes: good.subarray(0, 5), reason: 'truncated' },
    { name: 'shorter than header + {} + MAC', bytes: good.subarray(0, 38), reason: 'truncated' },
    { name: 'last byte cut', bytes: good.subarray(0, good.length - 1), reason: 'bad-mac' },
    { name: 'bad magic', bytes: flip(0), reason: 'bad-magic' },
    {
      name: 'magic of another protocol',
      bytes: Buffer.concat([Buffer.from('SDA2'), good.subarray(4)]),
      reason: 'bad-magic',
    },
    {
      name: 'version 3, correctly signed',
      bytes: signed(JSON.stringify(valid), 3),
      reason: 'bad-version',
    },
    {
      name: 'version 2 without a kind',
      bytes: signed(JSON.stringify(valid), 2),
      reason: 'invalid-field',
    },
    {
      name: 'version 2 with an unknown kind',
      bytes: signed(JSON.stringify({ ...valid, kind: 'reboot' }), 2),
      reason: 'invalid-field',
    },
    { name: 'version 0', bytes: signed(JSON.stringify(valid), 0), reason: 'bad-version' },
    { name: 'a body bit flipped', bytes: flip(20), reason: 'bad-mac' },
    { name: 'a MAC bit flipped', bytes: flip(-1), reason: 'bad-mac' },
    { name: 'MAC zeroed', bytes: Buffer.from(good).fill(0, good.length - 32), reason: 'bad-mac' },
    { name: 'wrong key', bytes: good, key: otherKey, reason: 'bad-mac' },
    {
      name: 'signed with another key',
      bytes: signed(JSON.stringify(valid), 1, otherKey),
      reason: 'bad-mac',
    },
    {
      name: 'one byte too many',
      bytes: Buffer.alloc(MAX_ANNOUNCEMENT_BYTES + 1),
      reason: 'too-large',
    },
    { name: 'oversized, signed', bytes: signed(' '.repeat(1200)), reason: 'too-large' },
    { name: 'body not JSON', bytes: signed('node=web-1'), reason: 'malformed' },
    {
      name: 'body not UTF-8',
      bytes: signed(Buffer.from([0x22, 0xff, 0xfe, 0x22])),
      reason: 'malformed',
    },
    { name: 'body an array', bytes: signedJson([valid]), reason: 'malformed' },
    { name: 'body a string', bytes: signedJson('valid'), reason: 'malformed' },
    { name: 'body null', bytes: signed('null'), reason: 'malformed' },
    { name: 'body an empty object', bytes: signed('{}'), reason: 'invalid-field' },
  ];
  for (const c of cases) {
    const got = decodeAnnouncement(c.bytes, c.key ?? key);
    assert.equal(got.ok, false, c.name);
    assert.equal(got.reason, c.reason, c.name);
  }
});

test('every field is checked after the MAC, and the failing one is named', () => {
  const cases: [string, Record<string, unknown>][] = [
    ['node', { node: '' }],
    ['node', { node: '-web' }],
    ['node', { node: 'web 1' }],
    ['node', { node: 'wéb' }],
    ['node', { node: 'a'.repeat(254) }],
    ['node', { node: 7 }],
    ['node', { node: undefined }],
    ['service', { service: 'App.example.org' }],
    ['service', { service: 'app.example.org.' }],
    ['service', { service: 'app..org' }],
    ['service', { service: '-app.example.org' }],
    ['service', { service: `${'a'.repeat(64)}.org` }],
    ['service', { service: ['app.example.org'] }],
    ['addresses', { addresses: [] }],
    ['addresses', { addresses: '192.0.2.1' }],
    ['addresses', { addresses: ['192.0.2.256'] }],
    ['addresses', { addresses: ['app.example.org'] }],
    ['addresses', { addresses: ['fe80::1%eth0'] }],
    ['addresses', { addresses: [' 192.0.2.1'] }],
    ['addresses', { addresses: [3232235521] }],
    ['addresses', { addresses: ['192.0.2.1', '192.0.2.1'] }],
    ['addresses', { addresses: Array.from({ length: 33 }, (_, i) => `192.0.2.${i}`) }],
    ['load', { load: -1 }],
    ['load', { load: 100.5 }],
    ['load', { load: '50' }],
    ['load', { load: null }],
    ['connections', { connections: -1 }],
    ['connections', { connections: 1.5 }],
    ['connections', { connections: 1e10 }],
    ['connections', { connections: '3' }],
    ['capacity', { capacity: 0 }],
    ['capacity', { capacity: true }],
    ['admin', { admin: 'disabled' }],
    ['admin', { admin: 'Enabled' }],
    ['admin', { admin: undefined }],
    ['intervalMs', { intervalMs: 99 }],
    ['intervalMs', { intervalMs: 60_001 }],
    ['intervalMs', { intervalMs: 1000.5 }],
    ['intervalMs', { intervalMs: '1000' }],
    ['timestamp', { timestamp: -1 }],
    ['timestamp', { timestamp: 1.5 }],
    ['timestamp', { timestamp: 2 ** 53 }],
    ['timestamp', { timestamp: '2025-06-15T00:00:00Z' }],
    ['epoch', { epoch: '0123456789ABCDEF' }],
    ['epoch', { epoch: '0123' }],
    ['epoch', { epoch: 1234 }],
    ['sequence', { sequence: -1 }],
    ['sequence', { sequence: 0.5 }],
    ['sequence', { sequence: undefined }],
  ];
  for (const [field, change] of cases) {
    const row = `${field} ${JSON.stringify(change)}`;
    const got = decodeAnnouncement(signedJson({ ...valid, ...change }), key);
    assert.equal(got.ok, false, row);
    assert.equal(got.reason, 'invalid-field', row);
    assert.ok(got.detail?.startsWith(`${field}:`), `${row}: ${got.detail ?? ''}`);
    assert.throws(() => encodeAnnouncement({ ...valid, ...change }, key), AnnouncementError, row);
  }
});

test('values at the edges of each range are accepted', () => {
  const cases: Record<string, unknown>[] = [
    { load: 0 },
    { load: 100 },
    { connections: 0 },
    { capacity: 1 },
    { intervalMs: 100 },
    { intervalMs: 60_000 },
    { sequence: 0 },
    { sequence: Number.MAX_SAFE_INTEGER },
    { node: 'a' },
    { node: 'A'.repeat(253) },
    { service: 'localhost' },
    { service: '_svc._tcp.example.org' },
    { addresses: ['::1'] },
    { addresses: ['2001:db8::5380'] },
    { addresses: Array.from({ length: 32 }, (_, i) => `192.0.2.${i}`) },
  ];
  for (const change of cases) {
    const a = { ...valid, ...change };
    const got = decodeAnnouncement(encodeAnnouncement(a, key), key);
    assert.deepEqual(got, { ok: true, announcement: a }, JSON.stringify(change));
  }
});

test('unknown body fields are ignored and not passed on', () => {
  const body = JSON.stringify({ ...valid, site: 'dc1' }).replace('{', '{"__proto__":{"x":1},');
  const got = decodeAnnouncement(signed(body), key);
  assert.deepEqual(got, { ok: true, announcement: valid });
  assert.equal(Object.getPrototypeOf(got.announcement), Object.prototype);
});

test('an announcement over 1200 bytes is not encoded', () => {
  const addresses = Array.from({ length: 32 }, (_, i) => `2001:db8:1234:5678:9abc:def0:1234:${i}`);
  assert.throws(
    () => encodeAnnouncement({ ...valid, node: 'n'.repeat(253), addresses }, key),
    (error: unknown) =>
      error instanceof AnnouncementError && error.message.includes('more than 1200'),
  );
});

test('random bytes never throw and never verify', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 1400 }), fc.boolean(), (bytes, withMagic) => {
      const input = Buffer.from(bytes);
      if (withMagic && input.length >= 5) input.write('SDA1\u0001', 'latin1');
      assert.equal(decodeAnnouncement(input, key).ok, false);
    }),
    { numRuns: 2000 },
  );
});

test('mutations of a valid datagram never throw and never verify', () => {
  const good = encodeAnnouncement(valid, key);
  const mutation = fc.oneof(
    fc.record({
      kind: fc.constant('flip' as const),
      at: fc.nat(),
      bit: fc.integer({ min: 0, max: 7 }),
    }),
    fc.record({
      kind: fc.constant('set' as const),
      at: fc.nat(),
      value: fc.integer({ min: 0, max: 255 }),
    }),
    fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
    fc.record({
      kind: fc.constant('append' as const),
      extra: fc.uint8Array({ minLength: 1, maxLength: 64 }),
    }),
    fc.record({
      kind: fc.constant('insert' as const),
      at: fc.nat(),
      extra: fc.uint8Array({ minLength: 1, maxLength: 8 }),
    }),
  );
  fc.assert(
    fc.property(fc.array(mutation, { minLength: 1, maxLength: 5 }), (mutations) => {
      let bytes = Buffer.from(good);
      for (const m of mutations) {
        if (m.kind === 'append') bytes = Buffer.concat([bytes, m.extra]);
        else if (bytes.length === 0) continue;
        else if (m.kind === 'flip') bytes[m.at % bytes.length]! ^= 1 << m.bit;
        else if (m.kind === 'set') bytes[m.at % bytes.length] = m.value;
        else if (m.kind === 'cut') bytes = bytes.subarray(0, m.at % bytes.length);
        else {
          const at = m.at % bytes.length;
          bytes = Buffer.concat([bytes.subarray(0, at), m.extra, bytes.subarray(at)]);
        }
      }
      fc.pre(!bytes.equals(good));
      assert.equal(decodeAnnouncement(bytes, key).ok, false);
    }),
    { numRuns: 2000 },
  );
});
