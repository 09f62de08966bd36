import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, formatProblem } from '../lib/errors.js';
import { parseConfig } from './load.js';

const ZONES = `zones:
  - origin: example.org
    records: |
      @ IN SOA ns1 hostmaster 1 7200 3600 1209600 300
      @ IN NS ns1
`;

const withMembers = (...addresses: string[]): string => `${ZONES}services:
  - name: app.example.org
    pools:
      - name: main
        members:
${addresses.map((a, i) => `          - { name: m${i}, address: "${a}" }`).join('\n')}
`;

function load(text: string) {
  try {
    return { config: parseConfig(text, 'test.yaml'), problems: [] };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return { config: undefined, problems: error.problems.map(formatProblem) };
  }
}

test('member addresses: unspecified, broadcast, multicast and IPv4-mapped are file:line errors', () => {
  const rows: [string, RegExp][] = [
    ['0.0.0.0', /unspecified/],
    ['::', /unspecified/],
    ['255.255.255.255', /broadcast/],
    ['224.0.0.1', /multicast/],
    ['ff02::1', /multicast/],
    ['::ffff:192.0.2.1', /IPv4-mapped/],
    ['fe80::1%eth0', /not an IP address/],
  ];
  for (const [address, why] of rows) {
    const { problems } = load(withMembers('192.0.2.1', address));
    assert.equal(problems.length, 1, `${address}: ${problems.join('; ')}`);
    assert.match(problems[0]!, /^test\.yaml:12: member m1: /, address);
    assert.match(problems[0]!, why, address);
  }
});

test('member addresses: IPv6 in canonical form; one address spelt twice in a member is listed twice', () => {
  const { config } = load(withMembers('2001:0DB8:0:0::1', '192.0.2.1'));
  const members = config?.services[0]?.pools[0]?.members ?? [];
  assert.deepEqual(
    members.map((m) => m.addresses),
    [['2001:db8::1'], ['192.0.2.1']],
  );
  const twice = load(
    withMembers('192.0.2.1').replace(
      'address: "192.0.2.1"',
      'addresses: ["2001:db8::1", "2001:0db8::0:1"]',
    ),
  );
  assert.deepEqual(twice.problems, ['test.yaml:11: member m0: listed twice: "2001:0db8::0:1"']);
});

test('allDown fallback addresses get the same checks', () => {
  const text = `${withMembers('192.0.2.1')}    allDown: { action: fallback, addresses: ["192.0.2.9", "239.1.1.1"] }\n`;
  const { problems } = load(text);
  assert.equal(problems.length, 1, problems.join('; '));
  assert.match(problems[0]!, /^test\.yaml:\d+: allDown: a multicast address: "239\.1\.1\.1"$/);
});
