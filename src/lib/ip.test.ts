import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatAddress, hostPort, parseAddress, parseCidr, unmapAddress } from './ip.js';

test('hostPort brackets IPv6 hosts only', () => {
  assert.equal(hostPort('127.0.0.1', 5353), '127.0.0.1:5353');
  assert.equal(hostPort('::1', 5353), '[::1]:5353');
  assert.equal(hostPort('ff02::5380%eth0', 5380), '[ff02::5380%eth0]:5380');
});

test('addresses and CIDRs parse, format and unmap', () => {
  assert.deepEqual(parseAddress('192.0.2.1'), Uint8Array.from([192, 0, 2, 1]));
  assert.equal(parseAddress('192.0.2.256'), undefined);
  assert.equal(formatAddress(parseAddress('2001:db8::1')!), '2001:db8::1');
  assert.equal(unmapAddress('::ffff:192.0.2.7'), '192.0.2.7');
  assert.equal(parseCidr('192.0.2.0/24')?.prefix, 24);
  assert.equal(parseCidr('192.0.2.0/33'), undefined);
});
