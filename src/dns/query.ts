import { ASCII_LOWER } from './name.js';
import { EdnsOption, Limits, Opcode, RRType } from './constants.js';

/**
 * The hot-path query decoder. It reads the header, the question and the OPT record (with
 * its client-subnet option) into a reusable {@link ParsedQuery} without building objects
 * per record, and validates every section's structure so that a malformed packet is
 * recognised here and nowhere else.
 */

/** What to do with a packet after decoding. */
export const Verdict = {
  /** A well-formed query: answer it. */
  OK: 0,
  /** Not worth a reply: shorter than a header, or a response (QR set). */
  DROP: 1,
  /** Malformed: reply FORMERR. */
  FORMERR: 2,
  /** Well-formed, opcode other than QUERY: reply NOTIMP. */
  NOTIMP: 3,
  /** EDNS version above 0: reply BADVERS (RFC 6891 6.1.3). */
  BADVERS: 4,
} as const;
export type Verdict = (typeof Verdict)[keyof typeof Verdict];

/** Fields of one query; one instance is reused for every packet a socket receives. */
export class ParsedQuery {
  id = 0;
  /** The 16-bit flags word as received. */
  flags = 0;
  opcode = 0;
  /** True when the question was read completely (it is echoed in any reply). */
  hasQuestion = false;
  /** Offset just past the question's root label. */
  qnameEnd = 12;
  /** Offset just past QTYPE and QCLASS. */
  questionEnd = 12;
  qtype = 0;
  qclass = 0;
  /** Number of labels in QNAME (the root not counted). */
  labels = 0;
  /** Start offset of each QNAME label, leftmost first. */
  readonly labelStarts = new Int32Array(128);
  /** QNAME key: wire form with ASCII lower-cased, latin1 (see name.ts). */
  key = '';
  /** True when the query carried an OPT record. */
  edns = false;
  ednsVersion = 0;
  /** Requestor's UDP payload size, as sent (may be below 512). */
  udpPayload = 0;
  /** The DO bit (RFC 3225). */
  dnssecOk = false;
  /** True when the OPT carried a valid client-subnet option (RFC 7871). */
  hasEcs = false;
  ecsFamily = 0;
  ecsSourcePrefix = 0;
  /** Client subnet address bytes, zero-padded to 4 (IPv4) or 16 (IPv6) octets. */
  readonly ecsAddress = Buffer.alloc(16);
  /** Length of the COOKIE option (RFC 7873): 8 (client cookie only), 16-40; 0 without. */
  cookieLength = 0;
  /** The COOKIE option's data: client cookie, then the server cookie if any. */
  readonly cookie = Buffer.alloc(40);
  /** Length of the COOKIE option to put in the reply's OPT (set by cookies.ts); 0: none. */
  replyCookieLength = 0;
  /** The reply's COOKIE option data (client cookie and our server cookie). */
  readonly replyCookie = Buffer.alloc(40);
  /** Why the packet was judged malformed; empty when it was not. */
  problem = '';

  reset(): void {
    this.hasQuestion = false;
    this.edns = false;
    this.hasEcs = false;
    this.cookieLength = 0;
    this.replyCookieLength = 0;
    this.dnssecOk = false;
    this.ednsVersion = 0;
    this.udpPayload = 0;
    this.labels = 0;
    this.qnameEnd = 12;
    this.questionEnd = 12;
    this.problem = '';
  }
}

function fail(q: ParsedQuery, problem: string): Verdict {
  q.problem = problem;
  return Verdict.FORMERR;
}

/** A big-endian 16-bit field; every caller has checked the bounds (cheaper than readUInt16BE). */
const u16 = (msg: Buffer, at: number): number => (msg[at]! << 8) | msg[at + 1]!;

/** Scratch space for lower-casing a question name (at most 255 octets). */
const lowered = Buffer.alloc(256);

/** Reads the question name; returns the offset past it, or -1 (problem set). */
function readQname(msg: Buffer, q: ParsedQuery): number {
  let p = 12;
  let labels = 0;
  let upper = false;
  for (;;) {
    if (p >= msg.length) return ((q.problem = 'question name runs past the packet'), -1);
    const len = msg[p]!;
    if (len === 0) break;
    if (len > Limits.maxLabel) {
      q.problem = len >= 0xc0 ? 'compression pointer in the question' : 'label longer than 63';
      return -1;
    }
    if (p + len + 1 > msg.length) return ((q.problem = 'question name runs past the packet'), -1);
    q.labelStarts[labels++] = p;
    for (let i = p + 1; i <= p + len; i++) {
      const byte = msg[i]!;
      if (byte >= 0x41 && byte <= 0x5a) upper = true;
    }
    p += len + 1;
    if (p - 12 + 1 > Limits.maxName) return ((q.problem = 'question name longer than 255'), -1);
  }
  // One native slice instead of a string built a character at a time; ASCII letters only
  // are folded (RFC 4343), never other latin1 octets.
  if (upper) {
    for (let i = 12; i <= p; i++) lowered[i - 12] = ASCII_LOWER[msg[i]!]!;
    q.key = lowered.toString('latin1', 0, p - 11);
  } else {
    q.key = msg.toString('latin1', 12, p + 1);
  }
  q.labels = labels;
  return p + 1;
}

/**
 * Skips a possibly compressed name at `p` and returns the offset past it, or -1 for a
 * malformed name. Pointers must point strictly backwards, which also rules out loops.
 */
export function skipName(msg: Uint8Array, p: number): number {
  let end = -1;
  let length = 1;
  let cursor = p;
  let hops = 0;
  for (;;) {
    if (cursor >= msg.length) return -1;
    const len = msg[cursor]!;
    if (len === 0) return end === -1 ? cursor + 1 : end;
    if ((len & 0xc0) === 0xc0) {
      if (cursor + 1 >= msg.length) return -1;
      const target = ((len & 0x3f) << 8) | msg[cursor + 1]!;
      if (target >= cursor || ++hops > 127) return -1;
      if (end === -1) end = cursor + 2;
      cursor = target;
      continue;
    }
    if (len > Limits.maxLabel) return -1;
    length += len + 1;
    if (length > Limits.maxName) return -1;
    cursor += len + 1;
  }
}

/** Skips one resource record; returns the offset past it or -1. */
function skipRecord(msg: Buffer, p: number): number {
  const afterName = skipName(msg, p);
  if (afterName < 0 || afterName + 10 > msg.length) return -1;
  const end = afterName + 10 + u16(msg, afterName + 8);
  return end > msg.length ? -1 : end;
}

function readEcs(msg: Buffer, p: number, len: number, q: ParsedQuery): Verdict {
  if (q.hasEcs) return fail(q, 'more than one client-subnet option');
  if (len < 4) return fail(q, 'client-subnet option shorter than 4 octets');
  const family = u16(msg, p);
  const source = msg[p + 2]!;
  const scope = msg[p + 3]!;
  const maxBits = family === 1 ? 32 : family === 2 ? 128 : 0;
  if (maxBits === 0) return fail(q, `client-subnet family ${family} unknown`);
  if (source > maxBits) return fail(q, `client-subnet source prefix ${source} > ${maxBits}`);
  if (scope !== 0) return fail(q, 'client-subnet scope prefix must be 0 in a query');
  const bytes = (source + 7) >> 3;
  if (len - 4 !== bytes) return fail(q, `client-subnet address must be ${bytes} octets`);
  const address = q.ecsAddress;
  address.fill(0);
  msg.copy(address, 0, p + 4, p + 4 + bytes);
  if (source % 8 !== 0 && (address[bytes - 1]! & (0xff >> (source % 8))) !== 0) {
    return fail(q, 'client-subnet address has bits set beyond the source prefix');
  }
  q.hasEcs = true;
  q.ecsFamily = family;
  q.ecsSourcePrefix = source;
  return Verdict.OK;
}

/** Reads a COOKIE option; malformed lengths are FORMERR (RFC 7873 5.2.2). */
function readCookie(msg: Buffer, p: number, len: number, q: ParsedQuery): Verdict {
  if (q.cookieLength !== 0) return fail(q, 'more than one cookie option');
  if (len !== 8 && (len < 16 || len > 40))
    return fail(q, `cookie option of ${len} octets (8, or 16 to 40)`);
  msg.copy(q.cookie, 0, p, p + len);
  q.cookieLength = len;
  return Verdict.OK;
}

function readOpt(msg: Buffer, p: number, end: number, q: ParsedQuery): Verdict {
  if (q.edns) return fail(q, 'more than one OPT record');
  q.edns = true;
  q.udpPayload = u16(msg, p + 3);
  q.ednsVersion = msg[p + 6]!;
  q.dnssecOk = (msg[p + 7]! & 0x80) !== 0;
  let o = p + 11;
  while (o < end) {
    if (o + 4 > end) return fail(q, 'truncated EDNS option');
    const code = u16(msg, o);
    const len = u16(msg, o + 2);
    if (o + 4 + len > end) return fail(q, 'EDNS option runs past the OPT record');
    if (code === EdnsOption.CLIENT_SUBNET) {
      const verdict = readEcs(msg, o + 4, len, q);
      if (verdict !== Verdict.OK) return verdict;
    } else if (code === EdnsOption.COOKIE) {
      const verdict = readCookie(msg, o + 4, len, q);
      if (verdict !== Verdict.OK) return verdict;
    }
    o += 4 + len;
  }
  return Verdict.OK;
}

function readAdditional(msg: Buffer, p: number, count: number, q: ParsedQuery): Verdict {
  for (let i = 0; i < count; i++) {
    const afterName = skipName(msg, p);
    if (afterName < 0 || afterName + 10 > msg.length) {
      return fail(q, 'additional record runs past the packet');
    }
    const end = afterName + 10 + u16(msg, afterName + 8);
    if (end > msg.length) return fail(q, 'additional record runs past the packet');
    if (u16(msg, afterName) === RRType.OPT) {
      const verdict =
        afterName === p + 1 ? readOpt(msg, p, end, q) : fail(q, 'OPT owner is not the root');
      if (verdict !== Verdict.OK) return verdict;
    }
    p = end;
  }
  return Verdict.OK;
}

/** Decodes one packet into `q` and says what to do with it. Never throws. */
export function parseQuery(msg: Buffer, q: ParsedQuery): Verdict {
  q.reset();
  if (msg.length < 12) return Verdict.DROP;
  q.id = u16(msg, 0);
  q.flags = u16(msg, 2);
  if ((q.flags & 0x8000) !== 0) return Verdict.DROP;
  q.opcode = (q.flags >> 11) & 0xf;
  const qdcount = u16(msg, 4);
  if (qdcount !== 1) return fail(q, qdcount === 0 ? 'no question' : 'more than one question');
  const qnameEnd = readQname(msg, q);
  if (qnameEnd < 0 || qnameEnd + 4 > msg.length) {
    return qnameEnd < 0 ? Verdict.FORMERR : fail(q, 'question runs past the packet');
  }
  q.qnameEnd = qnameEnd;
  q.questionEnd = qnameEnd + 4;
  q.qtype = u16(msg, qnameEnd);
  q.qclass = u16(msg, qnameEnd + 2);
  q.hasQuestion = true;
  let p = q.questionEnd;
  const skipped = u16(msg, 6) + u16(msg, 8);
  for (let i = 0; i < skipped; i++) {
    p = skipRecord(msg, p);
    if (p < 0) return fail(q, 'answer or authority record runs past the packet');
  }
  const verdict = readAdditional(msg, p, u16(msg, 10), q);
  if (verdict !== Verdict.OK) return verdict;
  if (q.opcode !== Opcode.QUERY) return Verdict.NOTIMP;
  if (q.edns && q.ednsVersion > 0) return Verdict.BADVERS;
  return Verdict.OK;
}
