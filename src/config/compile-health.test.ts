import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, formatProblem } from '../lib/errors.js';
import { parseConfig } from './load.js';

/** A configuration with one checked member whose `health:` is `health`. */
const withHealth = (health: string): string => `zones:
  - origin: example.org
    ttl: 300
    records: |
      @ IN SOA ns1 hostmaster 1 7200 3600 1209600 300
      @ IN NS ns1
      ns1 IN A 192.0.2.53
services:
  - name: www.example.org
    health: ${health}
    pools:
      - name: main
        members:
          - { name: a, address: 192.0.2.1 }
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

test('health averaging: the time constant of the response-time average', () => {
  const cases: { row: string; health: string; want: number | undefined }[] = [
    {
      row: 'not set: the tracker default, id unchanged',
      health: '{ type: tcp, port: 80 }',
      want: undefined,
    },
    { row: 'a duration', health: '{ type: tcp, port: 80, averaging: 30s }', want: 30_000 },
    { row: 'milliseconds', health: '{ type: tcp, port: 80, averaging: 250ms }', want: 250 },
  ];
  for (const { row, health, want } of cases) {
    const [check] = parseConfig(withHealth(health), 'test.yaml').health.checks;
    assert.ok(check, row);
    assert.equal(check.tracker.averagingMs, want, row);
    assert.equal('averagingMs' in check.tracker, want !== undefined, `${row}: key present`);
  }
});

test('health averaging: a bad duration is rejected with its path', () => {
  for (const value of ['50ms', 'soon', '-1s']) {
    const problems = problemsOf(withHealth(`{ type: tcp, port: 80, averaging: ${value} }`));
    assert.ok(
      problems.some((p) => p.includes('averaging')),
      `${value}: ${problems.join('; ')}`,
    );
  }
});
