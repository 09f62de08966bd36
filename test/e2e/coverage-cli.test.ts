/**
 * End to end, filling gaps of cli.test.ts: more bad command lines, a port already in use,
 * bad configurations at start (listen, dns limits, a zone declared twice, inline records),
 * structured pino logs and their level (flag and file), and `steerdns check` on zone files
 * with every kind of problem, on inline records and on $INCLUDEd files.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { silentUdp } from '../helpers/sockets.js';
import {
  REPO_ROOT,
  startServer,
  tmpdirWith,
  type ServerProcess,
} from '../helpers/server-process.js';
import { sleep } from './fixtures/server.js';

interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `steerdns ARGS` to completion (killed after `timeoutMs`). */
function runCli(args: readonly string[], timeoutMs = 15_000): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', join(REPO_ROOT, 'src/main.ts'), ...args],
      { cwd: REPO_ROOT, timeout: timeoutMs, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const ZONE = `$ORIGIN probe.test.
$TTL 300
@ IN SOA ns1 hostmaster 1 7200 3600 1209600 60
@ IN NS ns1
ns1 IN A 192.0.2.53
www IN A 192.0.2.1
`;

/** Problems of a zone file, each on the line the test expects it (see `BAD_ZONE_LINES`). */
const BAD_ZONE = `$ORIGIN bad.test.
$TTL 300
@ IN SOA ns1 hostmaster 1 7200 3600 1209600 60
@ IN NS ns1
ns1 IN A 192.0.2.53
both IN CNAME ns1
both IN A 192.0.2.5
out.example.com. IN A 192.0.2.6
${'a'.repeat(64)} IN A 192.0.2.7
$INCLUDE missing.zone
v6 IN AAAA 2001:db8::zz
t IN TXT "${'x'.repeat(256)}"
mx IN MX 10
g IN TYPE1 \\# 3 c00002
@ IN SOA ns1 hostmaster 2 7200 3600 1209600 60
p IN A ( 192.0.2.1
`;

/** Line of each problem in `BAD_ZONE` and a word its reason must contain. */
const BAD_ZONE_LINES: [number, RegExp][] = [
  [6, /CNAME/],
  [8, /outside/],
  [9, /63/],
  [10, /missing\.zone.*ENOENT/],
  [11, /AAAA|IPv6/],
  [12, /255/],
  [13, /MX/],
  [14, /\\#|rdata|RDATA/],
  [15, /SOA/],
  [16, /parenthes/],
];

const NO_APEX = `$ORIGIN noapex.test.
$TTL 300
www IN A 192.0.2.1
`;

/** A zone whose $INCLUDEd file has a problem on its line 2. */
const PARENT_ZONE = `$ORIGIN inc.test.
$TTL 60
@ IN SOA ns1 hostmaster 1 2 3 4 5
@ IN NS ns1
ns1 IN A 192.0.2.53
$INCLUDE sub/child.zone
`;
const CHILD_ZONE = `a IN A 192.0.2.1
b IN MX x
`;

/** Inline records with a problem on YAML line 8 (block string) and line 14 (list). */
const INLINE_YAML = `listen: [127.0.0.1:5353]
zones:
  - origin: inl.test
    ttl: 300
    records: |
      @ IN SOA ns1 hostmaster 1 7200 3600 1209600 300
      @ IN NS ns1
      ns1 IN A 192.0.2.300
  - origin: list.test
    ttl: 300
    records:
      - '@ IN SOA ns1 hostmaster 1 7200 3600 1209600 300'
      - '@ IN NS ns1'
      - 'ns1 IN AAAA 2001:db8::g'
`;

/** A zone with a duplicate record: loaded with a warning (file:line) in the log. */
const DUPLICATE_ZONE = `${ZONE}www IN A 192.0.2.1
`;

let dir: string;
before(async () => {
  dir = await tmpdirWith({
    'probe.test.zone': ZONE,
    'bad.test.zone': BAD_ZONE,
    'noapex.test.zone': NO_APEX,
    'inc.test.zone': PARENT_ZONE,
    'sub/child.zone': CHILD_ZONE,
    'inline.yaml': INLINE_YAML,
    'dup.test.zone': DUPLICATE_ZONE,
    'listen.yaml':
      "listen: ['localhost:5353', '127.0.0.1:70000']\nworkers: 1\nzones:\n  - origin: probe.test\n    file: probe.test.zone\n",
    'payload.yaml':
      'workers: 1\ndns:\n  udpPayloadMax: 511\n  tcpMaxConnections: 0\nzones:\n  - origin: probe.test\n    file: probe.test.zone\n',
    'twice.yaml':
      'workers: 1\nzones:\n  - origin: probe.test\n    file: probe.test.zone\n  - origin: PROBE.test.\n    file: probe.test.zone\n',
    'good.yaml': 'workers: 1\nzones:\n  - origin: probe.test\n    file: probe.test.zone\n',
    'nodata.yaml': 'workers: 1\nzones:\n  - origin: probe.test\n',
    'warn.yaml':
      'workers: 1\nlog:\n  level: warn\nzones:\n  - origin: probe.test\n    file: dup.test.zone\n',
  });
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const PARALLEL = { concurrency: 2 };

describe('more bad command lines: exit 2 with the usage', PARALLEL, () => {
  const zone = (): string => `probe.test=${join(dir, 'probe.test.zone')}`;
  const rows: { why: string; args: () => string[] }[] = [
    { why: 'serve with neither --config nor --zone', args: () => ['serve'] },
    { why: '--zone without --listen', args: () => ['serve', '--zone', zone()] },
    {
      why: '--config and --zone together',
      args: () => ['serve', '--config', join(dir, 'twice.yaml'), '--zone', zone()],
    },
    { why: '--config without its value', args: () => ['serve', '--config'] },
    {
      why: '--workers not a number',
      args: () => ['serve', '--zone', zone(), '--listen', '127.0.0.1:5399', '--workers', 'two'],
    },
    {
      why: '--workers above 256',
      args: () => ['serve', '--zone', zone(), '--listen', '127.0.0.1:5399', '--workers', '257'],
    },
    {
      why: '--listen with port 70000',
      args: () => ['serve', '--zone', zone(), '--listen', '127.0.0.1:70000'],
    },
    {
      why: '--listen [::1] without a port',
      args: () => ['serve', '--zone', zone(), '--listen', '[::1]'],
    },
    {
      why: '--listen ::1:5399 without brackets',
      args: () => ['serve', '--zone', zone(), '--listen', '::1:5399'],
    },
    {
      why: '--listen with a host name',
      args: () => ['serve', '--zone', zone(), '--listen', 'localhost:5399'],
    },
    {
      why: '--zone with an empty origin',
      args: () => [
        'serve',
        '--zone',
        `=${join(dir, 'probe.test.zone')}`,
        '--listen',
        '127.0.0.1:5399',
      ],
    },
    {
      why: '--zone with an origin that is not a domain name (empty label)',
      args: () => [
        'serve',
        '--zone',
        `bad..test=${join(dir, 'probe.test.zone')}`,
        '--listen',
        '127.0.0.1:5399',
      ],
    },
  ];
  for (const row of rows) {
    test(row.why, async () => {
      const args = row.args();
      const r = await runCli(args);
      const where = `steerdns ${args.join(' ')}`;
      assert.equal(r.code, 2, `${where}: exit code\n${r.stderr}`);
      assert.match(r.stderr, /^steerdns: /, `${where}: message first`);
      assert.match(r.stderr, /usage:\n {2}steerdns serve --config FILE/, `${where}: usage`);
      assert.doesNotMatch(r.stderr, /\n\s+at /, `${where}: stack trace on stderr`);
    });
  }
});

describe('a port already in use', PARALLEL, () => {
  for (const workers of ['1', '2']) {
    test(`--workers ${workers}: exit 1 with "cannot listen", no stack trace, no restart`, async () => {
      // A UDP port this test holds: the server binds UDP first, and cannot.
      const held = await silentUdp('127.0.0.1');
      try {
        const r = await runCli([
          'serve',
          '--zone',
          `probe.test=${join(dir, 'probe.test.zone')}`,
          '--listen',
          `127.0.0.1:${held.address().port}`,
          '--workers',
          workers,
        ]);
        assert.equal(r.code, 1, `exit code\n${r.stderr}`);
        assert.match(r.stderr, /^steerdns: cannot listen: .*EADDRINUSE/m, r.stderr);
        assert.doesNotMatch(r.stderr, /\n\s+at /, `stack trace on stderr:\n${r.stderr}`);
        assert.doesNotMatch(r.stdout, /restarting/, `a worker was restarted:\n${r.stdout}`);
      } finally {
        held.close();
      }
    });
  }
});

describe('bad configurations at start: exit 1 with file:line: reason', PARALLEL, () => {
  const rows = [
    {
      why: 'listen entries that are not ADDR:PORT',
      file: 'listen.yaml',
      want: [/listen\.yaml:1: .*localhost:5353/, /listen\.yaml:1: .*127\.0\.0\.1:70000/],
    },
    {
      why: 'dns limits out of range',
      file: 'payload.yaml',
      want: [/payload\.yaml:3: .*udpPayloadMax/, /payload\.yaml:4: .*tcpMaxConnections/],
    },
    {
      why: 'a zone declared twice (names compare without case)',
      file: 'twice.yaml',
      want: [/twice\.yaml:5: .*declared twice/],
    },
    {
      why: 'a zone with neither file nor records',
      file: 'nodata.yaml',
      want: [/nodata\.yaml:3: \S/],
    },
    {
      why: 'bad inline records, at their YAML lines',
      file: 'inline.yaml',
      want: [/inline\.yaml:8: .*192\.0\.2\.300/, /inline\.yaml:14: .*2001:db8::g/],
    },
  ];
  for (const row of rows) {
    test(row.why, async () => {
      const args = ['serve', '--config', join(dir, row.file), '--listen', '127.0.0.1:0'];
      const r = await runCli(args);
      assert.equal(r.code, 1, `${row.file}: exit code\n${r.stderr}`);
      for (const want of row.want) assert.match(r.stderr, want, `${row.file}: stderr`);
      assert.doesNotMatch(r.stderr, /\n\s+at /, `${row.file}: stack trace on stderr`);
      // It stopped before listening.
      assert.doesNotMatch(r.stdout, /"msg":"listening"/, `${row.file}: listened`);
    });
  }
});

describe('structured logs (pino) and their level', () => {
  /** Starts the server, stops it, and returns its parsed log lines. */
  async function runAndStop(args: string[]): Promise<{ lines: string[]; server: ServerProcess }> {
    const server = await startServer(args);
    await sleep(200);
    const info = await server.stop();
    assert.deepEqual(info, { code: 0, signal: null }, 'exit');
    return { lines: server.logs(), server };
  }
  const zoneArgs = (): string[] => [
    'serve',
    '--zone',
    `probe.test=${join(dir, 'dup.test.zone')}`,
    '--workers',
    '1',
  ];
  // The `listening` line is written at every level (it says where the server listens).
  const levels = (lines: readonly string[]): number[] =>
    lines
      .map((l) => JSON.parse(l) as { level: unknown; msg: unknown })
      .filter((e) => e.msg !== 'listening')
      .map((e) => Number(e.level));

  test('every stdout line is a pino JSON object; warnings carry file:line', async () => {
    const { lines } = await runAndStop([...zoneArgs(), '--log-level', 'info']);
    assert.ok(lines.length >= 3, `log lines:\n${lines.join('\n')}`);
    for (const line of lines) {
      const entry = JSON.parse(line) as Record<string, unknown>;
      assert.equal(typeof entry['level'], 'number', line);
      assert.equal(typeof entry['time'], 'number', line);
      assert.equal(typeof entry['pid'], 'number', line);
      assert.equal(typeof entry['msg'], 'string', line);
    }
    const messages = lines.map((l) => (JSON.parse(l) as { msg: string }).msg);
    assert.ok(messages.includes('ready'), 'ready');
    assert.ok(messages.includes('stopping'), 'stopping');
    const warn = lines.find((l) => (JSON.parse(l) as { level: number }).level === 40);
    assert.match(
      warn ?? '',
      /dup\.test\.zone:7: /,
      `the duplicate record warning:\n${lines.join('\n')}`,
    );
  });

  test('--log-level error: neither info nor warn lines', async () => {
    const { lines } = await runAndStop([...zoneArgs(), '--log-level', 'error']);
    assert.deepEqual(
      levels(lines).filter((l) => l < 50),
      [],
      `lines below error:\n${lines.join('\n')}`,
    );
  });

  test('log.level: warn in the file: the warning, no info lines', async () => {
    const { lines } = await runAndStop([
      'serve',
      '--config',
      join(dir, 'warn.yaml'),
      '--listen',
      '127.0.0.1:0',
      '--workers',
      '1',
    ]);
    assert.deepEqual(
      levels(lines).filter((l) => l < 40),
      [],
      `info lines:\n${lines.join('\n')}`,
    );
    assert.ok(levels(lines).includes(40), `no warning:\n${lines.join('\n')}`);
  });
});

describe('steerdns check: bad zone files, inline records, $INCLUDE', PARALLEL, () => {
  test('every problem of a zone file, each at its line, exit 1', async () => {
    const file = join(dir, 'bad.test.zone');
    const r = await runCli(['check', '--origin', 'bad.test', file]);
    assert.equal(r.code, 1, r.stderr);
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    for (const [line, reason] of BAD_ZONE_LINES) {
      const found = lines.find((l) => l.startsWith(`${file}:${line}: `));
      assert.ok(found, `no problem reported at line ${line}:\n${r.stderr}`);
      assert.match(found, reason, `line ${line}`);
    }
    assert.equal(r.stdout.includes(': ok'), false, 'reported ok');
  });

  test('a zone without SOA and NS at its apex', async () => {
    const r = await runCli(['check', join(dir, 'noapex.test.zone')]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /noapex\.test\.zone(:\d+)?: .*no SOA/);
    assert.match(r.stderr, /noapex\.test\.zone(:\d+)?: .*no NS/);
  });

  test('a problem in an $INCLUDEd file is reported at that file and line', async () => {
    const r = await runCli(['check', join(dir, 'inc.test.zone'), '--origin', 'inc.test']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /sub\/child\.zone:2: .*MX/, r.stderr);
    assert.doesNotMatch(r.stderr, /inc\.test\.zone:\d+/, 'the parent file blamed');
  });

  test('inline records in a configuration: the YAML file and line', async () => {
    const r = await runCli(['check', join(dir, 'inline.yaml')]);
    assert.equal(r.code, 1, r.stderr);
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    assert.equal(lines.length, 2, r.stderr);
    assert.match(lines[0] ?? '', /inline\.yaml:8: .*192\.0\.2\.300/);
    assert.match(lines[1] ?? '', /inline\.yaml:14: .*2001:db8::g/);
  });

  test('several good files: one ok line each, exit 0', async () => {
    const r = await runCli(['check', join(dir, 'probe.test.zone'), join(dir, 'good.yaml')]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.split('\n').filter((l) => l.endsWith(': ok')).length, 2, r.stdout);
  });
});
