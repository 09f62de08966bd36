import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import type { Transition } from '../health/board.js';
import { healthTransitionLog, membersOfCheck } from './health-log.js';

/** One log line as pino writes it. */
interface LogLine {
  readonly [field: string]: unknown;
  readonly level: number;
  readonly msg: string;
  readonly check?: string;
  readonly from?: string;
  readonly to?: string;
  readonly reason?: string;
}

/** A real pino logger whose lines land in an array. */
function capturedLogger(): { log: pino.Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n'))
        if (line !== '') lines.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  // pino writes synchronously to a plain stream's write().
  return { log: pino({ level: 'trace', base: {} }, stream), lines };
}

const PINO_LEVEL = { info: 30, warn: 40 } as const;

const targetOf = new Map([
  ['www.example.org. main/a', 'http:127.0.0.12:18080:68f7d669ffdd'],
  ['www.example.org. main/b', 'tcp:127.0.0.13:80:0123456789ab'],
  // An identical check of the same target: one id for two members.
  ['api.example.org. backup/a', 'http:127.0.0.12:18080:68f7d669ffdd'],
]);

const transition = (id: string, from: Transition['from'], to: Transition['to']): Transition => ({
  id,
  from,
  to,
  reason: to === 'down' ? 'connect ECONNREFUSED' : '2 checks ok',
  at: 0,
});

describe('membersOfCheck', () => {
  const rows = [
    {
      id: 'http:127.0.0.12:18080:68f7d669ffdd',
      want: ['www.example.org. main/a', 'api.example.org. backup/a'],
    },
    { id: 'tcp:127.0.0.13:80:0123456789ab', want: ['www.example.org. main/b'] },
    { id: 'tcp:192.0.2.1:80:ffffffffffff', want: [] },
  ];
  for (const { id, want } of rows) {
    test(id, () => {
      assert.deepEqual(membersOfCheck(targetOf, id), want);
    });
  }
});

describe('healthTransitionLog', () => {
  const rows: {
    why: string;
    t: Transition;
    want: { level: number; msg: string; service?: string; pool?: string; member?: string }[];
  }[] = [
    {
      why: 'a member going down is a warning naming service, pool and member',
      t: transition('tcp:127.0.0.13:80:0123456789ab', 'up', 'down'),
      want: [
        {
          level: PINO_LEVEL.warn,
          msg: 'health www.example.org. main/b: up -> down (connect ECONNREFUSED)',
          service: 'www.example.org.',
          pool: 'main',
          member: 'b',
        },
      ],
    },
    {
      why: 'up again is info',
      t: transition('tcp:127.0.0.13:80:0123456789ab', 'down', 'up'),
      want: [
        {
          level: PINO_LEVEL.info,
          msg: 'health www.example.org. main/b: down -> up (2 checks ok)',
          service: 'www.example.org.',
          pool: 'main',
          member: 'b',
        },
      ],
    },
    {
      why: 'the first result down (unknown -> down) is a warning too',
      t: transition('tcp:127.0.0.13:80:0123456789ab', 'unknown', 'down'),
      want: [
        {
          level: PINO_LEVEL.warn,
          msg: 'health www.example.org. main/b: unknown -> down (connect ECONNREFUSED)',
        },
      ],
    },
    {
      why: 'a shared check logs one line per member that depends on it',
      t: transition('http:127.0.0.12:18080:68f7d669ffdd', 'up', 'down'),
      want: [
        {
          level: PINO_LEVEL.warn,
          msg: 'health www.example.org. main/a: up -> down (connect ECONNREFUSED)',
          service: 'www.example.org.',
          pool: 'main',
          member: 'a',
        },
        {
          level: PINO_LEVEL.warn,
          msg: 'health api.example.org. backup/a: up -> down (connect ECONNREFUSED)',
          service: 'api.example.org.',
          pool: 'backup',
          member: 'a',
        },
      ],
    },
    {
      why: 'a check no member depends on any more is logged by its id',
      t: transition('tcp:192.0.2.1:80:ffffffffffff', 'unknown', 'up'),
      want: [
        {
          level: PINO_LEVEL.info,
          msg: 'health check tcp:192.0.2.1:80:ffffffffffff: unknown -> up (2 checks ok)',
        },
      ],
    },
  ];
  for (const row of rows) {
    test(row.why, () => {
      const { log, lines } = capturedLogger();
      healthTransitionLog(log, (id) => membersOfCheck(targetOf, id))(row.t);
      assert.equal(lines.length, row.want.length, JSON.stringify(lines));
      row.want.forEach((want, i) => {
        const line = lines[i]!;
        for (const [field, value] of Object.entries(want)) assert.equal(line[field], value, field);
        assert.equal(line.check, row.t.id);
        assert.equal(line.from, row.t.from);
        assert.equal(line.to, row.t.to);
        assert.equal(line.reason, row.t.reason);
      });
    });
  }

  test('the member lookup is read at each transition (it follows reloads)', () => {
    const { log, lines } = capturedLogger();
    let plan: ReadonlyMap<string, string> = new Map();
    const onTransition = healthTransitionLog(log, (id) => membersOfCheck(plan, id));
    onTransition(transition('tcp:127.0.0.13:80:0123456789ab', 'up', 'down'));
    plan = targetOf;
    onTransition(transition('tcp:127.0.0.13:80:0123456789ab', 'down', 'up'));
    assert.deepEqual(
      lines.map((l) => l.msg),
      [
        'health check tcp:127.0.0.13:80:0123456789ab: up -> down (connect ECONNREFUSED)',
        'health www.example.org. main/b: down -> up (2 checks ok)',
      ],
    );
  });
});

test('a key that is not service pool/member is named whole', () => {
  const { log, lines } = capturedLogger();
  healthTransitionLog(log, () => ['odd-key'])(
    transition('tcp:192.0.2.1:80:ffffffffffff', 'up', 'down'),
  );
  assert.equal(lines.length, 1);
  assert.equal(lines[0]!['member'], 'odd-key');
  assert.equal(lines[0]!.msg, 'health odd-key: up -> down (connect ECONNREFUSED)');
});
