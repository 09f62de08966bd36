import { constants } from 'node:buffer';
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';

/**
 * The largest zone file steerdns reads, in bytes: V8's longest string (536,870,888
 * characters, about 512 MiB), so that a file under it always fits in one string. 10 million
 * records (the most one zone may hold) of 50 bytes each fit.
 */
export const MAX_ZONE_FILE_BYTES = constants.MAX_STRING_LENGTH;

/**
 * The largest configuration file, in bytes: 64 MiB. The YAML parser takes about 7 bytes of
 * memory a byte of text (a 67 MB file of 2 million inline records took 485 MB), so a file the
 * size of a zone file would run the process out of memory; large zones belong in zone files.
 */
export const MAX_CONFIG_FILE_BYTES = 64 << 20;

/** How much of an oversized file is read at a time to find the line that crosses the limit. */
const CHUNK = 1 << 20;

/**
 * A file over its size limit. `line` is the line the limit falls in: the line of byte
 * `limit` (0-based), the first byte too many. When a file is large because of one huge line,
 * that is the line to look at; otherwise it says how much of the file fits.
 */
export class FileTooLargeError extends Error {
  readonly code = 'EFBIG';
  /** The file's size in bytes. */
  readonly size: number;
  /** The limit it is over, in bytes. */
  readonly limit: number;
  /** 1-based line of the first byte over the limit. */
  readonly line: number;
  constructor(size: number, limit: number, line: number) {
    super(
      `file too large: ${size} bytes, at most ${limit} (${mebibytes(limit)}); ` +
        `line ${line} crosses the limit`,
    );
    this.size = size;
    this.limit = limit;
    this.line = line;
    this.name = 'FileTooLargeError';
  }
}

const mebibytes = (bytes: number): string => `${Math.floor(bytes / 1048576)} MiB`;

/** Counts line feeds in `buffer[0, end)`. */
function lineFeeds(buffer: Buffer, end: number): number {
  let count = 0;
  for (let i = buffer.indexOf(0x0a, 0); i >= 0 && i < end; i = buffer.indexOf(0x0a, i + 1)) count++;
  return count;
}

/**
 * Reads a UTF-8 text file of at most `limit` bytes. A larger file is not read into memory:
 * its first `limit` bytes are scanned in chunks for the line that crosses the limit, and
 * {@link FileTooLargeError} is thrown. Other errors are the file system's (`ENOENT`, ...).
 */
export async function readTextFile(path: string, limit = MAX_ZONE_FILE_BYTES): Promise<string> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    if (size <= limit) return await handle.readFile('utf8');
    const buffer = Buffer.allocUnsafe(CHUNK);
    let lines = 1;
    for (let offset = 0; offset < limit;) {
      const { bytesRead } = await handle.read(buffer, 0, Math.min(CHUNK, limit - offset), offset);
      if (bytesRead === 0) break;
      lines += lineFeeds(buffer, bytesRead);
      offset += bytesRead;
    }
    throw new FileTooLargeError(size, limit, lines);
  } finally {
    await handle.close();
  }
}

/** {@link readTextFile}, synchronous (for `$INCLUDE`, read while the including file is parsed). */
export function readTextFileSync(path: string, limit = MAX_ZONE_FILE_BYTES): string {
  const fd = openSync(path, 'r');
  try {
    const { size } = fstatSync(fd);
    if (size <= limit) return readFileSync(fd, 'utf8');
    const buffer = Buffer.allocUnsafe(CHUNK);
    let lines = 1;
    for (let offset = 0; offset < limit;) {
      const bytesRead = readSync(fd, buffer, 0, Math.min(CHUNK, limit - offset), offset);
      if (bytesRead === 0) break;
      lines += lineFeeds(buffer, bytesRead);
      offset += bytesRead;
    }
    throw new FileTooLargeError(size, limit, lines);
  } finally {
    closeSync(fd);
  }
}
