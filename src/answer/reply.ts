import { Flag, RRType, EdnsOption } from '../dns/constants.js';
import type { ParsedQuery } from '../dns/query.js';
import type { EncodedAnswer } from './encoded.js';

/**
 * Assembles reply packets from a parsed query: header, the question copied byte for byte,
 * a pre-encoded body cut to the size limit, and the OPT record.
 */

/** Size of the OPT record we send for this query (0 without EDNS). */
export function optLength(q: ParsedQuery): number {
  if (!q.edns) return 0;
  const cookie = q.replyCookieLength > 0 ? 4 + q.replyCookieLength : 0;
  return 11 + (q.hasEcs ? 8 + ((q.ecsSourcePrefix + 7) >> 3) : 0) + cookie;
}

/** Writes the reply's COOKIE option (RFC 7873) at `o`, if it has one; returns the offset past it. */
function writeCookie(out: Buffer, o: number, q: ParsedQuery): number {
  const length = q.replyCookieLength;
  if (length === 0) return o;
  out.writeUInt16BE(EdnsOption.COOKIE, o);
  out.writeUInt16BE(length, o + 2);
  q.replyCookie.copy(out, o + 4, 0, length);
  return o + 4 + length;
}

/** Writes the OPT record at `o` and returns the offset past it. */
export function writeOpt(
  out: Buffer,
  o: number,
  q: ParsedQuery,
  payload: number,
  extendedRcode: number,
  ecsScope: number,
): number {
  out[o] = 0;
  out.writeUInt16BE(RRType.OPT, o + 1);
  out.writeUInt16BE(payload, o + 3);
  out[o + 5] = extendedRcode;
  out[o + 6] = 0;
  out[o + 7] = q.dnssecOk ? 0x80 : 0;
  out[o + 8] = 0;
  let end = o + 11;
  if (q.hasEcs) {
    const addressBytes = (q.ecsSourcePrefix + 7) >> 3;
    out.writeUInt16BE(EdnsOption.CLIENT_SUBNET, o + 11);
    out.writeUInt16BE(4 + addressBytes, o + 13);
    out.writeUInt16BE(q.ecsFamily, o + 15);
    out[o + 17] = q.ecsSourcePrefix;
    out[o + 18] = Math.min(ecsScope, q.ecsFamily === 1 ? 32 : 128);
    q.ecsAddress.copy(out, o + 19, 0, addressBytes);
    end = o + 19 + addressBytes;
  }
  end = writeCookie(out, end, q);
  out.writeUInt16BE(end - o - 11, o + 9);
  return end;
}

/** Flags of a reply: QR, the query's opcode, RD and CD copied (RFC 1035, RFC 6840 5.9). */
export function replyFlags(q: ParsedQuery): number {
  return Flag.QR | (q.flags & (0x7800 | Flag.RD | Flag.CD));
}

/** A reply without records: errors (FORMERR, NOTIMP, REFUSED, BADVERS) and truncation. */
export function emptyReply(
  q: ParsedQuery,
  msg: Buffer,
  rcode: number,
  extraFlags: number,
  payload: number,
): Buffer {
  const qlen = q.hasQuestion ? q.questionEnd - 12 : 0;
  const out = Buffer.allocUnsafe(12 + qlen + optLength(q));
  out.writeUInt16BE(q.id, 0);
  out.writeUInt16BE(replyFlags(q) | extraFlags | (rcode & 0xf), 2);
  out.writeUInt32BE(qlen > 0 ? 0x00010000 : 0, 4);
  out.writeUInt32BE(q.edns ? 1 : 0, 8);
  if (qlen > 0) msg.copy(out, 12, 12, q.questionEnd);
  if (q.edns) writeOpt(out, 12 + qlen, q, payload, rcode >> 4, 0);
  return out;
}

/**
 * Writes the header and copies the question (byte for byte) into `out`. Byte stores: the
 * Buffer helpers validate their arguments on every call, which costs more than the copy
 * itself at these sizes, and this runs once per answered query.
 */
function writeHead(
  out: Buffer,
  q: ParsedQuery,
  msg: Buffer,
  flags: number,
  ancount: number,
  nscount: number,
  arcount: number,
): void {
  out[0] = q.id >> 8;
  out[1] = q.id & 0xff;
  out[2] = flags >> 8;
  out[3] = flags & 0xff;
  out[4] = 0;
  out[5] = 1;
  out[6] = ancount >> 8;
  out[7] = ancount & 0xff;
  out[8] = nscount >> 8;
  out[9] = nscount & 0xff;
  out[10] = arcount >> 8;
  out[11] = arcount & 0xff;
  for (let i = 12; i < q.questionEnd; i++) out[i] = msg[i]!;
}

/**
 * A reply carrying an encoded answer. Additional records that do not fit `limit` are left
 * out (RFC 2181 9); when the answer, authority or required glue does not fit, the reply is
 * sent empty with TC set.
 */
export function answerReply(
  q: ParsedQuery,
  msg: Buffer,
  answer: EncodedAnswer,
  limit: number,
  payload: number,
  ecsScope: number,
): Buffer {
  const qlen = q.questionEnd - 12;
  const fixed = 12 + qlen + optLength(q);
  let arcount = answer.arcount;
  let bodyLength = answer.body.length;
  if (fixed + bodyLength > limit) {
    while (arcount > 0 && fixed + answer.additionalOffsets[arcount]! > limit) arcount--;
    bodyLength = answer.additionalOffsets[arcount]!;
    if (arcount < answer.requiredAdditional || fixed + bodyLength > limit) {
      return emptyReply(
        q,
        msg,
        answer.rcode,
        Flag.TC | (answer.authoritative ? Flag.AA : 0),
        payload,
      );
    }
  }
  const out = Buffer.allocUnsafe(fixed + bodyLength);
  const flags = replyFlags(q) | (answer.authoritative ? Flag.AA : 0) | answer.rcode;
  writeHead(out, q, msg, flags, answer.ancount, answer.nscount, arcount + (q.edns ? 1 : 0));
  out.set(
    bodyLength === answer.body.length ? answer.body : answer.body.subarray(0, bodyLength),
    12 + qlen,
  );
  if (q.edns) writeOpt(out, 12 + qlen + bodyLength, q, payload, 0, ecsScope);
  return out;
}

/**
 * A reply of address records owned by the question name: written straight into the packet
 * (each owner a pointer to the question), no general encoder. Used for steered answers,
 * which change per query and so are never pre-encoded.
 */
export function recordsReply(
  q: ParsedQuery,
  msg: Buffer,
  type: number,
  ttl: number,
  rdata: readonly Buffer[],
  limit: number,
  payload: number,
  ecsScope: number,
): Buffer {
  const qlen = q.questionEnd - 12;
  let size = 12 + qlen + optLength(q);
  for (const data of rdata) size += 12 + data.length;
  if (size > limit) return emptyReply(q, msg, 0, Flag.TC | Flag.AA, payload);
  const out = Buffer.allocUnsafe(size);
  writeHead(out, q, msg, replyFlags(q) | Flag.AA, rdata.length, 0, q.edns ? 1 : 0);
  let o = 12 + qlen;
  for (const data of rdata) {
    out[o] = 0xc0;
    out[o + 1] = 0x0c;
    out[o + 2] = type >> 8;
    out[o + 3] = type & 0xff;
    out[o + 4] = 0;
    out[o + 5] = 1;
    out[o + 6] = ttl >>> 24;
    out[o + 7] = (ttl >>> 16) & 0xff;
    out[o + 8] = (ttl >>> 8) & 0xff;
    out[o + 9] = ttl & 0xff;
    out[o + 10] = data.length >> 8;
    out[o + 11] = data.length & 0xff;
    out.set(data, o + 12);
    o += 12 + data.length;
  }
  if (q.edns) writeOpt(out, o, q, payload, 0, ecsScope);
  return out;
}
