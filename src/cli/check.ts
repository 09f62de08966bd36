import { parseArgs } from 'node:util';
import { basename } from 'node:path';
import { loadAll } from '../app.js';
import { readConfig, readLbConfig } from '../config/load.js';
import { isBalancerFile } from './lb.js';
import { nameFromText, nameToText } from '../dns/name.js';
import { ConfigError, formatProblem, type Problem } from '../lib/errors.js';
import { FileTooLargeError, readTextFile } from '../lib/text-file.js';
import { parseMasterFile, type ZoneRecord } from '../zone/master-file.js';
import { assembleZone } from '../zone/zone.js';

/**
 * Output of `steerdns check`: lines for stdout and stderr, and the exit code. Warnings (what
 * `serve` logs at warn when it loads the files) go to stderr as `file:line: warning: reason`
 * and do not fail the check.
 */
export interface CheckOutcome {
  readonly out: string[];
  readonly errors: string[];
  readonly exitCode: number;
}

const isConfigFile = (file: string): boolean => /\.ya?ml$/i.test(file);

/** The origin a zone file given alone is read with, and where it came from. */
export interface AssumedOrigin {
  readonly apex: Buffer;
  /** `--origin`, `$ORIGIN on line N`, or `the file name`. */
  readonly from: string;
}

/** The `$ORIGIN` that comes before every record (after blank lines, comments, `$TTL`). */
function leadingOrigin(text: string): { name: string; line: number } | undefined {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const fields = lines[i]!.replace(/;.*$/, '').trim().split(/\s+/);
    const first = fields[0]!.toUpperCase();
    if (first === '' || first === '$TTL') continue;
    return first === '$ORIGIN' && fields.length === 2
      ? { name: fields[1]!, line: i + 1 }
      : undefined;
  }
  return undefined;
}

/**
 * The origin of a zone file given alone: `--origin`; else a `$ORIGIN` before every record;
 * else the file name without `.zone`/`.db`. Throws when the name is not a domain name.
 */
export function assumedOrigin(
  file: string,
  text: string,
  origin: string | undefined,
): AssumedOrigin {
  const absolute = (name: string): string => (name.endsWith('.') ? name : `${name}.`);
  if (origin !== undefined) return { apex: nameFromText(absolute(origin)), from: '--origin' };
  const byName = absolute(basename(file).replace(/\.(zone|db)$/i, ''));
  const leading = leadingOrigin(text);
  if (!leading) return { apex: nameFromText(byName), from: 'the file name' };
  // A relative $ORIGIN is relative to the origin the file would have had, as the parser reads it.
  const apex = leading.name.endsWith('.')
    ? nameFromText(leading.name)
    : nameFromText(leading.name, nameFromText(byName));
  return { apex, from: `$ORIGIN on line ${leading.line}` };
}

/** What checking one file found. */
interface Checked {
  readonly problems: readonly Problem[];
  readonly warnings: readonly Problem[];
  readonly summary: string;
}

const formatWarning = (w: Problem): string => `${w.file}:${w.line}: warning: ${w.reason}`;

async function checkZoneFile(file: string, origin: string | undefined): Promise<Checked> {
  let text: string;
  try {
    text = await readTextFile(file);
  } catch (error) {
    if (!(error instanceof FileTooLargeError)) throw error;
    return {
      problems: [{ file, line: error.line, reason: error.message }],
      warnings: [],
      summary: '',
    };
  }
  let assumed: AssumedOrigin;
  try {
    assumed = assumedOrigin(file, text, origin);
  } catch (error) {
    const reason = `cannot tell the zone's origin: ${(error as Error).message}`;
    return { problems: [{ file, line: 0, reason }], warnings: [], summary: '' };
  }
  const { apex } = assumed;
  const assembly = assembleZone(apex);
  let records = 0;
  const onRecord = (record: ZoneRecord): void => {
    records++;
    assembly.add(record);
  };
  const parsed = parseMasterFile(text, { file, origin: apex, onRecord });
  const problems: Problem[] = parsed.errors.map((e) => ({
    file: e.file,
    line: e.line,
    reason: e.reason,
  }));
  const built = assembly.finish();
  for (const error of built.errors) {
    problems.push({
      file: error.position?.file ?? file,
      line: error.position?.line ?? 0,
      reason: error.reason,
    });
  }
  const warnings = built.warnings.map((w) => ({
    file: w.position?.file ?? file,
    line: w.position?.line ?? 0,
    reason: w.reason,
  }));
  return {
    problems,
    warnings,
    summary: `${file}: zone ${nameToText(apex)} (origin from ${assumed.from}), ${records} records`,
  };
}

async function checkConfigFile(file: string): Promise<Checked> {
  try {
    if (await isBalancerFile(file)) {
      const lb = await readLbConfig(file);
      const servers = lb?.servers.length ?? 0;
      return {
        problems: [],
        warnings: [],
        summary: `${file}: balancer ${lb?.node ?? '?'}, ${servers} servers`,
      };
    }
    const { config, loaded } = await loadAll(() => readConfig(file));
    const records = [...loaded.zones.zones.values()].reduce((sum, zone) => sum + zone.size, 0);
    return {
      problems: [],
      warnings: loaded.warnings,
      summary: `${file}: ${config.zones.length} zones, ${records} records`,
    };
  } catch (error) {
    if (error instanceof ConfigError)
      return { problems: [...error.problems], warnings: [], summary: '' };
    throw error;
  }
}

/**
 * Validates configuration and zone files; every problem is printed as `file:line: reason`.
 * A zone file is read with the origin of {@link assumedOrigin}, and its summary line says
 * which origin that was and why.
 */
export async function runCheck(args: readonly string[]): Promise<CheckOutcome> {
  const { values, positionals } = parseArgs({
    args: [...args],
    options: { origin: { type: 'string' } },
    allowPositionals: true,
  });
  const out: string[] = [];
  const errors: string[] = [];
  let failed = false;
  if (positionals.length === 0)
    return { out, errors: ['check: give at least one FILE'], exitCode: 2 };
  for (const file of positionals) {
    try {
      const { problems, warnings, summary } = isConfigFile(file)
        ? await checkConfigFile(file)
        : await checkZoneFile(file, values.origin);
      errors.push(...problems.map(formatProblem), ...warnings.map(formatWarning));
      if (problems.length === 0) out.push(`${summary}: ok`);
      else failed = true;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      errors.push(`${file}: ${code ? `cannot read: ${code}` : String(error)}`);
      failed = true;
    }
  }
  return { out, errors, exitCode: failed ? 1 : 0 };
}
