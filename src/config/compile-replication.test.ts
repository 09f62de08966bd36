import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ConfigError, formatProblem } from '../lib/errors.js';
import { parseConfig } from './load.js';

const dir = mkdtempSync(join(tmpdir(), 'steerdns-replication-config-'));
after(() => {
  rmSync(dir, { recursive: true, force: true });
});
writeFileSync(join(dir, 'good.key'), `${'ab'.repeat(32)}\n`);
writeFileSync(join(dir, 'short.key'), 'abcd\n');

const configWith = (replication: string): string => `zones:
  - origin: example.org
    records: |
      @ IN SOA ns1 hostmaster 1 7200 3600 1209600 300
      @ IN NS ns1
cluster:
  node: n1
  etcd: { endpoints: [http://192.0.2.2:2379] }
${replication}`;

const compile = (replication: string) => parseConfig(configWith(replication), join(dir, 'c.yaml'));

const problemsOf = (replication: string): string[] => {
  try {
    compile(replication);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map(formatProblem);
    throw error;
  }
  return [];
};

test('cluster.replication: compiled with the key read and the default maxSkew; absent: nothing shared', () => {
  const compiled = compile('  replication: { listen: 127.0.0.1:0, keyFile: good.key }\n');
  assert.deepEqual(compiled.cluster?.replication, {
    host: '127.0.0.1',
    port: 0,
    keyFile: join(dir, 'good.key'),
    key: Buffer.from('ab'.repeat(32), 'hex').toString('base64'),
    maxSkewMs: 2000,
  });
  const v6 = compile(
    "  replication: { listen: '[::1]:5390', keyFile: good.key, maxSkew: 500ms }\n",
  );
  const shared = v6.cluster?.replication;
  assert.deepEqual([shared?.host, shared?.maxSkewMs], ['::1', 500]);
  assert.equal(compile('').cluster?.replication, undefined);
});

const bad: readonly [string, string, RegExp][] = [
  [
    'not an address',
    '  replication: { listen: localhost:5390, keyFile: good.key }\n',
    /c\.yaml:9: cluster\.replication\.listen: expected ADDR:PORT/,
  ],
  [
    'no port',
    '  replication: { listen: 127.0.0.1, keyFile: good.key }\n',
    /cluster\.replication\.listen/,
  ],
  [
    'a key too short',
    '  replication: { listen: 127.0.0.1:0, keyFile: short.key }\n',
    /cluster\.replication\.keyFile: .*2 bytes of key material/,
  ],
  [
    'a missing key file',
    '  replication: { listen: 127.0.0.1:0, keyFile: none.key }\n',
    /cluster\.replication\.keyFile: key file .*none\.key: cannot read it/,
  ],
  [
    'a bad maxSkew',
    '  replication: { listen: 127.0.0.1:0, keyFile: good.key, maxSkew: soon }\n',
    /maxSkew/,
  ],
  ['no keyFile', '  replication: { listen: 127.0.0.1:0 }\n', /keyFile/],
];

for (const [name, replication, want] of bad)
  test(`cluster.replication: ${name} is refused with file:line`, () => {
    const problems = problemsOf(replication);
    assert.ok(
      problems.some((p) => want.test(p)),
      `${name}: ${problems.join('; ')}`,
    );
  });
