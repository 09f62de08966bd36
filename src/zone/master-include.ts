import { dirname, isAbsolute, join } from 'node:path';
import { readTextFileSync } from '../lib/text-file.js';

/** How many `$INCLUDE` levels may nest below the file being parsed. */
export const MAX_INCLUDE_DEPTH = 8;

/**
 * How many `$INCLUDE` directives one zone may follow, nested ones included. Nine tiny files
 * that each include the next six times would otherwise expand to 6^8 files and 16.7 million
 * records; with this bound the parse stops after a thousand.
 */
export const MAX_INCLUDES = 1000;

/** How many records one zone may hold, its own and its included files' together. */
export const MAX_RECORDS = 10_000_000;

/**
 * The path of a file named by `$INCLUDE` in `fromFile`: absolute paths as they are, others
 * relative to the including file's directory (as BIND and Knot resolve them).
 * @example resolveIncludePath('sub/a.zone', 'zones/example.org.zone') // 'zones/sub/a.zone'
 */
export function resolveIncludePath(path: string, fromFile: string): string {
  return isAbsolute(path) ? path : join(dirname(fromFile), path);
}

/**
 * Reads an included file as UTF-8; the default `readInclude` of the master-file parser.
 * Throws `FileTooLargeError` (`lib/text-file.ts`) for a file over the zone file limit.
 */
export function readIncludeFile(path: string, fromFile: string): string {
  return readTextFileSync(resolveIncludePath(path, fromFile));
}
