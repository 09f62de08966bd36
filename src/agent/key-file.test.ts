import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { KeyFileError, parseKey, readKeyFile } from './key-file.js';

const HEX32 = '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff';

test('key file content: hex, base64, raw bytes or a passphrase', () => {
  const raw = Buffer.from(HEX32, 'hex');
  const cases: { name: string; content: Buffer | string; want: Buffer }[] = [
    { name: 'hex with a newline', content: `${HEX32}\n`, want: raw },
    { name: 'upper-case hex', content: HEX32.toUpperCase(), want: raw },
    { name: 'base64', content: `${raw.toString('base64')}\n`, want: raw },
    {
      name: 'base64 of 16 bytes',
      content: raw.subarray(0, 16).toString('base64'),
      want: raw.subarray(0, 16),
    },
    {
      name: 'passphrase',
      content: '  correct horse battery staple\n',
      want: Buffer.from('correct horse battery staple'),
    },
    {
      name: 'odd number of hex digits is text',
      content: HEX32.slice(0, 33),
      want: Buffer.from(HEX32.slice(0, 33)),
    },
    {
      name: 'raw bytes, not UTF-8',
      content: Buffer.concat([Buffer.from([0xff, 0xfe]), raw]),
      want: Buffer.concat([Buffer.from([0xff, 0xfe]), raw]),
    },
  ];
  for (const c of cases) assert.deepEqual(parseKey(c.content), c.want, c.name);
});

test('less than 16 bytes of key material is refused with a clear message', () => {
  const cases: { content: string; message: RegExp }[] = [
    { content: '', message: /0 bytes of key material/ },
    { content: '\n  \n', message: /0 bytes/ },
    { content: '00112233445566778899aabbccddee', message: /15 bytes .*read as hex.*at least 16/ },
    { content: 'c2hvcnQga2V5', message: /9 bytes .*read as base64/ },
    { content: 'short pass', message: /10 bytes .*read as text/ },
  ];
  for (const { content, message } of cases) {
    assert.throws(
      () => parseKey(content, 'key file k'),
      (error: unknown) =>
        error instanceof KeyFileError &&
        error.code === 'STEERDNS_ERR_AGENT_KEY' &&
        message.test(error.message) &&
        error.message.startsWith('key file k: ') &&
        error.message.includes('openssl rand -hex 32'),
      JSON.stringify(content),
    );
  }
});

test('readKeyFile reads a file and names it when it cannot', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'steerdns-key-'));
  t.after(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  const good = join(dir, 'good.key');
  writeFileSync(good, `${HEX32}\n`);
  assert.deepEqual(readKeyFile(good), Buffer.from(HEX32, 'hex'));
  const short = join(dir, 'short.key');
  writeFileSync(short, 'abc');
  assert.throws(() => readKeyFile(short), new RegExp(`key file ${short}: 3 bytes`));
  const missing = join(dir, 'missing.key');
  assert.throws(
    () => readKeyFile(missing),
    new RegExp(`key file ${missing}: cannot read it \\(ENOENT\\)`),
  );
  assert.throws(() => readKeyFile(dir), /cannot read it \(EISDIR\)/);
});
