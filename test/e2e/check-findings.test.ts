/**
 * `steerdns check` as a process on bad files: the warnings `serve` logs, nothing invented
 * after "cannot read", the YAML alias bomb with a line, durations and member addresses,
 * oversized lines and files with the line that crosses the limit.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { MAX_CONFIG_FILE_BYTES, MAX_ZONE_FILE_BYTES } from '../../src/lib/text-file.js';
import { REPO_ROOT, tmpdirWith } from '../helpers/server-process.js';

interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `steerdns check FILES` to completion (killed after `timeoutMs`). */
function runCheck(files: readonly string[], timeoutMs = 20_000): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', join(REPO_ROOT, 'src/main.ts'), 'check', ...files],
      { cwd: REPO_ROOT, timeout: timeoutMs, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const SOA =
  '$TTL 300\n@ IN SOA ns1 hostmaster 1 7200 3600 1209600 300\n@ IN NS ns1\nns1 IN A 192.0.2.53\n';
const ZONES = `zones:\n  - origin: example.org\n    records: |\n      ${SOA.trimEnd().split('\n').join('\n      ')}\n`;
const bomb = ['a: &a [x, x, x, x, x, x, x, x, x]']
  .concat(
    ['b', 'c', 'd', 'e', 'f'].map(
      (k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcde'[i]}`).join(', ')}]`,
    ),
  )
  .join('\n');

/** A line of 1.1 MiB: over the tokenizer's 1 MiB of fields an entry may hold. */
const LONG_TXT = `long IN TXT ${'a'.repeat(1_150_000)}`;

/**
 * Files of `text` and then zeros up to one byte over `size`, sparse: no disk used, and the
 * limit falls on the line after `text`. Written in \`before\`, not kept in memory.
 */
const OVERSIZED: Record<string, { text: string; size: number }> = {
  'big.zone': { text: `$ORIGIN example.org.\n${SOA}`, size: MAX_ZONE_FILE_BYTES + 1 },
  'big.yaml': {
    text: 'zones:\n  - origin: example.org\n    file: small.zone\n',
    size: MAX_CONFIG_FILE_BYTES + 1,
  },
};

const FILES: Record<string, string> = {
  'long-line.zone': `$ORIGIN example.org.\n${SOA}${LONG_TXT}\nwww IN A 192.0.2.1\n`,
  'long-line.yaml': `${ZONES}      www IN A 192.0.2.1\n      ${LONG_TXT}\n`,
  'names-big.yaml': 'zones:\n  - origin: example.org\n    file: big.zone\n',
  'missing-zone.yaml': 'zones:\n  - origin: example.org\n    file: no-such.zone\n',
  'bomb.yaml': `${bomb}\n${ZONES}`,
  'duplicate.zone': `$ORIGIN example.org.\n${SOA}www IN A 192.0.2.1\nwww IN A 192.0.2.1\n`,
  'duplicate.yaml': `${ZONES}      www IN A 192.0.2.1\n      www IN A 192.0.2.1\n`,
  'fraction.yaml': `dns:\n  tcpIdleTimeout: "1.5"\n${ZONES}`,
  'unit-then-number.yaml': `dns:\n  tcpIdleTimeout: 10s5\n${ZONES}`,
  'zero.yaml': `dns:\n  tcpIdleTimeout: 0\n${ZONES}`,
  'thirty-days.yaml': `dns:\n  tcpIdleTimeout: 30d\n${ZONES}`,
  'multicast-member.yaml': `${ZONES}services:\n  - name: app.example.org\n    pools:\n      - name: main\n        members:\n          - { name: m1, address: 224.0.0.1 }\n`,
};

const ROWS: { file: string; code: number; stderr: RegExp[]; stdout?: RegExp }[] = [
  {
    file: 'long-line.zone',
    code: 1,
    stderr: [/^long-line\.zone:6: entry too long: more than 1048576 characters of fields$/],
  },
  {
    file: 'long-line.yaml',
    code: 1,
    stderr: [/^long-line\.yaml:9: entry too long: more than 1048576 characters of fields$/],
  },
  {
    file: 'big.zone',
    code: 1,
    stderr: [
      /^big\.zone:6: file too large: 536870889 bytes, at most 536870888 \(511 MiB\); line 6 crosses the limit$/,
    ],
  },
  {
    file: 'names-big.yaml',
    code: 1,
    stderr: [/^big\.zone:6: file too large: 536870889 bytes, at most 536870888 /],
  },
  {
    file: 'big.yaml',
    code: 1,
    stderr: [
      /^big\.yaml:4: file too large: 67108865 bytes, at most 67108864 \(64 MiB\); line 4 crosses the limit$/,
    ],
  },
  {
    file: 'missing-zone.yaml',
    code: 1,
    stderr: [/^missing-zone\.yaml:2: zone example\.org\.: cannot read .*no-such\.zone: ENOENT$/],
  },
  { file: 'bomb.yaml', code: 1, stderr: [/^bomb\.yaml:2: Excessive alias count/] },
  {
    file: 'duplicate.zone',
    code: 0,
    stderr: [/^duplicate\.zone:7: warning: duplicate record www\.example\.org\. ignored$/],
    stdout: /duplicate\.zone: zone example\.org\. .*: ok/,
  },
  {
    file: 'duplicate.yaml',
    code: 0,
    stderr: [/^duplicate\.yaml:9: warning: duplicate record www\.example\.org\. ignored$/],
    stdout: /duplicate\.yaml: 1 zones, \d+ records: ok/,
  },
  { file: 'fraction.yaml', code: 1, stderr: [/^fraction\.yaml:2: dns\.tcpIdleTimeout: /] },
  {
    file: 'unit-then-number.yaml',
    code: 1,
    stderr: [/^unit-then-number\.yaml:2: dns\.tcpIdleTimeout: /],
  },
  {
    file: 'zero.yaml',
    code: 1,
    stderr: [/^zero\.yaml:2: dns\.tcpIdleTimeout: expected at least 100ms, got 0$/],
  },
  {
    file: 'thirty-days.yaml',
    code: 1,
    stderr: [/^thirty-days\.yaml:2: dns\.tcpIdleTimeout: expected at most 2147483647ms/],
  },
  {
    file: 'multicast-member.yaml',
    code: 1,
    stderr: [/^multicast-member\.yaml:13: member m1: a multicast address: "224\.0\.0\.1"$/],
  },
];

describe('steerdns check reports what serve would', { concurrency: 2 }, () => {
  let dir: string;
  before(async () => {
    dir = await tmpdirWith(FILES);
    for (const [name, { text, size }] of Object.entries(OVERSIZED)) {
      const handle = await open(join(dir, name), 'w');
      await handle.write(text);
      await handle.truncate(size);
      await handle.close();
    }
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  for (const row of ROWS)
    test(row.file, async () => {
      const r = await runCheck([join(dir, row.file)]);
      const lines = r.stderr
        .split('\n')
        .filter(Boolean)
        .map((l) => l.replace(`${dir}/`, ''));
      assert.equal(r.code, row.code, `exit code; stderr: ${r.stderr}`);
      assert.equal(lines.length, row.stderr.length, `stderr lines:\n${lines.join('\n')}`);
      row.stderr.forEach((want, i) => {
        assert.match(lines[i]!, want);
      });
      if (row.stdout) assert.match(r.stdout, row.stdout);
    });
});
