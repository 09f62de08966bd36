import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, formatProblem } from '../lib/errors.js';
import { parseConfig } from './load.js';

const ZONES = `zones:
  - origin: example.org
    records: |
      @ IN SOA ns1 hostmaster 1 7200 3600 1209600 300
      @ IN NS ns1
      ns1 IN A 192.0.2.53
`;

const problemsOf = (text: string): string[] => {
  try {
    parseConfig(text, 'test.yaml');
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map(formatProblem);
    throw error;
  }
  return [];
};

test('dns.tcp* limits: set values are compiled', () => {
  const compiled = parseConfig(
    `dns:\n  tcpMessageTimeout: 250ms\n  tcpMaxPerSource: 8\n  tcpOutputLimit: 65536\n${ZONES}`,
    'test.yaml',
  );
  assert.equal(compiled.dns.tcpMessageTimeoutMs, 250);
  assert.equal(compiled.dns.tcpMaxPerSource, 8);
  assert.equal(compiled.dns.tcpOutputLimit, 65_536);
});

test('dns.tcp* limits: out of range is reported with its line', () => {
  const rows = [
    {
      text: 'tcpMessageTimeout: 50ms',
      want: /test\.yaml:2: dns\.tcpMessageTimeout: .*at least 100ms/,
    },
    { text: 'tcpMessageTimeout: 0', want: /test\.yaml:2: dns\.tcpMessageTimeout/ },
    { text: 'tcpMaxPerSource: 0', want: /test\.yaml:2: dns\.tcpMaxPerSource/ },
    { text: 'tcpOutputLimit: 1000', want: /test\.yaml:2: dns\.tcpOutputLimit/ },
  ];
  for (const row of rows) {
    const problems = problemsOf(`dns:\n  ${row.text}\n${ZONES}`);
    assert.ok(
      problems.some((p) => row.want.test(p)),
      `${row.text}: ${problems.join('; ') || 'accepted'}`,
    );
  }
});
