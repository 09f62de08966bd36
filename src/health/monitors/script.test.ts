import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Value } from '@sinclair/typebox/value';
import type { Target } from '../monitor.js';
import { assertNoLeak, createMonitor } from '../../../test/contract/monitor.contract.js';
import { script, scriptEnv } from './script.js';

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

test('script: an abort kills the whole process group', async () => {
  const before = resources();
  const pidFile = join(scratch, 'grandchild.pid');
  const abort = new AbortController();
  // The grandchild outlives the shell's own work: only killing the group ends it.
  const pending = createMonitor(script, {
    command: ['sh', '-c', `sleep 5 & echo $! > ${pidFile}; wait`],
  }).check(target, abort.signal);
  let pid = 0;
  const deadline = Date.now() + 5000;
  while (pid === 0) {
    if (Date.now() > deadline) throw new Error('the script did not write its pid in 5 s');
    await new Promise((resolve) => setTimeout(resolve, 5));
    try {
      pid = Number.parseInt(readFileSync(pidFile, 'utf8'), 10) || 0;
    } catch {
      // not written yet
    }
  }
  abort.abort();
  const result = await pending;
  assert.deepEqual({ ok: result.ok, reason: result.reason }, { ok: false, reason: 'timeout' });
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
