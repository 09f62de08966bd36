import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Value } from '@sinclair/typebox/value';
import type { ProbeResult, Target } from '../monitor.js';
import { assertNoLeak, createMonitor } from '../../../test/contract/monitor.contract.js';
import { runProbe } from './probe.js';
import { MAX_OUTPUT_BYTES, runScript, script, scriptEnv } from './script.js';

const scratch = mkdtempSync(join(tmpdir(), 'steerdns-script-'));
const notExecutable = join(scratch, 'check.sh');
writeFileSync(notExecutable, '#!/bin/sh\nexit 0\n', { mode: 0o644 });
after(() => {
  rmSync(scratch, { recursive: true, force: true });
});

const target: Target = { id: 'web-1', address: '127.0.0.1', port: 8080 };

const resources = (): Map<string, number> => {
  const counts = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo())
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
  return counts;
};

test('script settings: a command is required, as a non-empty argv', () => {
  const cases: { row: string; settings: object; valid: boolean }[] = [
    { row: 'argv', settings: { command: ['/usr/local/bin/check', '--fast'] }, valid: true },
    { row: 'program only', settings: { command: ['/bin/true'] }, valid: true },
    { row: 'missing', settings: {}, valid: false },
    { row: 'empty argv', settings: { command: [] }, valid: false },
    { row: 'a shell string', settings: { command: '/bin/true --x' }, valid: false },
    { row: 'empty program', settings: { command: [''] }, valid: false },
    { row: 'not text', settings: { command: ['/bin/true', 1] }, valid: false },
    { row: 'unknown key', settings: { command: ['/bin/true'], shell: true }, valid: false },
  ];
  for (const { row, settings, valid } of cases)
    assert.equal(Value.Check(script.config, settings), valid, row);
});

test('script: up on exit 0, else the exit code, signal or spawn error', async () => {
  const sh = (code: string): string[] => ['sh', '-c', code];
  const cases: { row: string; command: string[]; target?: Target; want: string | undefined }[] = [
    { row: 'true', command: ['/bin/true'], want: undefined },
    { row: 'false', command: ['/bin/false'], want: 'exit 1' },
    { row: 'exit 3', command: sh('exit 3'), want: 'exit 3' },
    { row: 'killed', command: sh('kill -9 $$'), want: 'signal SIGKILL' },
    { row: 'terminated', command: sh('kill -15 $$'), want: 'signal SIGTERM' },
    { row: 'no such program', command: ['/nonexistent/steerdns-check'], want: 'spawn ENOENT' },
    { row: 'not executable', command: [notExecutable], want: 'spawn EACCES' },
    { row: 'PATH lookup', command: ['true'], want: undefined },
    {
      row: 'no shell: arguments are not expanded',
      command: ['test', '$HOME', '=', '$HOME'],
      want: undefined,
    },
    { row: 'lots of output is drained', command: sh('head -c 200000 /dev/zero'), want: undefined },
    {
      row: 'target in the environment',
      command: sh(
        'test "$STEERDNS_TARGET_ADDRESS:$STEERDNS_TARGET_PORT:$STEERDNS_TARGET_ID" = 127.0.0.1:8080:web-1',
      ),
      want: undefined,
    },
    {
      row: 'no port: variable unset',
      command: sh('test -z "${STEERDNS_TARGET_PORT+set}"'),
      target: { id: 'x', address: '::1', port: undefined },
      want: undefined,
    },
  ];
  for (const { row, command, target: t, want } of cases) {
    const result = await createMonitor(script, { command }).check(
      t ?? target,
      new AbortController().signal,
    );
    assert.deepEqual(
      { ok: result.ok, reason: result.reason },
      { ok: want === undefined, reason: want },
      row,
    );
  }
});

test('scriptEnv adds the target to the environment and drops a stale port', () => {
  const base = { PATH: '/bin', STEERDNS_TARGET_PORT: '1' };
  const cases = [
    {
      row: 'with port',
      target,
      want: {
        PATH: '/bin',
        STEERDNS_TARGET_ADDRESS: '127.0.0.1',
        STEERDNS_TARGET_ID: 'web-1',
        STEERDNS_TARGET_PORT: '8080',
      },
    },
    {
      row: 'without port',
      target: { ...target, port: undefined },
      want: { PATH: '/bin', STEERDNS_TARGET_ADDRESS: '127.0.0.1', STEERDNS_TARGET_ID: 'web-1' },
    },
  ];
  for (const { row, target: t, want } of cases) assert.deepEqual(scriptEnv(t, base), want, row);
  assert.deepEqual(base, { PATH: '/bin', STEERDNS_TARGET_PORT: '1' }, 'base unchanged');
});

test(`runScript keeps the first ${MAX_OUTPUT_BYTES} bytes of output`, async () => {
  const cases = [
    {
      row: 'short',
      code: 'echo out; echo err >&2',
      want: (s: string) => s.split('\n').sort().join(',') === ',err,out',
    },
    {
      row: 'capped',
      code: 'head -c 100000 /dev/zero | tr "\\0" a',
      want: (s: string) => s === 'a'.repeat(MAX_OUTPUT_BYTES),
    },
  ];
  for (const { row, code, want } of cases) {
    let output = '';
    await runProbe(new AbortController().signal, (finish) => {
      const running = runScript(['sh', '-c', code], target, (ok, reason) => {
        // 'exit' can come before the last output: give the pipes a moment.
        setTimeout(() => {
          output = running.output();
          finish(ok, reason);
        }, 50);
      });
      return running.stop;
    });
    assert.ok(want(output), `${row}: ${JSON.stringify(output.slice(0, 40))} (${output.length})`);
  }
});

test('script: an abort kills the whole process group and closes the pipes', async () => {
  const before = resources();
  const abort = new AbortController();
  let pid = 0;
  let result: ProbeResult | undefined;
  const pending = runProbe(abort.signal, (finish) => {
    // The grandchild keeps the pipes open: only killing the group ends it.
    const running = runScript(['sh', '-c', 'sleep 5 & echo $!; wait'], target, finish);
    const poll = setInterval(() => {
      pid = Number.parseInt(running.output(), 10) || 0;
      if (pid > 0) {
        clearInterval(poll);
        abort.abort();
      }
    }, 5);
    return () => {
      clearInterval(poll);
      running.stop();
    };
  }).then((r) => (result = r));
  await pending;
  assert.deepEqual({ ok: result?.ok, reason: result?.reason }, { ok: false, reason: 'timeout' });
  assert.ok(pid > 0, 'the grandchild reported its pid');
  await assertNoLeak(before, 'after the abort');
  // Killed but not reaped counts as gone: in a container, PID 1 may never reap orphans.
  const alive = (): boolean => {
    try {
      return readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ')[2] !== 'Z';
    } catch {
      return false;
    }
  };
  for (let i = 0; i < 50 && alive(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(alive(), false, `grandchild ${pid} is gone`);
});
