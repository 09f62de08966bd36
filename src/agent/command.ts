import { runSubprocess } from '../lib/subprocess.js';

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
 * first 64 KiB); standard error is discarded. The command runs in its own process group,
 * killed with everything in it on timeout, on abort and when the shell exits
 * ({@link runSubprocess}). Rejects with a short, stable message: `timeout`, `aborted`,
 * `exit 3`, `signal SIGSEGV`, `spawn ENOENT`.
 */
export async function runCommand(command: string, options: RunCommandOptions): Promise<string> {
  const { failure, output } = await runSubprocess(['/bin/sh', '-c', command], {
    maxOutputBytes: MAX_COMMAND_OUTPUT,
    timeoutMs: options.timeoutMs,
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  if (failure !== undefined) throw new Error(failure);
  return output;
}
