import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { loadAll } from '../app.js';
import { explainOrError } from '../answer/explain.js';
import { readConfig } from '../config/load.js';
import { startStatusApi } from '../api/bare.js';
import type { ApiServer as StatusApi } from '../api/server.js';
import type { StateView } from '../steering/types.js';
import { explainCommand } from './explain.js';
import type { ExplainOutput } from './explain-format.js';

const CONFIG = `
listen: [127.0.0.1:5353]
workers: 1
zones:
  - origin: example.org
    ttl: 3600
    records: |
      @      IN SOA ns1 hostmaster 1 7200 3600 1209600 300
      @      IN NS  ns1
      @      IN MX  10 mail
      ns1    IN A   192.0.2.53
      mail   IN A   192.0.2.25
      sub    IN NS  ns.sub
      ns.sub IN A   192.0.2.54
services:
  - name: www.example.org
    ttl: 30
    pools:
      - name: web
        members:
          - { name: a, address: 192.0.2.1 }
          - { name: b, address: 192.0.2.2 }
    policies: [up, admin, first]
`;

let dir = '';
let config = '';
let api: StatusApi;
let server = '';

/** The live state of the in-process server: web/a is down. */
function liveState(base: StateView): StateView {
  return {
    member: (key) =>
      key.endsWith(' web/a') ? { ...base.member(key), up: false } : base.member(key),
  };
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'steerdns-explain-'));
  config = join(dir, 'steerdns.yaml');
  await writeFile(config, CONFIG);
  await writeFile(join(dir, 'broken.yaml'), 'zones: [1]\n');
  const { loaded, services } = await loadAll(() => readConfig(config));
  const deps = {
    names: services.byKey,
    state: () => liveState(services.staticState),
    random: () => 0,
    now: () => 0,
  };
  api = await startStatusApi(
    { host: '127.0.0.1', port: 0 },
    () => [],
    pino({ level: 'silent' }),
    (request) => explainOrError(deps, loaded.zones, request),
  );
  server = `127.0.0.1:${api.listen.port}`;
});
after(async () => {
  await api.close();
  await rm(dir, { recursive: true, force: true });
});

/** `@config` and `@server` in arguments become the test's configuration file and server. */
const expand = (args: readonly string[]): string[] =>
  args.map((a) => a.replace('@config', config).replace('@server', server).replace('@dir', dir));

describe('explain --json: what the server would answer', () => {
  const rows: {
    why: string;
    args: string[];
    want: Partial<ExplainOutput>;
    dropped?: string[];
    note?: RegExp;
  }[] = [
    {
      why: 'a steered name on the configuration: every member counts as up',
      args: ['--config', '@config', 'www.example.org'],
      want: { kind: 'steered', state: 'configuration', rcode: 'NOERROR', answers: ['192.0.2.1'] },
      dropped: [],
      note: /^configuration state only .*no health checks run, no agents/,
    },
    {
      why: 'the same name on the live state: the member that is down is dropped',
      args: ['--server', '@server', 'www.example.org'],
      want: { kind: 'steered', state: 'live', rcode: 'NOERROR', answers: ['192.0.2.2'] },
      dropped: ['web/a'],
      note: /^live state of the server at 127\.0\.0\.1:\d+/,
    },
    {
      why: 'MX at a steered name: the NODATA the server gives, from the zone',
      args: ['--config', '@config', 'www.example.org', '--type', 'MX'],
      want: { kind: 'static', rcode: 'NOERROR', answers: [], ttl: 300, steps: [] },
    },
    {
      why: 'MX at a steered name, live',
      args: ['--server', '@server', 'www.example.org', '--type', 'MX'],
      want: { kind: 'static', rcode: 'NOERROR', answers: [], ttl: 300, state: 'live' },
    },
    {
      why: 'a static name: the zone records',
      args: ['--config', '@config', 'example.org.', '--type', 'mx'],
      want: { kind: 'static', rcode: 'NOERROR', answers: ['10 mail.example.org.'], ttl: 3600 },
    },
    {
      why: 'a static address',
      args: ['--server', '@server', 'mail.example.org'],
      want: { kind: 'static', rcode: 'NOERROR', answers: ['192.0.2.25'], ttl: 3600 },
    },
    {
      why: 'a name the zone does not have',
      args: ['--config', '@config', 'nope.example.org'],
      want: { kind: 'static', rcode: 'NXDOMAIN', answers: [], ttl: 300 },
    },
    {
      why: 'a name in none of the zones',
      args: ['--config', '@config', 'www.example.net'],
      want: { kind: 'static', rcode: 'REFUSED', answers: [], ttl: undefined },
    },
    {
      why: 'below a zone cut: a referral',
      args: ['--config', '@config', 'www.sub.example.org'],
      want: { kind: 'static', rcode: 'NOERROR', answers: [] },
    },
  ];
  for (const row of rows) {
    test(row.why, async () => {
      const outcome = await explainCommand([...expand(row.args), '--json']);
      assert.equal(outcome.exitCode, 0, outcome.errors.join('\n'));
      assert.deepEqual(outcome.errors, []);
      const output = JSON.parse(outcome.out.join('\n')) as ExplainOutput;
      for (const [key, value] of Object.entries(row.want))
        assert.deepEqual(output[key as keyof ExplainOutput], value, key);
      if (row.dropped) {
        const up = output.steps.find((s) => s.policy === 'up');
        assert.ok(up, 'an up step');
        assert.deepEqual(up.dropped, row.dropped);
        assert.deepEqual(
          up.notes,
          row.dropped.map((id) => `${id} is down`),
        );
      }
      if (row.note) assert.match(output.stateNote, row.note);
      if (output.kind === 'static') assert.ok(output.notes.length > 0, 'says why it is static');
    });
  }
});

describe('explain: text', () => {
  const rows: { why: string; args: string[]; lines: RegExp[] }[] = [
    {
      why: 'configuration: says it knows no health or agents',
      args: ['--config', '@config', 'www.example.org'],
      lines: [
        /^www\.example\.org\. A asked by 127\.0\.0\.1$/,
        /^state: configuration state only \(.*steerdns\.yaml\): no health checks run, no agents/,
        /^ {2}pool web:$/,
        /^ {4}up: kept web\/a, web\/b$/,
        /^ {4}admin: kept web\/a, web\/b$/,
        /^ {4}first: kept web\/a, web\/b$/,
        /^answer: NOERROR 192\.0\.2\.1 ttl 30 scope \/0$/,
      ],
    },
    {
      why: 'live: the member that is down is dropped as down',
      args: ['--server', '@server', 'www.example.org', '--client', '192.0.2.7'],
      lines: [
        /^www\.example\.org\. A asked by 192\.0\.2\.7$/,
        /^state: live state of the server at 127\.0\.0\.1:\d+: health, agent members/,
        /^ {2}pool web:$/,
        /^ {4}up: kept web\/b; dropped web\/a$/,
        /^ {6}web\/a is down$/,
        /^ {4}admin: kept web\/b$/,
        /^ {4}first: kept web\/b$/,
        /^answer: NOERROR 192\.0\.2\.2 ttl 30 scope \/0$/,
      ],
    },
    {
      why: 'MX at a steered name: NODATA from the zone, and why',
      args: ['--config', '@config', 'www.example.org', '--type', 'MX'],
      lines: [
        /^www\.example\.org\. MX asked by 127\.0\.0\.1$/,
        /^state: configuration state only/,
        /^ {2}www\.example\.org\. is a service that answers A, AAAA and ANY; MX is answered from the zone data$/,
        /^answer: NOERROR \(no records\) ttl 300 scope \/0$/,
      ],
    },
    {
      why: 'a static name',
      args: ['--server', '@server', 'example.org', '--type', 'MX'],
      lines: [
        /^example\.org\. MX asked by 127\.0\.0\.1$/,
        /^state: live state/,
        /^ {2}example\.org\. is not a service: answered from the zone data$/,
        /^answer: NOERROR 10 mail\.example\.org\. ttl 3600 scope \/0$/,
      ],
    },
  ];
  for (const row of rows) {
    test(row.why, async () => {
      const outcome = await explainCommand(expand(row.args));
      assert.equal(outcome.exitCode, 0, outcome.errors.join('\n'));
      const lines = outcome.out.join('\n').split('\n');
      assert.equal(lines.length, row.lines.length, lines.join('\n'));
      row.lines.forEach((want, i) => {
        assert.match(lines[i]!, want, `line ${i}`);
      });
    });
  }
});

describe('explain: failures', () => {
  const rows: { why: string; args: string[]; code: number; error: RegExp; usage: boolean }[] = [
    {
      why: 'no name',
      args: ['--config', '@config'],
      code: 2,
      error: /needs one NAME/,
      usage: true,
    },
    {
      why: 'two names',
      args: ['--config', '@config', 'a.example.org', 'b.example.org'],
      code: 2,
      error: /needs one NAME/,
      usage: true,
    },
    {
      why: 'neither --config nor --server',
      args: ['www.example.org'],
      code: 2,
      error: /either --config FILE or --server ADDR:PORT/,
      usage: true,
    },
    {
      why: 'both --config and --server',
      args: ['--config', '@config', '--server', '@server', 'www.example.org'],
      code: 2,
      error: /either --config FILE or --server ADDR:PORT/,
      usage: true,
    },
    {
      why: 'an unknown flag',
      args: ['--config', '@config', '--colour', 'www.example.org'],
      code: 2,
      error: /--colour/,
      usage: true,
    },
    {
      why: 'a bad --server address',
      args: ['--server', 'localhost:80', 'www.example.org'],
      code: 2,
      error: /--server expects ADDR:PORT/,
      usage: true,
    },
    {
      why: 'an unknown type, on the configuration',
      args: ['--config', '@config', 'www.example.org', '--type', 'BOGUS'],
      code: 2,
      error: /^steerdns explain: unknown type "BOGUS"$/,
      usage: false,
    },
    {
      why: 'an unknown type, on the server: its 400 message',
      args: ['--server', '@server', 'www.example.org', '--type', 'BOGUS'],
      code: 2,
      error: /^steerdns explain: unknown type "BOGUS"$/,
      usage: false,
    },
    {
      why: 'a bad client, on the server',
      args: ['--server', '@server', 'www.example.org', '--client', '192.0.2.0/24'],
      code: 2,
      error: /client must be an address/,
      usage: false,
    },
    {
      why: 'a bad ECS, on the configuration',
      args: ['--config', '@config', 'www.example.org', '--ecs', '192.0.2.1'],
      code: 2,
      error: /ECS must be ADDR\/PREFIX/,
      usage: false,
    },
    {
      why: 'a zone transfer is not a question',
      args: ['--config', '@config', 'example.org', '--type', 'AXFR'],
      code: 2,
      error: /AXFR is a zone transfer/,
      usage: false,
    },
    {
      why: 'a name that is not a domain name',
      args: ['--server', '@server', 'a..example.org'],
      code: 2,
      error: /is not a domain name/,
      usage: false,
    },
    {
      why: 'a bad configuration: its problems',
      args: ['--config', '@dir/broken.yaml', 'www.example.org'],
      code: 1,
      error: /broken\.yaml:\d+: /,
      usage: false,
    },
    {
      why: 'a configuration file that is not there',
      args: ['--config', '@dir/nowhere.yaml', 'www.example.org'],
      code: 1,
      error: /nowhere\.yaml/,
      usage: false,
    },
  ];
  for (const row of rows) {
    test(row.why, async () => {
      const outcome = await explainCommand(expand(row.args));
      assert.equal(outcome.exitCode, row.code, outcome.errors.join('\n'));
      assert.deepEqual(outcome.out, []);
      assert.match(outcome.errors[0] ?? '', row.error);
      assert.equal(
        outcome.errors.some((l) => l.startsWith('usage:')),
        row.usage,
        'usage shown',
      );
    });
  }

  test('a server that is gone: exit 1, saying which address', async () => {
    const gone = await startStatusApi(
      { host: '127.0.0.1', port: 0 },
      () => [],
      pino({ level: 'silent' }),
    );
    const address = `127.0.0.1:${gone.listen.port}`;
    await gone.close();
    const outcome = await explainCommand(['--server', address, 'www.example.org']);
    assert.equal(outcome.exitCode, 1);
    assert.match(
      outcome.errors[0] ?? '',
      new RegExp(
        `^steerdns explain: cannot reach http://${address.replace(/\./g, '\\.')}/explain\\?`,
      ),
    );
  });

  test('a server that cannot explain (no callback): exit 1 with its message', async () => {
    const bare = await startStatusApi(
      { host: '127.0.0.1', port: 0 },
      () => [],
      pino({ level: 'silent' }),
    );
    try {
      const outcome = await explainCommand([
        '--server',
        `127.0.0.1:${bare.listen.port}`,
        'www.example.org',
      ]);
      assert.equal(outcome.exitCode, 1);
      assert.match(outcome.errors[0] ?? '', /answered 501 this server cannot explain$/);
    } finally {
      await bare.close();
    }
  });
});
