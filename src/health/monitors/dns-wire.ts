import { Flag, Limits, RRClass, RRType } from '../../dns/constants.js';
import { wireKey } from '../../dns/name.js';
import { rdataToText } from '../../dns/rdata-text.js';
import { MessageWriter } from '../../dns/writer.js';

/**
 * The little DNS the `dns` monitor needs: one query out, one reply in. The reply decoder
 * reads the header, checks the question, and returns the answer records with their names
 * decompressed; it reads nothing else.
 */

/** One answer record, RDATA in uncompressed wire form. */
export interface AnswerRecord {
  readonly type: number;
  readonly rdata: Buffer;
}

/** What the monitor looks at in a reply. */
export interface Reply {
  readonly rcode: number;
  readonly truncated: boolean;
  readonly answers: readonly AnswerRecord[];
}

/** Encodes a query: one question, class IN, no EDNS; RD set when `recursion` is true. */
export function encodeQuery(id: number, qname: Buffer, qtype: number, recursion: boolean): Buffer {
  const writer = new MessageWriter(512);
  writer.u16(id);
  writer.u16(recursion ? Flag.RD : 0);
  writer.u16(1);
  writer.u16(0);
  writer.u16(0);
  writer.u16(0);
  writer.name(qname, false);
  writer.u16(qtype);
  writer.u16(RRClass.IN);
  return writer.toBuffer();
}

/** Raised for a reply that cannot be read. */
class ReplyError extends Error {}

/**
 * Decodes the reply to the query `id` for `qname`/`qtype`. Returns undefined for a packet
 * that is not that reply (another id, not a response, another question: ignore it and keep
 * waiting) and a string for a reply that is malformed.
 */
export function decodeReply(
  message: Buffer,
  id: number,
  qname: Buffer,
  qtype: number,
): Reply | string | undefined {
  if (message.length < 12 || message.readUInt16BE(0) !== id) return undefined;
  const flags = message.readUInt16BE(2);
  if ((flags & Flag.QR) === 0) return undefined;
  try {
    let offset = 12;
    const qdcount = message.readUInt16BE(4);
    if (qdcount > 1) return 'bad reply';
    if (qdcount === 1) {
      const question = readName(message, offset);
      offset = question.next;
      if (wireKey(question.name) !== wireKey(qname) || u16(message, offset) !== qtype) {
        return undefined;
      }
      offset += 4;
    }
    const answers: AnswerRecord[] = [];
    for (let i = message.readUInt16BE(6); i > 0; i--) {
      const owner = readName(message, offset);
      const type = u16(message, owner.next);
      const length = u16(message, owner.next + 8);
      const start = owner.next + 10;
      if (start + length > message.length) throw new ReplyError('rdata past the end');
      answers.push({ type, rdata: expandRdata(message, type, start, length) });
      offset = start + length;
    }
    return { rcode: flags & 0x0f, truncated: (flags & Flag.TC) !== 0, answers };
  } catch (error) {
    if (error instanceof ReplyError || error instanceof RangeError) return 'bad reply';
    throw error;
  }
}

function u16(message: Buffer, offset: number): number {
  if (offset + 2 > message.length) throw new ReplyError('short message');
  return message.readUInt16BE(offset);
}

/** Reads a possibly compressed name: its uncompressed wire form and the offset after it. */
export function readName(message: Buffer, start: number): { name: Buffer; next: number } {
  const labels: number[] = [];
  let offset = start;
  let next: number | undefined;
  for (let jumps = 0; ;) {
    const length = message[offset];
    if (length === undefined) throw new ReplyError('name past the end');
    if (length === 0) break;
    if ((length & 0xc0) === 0xc0) {
      if (++jumps > 64) throw new ReplyError('compression loop');
      next ??= offset + 2;
      offset = u16(message, offset) & 0x3fff;
      continue;
    }
    if (length > Limits.maxLabel || offset + 1 + length > message.length) {
      throw new ReplyError('bad label');
    }
    labels.push(...message.subarray(offset, offset + 1 + length));
    if (labels.length + 1 > Limits.maxName) throw new ReplyError('name too long');
    offset += 1 + length;
  }
  return { name: Buffer.from([...labels, 0]), next: next ?? offset + 1 };
}

/** RDATA with the names that may be compressed (RFC 3597 4) expanded. */
function expandRdata(message: Buffer, type: number, start: number, length: number): Buffer {
  const end = start + length;
  switch (type) {
    case RRType.CNAME:
    case RRType.NS:
    case RRType.PTR:
      return readName(message, start).name;
    case RRType.MX:
      return Buffer.concat([message.subarray(start, start + 2), readName(message, start + 2).name]);
    case RRType.SOA: {
      const mname = readName(message, start);
      const rname = readName(message, mname.next);
      return Buffer.concat([mname.name, rname.name, message.subarray(rname.next, end)]);
    }
    default:
      return Buffer.from(message.subarray(start, end));
  }
}

/**
 * The ways an answer may be written in the `answer` setting: its presentation text
 * ('192.0.2.1', 'www.example.org.', '"v=1" "x"') and, for TXT, its strings joined ('v=1x').
 */
export function answerTexts(record: AnswerRecord): string[] {
  const texts = [rdataToText(record.type, record.rdata)];
  if (record.type === RRType.TXT) texts.push(txtJoined(record.rdata));
  return texts;
}

function txtJoined(rdata: Buffer): string {
  const parts: Buffer[] = [];
  for (let p = 0; p < rdata.length; p += rdata[p]! + 1)
    parts.push(rdata.subarray(p + 1, p + 1 + rdata[p]!));
  return Buffer.concat(parts).toString('utf8');
}

/**
 * Compares an answer text with the `answer` setting: case-insensitive, a trailing dot
 * optional, IPv6 addresses in any spelling ('2001:DB8:0::1' = '2001:db8::1').
 */
export function sameAnswer(text: string, expected: string): boolean {
  return normalize(text) === normalize(expected);
}

function normalize(text: string): string {
  const lower = text.trim().toLowerCase();
  if (lower.includes(':') && /^[0-9a-f:.]+$/.test(lower)) {
    try {
      return new URL(`http://[${lower}]/`).hostname;
    } catch {
      return lower;
    }
  }
  return lower.endsWith('.') && lower.length > 1 ? lower.slice(0, -1) : lower;
}
