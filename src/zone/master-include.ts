import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';

/** How many `$INCLUDE` levels may nest below the file being parsed. */
export const MAX_INCLUDE_DEPTH = 10;

/**
 * The path of a file named by `$INCLUDE` in `fromFile`: absolute paths as they are, others
 * relative to the including file's directory (as BIND and Knot resolve them).
 * @example resolveIncludePath('sub/a.zone', 'zones/example.org.zone') // 'zones/sub/a.zone'
 */
export function resolveIncludePath(path: string, fromFile: string): string {
  return isAbsolute(path) ? path : join(dirname(fromFile), path);
}

/** Reads an included file as UTF-8; the default `readInclude` of the master-file parser. */
export function readIncludeFile(path: string, fromFile: string): string {
  return readFileSync(resolveIncludePath(path, fromFile), 'utf8');
}
