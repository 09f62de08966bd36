import { execFile } from 'node:child_process';

/**
 * Runs BIND's `dig` and Knot's `kdig` and parses their standard (not `+short`, not
 * `+multiline`) output, for end-to-end tests against a second, independent client.
 *
 * Note: on a BADVERS reply dig retries with EDNS 0 by itself; pass `+noednsnegotiation` to see
 * the BADVERS status. kdig reports it directly.
 */

/** What a dig or kdig run printed, split into the parts tests assert on. */
export interface DigResult {
  readonly stdout: string;
  readonly stderr: string;
  /** The process exit code: 0 on a reply, 9 (dig) or 1 (kdig) when no server answered. */
  readonly exitCode: number;
  /** RCODE mnemonic from the reply header ('NOERROR', 'NXDOMAIN', 'BADVERS'); '' if none. */
  readonly status: string;
  /** Header flags, lower case, e.g. ['qr', 'aa']. */
  readonly flags: string[];
  /** Question lines without the leading ';', whitespace collapsed: 'www.example.org. IN A'. */
  readonly question: string[];
  /** Record lines with whitespace outside quotes collapsed: 'www.example.org. 300 IN A 192.0.2.1'. */
  readonly answer: string[];
  readonly authority: string[];
  readonly additional: string[];
  /** OPT pseudo-section lines without leading ';' (dig: 'EDNS: version: 0, ...'). */
  readonly edns: string[];
}

type Section = 'question' | 'answer' | 'authority' | 'additional' | 'edns';

const SECTION_HEADERS: Readonly<Record<string, Section>> = {
  QUESTION: 'question',
  ANSWER: 'answer',
  AUTHORITY: 'authority',
  ADDITIONAL: 'additional',
  OPT: 'edns',
  EDNS: 'edns',
};

/** Collapses runs of whitespace outside double quotes to one space. */
export function collapseWhitespace(line: string): string {
  let out = '';
  let quoted = false;
  let space = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === '\\' && quoted) {
      out += c + (line[++i] ?? '');
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (!quoted && (c === ' ' || c === '\t')) {
      space = true;
      continue;
    }
    if (space && out !== '') out += ' ';
    space = false;
    out += c;
  }
  return out;
}

/**
 * Parses dig or kdig output. When it holds several messages (`+qr`, a retry), the parts are
 * those of the last one.
 */
export function parseDigOutput(stdout: string, stderr = '', exitCode = 0): DigResult {
  let status = '';
  let flags: string[] = [];
  let sections = newSections();
  let current: Section | undefined;
  for (const raw of stdout.split('\n')) {
    const line = raw.trimEnd();
    const header = /->>HEADER<<-.*status: ([A-Z0-9_]+)/.exec(line);
    const heading = /^;; (\w+) (?:PSEUDO)?SECTION:$/.exec(line);
    const flagsLine = /^;; flags:([^;]*);/i.exec(line);
    if (header) {
      status = header[1]!;
      flags = [];
      sections = newSections();
      current = undefined;
    } else if (flagsLine) {
      flags = flagsLine[1]!.trim().split(/\s+/).filter(Boolean);
    } else if (heading) {
      current = SECTION_HEADERS[heading[1]!];
    } else if (line === '') {
      current = undefined;
    } else if (current === 'question' || current === 'edns') {
      if (line.startsWith(';'))
        sections[current].push(collapseWhitespace(line.replace(/^;+\s*/, '')));
      else current = undefined;
    } else if (current !== undefined) {
      if (line.startsWith(';')) current = undefined;
      else sections[current].push(collapseWhitespace(line));
    }
  }
  return { stdout, stderr, exitCode, status, flags, ...sections };
}

function newSections(): Record<Section, string[]> {
  return { question: [], answer: [], authority: [], additional: [], edns: [] };
}

/** Options for {@link dig} and {@link kdig}. */
export interface DigOptions {
  /** Kills the tool after this long. @default 10000 */
  readonly timeoutMs?: number;
}

function run(binary: string, args: readonly string[], opts: DigOptions): Promise<DigResult> {
  return new Promise((resolve, reject) => {
    execFile(binary, args, { timeout: opts.timeoutMs ?? 10_000 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') {
        reject(
          new Error(`dig: ${binary} ${args.join(' ')} failed: ${err.message}`, { cause: err }),
        );
        return;
      }
      resolve(parseDigOutput(stdout, stderr, err ? Number(err.code) : 0));
    });
  });
}

/**
 * Runs `/usr/bin/dig` with `args` as given (add `@127.0.0.1`, `-p PORT`, `+norec`, ... yourself).
 * Resolves also when dig exits non-zero (see `exitCode`); rejects only if it cannot run or
 * is killed by the timeout.
 * @example await dig(['@127.0.0.1', '-p', String(port), '+norec', 'www.example.org', 'A'])
 */
export const dig = (args: readonly string[], opts: DigOptions = {}): Promise<DigResult> =>
  run('/usr/bin/dig', args, opts);

/** Runs `/usr/bin/kdig` (Knot) like {@link dig}. */
export const kdig = (args: readonly string[], opts: DigOptions = {}): Promise<DigResult> =>
  run('/usr/bin/kdig', args, opts);
