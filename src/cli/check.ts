import { parseArgs } from 'node:util';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { loadAll } from '../app.js';
import { readConfig } from '../config/load.js';
import { nameFromText, nameToText } from '../dns/name.js';
import { ConfigError, formatProblem, type Problem } from '../lib/errors.js';
import { parseMasterFile, type ZoneRecord } from '../zone/master-file.js';
import { assembleZone } from '../zone/zone.js';

/** Output of `steerdns check`: lines for stdout and stderr, and the exit code. */
export interface CheckOutcome {
  readonly out: string[];
  readonly errors: string[];
  readonly exitCode: number;
}

const isConfigFile = (file: string): boolean => /\.ya?ml$/i.test(file);

/** The origin of a zone file given alone: --origin, or the file name without .zone/.db. */
function originFor(file: string, origin: string | undefined): Buffer {
  const text = origin ?? basename(file).replace(/\.(zone|db)$/i, '');
  return nameFromText(text.endsWith('.') ? text : `${text}.`);
}

async function checkZoneFile(
  file: string,
  origin: string | undefined,
): Promise<{ problems: Problem[]; summary: string }> {
  const text = await readFile(file, 'utf8');
  const apex = originFor(file, origin);
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
  return {
    problems,
    summary: `${file}: zone ${nameToText(apex)}, ${records} records`,
  };
}

async function checkConfigFile(file: string): Promise<{ problems: Problem[]; summary: string }> {
  try {
    const { config, loaded } = await loadAll(() => readConfig(file));
    const records = [...loaded.zones.zones.values()].reduce((sum, zone) => sum + zone.size, 0);
    return { problems: [], summary: `${file}: ${config.zones.length} zones, ${records} records` };
  } catch (error) {
    if (error instanceof ConfigError) return { problems: [...error.problems], summary: '' };
    throw error;
  }
}

/** Validates configuration and zone files; every problem is printed as `file:line: reason`. */
export async function runCheck(args: readonly string[]): Promise<CheckOutcome> {
  const { values, positionals } = parseArgs({
    args: [...args],
    options: { origin: { type: 'string' } },
    allowPositionals: true,
  });
  const out: string[] = [];
  const errors: string[] = [];
  if (positionals.length === 0)
    return { out, errors: ['check: give at least one FILE'], exitCode: 2 };
  for (const file of positionals) {
    try {
      const { problems, summary } = isConfigFile(file)
        ? await checkConfigFile(file)
        : await checkZoneFile(file, values.origin);
      errors.push(...problems.map(formatProblem));
      if (problems.length === 0) out.push(`${summary}: ok`);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      errors.push(`${file}: ${code ? `cannot read: ${code}` : String(error)}`);
    }
  }
  return { out, errors, exitCode: errors.length > 0 ? 1 : 0 };
}
