/**
 * End to end: the `response-time` policy on the time-weighted average response time a
 * running server measures. Two members' health targets are real HTTP servers that answer
 * after 100 and 900 ms; the faster member is answered first. Swapping the delays (the
 * targets change at runtime, the server is not reloaded) reorders the answers within a
 * bounded wait.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { query } from '../helpers/dns-client.js';
import {
  REPO_ROOT,
  startServer,
  tmpdirWith,
  type ServerProcess,
} from '../helpers/server-process.js';

const run = promisify(execFile);

/** A check target that answers 200 after `delayMs` (changed by the test at runtime). */
interface DelayTarget {
  readonly server: Server;
  delayMs: number;
  port: number;
}

async function delayTarget(delayMs: number): Promise<DelayTarget> {
  const target: DelayTarget = { server: createServer(), delayMs, port: 0 };
  target.server.on('request', (_request, response) => {
    const timer = setTimeout(() => response.end('ok\n'), target.delayMs);
    response.once('close', () => {
      clearTimeout(timer);
    });
  });
  await new Promise<void>((resolve) => target.server.listen(0, '127.0.0.1', resolve));
  target.port = (target.server.address() as AddressInfo).port;
  return target;
}

const FAST = '192.0.2.1';
const SLOW = '192.0.2.2';
/** Checks every 1.5 s; the average follows new figures with a 1 s time constant. */
const CHECK = '{ type: http, interval: 1500ms, timeout: 1300ms, averaging: 1s, rise: 1, fall: 1 }';

let fast: DelayTarget;
let slow: DelayTarget;
let server: ServerProcess;
let dir = '';

before(async () => {
  fast = await delayTarget(100);
  slow = await delayTarget(900);
  const member = (name: string, address: string, port: number): string =>
    `          - { name: ${name}, address: ${address}, healthTarget: '127.0.0.1:${String(port)}', health: ${CHECK} }`;
  dir = await tmpdirWith({
    'steerdns.yaml': `
api: { listen: 127.0.0.1:0 }
health: { startupGrace: 5s }
zones:
  - origin: example.org
    ttl: 3600
    records: |
      @    IN SOA ns1 hostmaster 1 7200 3600 1209600 300
      @    IN NS  ns1
      ns1  IN A   192.0.2.53
services:
  - name: www.example.org
    ttl: 1
    answers: 2
    pools:
      - name: web
        members:
${member('fast', FAST, fast.port)}
${member('slow', SLOW, slow.port)}
    policies: [up, response-time]
`,
  });
  server = await startServer(['serve', '--config', join(dir, 'steerdns.yaml')]);
});

after(async () => {
  await server.stop();
  for (const target of [fast, slow]) {
    target.server.closeAllConnections();
    await new Promise<void>((resolve) =>
      target.server.close(() => {
        resolve();
      }),
    );
  }
  await rm(dir, { recursive: true, force: true });
});

/** The A records answered for www.example.org, in the order the server gave them. */
async function answered(): Promise<string[]> {
  const reply = await query(server.address, { name: 'www.example.org', type: 'A' });
  return reply.answers.flatMap((a) => (a.type === 'A' ? [a.data] : []));
}

/** Polls until the answer order is `want`; resolves how long it took, or fails at `ms`. */
async function untilOrder(want: readonly string[], ms: number, what: string): Promise<number> {
  const start = performance.now();
  let last: string[] = [];
  while (performance.now() - start < ms) {
    last = await answered();
    if (last.join() === want.join()) return performance.now() - start;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${what}: answers ${last.join(',')} not ${want.join(',')} within ${ms} ms`);
}

test('the member whose target answers after 100 ms is answered before the 900 ms one', async () => {
  // Both targets measured: at most one interval plus a check, after the start-up grace.
  await untilOrder([FAST, SLOW], 10_000, 'first measurements');
  // It stays so: ten queries in a row, all in that order.
  for (let i = 0; i < 10; i++) assert.deepEqual(await answered(), [FAST, SLOW], `query ${i}`);
});

test('explain --server shows the measured times the policy ordered by', async () => {
  const api = server.api;
  assert.ok(api, 'the server logged its operator interface address');
  const json = await run(
    process.execPath,
    [
      '--import',
      'tsx',
      'src/main.ts',
      'explain',
      '--server',
      `${api.host}:${String(api.port)}`,
      'www.example.org',
      '--json',
    ],
    { cwd: REPO_ROOT, timeout: 15_000 },
  );
  const out = JSON.parse(json.stdout) as { steps: { policy: string; notes: string[] }[] };
  const step = out.steps.find((s) => s.policy === 'response-time');
  assert.ok(step, 'a response-time step');
  const ms = (name: string): number => {
    const note = step.notes.find((n) => n.startsWith(`web/${name} `));
    const match = /^web\/\w+ ([\d.]+) ms$/.exec(note ?? '');
    assert.ok(match, `a time for web/${name} in ${JSON.stringify(step.notes)}`);
    return Number(match[1]);
  };
  assert.deepEqual(
    step.notes.map((n) => n.split(' ')[0]),
    ['web/fast', 'web/slow'],
    'fastest first',
  );
  assert.ok(ms('fast') >= 90 && ms('fast') < 500, `fast ${String(ms('fast'))} ms`);
  assert.ok(ms('slow') >= 890 && ms('slow') < 1300, `slow ${String(ms('slow'))} ms`);
});

test('swapping the delays reorders the answers without a reload', async () => {
  fast.delayMs = 900;
  slow.delayMs = 100;
  // The average crosses after one or two checks of each target: a check in flight, then
  // one interval (1.5 s) per check, plus the 900 ms of the slow answer.
  const took = await untilOrder([SLOW, FAST], 10_000, 'after the swap');
  for (let i = 0; i < 5; i++) assert.deepEqual(await answered(), [SLOW, FAST], `query ${i}`);
  assert.ok(took < 10_000, `reordered after ${took.toFixed(0)} ms`);
  const reloads = server.entries().filter((entry) => /reload/i.test(String(entry['msg'])));
  assert.deepEqual(reloads, [], 'no reload');
});
