import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseAddress } from '../lib/ip.js';
import { rirOf } from './iana-ipv4.js';

test('IPv4 /8 blocks map to their regional registry', () => {
  const cases: [string, string | undefined][] = [
    ['8.8.8.8', 'ARIN'],
    ['1.1.1.1', 'APNIC'],
    ['2.16.0.1', 'RIPE'],
    ['41.0.0.1', 'AFRINIC'],
    ['200.1.2.3', 'LACNIC'],
    ['193.0.0.1', 'RIPE'],
    ['203.0.113.200', 'APNIC'],
    ['198.51.100.10', 'ARIN'],
    ['10.1.2.3', undefined],
    ['127.0.0.1', undefined],
    ['224.0.0.1', undefined],
    ['2001:db8::1', undefined],
  ];
  for (const [address, want] of cases) assert.equal(rirOf(parseAddress(address)!), want, address);
});

test('every /8 from 1 to 223 except 10 and 127 has a registry', () => {
  for (let octet = 1; octet <= 223; octet++) {
    if (octet === 10 || octet === 127) continue;
    assert.ok(rirOf(Uint8Array.from([octet, 0, 0, 1])), `${octet}/8`);
  }
});
