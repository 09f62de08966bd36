/**
 * Referral answers of a DNS-B (seed 002, src/referral/): the answer path asks a hook,
 * which reads the node's current referral table (an immutable snapshot, no I/O), and
 * writes what it decided: a CNAME `<label>.<name>` with the NS referral to the DNS-LB and
 * its glue, or the referral alone for a name below `<label>.<name>`.
 */
import { Rcode, RRType } from '../dns/constants.js';
import type { LookupResult, PlacedRRset } from '../zone/lookup.js';

/** What the hook decided for one query; names in uncompressed wire form. */
export interface ReferralReply {
  /** The CNAME target when the question was the balanced name itself; else undefined. */
  readonly cname: Buffer | undefined;
  /** The delegated name `<label>.<name>` (the NS owner). */
  readonly cut: Buffer;
  /** The DNS-LB's server name, `ns.<label>.<name>`. */
  readonly ns: Buffer;
  /** The DNS-LB's addresses, 4 or 16 bytes each: the glue. */
  readonly glue: readonly Uint8Array[];
  /** TTL of the CNAME, the NS and the glue (the medium tier). */
  readonly ttl: number;
}

/**
 * The rankings variant (seed 002 [0046]): the DNS-LB's ranked sites of the question's
 * family, 4 or 16 bytes each, best first, answered at the balanced name itself.
 */
export interface RankedReply {
  readonly ranked: readonly Uint8Array[];
  /** TTL of the addresses (the short tier). */
  readonly ttl: number;
}

/**
 * Decides the referral of a question (`key` as `wireKey` gives it) for the resolver at
 * `address` (the query's source, as the socket gives it), or undefined when the name is not
 * referred: the zone answers it as usual. Called for every query: a name that is not
 * referred must cost a map lookup, no allocation.
 */
export type ReferralHook = (
  key: string,
  qtype: number,
  address: string,
) => ReferralReply | RankedReply | undefined;

const placed = (owner: Buffer, type: number, ttl: number, rdata: Uint8Array): PlacedRRset => ({
  owner,
  ttl,
  rrset: { type, ttl, rdata: Buffer.from(rdata).toString('latin1') },
});

/**
 * The reply as a lookup result: with a CNAME, authoritative (the DNS-B owns the name);
 * the referral alone is not (RFC 1034 4.3.2: below a zone cut). The glue must fit, or
 * the reply is truncated.
 */
export function referralResult(qname: Buffer, reply: ReferralReply | RankedReply): LookupResult {
  if ('ranked' in reply) return rankedResult(qname, reply);
  const answer = reply.cname ? [placed(qname, RRType.CNAME, reply.ttl, reply.cname)] : [];
  const glue = reply.glue.map((bytes) =>
    placed(reply.ns, bytes.length === 4 ? RRType.A : RRType.AAAA, reply.ttl, bytes),
  );
  return {
    rcode: Rcode.NOERROR,
    authoritative: reply.cname !== undefined,
    answer,
    authority: [placed(reply.cut, RRType.NS, reply.ttl, reply.ns)],
    additional: glue,
    requiredAdditional: glue.length,
  };
}

/** A ranked answer: the addresses at the name, authoritative, nothing else. */
function rankedResult(qname: Buffer, reply: RankedReply): LookupResult {
  return {
    rcode: Rcode.NOERROR,
    authoritative: true,
    answer: reply.ranked.map((bytes) =>
      placed(qname, bytes.length === 4 ? RRType.A : RRType.AAAA, reply.ttl, bytes),
    ),
    authority: [],
    additional: [],
    requiredAdditional: 0,
  };
}
