import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ConfigError } from '../lib/errors.js';
import { parseConfig } from './load.js';

const dir = mkdtempSync(join(tmpdir(), 'steerdns-keys-'));
after(() => {
  rmSync(dir, { recursive: true, force: true });
});
writeFileSync(join(dir, 'new.key'), 'a1'.repeat(32));
writeFileSync(join(dir, 'old.key'), 'b2'.repeat(32));
writeFileSync(join(dir, 'short.key'), 'abc');

const configWith = (keys: string): string =>
  `listen: [127.0.0.1:5353]\nagents:\n  listen: [127.0.0.1:5380]\n${keys}\nzones:\n` +
  `  - origin: example.org\n    records: |\n      @ 300 IN SOA ns1 hm 1 2 3 4 5\n      @ 300 IN NS ns1\n`;

test('agents keys: keyFile and previousKeyFile are read relative to the configuration', () => {
  const config = parseConfig(
    configWith('  keyFile: new.key\n  previousKeyFile: old.key'),
    join(dir, 'steerdns.yaml'),
  );
  const agents = config.agents;
  assert.ok(agents);
  assert.equal(agents.key, Buffer.from('a1'.repeat(32), 'hex').toString('base64'));
  assert.equal(agents.previousKey, Buffer.from('b2'.repeat(32), 'hex').toString('base64'));
  const single = parseConfig(configWith('  keyFile: new.key'), join(dir, 'steerdns.yaml'));
  assert.ok(single.agents);
  assert.equal(single.agents.previousKey, undefined);
});

test('agents keys: a bad previousKeyFile is reported with its line', () => {
  const file = join(dir, 'steerdns.yaml');
  assert.throws(
    () => parseConfig(configWith('  keyFile: new.key\n  previousKeyFile: short.key'), file),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.problems.length, 1);
      const problem = error.problems[0];
      assert.ok(problem);
      assert.equal(problem.file, file);
      assert.equal(problem.line, 5);
      assert.match(problem.reason, /^agents\.previousKeyFile: key file .*short\.key: 3 bytes/);
      return true;
    },
  );
});
