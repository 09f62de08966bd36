/** Base of steerdns' own errors: a stable `code` (see docs/errors.md) and an optional cause. */
export class SteerdnsError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** One problem in a file the operator wrote, with where it is. */
export interface Problem {
  readonly file: string;
  /** 1-based; 0 when the problem concerns the whole file. */
  readonly line: number;
  readonly reason: string;
}

/** Formats a problem the way compilers do: `file:line: reason`. */
export function formatProblem(problem: Problem): string {
  return problem.line > 0
    ? `${problem.file}:${problem.line}: ${problem.reason}`
    : `${problem.file}: ${problem.reason}`;
}

/** Configuration or zone data that cannot be used; lists every problem found. */
export class ConfigError extends SteerdnsError {
  readonly problems: readonly Problem[];

  constructor(problems: readonly Problem[]) {
    super('STEERDNS_ERR_CONFIG_INVALID', problems.map(formatProblem).join('\n'));
    this.problems = problems;
  }
}
