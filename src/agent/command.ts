import { spawn } from 'node:child_process';

/** At most this much of a command's standard output is kept. */
export const MAX_COMMAND_OUTPUT = 64 * 1024;

/** Options of {@link runCommand}. */
export interface RunCommandOptions {
  /** Killed (with everything it started) after this long. */
  readonly timeoutMs: number;
  /** Aborting kills the command and rejects with `aborted`. */
  readonly signal?: AbortSignal;
}

/**
 * Runs an operator's command with `/bin/sh -c` and resolves its standard output (the
 * first 64 KiB). The command runs in its own process group; the whole group is killed
 * with SIGKILL on timeout, on abort, and when the shell exits (so that nothing it left
 * in the background lingers). Rejects with a short, stable message: `timeout`,
 * `aborted`, `exit 3`, `signal SIGSEGV`, `spawn ENOENT`.
 */
export function runCommand(command: string, options: RunCommandOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const { signal, timeoutMs } = options;
    if (signal?.aborted === true) {
      reject(new Error('aborted'));
      return;
    }
    const child = spawn('/bin/sh', ['-c', command], {
      stdio: ['ignore', 'pipe', 'ignore'],
      detached: true, // its own process group, so that a kill reaches what it started
      windowsHide: true,
    });
    const chunks: Buffer[] = [];
    let kept = 0;
    let failure: string | undefined;
    const killGroup = (): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // The group is gone already.
      }
    };
    const fail = (reason: string): void => {
      failure ??= reason;
      killGroup();
    };
    const onAbort = (): void => {
      fail('aborted');
    };
    const timer = setTimeout(() => {
      fail('timeout');
    }, timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.on('data', (chunk: Buffer) => {
      // Keep draining past the limit, so the command never blocks on a full pipe.
      if (kept >= MAX_COMMAND_OUTPUT) return;
      const part = chunk.subarray(0, MAX_COMMAND_OUTPUT - kept);
      chunks.push(part);
      kept += part.length;
    });
    child.on('error', (error: NodeJS.ErrnoException) => {
      failure ??= `spawn ${error.code ?? 'error'}`;
    });
    child.on('exit', (code, killedBy) => {
      if (code !== 0)
        failure ??= code === null ? `signal ${killedBy ?? 'unknown'}` : `exit ${code}`;
      killGroup();
    });
    child.on('close', () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (failure === undefined) resolve(Buffer.concat(chunks).toString('utf8'));
      else reject(new Error(failure));
    });
  });
}
