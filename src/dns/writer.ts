import { wireKey } from './name.js';
import { Limits, RRType } from './constants.js';
import type { ResourceRecord } from './record.js';

/**
 * Builds DNS messages with name compression (RFC 1035 4.1.4). Used to pre-encode answers
 * once and for answers that depend on the query (negative answers, synthesized records).
 * Only the well-known types of RFC 1035 have their RDATA names compressed (RFC 3597 4).
 */
export class MessageWriter {
  /** The message so far: bytes [0, length). */
  buf: Buffer;
  length = 0;
  /** Lower-cased name suffix (latin1 wire form) -> offset where it was written. */
  private readonly offsets = new Map<string, number>();

  constructor(capacity = 4096) {
    this.buf = Buffer.alloc(capacity);
  }

  /** Forgets everything written so far. */
  reset(): void {
    this.length = 0;
    this.offsets.clear();
  }

  /** Returns a copy of the message written so far. */
  toBuffer(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.length));
  }

  private ensure(extra: number): void {
    const needed = this.length + extra;
    if (needed <= this.buf.length) return;
    if (needed > Limits.maxMessage + 4096) throw new RangeError('dns message too large');
    const next = Buffer.alloc(Math.max(needed, this.buf.length * 2));
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }

  u8(value: number): void {
    this.ensure(1);
    this.buf[this.length++] = value;
  }

  u16(value: number): void {
    this.ensure(2);
    this.buf.writeUInt16BE(value, this.length);
    this.length += 2;
  }

  u32(value: number): void {
    this.ensure(4);
    this.buf.writeUInt32BE(value >>> 0, this.length);
    this.length += 4;
  }

  bytes(data: Uint8Array): void {
    this.ensure(data.length);
    this.buf.set(data, this.length);
    this.length += data.length;
  }

  /** Overwrites a 16-bit value at `offset` (e.g. a count in the header, an RDLENGTH). */
  patchU16(offset: number, value: number): void {
    this.buf.writeUInt16BE(value, offset);
  }

  /**
   * Notes that the uncompressed name `wire` sits at `offset` in the message, so later
   * names can point into it (e.g. a question copied in from elsewhere).
   */
  remember(wire: Uint8Array, offset: number): void {
    let p = 0;
    while (wire[p] !== 0 && offset + p < 0x4000) {
      const key = wireKey(wire, p);
      if (!this.offsets.has(key)) this.offsets.set(key, offset + p);
      p += wire[p]! + 1;
    }
  }

  /** Writes an uncompressed wire name, compressed when `compress` is true. */
  name(wire: Uint8Array, compress = true): void {
    let p = 0;
    while (wire[p] !== 0) {
      if (compress) {
        const key = wireKey(wire, p);
        const target = this.offsets.get(key);
        if (target !== undefined) {
          this.u16(0xc000 | target);
          return;
        }
        if (this.length < 0x4000) this.offsets.set(key, this.length);
      }
      const len = wire[p]!;
      this.bytes(wire.subarray(p, p + len + 1));
      p += len + 1;
    }
    this.u8(0);
  }

  /** Writes one record; `owner` overrides the record's own name (wildcard synthesis). */
  record(rr: ResourceRecord, ttl = rr.ttl, owner: Uint8Array = rr.name): void {
    this.rr(owner, rr.type, ttl, rr.rdata, rr.class);
  }

  /** Writes one record from its parts; `rdata` is wire form, as bytes or a latin1 string. */
  rr(owner: Uint8Array, type: number, ttl: number, rdata: Buffer | string, rrclass = 1): void {
    this.name(owner);
    this.u16(type);
    this.u16(rrclass);
    this.u32(ttl);
    const rdlengthAt = this.length;
    this.u16(0);
    if (typeof rdata === 'string' && !COMPRESSED_TYPES.has(type)) {
      this.ensure(rdata.length);
      this.length += this.buf.write(rdata, this.length, 'latin1');
    } else {
      this.rdata(type, typeof rdata === 'string' ? Buffer.from(rdata, 'latin1') : rdata);
    }
    this.patchU16(rdlengthAt, this.length - rdlengthAt - 2);
  }

  private rdata(type: number, rdata: Buffer): void {
    switch (type) {
      case RRType.NS:
      case RRType.CNAME:
      case RRType.PTR:
        this.name(rdata);
        return;
      case RRType.MX:
        this.bytes(rdata.subarray(0, 2));
        this.name(rdata.subarray(2));
        return;
      case RRType.SOA: {
        const rnameAt = nameEnd(rdata, 0);
        const fixedAt = nameEnd(rdata, rnameAt);
        this.name(rdata.subarray(0, rnameAt));
        this.name(rdata.subarray(rnameAt, fixedAt));
        this.bytes(rdata.subarray(fixedAt));
        return;
      }
      default:
        this.bytes(rdata);
    }
  }
}

/** Types whose RDATA names may be compressed (RFC 3597 4). */
const COMPRESSED_TYPES = new Set<number>([
  RRType.NS,
  RRType.CNAME,
  RRType.PTR,
  RRType.MX,
  RRType.SOA,
]);

function nameEnd(wire: Uint8Array, p: number): number {
  while (wire[p] !== 0) p += wire[p]! + 1;
  return p + 1;
}
