/**
 * End to end: the steerdns command line. `serve --zone`, `serve --config` with overrides,
 * bad flags (exit 2 with usage), bad configuration at start, `check`, `--log-level`.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import type { Socket } from 'node:dgram';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { dig, kdig } from '../helpers/dig.js';
import { query, DnsTimeoutError } from '../helpers/dns-client.js';
import { silentUdp } from '../helpers/sockets.js';
import {
  REPO_ROOT,
  startServer,
  tmpdirWith,
  type ServerProcess,
} from '../helpers/server-process.js';
import { rdataTexts, sleep, TOOLS_MISSING, workersOf } from './fixtures/server.js';
import { configYaml, EXAMPLE_ORG_ZONE, INCLUDED_ZONE, SUB_ZONE } from './fixtures/zones.js';

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

let dir: string;
let zoneFile: string;
let subFile: string;

before(async () => {
  dir = await tmpdirWith({
    'zones/example.org.zone': EXAMPLE_ORG_ZONE,
    'zones/included.zone': INCLUDED_ZONE,
    'zones/sub.example.org.zone': SUB_ZONE,
    'good.yaml': configYaml({ port: 5353 }),
    'bad-schema.yaml':
      'listen: [127.0.0.1:5353]\nworkers: 0\nzones:\n  - origin: example.org\n    file: zones/example.org.zone\n    bogus: 1\n',
    'bad-syntax.yaml': 'listen: [127.0.0.1:5353\nzones:\n  - origin: example.org\n',
    'bad-zone-ref.yaml': 'zones:\n  - origin: example.org\n    file: zones/broken.zone\n',
    'missing-zone.yaml': 'zones:\n  - origin: example.org\n    file: zones/nowhere.zone\n',
    'zones/broken.zone':
      '$TTL 60\n@ IN SOA ns1 h 1 2 3 4 5\n@ IN NS ns1\nwww IN A 192.0.2.999\nok IN A 192.0.2.1\nbad IN FOO x\nlong IN TXT "unterminated\n',
  });
  zoneFile = join(dir, 'zones/example.org.zone');
  subFile = join(dir, 'zones/sub.example.org.zone');
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('serve --zone ORIGIN=FILE --listen ADDR:PORT --workers 1', () => {
  let server: ServerProcess;
  before(async () => {
    server = await startServer([
      'serve',
      '--zone',
      `example.org=${zoneFile}`,
      '--zone',
      `sub.example.org.=${subFile}`,
      '--listen',
      '127.0.0.1:0',
      '--listen',
      '[::1]:0',
      '--workers',
      '1',
    ]);
  });
  after(async () => {
    await server.stop();
  });

  test('answers both zones on both listeners', async () => {
    const rows = [
      { host: '127.0.0.1', name: 'www.example.org', type: 'A', want: ['192.0.2.1', '192.0.2.2'] },
      { host: '::1', name: 'www.example.org', type: 'AAAA', want: ['2001:db8::1'] },
      { host: '::1', name: 'www.sub.example.org', type: 'A', want: ['192.0.2.101'] },
      { host: '127.0.0.1', name: 'host.lab.example.org', type: 'A', want: ['192.0.2.70'] },
      { host: '127.0.0.1', name: 'www.example.net', type: 'A', want: [] },
    ];
    for (const row of rows) {
      const where = `${row.host} ${row.name} ${row.type}`;
      const reply = await query(server.dnsAt(row.host), { name: row.name, type: row.type });
      assert.equal(reply.rcode, row.want.length > 0 ? 'NOERROR' : 'REFUSED', where);
      assert.deepEqual(rdataTexts(reply.answers).sort(), row.want, where);
    }
  });

  test('dig and kdig get answers', { skip: TOOLS_MISSING }, async () => {
    const at = (host: string) => [`@${host}`, '-p', String(server.dnsAt(host).port), '+norec'];
    const d = await dig([...at('127.0.0.1'), 'example.org', 'SOA']);
    const k = await kdig([...at('::1'), 'example.org', 'SOA']);
    for (const [name, r] of [
      ['dig', d],
      ['kdig', k],
    ] as const) {
      assert.equal(r.status, 'NOERROR', `${name}\n${r.stdout}`);
      assert.ok(r.flags.includes('aa'), `${name}: AA`);
      assert.equal(r.answer.length, 1, `${name}: SOA`);
    }
  });

  test('one process only, and the info "ready" log', () => {
    assert.deepEqual(workersOf(server.pid), [], 'no worker processes with --workers 1');
    assert.ok(
      server.entries().some((e) => e['msg'] === 'ready'),
      `no "ready" log:\n${server.logs().join('\n')}`,
    );
  });
});

describe('serve --config with --listen, --workers and --log-level overriding the file', () => {
  let server: ServerProcess;
  // The file's listen addresses, held (bound, silent) by this test: a server that bound
  // them would not start, and nothing answers there.
  let held: Socket[];
  before(async () => {
    held = await Promise.all([silentUdp('127.0.0.1'), silentUdp('::1')]);
    const [v4, v6] = held.map((socket) => socket.address().port);
    const config = join(dir, 'override.yaml');
    const listen = [`127.0.0.1:${v4}`, `[::1]:${v6}`];
    const text = configYaml({ port: 0, listen, workers: 2, logLevel: 'info' });
    await writeFile(config, text);
    server = await startServer([
      'serve',
      '--config',
      config,
      '--listen',
      '127.0.0.1:0',
      '--workers',
      '1',
      '--log-level',
      'warn',
    ]);
  });
  after(async () => {
    await server.stop();
    for (const socket of held) socket.close();
  });

  test('listens where --listen says, not where the file says', async () => {
    assert.deepEqual(server.bound.dns.udp, [`127.0.0.1:${server.port}`], 'listening line');
    const reply = await query(server.address, { name: 'www.example.org', type: 'A' });
    assert.equal(reply.rcode, 'NOERROR', '--listen address');
    for (const socket of held) {
      const { address: host, port } = socket.address();
      await assert.rejects(
        query({ host, port }, { name: 'www.example.org', type: 'A' }, { timeoutMs: 300 }),
        DnsTimeoutError,
        `the file's listener ${host}:${port} answers`,
      );
    }
  });

  test('--workers 1 overrides workers: 2', () => {
    assert.deepEqual(workersOf(server.pid), [], 'worker processes were started');
  });

  test('--log-level warn suppresses the info "ready" log (not "listening")', async () => {
    await sleep(200);
    const infos = server.entries().filter((e) => Number(e['level']) < 40);
    // The `listening` line is written at any level: it says where the server listens.
    assert.deepEqual(
      infos.map((e) => e['msg']),
      ['listening'],
      'info lines logged at --log-level warn',
    );
  });
});

// Each run starts Node and tsx (about 1 s of CPU): the tables are kept short and run two at a time.
const PARALLEL = { concurrency: 2 };

describe('bad command lines exit 2 with the usage', PARALLEL, () => {
  // A zone that cannot be read: should a row's flags be accepted, the server still stops.
  const NO_ZONE = 'example.org=/nonexistent/example.org.zone';
  const rows = [
    {
      why: 'unknown flag',
      args: ['serve', '--bogus', '--zone', NO_ZONE, '--listen', '127.0.0.1:5399'],
    },
    {
      why: 'workers 0',
      args: ['serve', '--zone', NO_ZONE, '--listen', '127.0.0.1:5399', '--workers', '0'],
    },
    {
      why: 'listen without a port',
      args: ['serve', '--zone', NO_ZONE, '--listen', '127.0.0.1'],
    },
    {
      why: 'zone without =FILE',
      args: ['serve', '--zone', 'example.org', '--listen', '127.0.0.1:5399'],
    },
    { why: 'unknown command', args: ['frobnicate'] },
    {
      why: 'unknown log level',
      args: ['serve', '--zone', NO_ZONE, '--listen', '127.0.0.1:5399', '--log-level', 'loud'],
    },
    {
      why: 'stray positional argument',
      args: ['serve', '--zone', NO_ZONE, '--listen', '127.0.0.1:5399', 'stray'],
    },
  ];
  for (const row of rows) {
    test(row.why, async () => {
      const r = await runCli(row.args);
      const where = `steerdns ${row.args.join(' ')} (${row.why})`;
      assert.equal(r.code, 2, `${where}: exit code\n${r.stderr}`);
      assert.match(r.stderr, /^steerdns: /, `${where}: message first`);
      assert.match(r.stderr, /usage:\n {2}steerdns serve --config FILE/, `${where}: usage`);
      assert.doesNotMatch(r.stderr, /\n\s+at /, `${where}: stack trace on stderr`);
    });
  }

  test('help exits 0 with the usage (control row)', async () => {
    const help = await runCli(['--help']);
    assert.equal(help.code, 0, 'help');
    assert.match(help.stdout, /usage:/, 'help prints the usage');
  });
});

describe('a bad configuration at start', PARALLEL, () => {
  const rows = [
    {
      why: 'schema errors',
      file: 'bad-schema.yaml',
      want: [/bad-schema\.yaml:2: workers: /, /bad-schema\.yaml:6: zones\.0\.bogus: /],
    },
    {
      why: 'errors in the zone file it names',
      file: 'bad-zone-ref.yaml',
      want: [
        /broken\.zone:4: .*192\.0\.2\.999/,
        /broken\.zone:6: .*FOO/,
        /broken\.zone:7: .*unterminated/,
      ],
    },
    {
      why: 'a zone file that does not exist',
      file: 'missing-zone.yaml',
      want: [/missing-zone\.yaml:2: .*ENOENT/],
    },
    {
      why: 'no such configuration file',
      file: 'nowhere.yaml',
      want: [/nowhere\.yaml: cannot read: ENOENT/],
    },
  ];
  for (const row of rows) {
    test(`exits non-zero with file:line: reason: ${row.why}`, async () => {
      const args = [
        'serve',
        '--config',
        join(dir, row.file),
        '--listen',
        '127.0.0.1:0',
        '--workers',
        '1',
      ];
      const r = await runCli(args);
      assert.notEqual(r.code, 0, `${row.file}: exit code`);
      assert.notEqual(r.code, null, `${row.file}: still running (killed)`);
      for (const want of row.want) assert.match(r.stderr, want, `${row.file}: stderr`);
      assert.doesNotMatch(r.stderr, /\n\s+at /, `${row.file}: stack trace on stderr`);
    });
  }

  test('with --workers 2, a broken zone is reported as file:line, without a worker crash', async () => {
    const args = [
      'serve',
      '--config',
      join(dir, 'bad-zone-ref.yaml'),
      '--listen',
      '127.0.0.1:0',
      '--workers',
      '2',
    ];
    const r = await runCli(args);
    assert.notEqual(r.code, 0, 'exit code');
    assert.notEqual(r.code, null, 'still running (killed)');
    assert.match(r.stderr, /broken\.zone:4: .*192\.0\.2\.999/, 'the zone problem');
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'stack trace on stderr');
  });
});

describe('steerdns check', PARALLEL, () => {
  const rows = [
    {
      why: 'good files: the bundled examples, the e2e configuration and zone ($INCLUDE, inline)',
      files: [
        'examples/steerdns.yaml',
        'examples/zones/example.org.zone',
        '@/good.yaml',
        '@/zones/example.org.zone',
      ],
      code: 0,
      errors: [],
      ok: 4,
    },
    {
      why: 'a zone file with three errors',
      files: ['@/zones/broken.zone', '--origin', 'example.org'],
      code: 1,
      errors: [/broken\.zone:4: \S/, /broken\.zone:6: \S/, /broken\.zone:7: \S/],
      ok: 0,
    },
    {
      why: 'configurations: schema errors, YAML syntax, a broken zone named',
      files: ['@/bad-schema.yaml', '@/bad-syntax.yaml', '@/bad-zone-ref.yaml'],
      code: 1,
      errors: [
        /bad-schema\.yaml:2: \S/,
        /bad-schema\.yaml:6: \S/,
        /bad-syntax\.yaml:\d+: \S/,
        /broken\.zone:4: \S/,
        /broken\.zone:6: \S/,
        /broken\.zone:7: \S/,
      ],
      ok: 0,
    },
    {
      why: 'good, bad and missing files: only the bad ones are reported',
      files: ['examples/zones/example.org.zone', '@/bad-schema.yaml', '@/nowhere.zone'],
      code: 1,
      errors: [
        /bad-schema\.yaml:2: \S/,
        /bad-schema\.yaml:6: \S/,
        /nowhere\.zone: cannot read: ENOENT/,
      ],
      ok: 1,
    },
    { why: 'no files', files: [], code: 2, errors: [/give at least one FILE/], ok: 0 },
  ];
  for (const row of rows) {
    test(row.why, async () => {
      const files = row.files.map((f) => f.replace(/^@/, dir));
      const r = await runCli(['check', ...files]);
      const where = `check ${row.files.join(' ')} (${row.why})`;
      assert.equal(r.code, row.code, `${where}: exit code\n${r.stdout}${r.stderr}`);
      const lines = r.stderr.split('\n').filter((l) => l !== '');
      assert.equal(lines.length, row.errors.length, `${where}: error lines\n${r.stderr}`);
      row.errors.forEach((want, i) => {
        assert.match(lines[i] ?? '', want, `${where}: error ${i}`);
      });
      const oks = r.stdout.split('\n').filter((l) => l.endsWith(': ok'));
      assert.equal(oks.length, row.ok, `${where}: ok lines\n${r.stdout}`);
    });
  }
});
