import type { Token } from '../dns/rdata-text.js';

/**
 * Splits master-file text (RFC 1035 5.1) into entries: the fields of one line, with lines
 * inside parentheses joined, comments dropped and quotes removed. Backslash escapes are left
 * in the field text for the field's own parser. One pass over the characters, no regexes.
 */

/** One entry (directive or record) of a master file. */
export interface Entry {
  /** 1-based line where the entry starts. */
  readonly line: number;
  /** True when the line starts with a blank: the record has the previous owner. */
  readonly blankOwner: boolean;
  readonly tokens: readonly Token[];
  /** The first syntax problem in the entry; when set, the entry must be skipped. */
  readonly error?: string;
}

const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;
const QUOTE = 0x22;
const LPAREN = 0x28;
const RPAREN = 0x29;
const SEMICOLON = 0x3b;
const BACKSLASH = 0x5c;
const BOM = 0xfeff;

/**
 * The most field text one entry may hold, in characters (each field counts one more). The
 * largest record (65,535 octets of RDATA, every octet written `\DDD`) takes about 262,000;
 * past this bound the rest of the line is skipped unread, so that a file of one huge line
 * costs a scan for its end, not a field the size of the file.
 */
export const MAX_ENTRY_CHARS = 1 << 20;

/** ASCII characters that end an unquoted field. */
const DELIMITER = new Uint8Array(128);
for (const c of [LF, CR, SPACE, TAB, QUOTE, LPAREN, RPAREN, SEMICOLON]) DELIMITER[c] = 1;

/** Reads entries one at a time from master-file text; CRLF and LF line ends both work. */
export class MasterTokenizer {
  private readonly text: string;
  private pos: number;
  private line = 1;

  constructor(text: string) {
    this.text = text;
    this.pos = text.charCodeAt(0) === BOM ? 1 : 0;
  }

  /** The next entry, skipping blank and comment-only lines; undefined at the end. */
  next(): Entry | undefined {
    while (this.pos < this.text.length) {
      const entry = this.entry();
      if (entry) return entry;
    }
    return undefined;
  }

  /** Reads from the start of a line to the end of its entry; undefined for an empty one. */
  private entry(): Entry | undefined {
    const text = this.text;
    const end = text.length;
    const line = this.line;
    const first = text.charCodeAt(this.pos);
    const blankOwner = first === SPACE || first === TAB;
    const tokens: Token[] = [];
    let error: string | undefined;
    let depth = 0;
    let size = 0;
    while (this.pos < end) {
      if (size > MAX_ENTRY_CHARS) {
        error ??= `entry too long: more than ${MAX_ENTRY_CHARS} characters of fields`;
        tokens.length = 0;
        size = 0;
        // Outside parentheses the entry ends with the line; inside, it is read to its end.
        if (depth === 0) {
          const eol = text.indexOf('\n', this.pos);
          this.pos = eol < 0 ? end : eol;
        }
        continue;
      }
      const c = text.charCodeAt(this.pos);
      if (c === LF) {
        this.line++;
        this.pos++;
        if (depth === 0) break;
      } else if (c === SPACE || c === TAB || c === CR) {
        this.pos++;
      } else if (c === SEMICOLON) {
        const eol = text.indexOf('\n', this.pos);
        this.pos = eol < 0 ? end : eol;
      } else if (c === LPAREN) {
        depth++;
        this.pos++;
      } else if (c === RPAREN) {
        if (depth === 0) error ??= 'unbalanced parenthesis: ")" without "("';
        else depth--;
        this.pos++;
      } else if (c === QUOTE) {
        const token = this.quoted();
        if (token) {
          tokens.push(token);
          size += token.text.length + 1;
        } else {
          error ??= 'unterminated quoted string';
        }
      } else {
        const token = this.word();
        tokens.push(token);
        size += token.text.length + 1;
      }
    }
    if (depth > 0) error ??= 'unbalanced parenthesis: "(" without ")"';
    if (error !== undefined) return { line, blankOwner, tokens, error };
    return tokens.length > 0 ? { line, blankOwner, tokens } : undefined;
  }

  /**
   * Reads `"..."` at `pos`; undefined (stopping at the line end) when it is not closed. A
   * string longer than {@link MAX_ENTRY_CHARS} is cut there (the entry is then too long).
   */
  private quoted(): Token | undefined {
    const text = this.text;
    const start = this.pos + 1;
    const end = Math.min(text.length, start + MAX_ENTRY_CHARS + 1);
    let p = start;
    while (p < end) {
      const c = text.charCodeAt(p);
      if (c === QUOTE) {
        this.pos = p + 1;
        return { text: text.slice(start, p), quoted: true };
      }
      if (c === LF) break;
      p = c === BACKSLASH ? this.skipEscape(p) : p + 1;
    }
    this.pos = p;
    // Cut at the bound, not at a line end: too long, which the entry then reports.
    return p >= end && p < text.length ? { text: text.slice(start, p), quoted: true } : undefined;
  }

  /** Reads an unquoted field at `pos`, at most one character past {@link MAX_ENTRY_CHARS}. */
  private word(): Token {
    const text = this.text;
    const start = this.pos;
    const end = Math.min(text.length, start + MAX_ENTRY_CHARS + 1);
    let p = start;
    while (p < end) {
      const c = text.charCodeAt(p);
      if (c < 128 && DELIMITER[c] === 1) break;
      p = c === BACKSLASH ? this.skipEscape(p) : p + 1;
    }
    this.pos = p;
    return { text: text.slice(start, p), quoted: false };
  }

  /** Steps over a backslash and the character it escapes, counting an escaped line end. */
  private skipEscape(p: number): number {
    if (p + 1 >= this.text.length) return p + 1;
    if (this.text.charCodeAt(p + 1) === LF) this.line++;
    return p + 2;
  }
}
