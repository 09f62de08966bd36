import { isIPv4, isIPv6 } from 'node:net';
import { RRType, rrTypeName } from './constants.js';
import { NameError, nameFromText, nameToText, wireLength } from './name.js';
import { parseDurationText, type DurationSyntax } from '../lib/duration.js';
import { formatAddress, writeAddress } from '../lib/ip.js';
import { SteerdnsError } from '../lib/errors.js';

/**
 * RDATA in presentation form (RFC 1035 5.1, RFC 3597 5) <-> uncompressed wire form. Each
 * supported type is one row of {@link LAYOUTS}: a list of fields, each of a kind that knows
 * how to read its text and how to print its wire bytes, so both directions share one table.
 */

/** One field of a master-file line: raw text, backslash escapes still in it. */
export interface Token {
  /** The text; for a quoted field, what was between the quotes. */
  readonly text: string;
  /** True when the field was written inside double quotes. */
  readonly quoted: boolean;
}

/** Raised for record data that does not match its type; the message names the type. */
export class RdataError extends SteerdnsError {
  constructor(message: string) {
    super('STEERDNS_ERR_DNS_RDATA', message);
  }
}

type Kind =
  | 'ipv4'
  | 'ipv6'
  | 'u8'
  | 'u16'
  | 'u32'
  | 'time'
  | 'name'
  | 'string'
  | 'strings'
  | 'tag'
  | 'value'
  | 'hex';

interface Field {
  readonly kind: Kind;
  readonly name: string;
}

const f = (kind: Kind, name: string): Field => ({ kind, name });

/** Field layout of every type with a presentation form of its own. */
const LAYOUTS: ReadonlyMap<number, readonly Field[]> = new Map([
  [RRType.A, [f('ipv4', 'address')]],
  [RRType.NS, [f('name', 'nsdname')]],
  [RRType.CNAME, [f('name', 'cname')]],
  [RRType.DNAME, [f('name', 'target')]],
  [
    RRType.SOA,
    [
      f('name', 'mname'),
      f('name', 'rname'),
      f('u32', 'serial'),
      f('time', 'refresh'),
      f('time', 'retry'),
      f('time', 'expire'),
      f('time', 'minimum'),
    ],
  ],
  [RRType.PTR, [f('name', 'ptrdname')]],
  [RRType.HINFO, [f('string', 'cpu'), f('string', 'os')]],
  [RRType.MX, [f('u16', 'preference'), f('name', 'exchange')]],
  [RRType.TXT, [f('strings', 'text')]],
  [RRType.AAAA, [f('ipv6', 'address')]],
  [RRType.SRV, [f('u16', 'priority'), f('u16', 'weight'), f('u16', 'port'), f('name', 'target')]],
  [
    RRType.NAPTR,
    [
      f('u16', 'order'),
      f('u16', 'preference'),
      f('string', 'flags'),
      f('string', 'services'),
      f('string', 'regexp'),
      f('name', 'replacement'),
    ],
  ],
  [
    RRType.DS,
    [f('u16', 'key tag'), f('u8', 'algorithm'), f('u8', 'digest type'), f('hex', 'digest')],
  ],
  [RRType.CAA, [f('u8', 'flags'), f('tag', 'tag'), f('value', 'value')]],
]);

/** Kinds that take every remaining token (always the last field). */
const REST: ReadonlySet<Kind> = new Set<Kind>(['strings', 'hex']);

const MAX_RDATA = 0xffff;
const MAX_TTL = 0x7fffffff;
const MAX_U32 = 0xffffffff;
const scratch = Buffer.allocUnsafe(MAX_RDATA);

/** Copies `length` bytes from the start of `from`; a loop beats a native call for a few bytes. */
function copy(from: Uint8Array, to: Uint8Array, at: number, length: number): void {
  if (length > 32) {
    to.set(from.subarray(0, length), at);
    return;
  }
  for (let i = 0; i < length; i++) to[at + i] = from[i]!;
}

/** Where text fields are encoded to: a shared scratch buffer, copied out at the end. */
class Encoder {
  length = 0;
  readonly type: number;
  readonly origin: Buffer;

  constructor(type: number, origin: Buffer) {
    this.type = type;
    this.origin = origin;
  }

  /** The type's mnemonic, for messages; only looked up when one is needed. */
  get prefix(): string {
    return rrTypeName(this.type);
  }

  fail(message: string): never {
    throw new RdataError(`${this.prefix}: ${message}`);
  }

  reserve(n: number): number {
    if (this.length + n > MAX_RDATA) this.fail(`rdata longer than ${MAX_RDATA} bytes`);
    const at = this.length;
    this.length += n;
    return at;
  }

  bytes(data: Uint8Array): void {
    copy(data, scratch, this.reserve(data.length), data.length);
  }

  result(): Buffer {
    const out = Buffer.allocUnsafe(this.length);
    copy(scratch, out, 0, this.length);
    return out;
  }
}

/** Reads wire fields in order; every read checks the bounds. */
class Decoder {
  pos = 0;
  readonly data: Uint8Array;
  readonly prefix: string;

  constructor(prefix: string, data: Uint8Array) {
    this.prefix = prefix;
    this.data = data;
  }

  fail(message: string): never {
    throw new RdataError(`${this.prefix}: ${message}`);
  }

  take(n: number, what: string): number {
    if (this.pos + n > this.data.length) this.fail(`rdata ends inside ${what}`);
    const at = this.pos;
    this.pos += n;
    return at;
  }
}

const quote = (text: string): string => `"${text}"`;

// ---- numbers and durations -------------------------------------------------------------

function parseDecimal(text: string, max: number): number | undefined {
  if (text.length === 0 || text.length > 10) return undefined;
  let value = 0;
  for (let i = 0; i < text.length; i++) {
    const d = text.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return undefined;
    value = value * 10 + d;
  }
  return value <= max ? value : undefined;
}

/** BIND units (case-insensitive, combinable as in `1h30m`), in seconds. */
const BIND_UNITS = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };
const TTL_SYNTAX: DurationSyntax = { units: BIND_UNITS, ignoreCase: true, max: MAX_TTL };
const TIME_SYNTAX: DurationSyntax = { units: BIND_UNITS, ignoreCase: true, max: MAX_U32 };

/**
 * Parses a TTL: decimal seconds or BIND units `s m h d w` (case-insensitive, combinable as in
 * `1h30m`). Returns undefined unless the result lies in 0..2147483647 (RFC 2181 8).
 * @example parseTtl('1h30m') // 5400
 */
export function parseTtl(text: string): number | undefined {
  return parseDurationText(text, TTL_SYNTAX);
}

// ---- character-strings -------------------------------------------------------------------

const isDigit = (c: number | undefined): c is number => c !== undefined && c >= 0x30 && c <= 0x39;

/**
 * Decodes the backslash escapes of a presentation-form string (`\"`, `\\`, `\DDD`, `\X`)
 * into bytes; other characters become their UTF-8 bytes. Throws {@link RdataError} for a
 * dangling backslash or a `\DDD` that is not three digits up to 255.
 */
export function decodeEscapes(text: string, prefix = 'string'): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  if (!text.includes('\\')) return bytes;
  const out = Buffer.allocUnsafe(bytes.length);
  let n = 0;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    if (c !== 0x5c) {
      out[n++] = c;
      continue;
    }
    const d1 = bytes[i + 1];
    if (d1 === undefined) throw new RdataError(`${prefix}: dangling backslash in "${text}"`);
    if (!isDigit(d1)) {
      out[n++] = d1;
      i += 1;
      continue;
    }
    const d2 = bytes[i + 2];
    const d3 = bytes[i + 3];
    const value =
      isDigit(d2) && isDigit(d3) ? (d1 - 0x30) * 100 + (d2 - 0x30) * 10 + (d3 - 0x30) : 256;
    if (value > 255) throw new RdataError(`${prefix}: bad \\DDD escape in "${text}"`);
    out[n++] = value;
    i += 3;
  }
  return Buffer.from(out.subarray(0, n));
}

/** Formats bytes as the inside of a quoted string: `"` and `\` escaped, others as \DDD. */
function escapeString(data: Uint8Array, start: number, end: number): string {
  let text = '';
  for (let i = start; i < end; i++) {
    const c = data[i]!;
    if (c < 0x20 || c >= 0x7f) text += `\\${String(c).padStart(3, '0')}`;
    else if (c === 0x22 || c === 0x5c) text += `\\${String.fromCharCode(c)}`;
    else text += String.fromCharCode(c);
  }
  return text;
}

// ---- the field kinds ---------------------------------------------------------------------

const HEX = /^[0-9a-fA-F]*$/;

function parseUnsigned(e: Encoder, t: Token, field: Field, bytes: 1 | 2 | 4): number {
  const max = bytes === 4 ? MAX_U32 : bytes === 2 ? 0xffff : 0xff;
  const value = parseDecimal(t.text, max);
  if (value === undefined) e.fail(`expected ${field.name} as an integer 0-${max}, got "${t.text}"`);
  return value;
}

function parseName(e: Encoder, t: Token, field: Field): void {
  if (t.text === '@' && !t.quoted) {
    e.bytes(e.origin);
    return;
  }
  try {
    e.bytes(nameFromText(t.text, e.origin));
  } catch (error) {
    if (!(error instanceof NameError)) throw error;
    e.fail(`expected ${field.name} as a domain name, got "${t.text}": ${error.message}`);
  }
}

function parseString(e: Encoder, t: Token, field: Field, lengthPrefix: boolean): void {
  const data = decodeEscapes(t.text, e.prefix);
  if (lengthPrefix) {
    if (data.length > 255) {
      e.fail(`expected ${field.name} as a string of at most 255 bytes, got ${data.length} bytes`);
    }
    scratch[e.reserve(1)] = data.length;
  }
  e.bytes(data);
}

function parseHex(e: Encoder, tokens: readonly Token[], field: Field): void {
  const hex = tokens.map((token) => token.text).join('');
  if (!HEX.test(hex) || hex.length % 2 !== 0) {
    e.fail(`expected ${field.name} as an even number of hex digits, got "${hex}"`);
  }
  e.bytes(Buffer.from(hex, 'hex'));
}

function parseAddress(e: Encoder, t: Token, family: 4 | 6): void {
  const text = t.text;
  // Checked before the space is reserved, so that a bad address is reported as one.
  const ok = family === 4 ? isIPv4(text) : isIPv6(text) && !text.includes('%');
  if (!ok || !writeAddress(text, family, scratch, e.reserve(family === 4 ? 4 : 16))) {
    e.fail(`expected an IPv${family} address, got "${text}"`);
  }
}

function parseTime(e: Encoder, t: Token, field: Field): number {
  const value = parseDurationText(t.text, TIME_SYNTAX);
  if (value === undefined) {
    e.fail(`expected ${field.name} as seconds or a duration like 1h30m, got "${t.text}"`);
  }
  return value;
}

/** Encodes `tokens` (one, or all that are left for a rest kind) as one field. */
function encodeField(e: Encoder, field: Field, tokens: readonly Token[], index: number): void {
  const t = tokens[index]!;
  switch (field.kind) {
    case 'ipv4':
    case 'ipv6':
      parseAddress(e, t, field.kind === 'ipv4' ? 4 : 6);
      break;
    case 'u8':
      scratch[e.reserve(1)] = parseUnsigned(e, t, field, 1);
      break;
    case 'u16':
      scratch.writeUInt16BE(parseUnsigned(e, t, field, 2), e.reserve(2));
      break;
    case 'u32':
      scratch.writeUInt32BE(parseUnsigned(e, t, field, 4), e.reserve(4));
      break;
    case 'time':
      scratch.writeUInt32BE(parseTime(e, t, field), e.reserve(4));
      break;
    case 'name':
      parseName(e, t, field);
      break;
    case 'tag':
      if (!/^[a-zA-Z0-9]{1,15}$/.test(t.text)) {
        e.fail(`expected a tag of 1-15 letters and digits, got "${t.text}"`);
      }
      parseString(e, t, field, true);
      break;
    case 'string':
      parseString(e, t, field, true);
      break;
    case 'strings':
      for (let i = index; i < tokens.length; i++) parseString(e, tokens[i]!, field, true);
      break;
    case 'value':
      parseString(e, t, field, false);
      break;
    case 'hex':
      parseHex(e, tokens.slice(index), field);
      break;
  }
}

/** Reads one field from the wire and returns its presentation form. */
function decodeField(d: Decoder, field: Field): string {
  const data = d.data;
  switch (field.kind) {
    case 'ipv4': {
      const at = d.take(4, field.name);
      return `${data[at]}.${data[at + 1]}.${data[at + 2]}.${data[at + 3]}`;
    }
    case 'ipv6': {
      const at = d.take(16, field.name);
      return formatAddress(data.subarray(at, at + 16), { mappedDotted: true });
    }
    case 'u8':
      return String(data[d.take(1, field.name)]);
    case 'u16': {
      const at = d.take(2, field.name);
      return String((data[at]! << 8) | data[at + 1]!);
    }
    case 'u32':
    case 'time': {
      const at = d.take(4, field.name);
      return String(
        ((data[at]! << 24) | (data[at + 1]! << 16) | (data[at + 2]! << 8) | data[at + 3]!) >>> 0,
      );
    }
    case 'name':
      return decodeName(d, field);
    case 'string':
    case 'tag':
      return decodeString(d, field);
    case 'strings': {
      const parts = [decodeString(d, field)];
      while (d.pos < data.length) parts.push(decodeString(d, field));
      return parts.join(' ');
    }
    case 'value': {
      const at = d.take(data.length - d.pos, field.name);
      return quote(escapeString(data, at, data.length));
    }
    case 'hex':
      if (d.pos >= data.length) d.fail(`empty ${field.name}`);
      return Buffer.from(data.subarray(d.take(data.length - d.pos, field.name)))
        .toString('hex')
        .toUpperCase();
  }
}

function decodeName(d: Decoder, field: Field): string {
  let length: number;
  try {
    length = wireLength(d.data, d.pos);
  } catch {
    d.fail(`${field.name} is not an uncompressed domain name`);
  }
  if (length > 255) d.fail(`${field.name} is longer than 255 octets`);
  return nameToText(d.data, d.take(length, field.name));
}

function decodeString(d: Decoder, field: Field): string {
  const length = d.data[d.take(1, field.name)]!;
  const at = d.take(length, field.name);
  if (field.kind !== 'tag') return quote(escapeString(d.data, at, at + length));
  const tag = Buffer.from(d.data.subarray(at, at + length)).toString('latin1');
  if (!/^[a-zA-Z0-9]{1,15}$/.test(tag))
    d.fail(`bad tag "${escapeString(d.data, at, at + length)}"`);
  return tag;
}

// ---- the public functions ----------------------------------------------------------------

/** Meta types and reserved values that never appear as zone data (RFC 6895 3.1). */
const isMetaType = (type: number): boolean =>
  type === 0 || type === RRType.OPT || (type >= 128 && type <= 255);

function fieldCountError(e: Encoder, fields: readonly Field[], got: number): never {
  const rest = REST.has(fields[fields.length - 1]!.kind);
  const count = rest ? `at least ${fields.length}` : String(fields.length);
  const names = fields.map((field) => field.name).join(', ');
  return e.fail(`expected ${count} field${fields.length === 1 ? '' : 's'} (${names}), got ${got}`);
}

function fromGeneric(e: Encoder, type: number, tokens: readonly Token[]): Buffer {
  const lengthText = tokens[1]?.text ?? '';
  const length = parseDecimal(lengthText, MAX_RDATA);
  if (length === undefined)
    e.fail(`expected the \\# length as an integer 0-${MAX_RDATA}, got "${lengthText}"`);
  const hex = tokens
    .slice(2)
    .map((t) => t.text)
    .join('');
  if (!HEX.test(hex) || hex.length % 2 !== 0)
    e.fail(`expected \\# data as hex digits, got "${hex}"`);
  if (hex.length / 2 !== length)
    e.fail(`\\# length is ${length} but the data has ${hex.length / 2} bytes`);
  const rdata = Buffer.from(hex, 'hex');
  const fields = LAYOUTS.get(type);
  if (fields) decodeAll(new Decoder(`${e.prefix}: \\# data does not fit the type`, rdata), fields);
  return rdata;
}

function decodeAll(d: Decoder, fields: readonly Field[]): string {
  const parts = fields.map((field) => decodeField(d, field));
  if (d.pos !== d.data.length)
    d.fail(`${d.data.length - d.pos} bytes left over after the last field`);
  return parts.join(' ');
}

/**
 * Encodes the presentation-form RDATA of a record of `type` (the fields after the type) as
 * uncompressed wire data. Relative names are completed with `origin`; `@` is the origin.
 * Every type also takes the RFC 3597 generic form `\# <length> <hex>`, which is checked
 * against the type's layout when steerdns knows it. Throws {@link RdataError} for bad input.
 * @example rdataFromText(RRType.MX, [{ text: '10', quoted: false }, { text: 'mail', quoted: false }], origin)
 */
export function rdataFromText(type: number, tokens: readonly Token[], origin: Buffer): Buffer {
  const e: Encoder = new Encoder(type, origin);
  if (!Number.isInteger(type) || type < 0 || type > 0xffff) e.fail('type out of range 0-65535');
  if (isMetaType(type)) e.fail('a meta type, not allowed as record data');
  const first = tokens[0];
  if (first?.text === '\\#' && !first.quoted) return fromGeneric(e, type, tokens);
  const fields = LAYOUTS.get(type);
  if (!fields) e.fail('no presentation form known; use the generic form \\# <length> <hex>');
  const rest = REST.has(fields[fields.length - 1]!.kind);
  if (rest ? tokens.length < fields.length : tokens.length !== fields.length) {
    fieldCountError(e, fields, tokens.length);
  }
  for (let i = 0; i < fields.length; i++) encodeField(e, fields[i]!, tokens, i);
  return e.result();
}

/** Formats RDATA of an unknown type (or malformed RDATA of a known one) as `\# len hex`. */
function genericText(rdata: Uint8Array): string {
  const hex = Buffer.from(rdata).toString('hex').toUpperCase();
  return rdata.length === 0 ? '\\# 0' : `\\# ${rdata.length} ${hex}`;
}

/**
 * Formats uncompressed wire RDATA in presentation form: names absolute with the trailing
 * dot, strings quoted with `\"`, `\\` and `\DDD` escapes, unknown types (and data that does
 * not fit its type's layout) as RFC 3597 `\# len hex`. `rdataFromText` reads the result back
 * to the same bytes.
 * @example rdataToText(RRType.A, Buffer.from([192, 0, 2, 1])) // '192.0.2.1'
 */
export function rdataToText(type: number, rdata: Uint8Array): string {
  const fields = LAYOUTS.get(type);
  if (!fields) return genericText(rdata);
  try {
    return decodeAll(new Decoder(rrTypeName(type), rdata), fields);
  } catch (error) {
    if (error instanceof RdataError) return genericText(rdata);
    throw error;
  }
}
