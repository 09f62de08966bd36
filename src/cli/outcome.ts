/**
 * What a command produced: lines for stdout and stderr, and the exit code. `main.ts` prints
 * them and exits; commands themselves never touch `process`.
 *
 * Exit codes of every command: 0 done; 1 a file or a running server could not be read or
 * asked; 2 the command line is wrong; 3 (`status`) a service has no member up.
 */
export interface CommandOutcome {
  readonly out: readonly string[];
  readonly errors: readonly string[];
  readonly exitCode: number;
}

/** Exit codes shared by the commands. */
export const ExitCode = {
  ok: 0,
  failed: 1,
  usage: 2,
  /** `steerdns status`: a service has no member up. */
  serviceDown: 3,
} as const;

/** A successful outcome with `text` on stdout. */
export const printed = (text: string): CommandOutcome => ({
  out: [text],
  errors: [],
  exitCode: ExitCode.ok,
});

/** A failed outcome with `lines` on stderr. */
export const failed = (exitCode: number, ...lines: string[]): CommandOutcome => ({
  out: [],
  errors: lines,
  exitCode,
});
