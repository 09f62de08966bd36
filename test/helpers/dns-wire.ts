import dnsPacket from 'dns-packet';
import type { Answer, DecodedPacket, Question } from 'dns-packet';
import { randomInt } from 'node:crypto';
import { SocketAddress, isIPv4, isIPv6 } from 'node:net';

/**
 * Query encoding and reply decoding for the test DNS client. Deliberately independent of
 * src/dns: messages are built and read with the `dns-packet` package, and the parts it does
 * not handle well (numeric types, OPT records and their options, extended RCODEs) are
 * written and read here byte by byte.
 */

/** An EDNS option as sent on the wire. */
export interface RawOption {
  readonly code: number;
  readonly data: Uint8Array;
}

/** An EDNS client-subnet option (RFC 7871) to send. */
export interface EcsSpec {
  readonly family: 1 | 2;
  readonly sourcePrefix: number;
  /** @default 0 */
  readonly scopePrefix?: number;
  /** IPv4 or IPv6 text; only the first ceil(sourcePrefix / 8) octets are sent. */
  readonly address: string;
  /** Send the address octets as given, without clearing the bits past `sourcePrefix`. */
  readonly unmasked?: boolean;
}

/** The OPT record to send. */
export interface EdnsSpec {
  /** @default 1232 */
  readonly udpPayload?: number;
  /** The DO bit. @default false */
  readonly do?: boolean;
  /** @default 0 */
  readonly version?: number;
  /** Further OPT flag bits, ORed into the flags word. @default 0 */
  readonly flags?: number;
  /** Options sent before the client-subnet option, as given. */
  readonly options?: readonly RawOption[];
  readonly ecs?: EcsSpec;
}

/** One query. Types and classes are mnemonics (`A`, `TYPE65280`, `CH`) or numbers. */
export interface QuerySpec {
  readonly name: string;
  readonly type: string | number;
  /** @default 'IN' */
  readonly class?: string | number;
  /** @default a random id */
  readonly id?: number;
  /** @default false */
  readonly rd?: boolean;
  readonly cd?: boolean;
  readonly ad?: boolean;
  /** @default 0 (QUERY) */
  readonly opcode?: number;
  /** The OPT record; `false` sends none. @default {} (EDNS 0, payload 1232, like dig) */
  readonly edns?: false | EdnsSpec;
}

/** The OPT record of a reply, read from the raw bytes. */
export interface ReplyOpt {
  readonly udpPayload: number;
  readonly version: number;
  readonly do: boolean;
  readonly flags: number;
  readonly extendedRcode: number;
  readonly options: readonly RawOption[];
  /** The client-subnet option when present and at least 4 octets long. */
  readonly ecs?: {
    readonly family: number;
    readonly sourcePrefix: number;
    readonly scopePrefix: number;
    /** Zero-padded address as text; '' for an unknown family. */
    readonly address: string;
    /** Address octets exactly as received. */
    readonly addressBytes: Buffer;
  };
}

/** A reply decoded by dns-packet, plus convenient fields. */
export interface DecodedReply {
  readonly raw: Buffer;
  readonly packet: DecodedPacket;
  readonly id: number;
  readonly opcode: number;
  /** Mnemonic of the full RCODE, extended bits from the OPT included ('NOERROR', 'BADVERS'). */
  readonly rcode: string;
  /** Numeric full RCODE. */
  readonly rcodeValue: number;
  readonly flags: {
    readonly qr: boolean;
    readonly aa: boolean;
    readonly tc: boolean;
    readonly rd: boolean;
    readonly ra: boolean;
    readonly ad: boolean;
    readonly cd: boolean;
  };
  readonly questions: readonly Question[];
  readonly answers: readonly Answer[];
  readonly authorities: readonly Answer[];
  /** Additional records without OPT. */
  readonly additionals: readonly Answer[];
  readonly opt?: ReplyOpt;
  /** Number of OPT records in the additional section (RFC 6891 allows at most one). */
  readonly optCount: number;
}

// prettier-ignore
const TYPES: Readonly<Record<string, number>> = {
  A: 1, NS: 2, CNAME: 5, SOA: 6, NULL: 10, PTR: 12, HINFO: 13, MX: 15, TXT: 16, RP: 17,
  AAAA: 28, LOC: 29, SRV: 33, NAPTR: 35, CERT: 37, DNAME: 39, OPT: 41, DS: 43, SSHFP: 44,
  RRSIG: 46, NSEC: 47, DNSKEY: 48, NSEC3: 50, NSEC3PARAM: 51, TLSA: 52, CDS: 59, CDNSKEY: 60,
  SVCB: 64, HTTPS: 65, SPF: 99, TSIG: 250, IXFR: 251, AXFR: 252, MAILB: 253, MAILA: 254,
  ANY: 255, URI: 256, CAA: 257,
};

const CLASSES: Readonly<Record<string, number>> = { IN: 1, CH: 3, HS: 4, NONE: 254, ANY: 255 };

// prettier-ignore
const RCODES = [
  'NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED', 'YXDOMAIN', 'YXRRSET',
  'NXRRSET', 'NOTAUTH', 'NOTZONE', 'DSOTYPENI', 'RCODE12', 'RCODE13', 'RCODE14', 'RCODE15',
  'BADVERS', 'BADKEY', 'BADTIME', 'BADMODE', 'BADNAME', 'BADALG', 'BADTRUNC', 'BADCOOKIE',
];

function mnemonicCode(
  text: string | number,
  table: Readonly<Record<string, number>>,
  prefix: string,
): number {
  if (typeof text === 'number') return text;
  const upper = text.toUpperCase();
  const known = table[upper];
  if (known !== undefined) return known;
  const generic = new RegExp(`^${prefix}(\\d{1,5})$`).exec(upper);
  if (generic?.[1] !== undefined && Number(generic[1]) <= 0xffff) return Number(generic[1]);
  throw new Error(`dns-client: unknown ${prefix.toLowerCase()} ${text}`);
}

/** The numeric value of a type mnemonic (`AAAA`, `TYPE65280`) or number. */
export const typeCode = (type: string | number): number => mnemonicCode(type, TYPES, 'TYPE');

/** The numeric value of a class mnemonic (`IN`, `CLASS254`) or number. */
export const classCode = (klass: string | number): number => mnemonicCode(klass, CLASSES, 'CLASS');

/** Name of a full (extended) RCODE: 'NOERROR', 'BADVERS', or 'RCODE<n>'. */
export const rcodeName = (rcode: number): string => RCODES[rcode] ?? `RCODE${rcode}`;

/** IPv4 (4 octets) or IPv6 (16 octets) address text to bytes. */
export function ipToBytes(address: string): Buffer {
  if (isIPv4(address)) return Buffer.from(address.split('.').map(Number));
  if (!isIPv6(address)) throw new Error(`dns-client: not an IP address: ${address}`);
  let text = address;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4?.[1] !== undefined) {
    const b = ipToBytes(v4[1]);
    text = `${text.slice(0, v4.index)}${b.readUInt16BE(0).toString(16)}:${b.readUInt16BE(2).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = new Array<string>(8 - headGroups.length - tailGroups.length).fill('0');
  const out = Buffer.alloc(16);
  [...headGroups, ...zeros, ...tailGroups].forEach((g, i) =>
    out.writeUInt16BE(parseInt(g, 16), i * 2),
  );
  return out;
}

/** Address bytes (zero-padded to 4 or 16 octets) to canonical text for `family` 1 or 2. */
export function bytesToIp(family: number, bytes: Uint8Array): string {
  const size = family === 1 ? 4 : family === 2 ? 16 : 0;
  if (size === 0) return '';
  const padded = Buffer.alloc(size);
  padded.set(bytes.subarray(0, size));
  if (family === 1) return [...padded].join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(padded.readUInt16BE(i).toString(16));
  return new SocketAddress({ address: groups.join(':'), family: 'ipv6' }).address;
}

/** The wire form of a client-subnet option. */
export function ecsOption(ecs: EcsSpec): RawOption {
  const bytes = ipToBytes(ecs.address);
  const length = Math.ceil(ecs.sourcePrefix / 8);
  const address = Buffer.alloc(length);
  bytes.copy(address, 0, 0, Math.min(length, bytes.length));
  const spare = length * 8 - ecs.sourcePrefix;
  if (!ecs.unmasked && length > 0 && spare > 0) address[length - 1]! &= (0xff << spare) & 0xff;
  const data = Buffer.alloc(4);
  data.writeUInt16BE(ecs.family, 0);
  data.writeUInt8(ecs.sourcePrefix & 0xff, 2);
  data.writeUInt8((ecs.scopePrefix ?? 0) & 0xff, 3);
  return { code: 8, data: Buffer.concat([data, address]) };
}

/** The wire form of an OPT record (owner name, type, class, TTL, RDATA). */
export function encodeOpt(edns: EdnsSpec = {}): Buffer {
  const options = [...(edns.options ?? []), ...(edns.ecs ? [ecsOption(edns.ecs)] : [])];
  const rdata = Buffer.concat(
    options.map((o) => {
      const head = Buffer.alloc(4);
      head.writeUInt16BE(o.code, 0);
      head.writeUInt16BE(o.data.length, 2);
      return Buffer.concat([head, o.data]);
    }),
  );
  const fixed = Buffer.alloc(11);
  fixed.writeUInt16BE(41, 1);
  fixed.writeUInt16BE(edns.udpPayload ?? 1232, 3);
  fixed.writeUInt8(edns.version ?? 0, 6);
  fixed.writeUInt16BE(((edns.do ? 0x8000 : 0) | (edns.flags ?? 0)) & 0xffff, 7);
  fixed.writeUInt16BE(rdata.length, 9);
  return Buffer.concat([fixed, rdata]);
}

/** Encodes a query: dns-packet writes header and question; type, class and OPT are patched in. */
export function encodeQuery(spec: QuerySpec): Buffer {
  const flags =
    (((spec.opcode ?? 0) & 0xf) << 11) |
    (spec.rd ? dnsPacket.RECURSION_DESIRED : 0) |
    (spec.ad ? dnsPacket.AUTHENTIC_DATA : 0) |
    (spec.cd ? dnsPacket.CHECKING_DISABLED : 0);
  const base = dnsPacket.encode({
    type: 'query',
    id: spec.id ?? randomInt(0, 0x10000),
    flags,
    questions: [{ name: spec.name, type: 'A', class: 'IN' }],
  });
  base.writeUInt16BE(typeCode(spec.type), base.length - 4);
  base.writeUInt16BE(classCode(spec.class ?? 'IN'), base.length - 2);
  if (spec.edns === false) return base;
  base.writeUInt16BE(1, 10);
  return Buffer.concat([base, encodeOpt(spec.edns)]);
}

/** Offset just past the (possibly compressed) name at `offset`; throws past the end. */
export function skipName(buf: Uint8Array, offset: number): number {
  let p = offset;
  for (;;) {
    const len = buf[p];
    if (len === undefined) throw new Error('dns-client: name runs past the message');
    if ((len & 0xc0) === 0xc0) return p + 2;
    if (len === 0) return p + 1;
    p += len + 1;
  }
}

function readOptions(raw: Buffer, start: number, end: number): RawOption[] {
  const options: RawOption[] = [];
  for (let p = start; p + 4 <= end;) {
    const len = raw.readUInt16BE(p + 2);
    options.push({
      code: raw.readUInt16BE(p),
      data: raw.subarray(p + 4, Math.min(p + 4 + len, end)),
    });
    p += 4 + len;
  }
  return options;
}

function readOpt(raw: Buffer, offset: number, end: number): ReplyOpt {
  const ttl = raw.readUInt32BE(offset + 4);
  const options = readOptions(raw, offset + 10, end);
  const ecsRaw = options.find((o) => o.code === 8 && o.data.length >= 4);
  const base = {
    udpPayload: raw.readUInt16BE(offset + 2),
    extendedRcode: ttl >>> 24,
    version: (ttl >>> 16) & 0xff,
    flags: ttl & 0xffff,
    do: (ttl & 0x8000) !== 0,
    options,
  };
  if (!ecsRaw) return base;
  const d = Buffer.from(ecsRaw.data);
  const family = d.readUInt16BE(0);
  const addressBytes = d.subarray(4);
  const ecs = {
    family,
    sourcePrefix: d[2]!,
    scopePrefix: d[3]!,
    address: bytesToIp(family, addressBytes),
    addressBytes,
  };
  return { ...base, ecs };
}

/** Finds the OPT records of a message by walking its sections. */
function findOpts(raw: Buffer): ReplyOpt[] {
  let p = 12;
  for (let i = raw.readUInt16BE(4); i > 0; i--) p = skipName(raw, p) + 4;
  const records = raw.readUInt16BE(6) + raw.readUInt16BE(8);
  const additionals = raw.readUInt16BE(10);
  const opts: ReplyOpt[] = [];
  for (let i = 0; i < records + additionals; i++) {
    const start = skipName(raw, p);
    if (start + 10 > raw.length) throw new Error('dns-client: record runs past the message');
    const end = start + 10 + raw.readUInt16BE(start + 8);
    if (end > raw.length) throw new Error('dns-client: RDATA runs past the message');
    if (i >= records && raw.readUInt16BE(start) === 41) opts.push(readOpt(raw, start, end));
    p = end;
  }
  return opts;
}

/** Decodes a reply; throws with the message in hex when it is malformed. */
export function decodeReply(raw: Buffer): DecodedReply {
  let packet: DecodedPacket;
  let opts: ReplyOpt[];
  try {
    packet = dnsPacket.decode(raw);
    opts = findOpts(raw);
  } catch (err) {
    throw new Error(`dns-client: cannot decode reply ${raw.toString('hex')}`, { cause: err });
  }
  const opt = opts[0];
  const flagsWord = raw.readUInt16BE(2);
  const rcodeValue = ((opt?.extendedRcode ?? 0) << 4) | (flagsWord & 0xf);
  return {
    raw,
    packet,
    id: raw.readUInt16BE(0),
    opcode: (flagsWord >> 11) & 0xf,
    rcode: rcodeName(rcodeValue),
    rcodeValue,
    flags: {
      qr: packet.flag_qr,
      aa: packet.flag_aa,
      tc: packet.flag_tc,
      rd: packet.flag_rd,
      ra: packet.flag_ra,
      ad: packet.flag_ad,
      cd: packet.flag_cd,
    },
    questions: packet.questions ?? [],
    answers: packet.answers ?? [],
    authorities: packet.authorities ?? [],
    additionals: (packet.additionals ?? []).filter((a) => a.type !== 'OPT'),
    ...(opt ? { opt } : {}),
    optCount: opts.length,
  };
}
