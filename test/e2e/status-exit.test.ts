/**
 * End to end: the exit codes of `steerdns status` and `steerdns explain` as the installed
 * command line gives them (src/main.ts prints each command's outcome).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { rm } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { REPO_ROOT, tmpdirWith } from '../helpers/server-process.js';

interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function runCli(args: readonly string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/main.ts', ...args],
      { cwd: REPO_ROOT, timeout: 15_000, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const ZONE = `
zones:
  - origin: example.org
    ttl: 3600
    records: |
      @   IN SOA ns1 hostmaster 1 7200 3600 1209600 300
      @   IN NS  ns1
      ns1 IN A   192.0.2.53
`;
const member = (name: string, address: string, state: string): string =>
  `          - { name: ${name}, address: ${address}, health: { type: static, state: ${state}, interval: 200ms, rise: 1, fall: 1 } }`;
const service = (name: string, members: string[]): string =>
  `  - name: ${name}\n    pools:\n      - name: main\n        members:\n${members.join('\n')}\n`;

let dir = '';
/** Accepts and hangs up at once: no operator interface there. */
let hangUp: Server;
let hangUpAt = '';
before(async () => {
  hangUp = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => hangUp.listen(0, '127.0.0.1', resolve));
  hangUpAt = `127.0.0.1:${(hangUp.address() as AddressInfo).port}`;
  dir = await tmpdirWith({
    'up.yaml': `${ZONE}services:\n${service('www.example.org', [member('a', '192.0.2.1', 'down'), member('b', '192.0.2.2', 'up')])}`,
    'down.yaml': `${ZONE}services:\n${service('www.example.org', [member('a', '192.0.2.1', 'up')])}${service('api.example.org', [member('c', '192.0.2.3', 'down')])}`,
  });
});
after(async () => {
  await new Promise<void>((resolve) => {
    hangUp.close(() => {
      resolve();
    });
  });
  await rm(dir, { recursive: true, force: true });
});

const rows: { why: string; args: string[]; code: number; stdout: RegExp; stderr: RegExp }[] = [
  {
    why: 'status: every service has a member up: 0',
    args: ['status', '--config', '@/up.yaml'],
    code: 0,
    stdout: /^SERVICE\s+MEMBER/,
    stderr: /^$/,
  },
  {
    why: 'status: a service with no member up: 3, with the table',
    args: ['status', '--config', '@/down.yaml'],
    code: 3,
    stdout: /api\.example\.org\.\s+main\/c\s+192\.0\.2\.3\s+down/,
    stderr: /^steerdns status: api\.example\.org\. has no member up \(1 down\)\n$/,
  },
  {
    why: 'explain: a server that does not answer: 1, as explain',
    args: ['explain', '--server', '@hang-up', 'www.example.org'],
    code: 1,
    stdout: /^$/,
    stderr: /^steerdns explain: cannot reach http:\/\/127\.0\.0\.1:\d+\/explain/,
  },
];
for (const row of rows) {
  test(row.why, async () => {
    const r = await runCli(row.args.map((a) => a.replace('@hang-up', hangUpAt).replace('@', dir)));
    assert.equal(r.code, row.code, r.stderr);
    assert.match(r.stdout, row.stdout);
    assert.match(r.stderr, row.stderr);
  });
}
