import { relative } from 'node:path';
import { nameFromText } from '../dns/name.js';
import type { ZoneSource } from '../config/compiled.js';
import { ConfigError, type Problem } from '../lib/errors.js';
import { slicer as newSlicer, type Slicer } from '../lib/slices.js';
import { FileTooLargeError, readTextFile } from '../lib/text-file.js';
import { parseMasterFileSteps, type ZoneRecord } from '../zone/master-file.js';
import { assembleZone, type Zone, type ZoneAssembly } from '../zone/zone.js';
import { ZoneSet } from '../zone/zone-set.js';

/** Zones loaded from their sources, with warnings worth logging. */
export interface LoadedZones {
  readonly zones: ZoneSet;
  readonly warnings: readonly Problem[];
}

const shown = (file: string): string => {
  const rel = relative(process.cwd(), file);
  return rel.startsWith('..') ? file : rel;
};

/** Streams the zone's records (file, then inline) into `assembly`. */
async function readInto(
  source: ZoneSource,
  origin: Buffer,
  assembly: ZoneAssembly,
  problems: Problem[],
  slicer: Slicer,
): Promise<boolean> {
  if (source.file !== undefined) {
    const file = shown(source.file);
    let text: string;
    try {
      text = await readTextFile(source.file);
    } catch (error) {
      if (error instanceof FileTooLargeError) {
        // Where the limit falls in the file itself, not the line that names the file.
        problems.push({ file, line: error.line, reason: error.message });
        return false;
      }
      const code = (error as NodeJS.ErrnoException).code ?? String(error);
      problems.push({
        ...source.declaredAt,
        reason: `zone ${source.origin}: cannot read ${file}: ${code}`,
      });
      // Nothing more to say of a zone not read (no "no SOA" for records never seen).
      return false;
    }
    const onRecord = (record: ZoneRecord): void => {
      assembly.add(record);
    };
    const options = { file, origin, ...ttl(source), onRecord };
    const parsed = await slicer.run(parseMasterFileSteps(text, options));
    for (const error of parsed.errors)
      problems.push({ file: error.file, line: error.line, reason: error.reason });
  }
  if (source.inline) {
    const { text, file, lines } = source.inline;
    const onRecord = (record: ZoneRecord): void => {
      const line = lines[record.position.line - 1] ?? record.position.line;
      assembly.add({ ...record, position: { file, line } });
    };
    const parsed = await slicer.run(
      parseMasterFileSteps(text, { file, origin, ...ttl(source), onRecord }),
    );
    for (const error of parsed.errors) {
      problems.push({ file, line: lines[error.line - 1] ?? error.line, reason: error.reason });
    }
  }
  return true;
}

const ttl = (source: ZoneSource): { defaultTtl?: number } =>
  source.defaultTtl === undefined ? {} : { defaultTtl: source.defaultTtl };

/**
 * Reads, parses and checks every zone. Throws {@link ConfigError} with every problem
 * found; nothing is returned unless all zones are good. The work runs in slices of a few
 * milliseconds (`slicer`) with the event loop in between, so a process that answers while
 * it reloads keeps answering: a 500,000-record zone takes seconds to parse.
 */
export async function loadZones(
  sources: readonly ZoneSource[],
  declaredNames: readonly Buffer[] = [],
  slicer: Slicer = newSlicer(),
): Promise<LoadedZones> {
  const problems: Problem[] = [];
  const warnings: Problem[] = [];
  const zones: Zone[] = [];
  const seen = new Set<string>();
  for (const source of sources) {
    const name = source.origin;
    if (seen.has(name.toLowerCase())) {
      problems.push({ ...source.declaredAt, reason: `zone ${name} is declared twice` });
      continue;
    }
    seen.add(name.toLowerCase());
    const origin = nameFromText(source.origin);
    const assembly = assembleZone(origin);
    if (!(await readInto(source, origin, assembly, problems, slicer))) continue;
    for (const name of declaredNames) assembly.declare(name);
    const built = await slicer.run(assembly.finishSteps());
    const where = (
      position: { file: string; line: number } | undefined,
    ): { file: string; line: number } => position ?? source.declaredAt;
    for (const error of built.errors)
      problems.push({ ...where(error.position), reason: error.reason });
    for (const warning of built.warnings)
      warnings.push({ ...where(warning.position), reason: warning.reason });
    if (built.zone) zones.push(built.zone);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return { zones: new ZoneSet(zones), warnings };
}
