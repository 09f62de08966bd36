import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, mock, test } from 'node:test';
import { runSubprocess, type SubprocessOptions } from './subprocess.js';

const scratch = mkdtempSync(join(tmpdir(), 'steerdns-subprocess-'));
const notExecutable = join(scratch, 'check.sh');
writeFileSync(notExecutable, '#!/bin/sh\nexit 0\n', { mode: 0o644 });
after(() => {
  rmSync(scratch, { recursive: true, force: true });
});

const sh = (code: string): string[] => ['/bin/sh', '-c', code];

test('runSubprocess: how it ended and what it printed', async () => {
  const cases: {
    row: string;
    argv: string[];
    options?: Partial<SubprocessOptions>;
    failure: string | undefined;
    output: string | ((output: string) => boolean);
  }[] = [
    { row: 'exit 0', argv: sh('echo 42'), failure: undefined, output: '42\n' },
    { row: 'no shell', argv: ['echo', '$HOME'], failure: undefined, output: '$HOME\n' },
    { row: 'exit 3, output kept', argv: sh('echo 50; exit 3'), failure: 'exit 3', output: '50\n' },
    { row: 'killed', argv: sh('kill -9 $$'), failure: 'signal SIGKILL', output: '' },
    { row: 'segfault', argv: sh('kill -SEGV $$'), failure: 'signal SIGSEGV', output: '' },
    { row: 'no such program', argv: ['/nonexistent/x'], failure: 'spawn ENOENT', output: '' },
    { row: 'not executable', argv: [notExecutable], failure: 'spawn EACCES', output: '' },
    { row: 'shell: not found', argv: sh('exec /nonexistent/x'), failure: 'exit 127', output: '' },
    { row: 'PATH lookup', argv: ['true'], failure: undefined, output: '' },
    {
      row: 'stderr ignored by default',
      argv: sh('echo out; echo err >&2'),
      failure: undefined,
      output: 'out\n',
    },
    {
      row: 'stderr kept with stdout',
      argv: sh('echo out; echo err >&2'),
      options: { stderr: 'output' },
      failure: undefined,
      output: (o) => o.split('\n').sort().join(',') === ',err,out',
    },
    {
      row: 'capped, the rest drained',
      argv: sh('head -c 200000 /dev/zero | tr "\\0" a'),
      options: { maxOutputBytes: 4096 },
      failure: undefined,
      output: 'a'.repeat(4096),
    },
    {
      row: 'capped over both streams',
      argv: sh('head -c 100000 /dev/zero >&2; head -c 100000 /dev/zero'),
      options: { maxOutputBytes: 10, stderr: 'output' },
      failure: undefined,
      output: '\0'.repeat(10),
    },
    {
      row: 'nothing kept',
      argv: sh('head -c 200000 /dev/zero'),
      options: { maxOutputBytes: 0 },
      failure: undefined,
      output: '',
    },
    {
      row: 'environment',
      argv: sh('echo "$STEERDNS_X:${HOME+home}"'),
      options: { env: { STEERDNS_X: 'y' } },
      failure: undefined,
      output: 'y:\n',
    },
  ];
  for (const { row, argv, options, failure, output } of cases) {
    const outcome = await runSubprocess(argv, { maxOutputBytes: 64 * 1024, ...options });
    assert.equal(outcome.failure, failure, row);
    if (typeof output === 'string') assert.equal(outcome.output, output, row);
    else assert.ok(output(outcome.output), `${row}: ${JSON.stringify(outcome.output)}`);
  }
});

/** True while the process exists and is not a zombie (killed, not reaped, counts as gone). */
const alive = (pid: number): boolean => {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ')[2] !== 'Z';
  } catch {
    return false;
  }
};

test('runSubprocess: what it started is killed when it exits', async () => {
  const started = Date.now();
  // Without the group kill, the background sleep would hold the pipe open for 30 s.
  const outcome = await runSubprocess(sh('sleep 30 & echo $!'), { maxOutputBytes: 64 });
  assert.equal(outcome.failure, undefined);
  assert.ok(Date.now() - started < 10_000, 'did not wait for the background sleep');
  const pid = Number(outcome.output);
  assert.ok(pid > 0, outcome.output);
  // SIGKILL is sent before the outcome; the kernel may take a moment to tear the process down.
  for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setImmediate(r));
  assert.equal(alive(pid), false, `background process ${pid} is gone`);
});

test('runSubprocess: abort, before and while it runs', async () => {
  const before = new AbortController();
  before.abort();
  assert.deepEqual(
    await runSubprocess(['/nonexistent/x'], { maxOutputBytes: 64, signal: before.signal }),
    {
      failure: 'aborted',
      output: '',
    },
  );
  const controller = new AbortController();
  const running = runSubprocess(sh('sleep 30'), { maxOutputBytes: 64, signal: controller.signal });
  controller.abort();
  assert.equal((await running).failure, 'aborted');
});

test('runSubprocess: an abort ends it even when an escaped process holds the pipe', async () => {
  const pidFile = join(scratch, 'escaped.pid');
  const controller = new AbortController();
  // setsid puts the sleep in a group of its own, out of reach of the group kill.
  const running = runSubprocess(sh(`setsid sh -c 'echo $$ > ${pidFile}; exec sleep 30' & wait`), {
    maxOutputBytes: 64,
    signal: controller.signal,
  });
  let pid = 0;
  const deadline = Date.now() + 5000;
  while (pid === 0) {
    if (Date.now() > deadline) throw new Error('the escaped process did not write its pid in 5 s');
    await new Promise((r) => setTimeout(r, 10));
    try {
      pid = Number(readFileSync(pidFile, 'utf8')) || 0;
    } catch {
      // not written yet
    }
  }
  try {
    const aborted = Date.now();
    controller.abort();
    assert.equal((await running).failure, 'aborted');
    assert.ok(Date.now() - aborted < 10_000, 'did not wait for the escaped sleep');
  } finally {
    process.kill(pid, 'SIGKILL');
  }
});

test('runSubprocess: a timeout kills it', async (t) => {
  mock.timers.enable({ apis: ['setTimeout'] });
  t.after(() => {
    mock.timers.reset();
  });
  const slow = runSubprocess(sh('sleep 30'), { maxOutputBytes: 64, timeoutMs: 1000 });
  let settled = false;
  void slow.then(() => (settled = true));
  mock.timers.tick(999);
  // Something that takes real time, long enough for a kill at 999 ms to show.
  assert.equal((await runSubprocess(['true'], { maxOutputBytes: 64 })).failure, undefined);
  assert.equal(settled, false, 'not killed before it is due');
  mock.timers.tick(1);
  assert.equal((await slow).failure, 'timeout');
});
