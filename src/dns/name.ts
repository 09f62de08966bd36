import { Limits } from './constants.js';

/**
 * Domain names. A name is kept in uncompressed wire form (length-prefixed labels ending in
 * the zero-length root label), which is exact for every byte a label may hold. Lookups use
 * its key: the wire form with ASCII letters lower-cased (RFC 4343), as a latin1 string.
 */

/** Raised for a name that cannot be parsed or is too long. */
export class NameError extends Error {
  readonly code = 'STEERDNS_ERR_DNS_NAME';
}

/** The root name, in wire form. */
export const ROOT: Buffer = Buffer.from([0]);

/** Byte -> the same byte with ASCII A-Z lower-cased; other bytes unchanged (RFC 4343). */
export const ASCII_LOWER: Uint8Array = new Uint8Array(256).map((_, i) =>
  i >= 0x41 && i <= 0x5a ? i | 0x20 : i,
);

/** Lower-cases ASCII A-Z only; other bytes are left as they are (RFC 4343). */
export function lowerAsciiByte(byte: number): number {
  return ASCII_LOWER[byte]!;
}

/** Returns the lookup key of the wire name in `buf` between `start` and `end`. */
export function wireKey(buf: Uint8Array, start = 0, end = buf.length): string {
  const text = Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString('latin1');
  // Only ASCII A-Z fold; toLowerCase on the whole string would also fold latin1 letters.
  return HAS_UPPER.test(text) ? text.replace(UPPER_RUNS, (run) => run.toLowerCase()) : text;
}

const HAS_UPPER = /[A-Z]/;
const UPPER_RUNS = /[A-Z]+/g;

/** Returns the wire length of the uncompressed name that starts at `offset`. */
export function wireLength(buf: Uint8Array, offset = 0): number {
  let p = offset;
  while (buf[p] !== 0) {
    const len = buf[p];
    if (len === undefined || len > Limits.maxLabel) throw new NameError('not an uncompressed name');
    p += len + 1;
  }
  return p + 1 - offset;
}

/** True when `name` equals `ancestor` or lies below it (case-insensitive). */
export function isSubdomain(name: Uint8Array, ancestor: Uint8Array): boolean {
  const skip = name.length - ancestor.length;
  if (skip < 0) return false;
  let p = 0;
  while (p < skip) p += name[p]! + 1;
  if (p !== skip) return false;
  for (let i = 0; i < ancestor.length; i++) {
    if (lowerAsciiByte(name[skip + i]!) !== lowerAsciiByte(ancestor[i]!)) return false;
  }
  return true;
}

/** Joins a relative wire name (ending in the root label) onto an origin. */
export function concatNames(relative: Uint8Array, origin: Uint8Array): Buffer {
  const out = Buffer.concat([relative.subarray(0, relative.length - 1), origin]);
  if (out.length > Limits.maxName) throw new NameError(`name longer than ${Limits.maxName} octets`);
  return out;
}

const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;

/**
 * Parses a name in presentation form (RFC 1035 5.1: `\.`, `\\`, `\DDD`). A name without a
 * trailing dot is relative and is completed with `origin`; without an origin it is an error.
 */
export function nameFromText(text: string, origin?: Uint8Array): Buffer {
  if (text === '.') return Buffer.from(ROOT);
  const bytes = Buffer.from(text, 'latin1');
  if (Buffer.byteLength(text, 'utf8') !== bytes.length) {
    throw new NameError(`name "${text}" has non-ASCII characters; use \\DDD escapes`);
  }
  const out: number[] = [];
  let label: number[] = [];
  let absolute = false;
  const endLabel = (): void => {
    if (label.length === 0) throw new NameError(`empty label in "${text}"`);
    if (label.length > Limits.maxLabel) {
      throw new NameError(`label longer than ${Limits.maxLabel} octets in "${text}"`);
    }
    out.push(label.length, ...label);
    label = [];
  };
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    if (c === 0x5c) {
      const d1 = bytes[i + 1];
      if (d1 === undefined) throw new NameError(`dangling escape in "${text}"`);
      if (isDigit(d1)) {
        const d2 = bytes[i + 2];
        const d3 = bytes[i + 3];
        if (d2 === undefined || d3 === undefined || !isDigit(d2) || !isDigit(d3)) {
          throw new NameError(`bad \\DDD escape in "${text}"`);
        }
        const value = (d1 - 0x30) * 100 + (d2 - 0x30) * 10 + (d3 - 0x30);
        if (value > 255) throw new NameError(`\\DDD escape above 255 in "${text}"`);
        label.push(value);
        i += 3;
      } else {
        label.push(d1);
        i += 1;
      }
    } else if (c === 0x2e) {
      endLabel();
      if (i === bytes.length - 1) absolute = true;
    } else {
      label.push(c);
    }
  }
  if (!absolute) {
    if (label.length > 0) endLabel();
    if (!origin) throw new NameError(`relative name "${text}" without an origin`);
    const relative = Buffer.from([...out, 0]);
    return concatNames(relative, origin);
  }
  out.push(0);
  if (out.length > Limits.maxName) throw new NameError(`name longer than ${Limits.maxName} octets`);
  return Buffer.from(out);
}

const needsEscape = (c: number): boolean =>
  c === 0x2e ||
  c === 0x5c ||
  c === 0x22 ||
  c === 0x28 ||
  c === 0x29 ||
  c === 0x3b ||
  c === 0x40 ||
  c === 0x24;

/** Formats an uncompressed wire name in presentation form, with the trailing dot. */
export function nameToText(wire: Uint8Array, offset = 0): string {
  if (wire[offset] === 0) return '.';
  let text = '';
  let p = offset;
  while (wire[p] !== 0) {
    const len = wire[p]!;
    for (let i = p + 1; i <= p + len; i++) {
      const c = wire[i]!;
      if (c <= 0x20 || c >= 0x7f) text += `\\${String(c).padStart(3, '0')}`;
      else if (needsEscape(c)) text += `\\${String.fromCharCode(c)}`;
      else text += String.fromCharCode(c);
    }
    text += '.';
    p += len + 1;
  }
  return text;
}
