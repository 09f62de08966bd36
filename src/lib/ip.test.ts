import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  formatAddress,
  hostPort,
  parseAddress,
  parseCidr,
  parseHostPort,
  unmapAddress,
  writeAddress,
} from './ip.js';

const hex = (bytes: Uint8Array | undefined): string | undefined =>
  bytes === undefined ? undefined : Buffer.from(bytes).toString('hex');

test('hostPort brackets IPv6 hosts only', () => {
  assert.equal(hostPort('127.0.0.1', 5353), '127.0.0.1:5353');
  assert.equal(hostPort('::1', 5353), '[::1]:5353');
  assert.equal(hostPort('ff02::5380%eth0', 5380), '[ff02::5380%eth0]:5380');
});

test('parseAddress: IPv4 and IPv6 text to bytes, a zone id left out', () => {
  const cases: [string, string | undefined][] = [
    ['192.0.2.1', 'c0000201'],
    ['0.0.0.0', '00000000'],
    ['255.255.255.255', 'ffffffff'],
    ['::', '0'.repeat(32)],
    ['::1', `${'0'.repeat(31)}1`],
    ['2001:db8::1', '20010db8000000000000000000000001'],
    ['2001:DB8:0:0:0:0:0:1', '20010db8000000000000000000000001'],
    ['1:2:3:4:5:6:7:8', '00010002000300040005000600070008'],
    ['1:2:3:4:5:6:7::', '00010002000300040005000600070000'],
    ['::ffff:192.0.2.1', '00000000000000000000ffffc0000201'],
    ['64:ff9b::192.0.2.1', '0064ff9b0000000000000000c0000201'],
    ['fe80::1%eth0', 'fe800000000000000000000000000001'],
    ['fe80::1%eth0.5', 'fe800000000000000000000000000001'],
    ['192.0.2.256', undefined],
    ['192.0.2', undefined],
    ['01.2.3.4', undefined],
    ['1:2:3:4:5:6:7:8:9', undefined],
    ['1::2::3', undefined],
    ['12345::', undefined],
    ['::ffff:192.0.2.256', undefined],
    ['fe80::1%', undefined],
    ['', undefined],
    ['example.org', undefined],
  ];
  for (const [text, want] of cases) assert.equal(hex(parseAddress(text)), want, text);
});

test('parseAddress and formatAddress agree with the WHATWG URL parser on any IPv6 address', () => {
  fc.assert(
    fc.property(fc.ipV6(), (text) => {
      const canonical = new URL(`http://[${text}]/`).hostname.slice(1, -1);
      assert.equal(formatAddress(parseAddress(text)!), canonical);
    }),
  );
  fc.assert(
    fc.property(fc.ipV4(), (text) => {
      assert.equal(formatAddress(parseAddress(text)!), new URL(`http://${text}/`).hostname);
    }),
  );
});

test('writeAddress writes where it is told, rejects another family and zones', () => {
  fc.assert(
    fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), fc.nat({ max: 16 }), (text, at) => {
      const want = parseAddress(text)!;
      const family = want.length === 4 ? 4 : 6;
      const out = new Uint8Array(40).fill(0xaa);
      assert.equal(writeAddress(text, family, out, at), true, text);
      assert.deepEqual(out.subarray(at, at + want.length), want, text);
      const untouched = [...out.subarray(0, at), ...out.subarray(at + want.length)];
      assert.ok(
        untouched.every((b) => b === 0xaa),
        `${text}: only its bytes written`,
      );
    }),
  );
  const cases: [string, 4 | 6][] = [
    ['::1', 4],
    ['192.0.2.1', 6],
    ['fe80::1%eth0', 6],
    ['192.0.2.256', 4],
    ['', 6],
  ];
  for (const [text, family] of cases) {
    const out = new Uint8Array(16).fill(0xaa);
    assert.equal(writeAddress(text, family, out, 0), false, `${text} as IPv${family}`);
    assert.ok(
      out.every((b) => b === 0xaa),
      `${text}: nothing written`,
    );
  }
});

test('formatAddress: RFC 5952 short form; IPv4-mapped dotted when asked', () => {
  const cases: [string, boolean, string][] = [
    ['20010db8000000000000000000000001', false, '2001:db8::1'],
    ['20010db8000000010000000000000001', false, '2001:db8:0:1::1'],
    ['20010db8000100000000000100000000', false, '2001:db8:1::1:0:0'],
    ['20010db8000100010001000100010001', false, '2001:db8:1:1:1:1:1:1'],
    ['00000000000000000000ffffc0000201', false, '::ffff:c000:201'],
    ['00000000000000000000ffffc0000201', true, '::ffff:192.0.2.1'],
    ['0064ff9b0000000000000000c0000201', true, '64:ff9b::c000:201'],
    ['c0000201', true, '192.0.2.1'],
  ];
  for (const [bytes, mappedDotted, want] of cases) {
    assert.equal(formatAddress(Buffer.from(bytes, 'hex'), { mappedDotted }), want, want);
  }
});

test('CIDRs parse and mask, addresses unmap', () => {
  const cases: [string, { family: number; prefix: number; bytes: string } | undefined][] = [
    ['192.0.2.0/24', { family: 4, prefix: 24, bytes: 'c0000200' }],
    ['192.0.2.77/24', { family: 4, prefix: 24, bytes: 'c0000200' }],
    ['192.0.2.1', { family: 4, prefix: 32, bytes: 'c0000201' }],
    ['2001:db8::/32', { family: 6, prefix: 32, bytes: `20010db8${'0'.repeat(24)}` }],
    ['2001:db8:ffff::/33', { family: 6, prefix: 33, bytes: `20010db88${'0'.repeat(23)}` }],
    ['192.0.2.0/33', undefined],
    ['2001:db8::/129', undefined],
    ['192.0.2.0/', undefined],
    ['192.0.2.0/-1', undefined],
    ['192.0.2.0/0024', undefined],
    ['nothing/8', undefined],
  ];
  for (const [text, want] of cases) {
    const cidr = parseCidr(text);
    assert.deepEqual(
      cidr && { family: cidr.family, prefix: cidr.prefix, bytes: hex(cidr.bytes) },
      want,
      text,
    );
  }
  assert.equal(unmapAddress('::ffff:192.0.2.7'), '192.0.2.7');
  assert.equal(unmapAddress('::ffff:c000:207'), '::ffff:c000:207');
  assert.equal(unmapAddress('2001:db8::1'), '2001:db8::1');
});

test('parseHostPort: ADDR:PORT and [IPv6]:PORT, a bare address only when the port is optional', () => {
  const cases: [string, boolean, { host: string; port: number | undefined } | undefined][] = [
    ['127.0.0.1:5353', false, { host: '127.0.0.1', port: 5353 }],
    ['[::1]:53', false, { host: '::1', port: 53 }],
    ['[2001:db8::1]:0', false, { host: '2001:db8::1', port: 0 }],
    ['0.0.0.0:65535', false, { host: '0.0.0.0', port: 65535 }],
    ['127.0.0.1:65536', false, undefined],
    ['127.0.0.1', false, undefined],
    ['127.0.0.1', true, { host: '127.0.0.1', port: undefined }],
    ['::1', true, { host: '::1', port: undefined }],
    ['::1:53', false, undefined],
    ['[127.0.0.1]:53', false, undefined],
    ['[::1]', false, undefined],
    ['256.0.0.1:53', false, undefined],
    ['localhost:53', false, undefined],
    ['127.0.0.1:', false, undefined],
    ['127.0.0.1:123456', false, undefined],
    ['[fe80::1%eth0]:53', false, undefined],
    ['', true, undefined],
  ];
  for (const [text, portOptional, want] of cases) {
    const got = parseHostPort(text, { portOptional });
    assert.deepEqual(got && { host: got.host, port: got.port }, want, text);
  }
});
