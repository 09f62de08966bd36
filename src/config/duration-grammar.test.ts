import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Value } from '@sinclair/typebox/value';
import fc from 'fast-check';
import { CONFIG_DURATION, parseDuration, parseDurationText } from '../lib/duration.js';
import { ConfigError, formatProblem } from '../lib/errors.js';
import { parseConfig } from './load.js';
import { ConfigSchema } from './schema.js';

// Texts the grammar reads (whatever their range) and texts it does not.
const GOOD = [
  '0',
  '250',
  '00100',
  '500ms',
  '10s',
  '1m30s',
  '1.5s',
  '0.1s0.2s',
  '1ms500ms',
  '1h1h',
  '1d',
  '30d',
  '2147483647',
  '2147483648',
  '99999999999999999999',
];
const BAD = [
  '',
  '1.5',
  '10s5',
  '1m30',
  '.5s',
  '1.s',
  '1.5.5s',
  '10S',
  '1w',
  ' 10s',
  '10s ',
  '10s\n',
  '1 m',
  '-1s',
  '+1s',
  '1e3',
  '1sm',
  '1mss',
  '1constructor',
  's',
  'ms',
  '\uff11s',
  '1\u0663s',
];

/** Whether the schema, as the loader validates a file, takes `value` as `dns.tcpIdleTimeout`. */
const schemaTakes = (value: unknown): boolean =>
  Value.Check(ConfigSchema, {
    zones: [{ origin: 'example.org', records: [] }],
    dns: { tcpIdleTimeout: value },
  });

const grammarReads = (text: string): boolean =>
  parseDurationText(text, CONFIG_DURATION) !== undefined;

test('duration grammar: the schema pattern takes exactly the texts the parser reads', () => {
  assert.ok(schemaTakes('10s') && !schemaTakes('nonsense'), 'the probe works');
  for (const text of GOOD) {
    assert.ok(grammarReads(text), `parser reads ${JSON.stringify(text)}`);
    assert.ok(schemaTakes(text), `schema takes ${JSON.stringify(text)}`);
  }
  for (const text of BAD) {
    assert.ok(!grammarReads(text), `parser refuses ${JSON.stringify(text)}`);
    assert.ok(!schemaTakes(text), `schema refuses ${JSON.stringify(text)}`);
  }
  fc.assert(
    fc.property(
      fc
        .array(fc.constantFrom('0', '1', '5', '.', 'm', 's', 'h', 'd', 'w', 'S', ' '), {
          maxLength: 8,
        })
        .map((chars) => chars.join('')),
      (text) => {
        assert.equal(schemaTakes(text), grammarReads(text), JSON.stringify(text));
      },
    ),
    { numRuns: 2000 },
  );
});

test('duration grammar: integers in the schema are those the parser takes as numbers', () => {
  for (const value of [0, 1, 100, 2147483647, 2147483648, -1, 1.5, 0.5])
    assert.equal(schemaTakes(value), parseDuration(value) !== undefined, String(value));
});

const ZONES = `zones:
  - origin: example.org
    records: |
      @ IN SOA ns1 hostmaster 1 7200 3600 1209600 300
      @ IN NS ns1
`;

function load(value: string): { ms?: number; problems: string[] } {
  try {
    const config = parseConfig(`dns:\n  tcpIdleTimeout: ${value}\n${ZONES}`, 'test.yaml');
    return { ms: config.dns.tcpIdleTimeoutMs, problems: [] };
  } catch (error) {
    if (error instanceof ConfigError) return { problems: error.problems.map(formatProblem) };
    throw error;
  }
}

test('duration in a file: the value the parser reads, else file:line and a reason, never the default', () => {
  const written = [...GOOD, ...BAD].map((text) => JSON.stringify(text));
  for (const value of [...written, '0', '100', '1.5', '-1', '2147483648', '2147483647']) {
    const ms = parseDuration(JSON.parse(value) as string | number);
    const got = load(value);
    if (ms !== undefined && ms >= 100) assert.deepEqual(got, { ms, problems: [] }, value);
    else {
      assert.equal(got.ms, undefined, `${value} is not compiled to ${got.ms}`);
      assert.equal(got.problems.length, 1, `${value}: ${got.problems.join('; ')}`);
      assert.match(got.problems[0]!, /^test\.yaml:2: dns\.tcpIdleTimeout: /, value);
    }
  }
});

test('duration in a file: a timeout of 0 or above 2^31-1 ms says why', () => {
  const rows: [string, RegExp][] = [
    [
      'dns:\n  tcpIdleTimeout: 0',
      /^test\.yaml:2: dns\.tcpIdleTimeout: expected at least 100ms, got 0$/,
    ],
    ['dns:\n  tcpIdleTimeout: 0s', /^test\.yaml:2: dns\.tcpIdleTimeout: expected at least 100ms/],
    [
      'dns:\n  tcpIdleTimeout: 30d',
      /^test\.yaml:2: dns\.tcpIdleTimeout: expected at most 2147483647ms/,
    ],
    [
      'dns:\n  tcpMessageTimeout: 0',
      /^test\.yaml:2: dns\.tcpMessageTimeout: expected at least 100ms/,
    ],
    [
      'agents:\n  listen: [127.0.0.1:0]\n  keyFile: k\n  maxSkew: 25d',
      /^test\.yaml:4: agents\.maxSkew: expected at most/,
    ],
    ['health:\n  startupGrace: 1000d', /^test\.yaml:2: health\.startupGrace: expected at most/],
  ];
  for (const [head, want] of rows) {
    let problems: string[] = [];
    try {
      parseConfig(`${head}\n${ZONES}`, 'test.yaml');
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems = error.problems.map(formatProblem);
    }
    assert.ok(
      problems.some((p) => want.test(p)),
      `${head}: ${problems.join('; ') || 'accepted'}`,
    );
  }
});
