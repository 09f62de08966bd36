import { resolve } from 'node:path';
import { RRClass, parseRRClass, parseRRType } from '../dns/constants.js';
import { NameError, nameFromText } from '../dns/name.js';
import {
  RdataError,
  decodeEscapes,
  parseTtl,
  rdataFromText,
  type Token,
} from '../dns/rdata-text.js';
import type { ResourceRecord, SourcePosition } from '../dns/record.js';
import { SteerdnsError } from '../lib/errors.js';
import { runToEnd, type Steps } from '../lib/slices.js';
import { FileTooLargeError } from '../lib/text-file.js';
import {
  MAX_INCLUDE_DEPTH,
  MAX_INCLUDES,
  MAX_RECORDS,
  readIncludeFile,
  resolveIncludePath,
} from './master-include.js';
import { MasterTokenizer, type Entry } from './master-tokenizer.js';

/**
 * RFC 1035 master-file parser: `$ORIGIN`, `$TTL`, `$INCLUDE`, `@`, relative names, blank
 * owners, parentheses, comments, quoted strings, TTL and class in either order, class IN only,
 * and every type `rdataFromText` knows plus RFC 3597 `TYPEnnn \# len hex`. Bad entries are
 * reported and skipped so that one run lists every problem. `$INCLUDE` fan-out is bounded
 * (depth, number of files, records in all), and the bound is found as it is crossed, not
 * after expanding everything.
 */

/** A record read from a master file, with where it was written. */
export interface ZoneRecord extends ResourceRecord {
  readonly position: SourcePosition;
}

/** A problem in a master file; the message is `file:line: reason`. */
export class ZoneFileError extends SteerdnsError {
  readonly file: string;
  /** 1-based line where the entry with the problem starts. */
  readonly line: number;
  /** What is wrong, without the position. */
  readonly reason: string;

  constructor(file: string, line: number, reason: string) {
    super('STEERDNS_ERR_ZONE_PARSE', `${file}:${line}: ${reason}`);
    this.file = file;
    this.line = line;
    this.reason = reason;
  }
}

/** How to parse a master file. */
export interface ParseOptions {
  /** Name used in positions and messages, and to resolve `$INCLUDE` paths. */
  file: string;
  /** The initial origin, absolute, in wire form; `$ORIGIN` may change it. */
  origin: Buffer;
  /** TTL for records without one while there is no `$TTL`, in seconds (0-2147483647). */
  defaultTtl?: number;
  /**
   * Returns the text of a file named by `$INCLUDE` (`path` as written) in `fromFile`.
   * @default reads `path` relative to the directory of `fromFile` (see {@link readIncludeFile})
   */
  readInclude?: (path: string, fromFile: string) => string;
  /** Stop parsing once this many errors have been found. @default 100 */
  maxErrors?: number;
  /**
   * The most records one parse may read, the main file and every included one together;
   * one more is an error that ends the parse.
   * @default 10,000,000 ({@link MAX_RECORDS})
   */
  maxRecords?: number;
  /**
   * The most `$INCLUDE` directives one parse may follow, nested ones included; one more is
   * an error that ends the parse. @default 1,000 ({@link MAX_INCLUDES})
   */
  maxIncludes?: number;
  /**
   * Receives each good record as soon as it is read, instead of the result's `records`
   * (which then stays empty): a large zone need not be held twice.
   */
  onRecord?: (record: ZoneRecord) => void;
}

/** What {@link parseMasterFile} found: the good records and an error for each bad entry. */
export interface ParseResult {
  readonly records: ZoneRecord[];
  readonly errors: ZoneFileError[];
}

/** A problem with the current entry; becomes a {@link ZoneFileError} with its position. */
class EntryError extends Error {}

function fail(reason: string): never {
  throw new EntryError(reason);
}

/** A file being read, outermost first: the path as shown and as compared for loops. */
interface Frame {
  readonly file: string;
  readonly key: string;
}

/** What one file's entries change as they are read; an included file gets its own. */
interface FileState {
  readonly file: string;
  origin: Buffer;
  owner: Buffer | undefined;
  ownerText: string | undefined;
  ownerOrigin: Buffer | undefined;
  /** The last owner was bad: blank-owner records after it are skipped without more errors. */
  ownerBad: boolean;
}

const IN = RRClass.IN;

/** Looks `text` up in `cache`, parsing and remembering it (up to 1000 entries) on a miss. */
function cached(
  cache: Map<string, number | undefined>,
  text: string,
  parse: (text: string) => number | undefined,
): number | undefined {
  if (cache.has(text)) return cache.get(text);
  const value = parse(text);
  if (cache.size < 1000) cache.set(text, value);
  return value;
}

const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;

/** Entries between two points where a sliced parse may pause: well under a millisecond. */
const ENTRIES_PER_STEP = 64;

class MasterFileParser {
  readonly records: ZoneRecord[] = [];
  readonly errors: ZoneFileError[] = [];
  private readonly maxErrors: number;
  private readonly defaultTtl: number | undefined;
  private readonly readInclude: (path: string, fromFile: string) => string;
  private readonly onRecord: ((record: ZoneRecord) => void) | undefined;
  private readonly maxRecords: number;
  private readonly maxIncludes: number;
  private dollarTtl: number | undefined;
  private lastTtl: number | undefined;
  private recordCount = 0;
  private includeCount = 0;
  private entryCount = 0;
  /** A bound of the whole parse was crossed: nothing more is read. */
  private stopped = false;

  constructor(options: ParseOptions) {
    this.maxErrors = Math.max(1, options.maxErrors ?? 100);
    this.defaultTtl = options.defaultTtl;
    this.readInclude = options.readInclude ?? readIncludeFile;
    this.onRecord = options.onRecord;
    this.maxRecords = options.maxRecords ?? MAX_RECORDS;
    this.maxIncludes = options.maxIncludes ?? MAX_INCLUDES;
  }

  get full(): boolean {
    return this.stopped || this.errors.length >= this.maxErrors;
  }

  /** Reads one file's entries; yields every {@link ENTRIES_PER_STEP} entries. */
  *parseFile(text: string, origin: Buffer, chain: readonly Frame[]): Steps<void> {
    const file = chain[chain.length - 1]!.file;
    const state: FileState = {
      file,
      origin,
      owner: undefined,
      ownerText: undefined,
      ownerOrigin: undefined,
      ownerBad: false,
    };
    const tokenizer = new MasterTokenizer(text);
    for (let entry = tokenizer.next(); entry && !this.full; entry = tokenizer.next()) {
      if (++this.entryCount % ENTRIES_PER_STEP === 0) yield;
      try {
        if (entry.error !== undefined) fail(entry.error);
        const first = entry.tokens[0]!;
        if (first.quoted || !first.text.startsWith('$')) this.record(entry, state);
        else if (first.text.toUpperCase() === '$INCLUDE') yield* this.include(entry, state, chain);
        else this.directive(entry, state);
      } catch (error) {
        if (!(
          error instanceof EntryError ||
          error instanceof RdataError ||
          error instanceof NameError
        )) {
          throw error;
        }
        this.errors.push(new ZoneFileError(file, entry.line, error.message));
      }
    }
  }

  /** Fails with `reason` and ends the whole parse: a bound of all files together was crossed. */
  private stop(reason: string): never {
    this.stopped = true;
    return fail(reason);
  }

  private record(entry: Entry, state: FileState): void {
    const tokens = entry.tokens;
    let i = 0;
    let owner = state.owner;
    if (!entry.blankOwner) {
      owner = this.owner(tokens[0]!, state);
      i = 1;
    } else if (state.ownerBad) {
      return;
    } else if (!owner) {
      fail('no owner name: the first record starts with a blank and there is no previous owner');
    }
    let ttl: number | undefined;
    let hasClass = false;
    for (let t = tokens[i]; t && !t.quoted; t = tokens[++i]) {
      if (isDigit(t.text.charCodeAt(0))) {
        if (ttl !== undefined) fail(`a second TTL "${t.text}"`);
        ttl =
          parseTtl(t.text) ??
          fail(`bad TTL "${t.text}": expected 0-2147483647 seconds or units like 1h30m`);
        continue;
      }
      const rrClass = t.text === 'IN' ? IN : this.rrClass(t.text);
      if (rrClass === undefined) break;
      if (hasClass) fail(`a second class "${t.text}"`);
      if (rrClass !== IN) fail(`class "${t.text}" is not supported; only IN`);
      hasClass = true;
    }
    const typeToken = tokens[i] ?? fail('missing type after the owner, TTL and class');
    const type = typeToken.quoted ? undefined : this.type(typeToken.text);
    if (type === undefined) fail(`unknown type "${typeToken.text}"`);
    const rdata = rdataFromText(type, tokens.slice(i + 1), state.origin);
    if (ttl !== undefined) this.lastTtl = ttl;
    const effectiveTtl =
      ttl ?? this.dollarTtl ?? this.defaultTtl ?? this.lastTtl ?? fail('no TTL given and no $TTL');
    if (++this.recordCount > this.maxRecords)
      this.stop(`more than ${this.maxRecords} records in this zone and the files it includes`);
    const record: ZoneRecord = {
      name: owner,
      type,
      class: IN,
      ttl: effectiveTtl,
      rdata,
      position: { file: state.file, line: entry.line },
    };
    if (this.onRecord) this.onRecord(record);
    else this.records.push(record);
  }

  /** Type mnemonics seen so far: a zone repeats a handful of them a million times. */
  private readonly types = new Map<string, number | undefined>();

  private readonly classes = new Map<string, number | undefined>();

  private type(text: string): number | undefined {
    return cached(this.types, text, parseRRType);
  }

  private rrClass(text: string): number | undefined {
    return cached(this.classes, text, parseRRClass);
  }

  /** The owner of a record; the buffer is shared with the previous record when the text is the same. */
  private owner(token: Token, state: FileState): Buffer {
    // Only unquoted text is remembered: a quoted "@" is the label @, not the origin.
    if (
      !token.quoted &&
      token.text === state.ownerText &&
      state.origin === state.ownerOrigin &&
      state.owner
    ) {
      return state.owner;
    }
    state.ownerBad = true;
    state.owner = undefined;
    state.ownerText = undefined;
    const owner = parseName(token, state.origin, 'owner name');
    state.ownerBad = false;
    state.owner = owner;
    state.ownerText = token.quoted ? undefined : token.text;
    state.ownerOrigin = state.origin;
    return owner;
  }

  private directive(entry: Entry, state: FileState): void {
    const [first, ...args] = entry.tokens as [Token, ...Token[]];
    const name = first.text.toUpperCase();
    const argCount = (min: number, max: number): void => {
      checkArgCount(name, args.length, min, max);
    };
    switch (name) {
      case '$ORIGIN':
        argCount(1, 1);
        state.origin = parseName(args[0]!, state.origin, '$ORIGIN name');
        return;
      case '$TTL':
        argCount(1, 1);
        this.dollarTtl =
          parseTtl(args[0]!.text) ??
          fail(`bad $TTL "${args[0]!.text}": expected 0-2147483647 seconds or units like 1h30m`);
        return;
      case '$GENERATE':
        fail('$GENERATE is not supported');
        return;
      default:
        fail(`unknown directive "${first.text}"`);
    }
  }

  private *include(entry: Entry, state: FileState, chain: readonly Frame[]): Steps<void> {
    const [, pathToken, originToken, ...rest] = entry.tokens as [Token, Token?, Token?, ...Token[]];
    checkArgCount('$INCLUDE', entry.tokens.length - 1, 1, 2);
    if (!pathToken || rest.length > 0) return;
    const path = decodeEscapes(pathToken.text, '$INCLUDE').toString('utf8');
    const origin = originToken
      ? parseName(originToken, state.origin, '$INCLUDE origin')
      : state.origin;
    const file = resolveIncludePath(path, state.file);
    const key = resolve(file);
    if (chain.some((frame) => frame.key === key)) {
      fail(`$INCLUDE loop: ${[...chain.map((frame) => frame.file), file].join(' -> ')}`);
    }
    if (chain.length > MAX_INCLUDE_DEPTH)
      fail(`$INCLUDE nested more than ${MAX_INCLUDE_DEPTH} files deep at "${file}"`);
    if (++this.includeCount > this.maxIncludes)
      this.stop(`more than ${this.maxIncludes} $INCLUDE files in this zone, at "${file}"`);
    let text: string;
    try {
      text = this.readInclude(path, state.file);
    } catch (error) {
      if (error instanceof FileTooLargeError) {
        // Reported where the limit falls in the included file; the $INCLUDE says from where.
        const reason = `${error.message} (included from ${state.file}:${entry.line})`;
        this.errors.push(new ZoneFileError(file, error.line, reason));
        return;
      }
      const code =
        (error as NodeJS.ErrnoException).code ??
        (error instanceof Error ? error.message : String(error));
      return fail(`$INCLUDE cannot read "${file}": ${code}`);
    }
    // The included file starts with this file's origin (or the one given) and no previous
    // owner; the origin and owner it sets stay inside it (RFC 1035 5.1). $TTL is shared, as in BIND.
    yield* this.parseFile(text, origin, [...chain, { file, key }]);
  }
}

const DIRECTIVE_SHAPES: Readonly<Record<string, string>> = {
  $ORIGIN: 'one name',
  $TTL: 'one TTL',
  $INCLUDE: 'a file name and an optional origin',
};

function checkArgCount(name: string, count: number, min: number, max: number): void {
  if (count < min || count > max)
    fail(`${name} takes ${DIRECTIVE_SHAPES[name] ?? 'other fields'}, got ${count} fields`);
}

/** Parses a name field: `@` is the origin, relative names are completed with it. */
function parseName(token: Token, origin: Buffer, what: string): Buffer {
  if (token.text === '@' && !token.quoted) return origin;
  try {
    return nameFromText(token.text, origin);
  } catch (error) {
    if (!(error instanceof NameError)) throw error;
    return fail(`bad ${what} "${token.text}": ${error.message}`);
  }
}

/**
 * Parses master-file text into records. Never throws for bad content: each bad entry is
 * skipped and reported in `errors` (at most `maxErrors`; parsing stops there), so a checker
 * can print them all. Records outside the origin are kept; the zone builder judges them.
 * A record without a TTL takes `$TTL`, else `defaultTtl`, else the last TTL written.
 * @example parseMasterFile('$TTL 300\n@ IN A 192.0.2.1\n', { file: 'example.org.zone', origin })
 */
export function parseMasterFile(text: string, options: ParseOptions): ParseResult {
  return runToEnd(parseMasterFileSteps(text, options));
}

/**
 * {@link parseMasterFile} as steps that a slicer (`lib/slices.ts`) can pause between, so that
 * a server parsing a large zone keeps answering: each step reads a few dozen entries.
 */
export function* parseMasterFileSteps(text: string, options: ParseOptions): Steps<ParseResult> {
  const parser = new MasterFileParser(options);
  const top = { file: options.file, key: resolve(options.file) };
  yield* parser.parseFile(text, options.origin, [top]);
  return { records: parser.records, errors: parser.errors };
}

/** Like {@link parseMasterFile}, but throws the first {@link ZoneFileError} instead. */
export function parseMasterFileOrThrow(text: string, options: ParseOptions): ParseResult {
  const result = parseMasterFile(text, { ...options, maxErrors: 1 });
  const first = result.errors[0];
  if (first) throw first;
  return result;
}
