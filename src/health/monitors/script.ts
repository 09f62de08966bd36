import { spawn, type ChildProcess } from 'node:child_process';
import { Type } from '@sinclair/typebox';
import { defineMonitor, type Target } from '../monitor.js';
import { runProbe, type Finish } from './probe.js';

/** At most this much of a script's output (stdout and stderr together) is kept. */
export const MAX_OUTPUT_BYTES = 4096;

/**
 * Runs a command (argv, no shell) with the target in its environment; up when it exits 0.
 * The command runs in its own process group, killed with SIGKILL (group and all) when the
 * check is aborted or settles. Reasons: 'exit 3', 'signal SIGKILL', 'timeout', 'spawn
 * ENOENT' (or another spawn error code).
 */
export const script = defineMonitor({
  type: 'script',
  config: Type.Object(
    {
      command: Type.Array(Type.String({ minLength: 1 }), {
        minItems: 1,
        description: 'program and arguments, run without a shell',
      }),
    },
    { additionalProperties: false },
  ),
  create: (config) => ({
    type: 'script',
    check: (target, signal) =>
      runProbe(signal, (finish) => runScript(config.command, target, finish).stop),
    close: () => Promise.resolve(),
  }),
});

/** The environment of a check: the monitor's own, plus the target. */
export function scriptEnv(target: Target, base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...base,
    STEERDNS_TARGET_ADDRESS: target.address,
    STEERDNS_TARGET_ID: target.id,
  };
  if (target.port === undefined) delete env['STEERDNS_TARGET_PORT'];
  else env['STEERDNS_TARGET_PORT'] = String(target.port);
  return env;
}

/** A running script: its captured output so far and the function that stops it. */
export interface RunningScript {
  /** The first {@link MAX_OUTPUT_BYTES} of stdout and stderr, interleaved as they came. */
  readonly output: () => string;
  /** Kills the process group and closes the pipes. Idempotent. */
  readonly stop: () => void;
}

/** Starts `command` for `target`; calls `finish` when it exits or cannot start. */
export function runScript(
  command: readonly string[],
  target: Target,
  finish: Finish,
): RunningScript {
  const [file = '', ...args] = command;
  const child = spawn(file, args, {
    env: scriptEnv(target, process.env),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group, so that stop() reaches what it started
    windowsHide: true,
  });
  const chunks: Buffer[] = [];
  let kept = 0;
  const capture = (chunk: Buffer): void => {
    if (kept >= MAX_OUTPUT_BYTES) return; // keep draining, so the script never blocks on a full pipe
    const part = chunk.subarray(0, MAX_OUTPUT_BYTES - kept);
    chunks.push(part);
    kept += part.length;
  };
  child.stdout.on('data', capture);
  child.stderr.on('data', capture);
  child.on('error', (error: NodeJS.ErrnoException) => {
    finish(false, `spawn ${error.code ?? 'error'}`);
  });
  child.once('exit', (code, signal) => {
    if (code === 0) finish(true);
    else finish(false, code === null ? `signal ${signal ?? 'unknown'}` : `exit ${code}`);
  });
  return {
    output: () => Buffer.concat(chunks).toString('utf8'),
    stop: () => {
      stopChild(child);
    },
  };
}

/** Kills the child's process group (and so what it started), then closes the pipes. */
function stopChild(child: ChildProcess): void {
  if (child.pid !== undefined) {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // ESRCH: the group is gone already.
    }
  }
  child.kill('SIGKILL');
  child.stdout?.destroy();
  child.stderr?.destroy();
}
