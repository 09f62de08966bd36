import { spawn } from 'node:child_process';

/** Options of {@link runSubprocess}. */
export interface SubprocessOptions {
  /** The environment of the process. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /**
   * At most this many bytes of output are kept; the rest is read and dropped, so that the
   * process never blocks on a full pipe. 0: no pipes, its output goes to /dev/null.
   */
  readonly maxOutputBytes: number;
  /**
   * `ignore`: standard error goes to /dev/null. `output`: it is read like standard output
   * and kept with it, interleaved as it came.
   * @default 'ignore'
   */
  readonly stderr?: 'ignore' | 'output';
  /** The process (with everything it started) is killed after this long. @default no limit */
  readonly timeoutMs?: number;
  /** Aborting kills the process (and what it started); the outcome is then `aborted`. */
  readonly signal?: AbortSignal;
}

/** How a process ended. */
export interface SubprocessOutcome {
  /**
   * Undefined when it exited 0; else a short, stable reason: `exit 3`, `signal SIGSEGV`,
   * `timeout`, `aborted`, `spawn ENOENT` (or another spawn error code).
   */
  readonly failure: string | undefined;
  /** The first `maxOutputBytes` of its output, as UTF-8. */
  readonly output: string;
}

/**
 * Runs `argv` (program and arguments, no shell) and resolves how it ended once it has exited
 * and its pipes are closed; never rejects. The process runs in its own process group, and the
 * whole group is killed with SIGKILL when the process exits (so that nothing it left in the
 * background lingers), on timeout and on abort; on timeout and abort the pipes are closed as
 * well, so that the outcome comes even when something that left the group holds them open.
 * An already aborted `signal` resolves `aborted` without starting anything.
 * @example await runSubprocess(['/bin/sh', '-c', 'echo 42'], { maxOutputBytes: 64 }) // { failure: undefined, output: '42\n' }
 */
export function runSubprocess(
  argv: readonly string[],
  options: SubprocessOptions,
): Promise<SubprocessOutcome> {
  const { signal, timeoutMs, maxOutputBytes } = options;
  if (signal?.aborted === true) return Promise.resolve({ failure: 'aborted', output: '' });
  return new Promise((resolve) => {
    const [file = '', ...args] = argv;
    const piped = maxOutputBytes > 0;
    const child = spawn(file, args, {
      env: options.env ?? process.env,
      stdio: [
        'ignore',
        piped ? 'pipe' : 'ignore',
        piped && options.stderr === 'output' ? 'pipe' : 'ignore',
      ],
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
        // ESRCH: the group is gone already.
      }
    };
    const stop = (reason: string): void => {
      failure ??= reason;
      killGroup();
      child.stdout?.destroy();
      child.stderr?.destroy();
    };
    const onAbort = (): void => {
      stop('aborted');
    };
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            stop('timeout');
          }, timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    const capture = (chunk: Buffer): void => {
      if (kept >= maxOutputBytes) return; // keep draining past the limit
      const part = chunk.subarray(0, maxOutputBytes - kept);
      chunks.push(part);
      kept += part.length;
    };
    child.stdout?.on('data', capture);
    child.stderr?.on('data', capture);
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
      resolve({ failure, output: Buffer.concat(chunks).toString('utf8') });
    });
  });
}
