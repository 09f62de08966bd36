import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sourceKey } from './tcp.js';

test('sourceKey: IPv4 by address (mapped too), IPv6 by /64', () => {
  const rows = [
    { address: '192.0.2.1', key: '192.0.2.1' },
    { address: '::ffff:192.0.2.1', key: '192.0.2.1' },
    { address: '2001:db8:1:2::1', key: '20010db800010002/64' },
    { address: '2001:db8:1:2:ffff:ffff:ffff:ffff', key: '20010db800010002/64' },
    { address: '2001:db8:1:3::1', key: '20010db800010003/64' },
    { address: '::1', key: '0000000000000000/64' },
  ];
  for (const row of rows) assert.equal(sourceKey(row.address), row.key, row.address);
});
