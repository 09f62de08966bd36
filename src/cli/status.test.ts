import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import type { MemberStatus } from '../server/member-status.js';
import { startStatusApi } from '../api/bare.js';
import type { ApiServer as StatusApi } from '../api/server.js';
import { servicesWithoutMemberUp, statusCommand } from './status.js';

const log = pino({ level: 'silent' });

const row = (service: string, member: string, state: MemberStatus['state']): MemberStatus => ({
  service,
  member,
  addresses: ['192.0.2.1'],
  state,
  since: undefined,
  check: undefined,
  last: undefined,
  averageMs: undefined,
  resets: undefined,
  abnormal: undefined,
  load: undefined,
  connections: undefined,
  admin: 'enabled',
});

describe('servicesWithoutMemberUp', () => {
  const rows: { why: string; rows: MemberStatus[]; want: string[] }[] = [
    { why: 'no rows', rows: [], want: [] },
    {
      why: 'one member up is enough',
      rows: [row('www.example.org.', 'web/a', 'down'), row('www.example.org.', 'web/b', 'up')],
      want: [],
    },
    {
      why: 'an unchecked member is answered, so it counts as up',
      rows: [
        row('www.example.org.', 'web/a', 'down'),
        row('www.example.org.', 'web/b', 'unchecked'),
      ],
      want: [],
    },
    {
      why: 'down and unknown members only',
      rows: [
        row('www.example.org.', 'web/a', 'down'),
        row('www.example.org.', 'web/b', 'unknown'),
        row('www.example.org.', 'web/c', 'down'),
      ],
      want: ['www.example.org. has no member up (2 down, 1 unknown)'],
    },
    {
      why: 'each service on its own, in the order of the rows',
      rows: [
        row('api.example.org.', 'main/a', 'down'),
        row('www.example.org.', 'web/a', 'up'),
        row('app.example.org.', 'agents/n1', 'unknown'),
      ],
      want: [
        'api.example.org. has no member up (1 down)',
        'app.example.org. has no member up (1 unknown)',
      ],
    },
  ];
  for (const r of rows) {
    test(r.why, () => {
      assert.deepEqual(servicesWithoutMemberUp(r.rows), r.want);
    });
  }
});

describe('status --server: exit codes', () => {
  let rows: MemberStatus[] = [];
  let api: StatusApi;
  let server = '';
  before(async () => {
    api = await startStatusApi({ host: '127.0.0.1', port: 0 }, () => rows, log);
    server = `127.0.0.1:${api.listen.port}`;
  });
  after(() => api.close());

  const cases: {
    why: string;
    rows: MemberStatus[];
    args: string[];
    code: number;
    errors: RegExp[];
    out: RegExp | undefined;
  }[] = [
    {
      why: 'every service has a member up: 0',
      rows: [row('www.example.org.', 'web/a', 'up'), row('www.example.org.', 'web/b', 'down')],
      args: [],
      code: 0,
      errors: [],
      out: /^SERVICE\s+MEMBER/,
    },
    {
      why: 'a service with no member up: 3, the table still printed, one line per service',
      rows: [row('www.example.org.', 'web/a', 'up'), row('api.example.org.', 'main/a', 'down')],
      args: [],
      code: 3,
      errors: [/^steerdns status: api\.example\.org\. has no member up \(1 down\)$/],
      out: /api\.example\.org\.\s+main\/a\s+192\.0\.2\.1\s+down/,
    },
    {
      why: 'the same with --json',
      rows: [row('api.example.org.', 'main/a', 'unknown')],
      args: ['--json'],
      code: 3,
      errors: [/api\.example\.org\. has no member up \(1 unknown\)/],
      out: /^\[\n {2}\{\n {4}"service": "api\.example\.org\."/,
    },
    {
      why: 'both --config and --server: usage, 2',
      rows: [],
      args: ['--config', 'x.yaml'],
      code: 2,
      errors: [/give either --config or --server/, /^usage:/],
      out: undefined,
    },
    {
      why: 'an unknown flag: usage, 2',
      rows: [],
      args: ['--colour'],
      code: 2,
      errors: [/--colour/, /^usage:/],
      out: undefined,
    },
  ];
  for (const c of cases) {
    test(c.why, async () => {
      rows = c.rows;
      const outcome = await statusCommand(['--server', server, ...c.args], log);
      assert.equal(outcome.exitCode, c.code, outcome.errors.join('\n'));
      assert.equal(outcome.errors.length, c.errors.length, outcome.errors.join('\n'));
      c.errors.forEach((want, i) => {
        assert.match(outcome.errors[i]!, want);
      });
      if (c.out) assert.match(outcome.out.join('\n'), c.out);
      else assert.deepEqual(outcome.out, []);
    });
  }

  test('nothing listening: 1, saying where it asked', async () => {
    const gone = await startStatusApi({ host: '127.0.0.1', port: 0 }, () => [], log);
    const address = `127.0.0.1:${gone.listen.port}`;
    await gone.close();
    const outcome = await statusCommand(['--server', address], log);
    assert.equal(outcome.exitCode, 1);
    assert.match(
      outcome.errors[0] ?? '',
      /^steerdns status: cannot reach http:\/\/127\.0\.0\.1:\d+\/status/,
    );
  });
});

describe('status --config: one round of checks here', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'steerdns-status-'));
    const zone = `
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
      `  - name: ${name}\n    pools:\n      - name: main\n        members:\n${members.join('\n')}`;
    await writeFile(
      join(dir, 'some-up.yaml'),
      `${zone}services:\n${service('www.example.org', [member('a', '192.0.2.1', 'down'), member('b', '192.0.2.2', 'up')])}\n` +
        `${service('plain.example.org', ['          - { name: p, address: 192.0.2.9 }'])}\n`,
    );
    await writeFile(
      join(dir, 'none-up.yaml'),
      `${zone}services:\n${service('www.example.org', [member('a', '192.0.2.1', 'up')])}\n` +
        `${service('api.example.org', [member('c', '192.0.2.3', 'down'), member('d', '192.0.2.4', 'down')])}\n`,
    );
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const cases = [
    { file: 'some-up.yaml', code: 0, errors: [] },
    {
      file: 'none-up.yaml',
      code: 3,
      errors: ['steerdns status: api.example.org. has no member up (2 down)'],
    },
    { file: 'nowhere.yaml', code: 1, errors: [/nowhere\.yaml/] },
  ];
  for (const c of cases) {
    test(`${c.file}: ${c.code}`, async () => {
      const outcome = await statusCommand(['--config', join(dir, c.file)], log);
      assert.equal(outcome.exitCode, c.code, outcome.errors.join('\n'));
      assert.equal(outcome.errors.length, c.errors.length, outcome.errors.join('\n'));
      c.errors.forEach((want, i) => {
        if (typeof want === 'string') assert.equal(outcome.errors[i], want);
        else assert.match(outcome.errors[i]!, want);
      });
    });
  }
});
