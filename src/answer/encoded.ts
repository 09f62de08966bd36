import type { MessageWriter } from '../dns/writer.js';
import type { LookupResult, PlacedRRset } from '../zone/lookup.js';
import { rdataOf } from '../zone/zone.js';

/**
 * An answer encoded once, reusable for every query with the same name and type: the
 * sections after the question, compressed against a question at offset 12. Only the ID,
 * the flags, the question (as the client wrote it) and the OPT record are added per query.
 */
export interface EncodedAnswer {
  readonly rcode: number;
  readonly authoritative: boolean;
  readonly ancount: number;
  readonly nscount: number;
  readonly arcount: number;
  /** The answer, authority and additional sections. */
  readonly body: Buffer;
  /** Body offset where each additional record starts, then the body length (arcount + 1). */
  readonly additionalOffsets: readonly number[];
  /** Leading additional records that must fit, or the reply is truncated. */
  readonly requiredAdditional: number;
}

function writeSection(writer: MessageWriter, section: readonly PlacedRRset[]): number {
  let count = 0;
  for (const { owner, rrset, ttl } of section) {
    for (const rdata of rdataOf(rrset)) {
      writer.rr(owner, rrset.type, ttl, rdata);
      count++;
    }
  }
  return count;
}

/** Encodes a lookup result for the question name `qname` (uncompressed wire form). */
export function encodeAnswer(
  writer: MessageWriter,
  qname: Buffer,
  result: LookupResult,
): EncodedAnswer {
  writer.reset();
  writer.bytes(new Uint8Array(12));
  writer.remember(qname, 12);
  writer.bytes(qname);
  writer.u32(0);
  const bodyStart = writer.length;
  const ancount = writeSection(writer, result.answer);
  const nscount = writeSection(writer, result.authority);
  const offsets: number[] = [];
  for (const { owner, rrset, ttl } of result.additional) {
    for (const rdata of rdataOf(rrset)) {
      offsets.push(writer.length - bodyStart);
      writer.rr(owner, rrset.type, ttl, rdata);
    }
  }
  offsets.push(writer.length - bodyStart);
  return {
    rcode: result.rcode,
    authoritative: result.authoritative,
    ancount,
    nscount,
    arcount: offsets.length - 1,
    body: Buffer.from(writer.buf.subarray(bodyStart, writer.length)),
    // A plain array: far smaller than a typed array for the one or few numbers it holds.
    additionalOffsets: offsets,
    requiredAdditional: result.requiredAdditional,
  };
}
