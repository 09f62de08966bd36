import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FileTooLargeError, readTextFile, readTextFileSync } from './text-file.js';

// Limits of a few bytes: the line that crosses the limit is the line of byte `limit` (0-based).
const ROWS: { name: string; text: string; limit: number; line?: number }[] = [
  { name: 'under the limit', text: 'ab\ncd\n', limit: 10 },
  { name: 'exactly the limit', text: 'ab\ncd\n', limit: 6 },
  { name: 'one byte over, after the last line feed', text: 'ab\ncd\ne', limit: 6, line: 3 },
  { name: 'the limit falls on a line feed', text: 'ab\ncd\nef\n', limit: 5, line: 2 },
  { name: 'the limit falls just after a line feed', text: 'ab\ncd\nef\n', limit: 3, line: 2 },
  { name: 'one long first line', text: `${'x'.repeat(100)}\nok\n`, limit: 50, line: 1 },
  {
    name: 'a long third line',
    text: `a\nb\n${'x'.repeat(3_000_000)}\n`,
    limit: 2_000_000,
    line: 3,
  },
  {
    name: 'many lines, over by chunks',
    text: 'r\n'.repeat(1_500_000),
    limit: 2_100_001,
    line: 1_050_001,
  },
];

describe('readTextFile and readTextFileSync', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'steerdns-text-file-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  for (const row of ROWS)
    test(row.name, async () => {
      const path = join(dir, `${row.name.replace(/\W+/g, '-')}.txt`);
      await writeFile(path, row.text);
      for (const read of [
        readTextFile,
        (p: string, l: number) => Promise.resolve().then(() => readTextFileSync(p, l)),
      ]) {
        if (row.line === undefined) {
          assert.equal(await read(path, row.limit), row.text);
          continue;
        }
        await assert.rejects(read(path, row.limit), (error: unknown) => {
          assert.ok(error instanceof FileTooLargeError);
          assert.equal(error.line, row.line);
          assert.equal(error.size, Buffer.byteLength(row.text));
          assert.match(
            error.message,
            new RegExp(
              `^file too large: ${error.size} bytes, at most ${row.limit} .*line ${row.line} crosses the limit$`,
            ),
          );
          return true;
        });
      }
    });
  test('a missing file is the file system error', async () => {
    await assert.rejects(readTextFile(join(dir, 'none')), { code: 'ENOENT' });
    assert.throws(() => readTextFileSync(join(dir, 'none')), { code: 'ENOENT' });
  });
});
