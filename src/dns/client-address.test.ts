import assert from 'node:assert/strict';
import test from 'node:test';
import { ClientAddress } from './client-address.js';

const ROWS: readonly { text: string; family: 0 | 4 | 6; hex?: string }[] = [
  { text: '127.0.1.9', family: 4, hex: '7f000109' },
  { text: '255.255.255.255', family: 4, hex: 'ffffffff' },
  { text: '::ffff:192.0.2.1', family: 4, hex: 'c0000201' },
  { text: '2001:db8::1', family: 6, hex: '20010db8000000000000000000000001' },
  { text: '::1', family: 6, hex: '00000000000000000000000000000001' },
  { text: '256.0.0.1', family: 0 },
  { text: '1.2.3', family: 0 },
  { text: '1.2.3.4.5', family: 0 },
  { text: '1..3.4', family: 0 },
  { text: 'localhost', family: 0 },
  { text: '', family: 0 },
  { text: 'fe80::1%eth0', family: 0 },
];

test('ClientAddress.read: dotted quads, IPv6, IPv4-mapped as IPv4; anything else is 0', () => {
  const address = new ClientAddress();
  for (const row of ROWS) {
    assert.equal(address.read(row.text), row.family, row.text);
    assert.equal(address.family, row.family, row.text);
    if (row.hex !== undefined) assert.equal(Buffer.from(address.view).toString('hex'), row.hex);
  }
});
