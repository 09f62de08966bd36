import { Rcode, RRType } from '../dns/constants.js';
import { isSubdomain, wireKey } from '../dns/name.js';
import {
  firstRdata,
  nodeName,
  rdataCount,
  rdataOf,
  rrsetOf,
  rrsetsOf,
  type RRset,
  type Zone,
  type ZoneNode,
} from './zone.js';
import type { ZoneSet } from './zone-set.js';

/** An RRset placed in a reply, with the owner and TTL to write (wildcards, negative TTL). */
export interface PlacedRRset {
  readonly owner: Buffer;
  readonly rrset: RRset;
  readonly ttl: number;
}

/** What the zones say about one question, before encoding. */
export interface LookupResult {
  rcode: number;
  /** AA: the first name of the answer is in our authoritative data. */
  authoritative: boolean;
  readonly answer: PlacedRRset[];
  readonly authority: PlacedRRset[];
  readonly additional: PlacedRRset[];
  /** How many leading additional records must fit or the reply is truncated (glue). */
  requiredAdditional: number;
  /**
   * The name a CNAME chain led to that is steered for the question's type (see
   * {@link SteeredCheck}): the chain stops there, and its answer is the caller's to add.
   */
  chased?: Buffer;
  /** NS, MX and SRV targets that are steered names: their addresses are the caller's to add. */
  steeredTargets?: Buffer[];
}

/**
 * Says whether the name with key `key` is steered (a GSLB service) for `qtype`: its
 * answer is decided per query, so a lookup stops there instead of answering from the zone.
 */
export type SteeredCheck = (key: string, qtype: number) => boolean;

/** Longest CNAME chain we follow inside our zones. */
const MAX_CHAIN = 12;

/** Longest domain name in wire form (RFC 1035 3.1). */
const MAX_NAME = 255;

/** One step of a chain: what every function of a lookup passes on. */
interface Walk {
  readonly zones: ZoneSet;
  readonly qtype: number;
  readonly result: LookupResult;
  /** Names already in the chain (loop detection). */
  readonly seen: Set<string>;
  readonly steered: SteeredCheck | undefined;
}

/**
 * Answers a question from the zones as Knot and NSD do: referrals below zone cuts,
 * wildcards (RFC 4592), CNAME chains followed inside our zones (restarted in another of
 * our zones, RFC 1034 4.3.2 3a; the rcode is that of the last name, RFC 6604), DNAME
 * substitution (RFC 6672), DS at a child apex from the parent zone when we serve both
 * (RFC 4035 3.1.4.1), NXDOMAIN and NODATA with the SOA (RFC 2308), minimal ANY (RFC 8482)
 * and additional addresses for NS, MX and SRV. REFUSED when no zone contains the name.
 * With `steered`, a chain that reaches a steered name stops there ({@link LookupResult.chased}).
 */
export function lookup(
  zones: ZoneSet,
  qname: Buffer,
  key: string,
  qtype: number,
  steered?: SteeredCheck,
): LookupResult {
  const result: LookupResult = {
    rcode: Rcode.NOERROR,
    authoritative: true,
    answer: [],
    authority: [],
    additional: [],
    requiredAdditional: 0,
  };
  const zone = zones.answering(key, qtype);
  if (!zone) {
    result.rcode = Rcode.REFUSED;
    result.authoritative = false;
    return result;
  }
  const walk: Walk = { zones, qtype, result, seen: new Set([key]), steered };
  resolve(walk, zone, qname, key);
  addAdditional(walk);
  return result;
}

function resolve(walk: Walk, zone: Zone, qname: Buffer, key: string): void {
  const { qtype, result } = walk;
  const node = zone.nodes.get(key);
  const encloser = node ?? closestEncloser(zone, key);
  const cut = encloser.cut;
  if (cut && !(node === cut && qtype === RRType.DS)) {
    refer(zone, cut, result);
    return;
  }
  if (zone.hasDname) {
    const dname = dnameAbove(zone, key);
    if (dname) {
      substitute(walk, dname, qname);
      return;
    }
  }
  if (node) {
    answerFrom(walk, zone, node, nodeName(node));
    return;
  }
  const wildcard = zone.nodes.get(`\x01*${encloser.key}`);
  if (wildcard) {
    answerFrom(walk, zone, wildcard, qname);
    return;
  }
  result.rcode = Rcode.NXDOMAIN;
  negative(zone, result);
}

/** The highest node strictly above `key` (up to the apex) that owns a DNAME, if any. */
function dnameAbove(zone: Zone, key: string): ZoneNode | undefined {
  let found: ZoneNode | undefined;
  for (let p = 0; key.slice(p) !== zone.key;) {
    p += key.charCodeAt(p) + 1;
    const node = zone.nodes.get(key.slice(p));
    if (node && rrsetOf(node, RRType.DNAME)) found = node;
  }
  return found;
}

/**
 * RFC 6672 2.2: a name below a DNAME owner gets the DNAME and a CNAME synthesized from
 * it (TTL of the DNAME), and the lookup goes on at the new name; YXDOMAIN when the new
 * name would be longer than a name can be.
 */
function substitute(walk: Walk, node: ZoneNode, qname: Buffer): void {
  const { result } = walk;
  const dname = rrsetOf(node, RRType.DNAME)!;
  const owner = nodeName(node);
  result.answer.push({ owner, rrset: dname, ttl: dname.ttl });
  const target = Buffer.from(firstRdata(dname), 'latin1');
  const prefix = qname.length - owner.length;
  if (prefix + target.length > MAX_NAME) {
    result.rcode = Rcode.YXDOMAIN;
    return;
  }
  const synthesized = Buffer.concat([qname.subarray(0, prefix), target]);
  const cname: RRset = {
    type: RRType.CNAME,
    ttl: dname.ttl,
    rdata: synthesized.toString('latin1'),
  };
  result.answer.push({ owner: qname, rrset: cname, ttl: dname.ttl });
  if (walk.qtype !== RRType.CNAME) follow(walk, synthesized);
}

function closestEncloser(zone: Zone, key: string): ZoneNode {
  let p = 0;
  for (;;) {
    p += key.charCodeAt(p) + 1;
    const node = zone.nodes.get(key.slice(p));
    if (node) return node;
  }
}

function answerFrom(walk: Walk, zone: Zone, node: ZoneNode, owner: Buffer): void {
  const { qtype, result } = walk;
  const rrset = qtype === RRType.ANY ? minimalAny(node) : rrsetOf(node, qtype);
  if (rrset) {
    result.answer.push({ owner, rrset, ttl: rrset.ttl });
    return;
  }
  const cname = rrsetOf(node, RRType.CNAME);
  if (cname) {
    result.answer.push({ owner, rrset: cname, ttl: cname.ttl });
    follow(walk, Buffer.from(firstRdata(cname), 'latin1'));
    return;
  }
  negative(zone, result);
}

/** RFC 8482 4.1: answer ANY with one RRset, the lowest type present. */
function minimalAny(node: ZoneNode): RRset | undefined {
  let best: RRset | undefined;
  for (const rrset of rrsetsOf(node)) if (!best || rrset.type < best.type) best = rrset;
  return best;
}

/**
 * Goes on at the target of a CNAME: in whichever of our zones holds it (RFC 1034 4.3.2
 * step 3a), not past a loop or {@link MAX_CHAIN} names, and not into a steered name,
 * which is left to the caller.
 */
function follow(walk: Walk, target: Buffer): void {
  const { seen, qtype } = walk;
  const key = wireKey(target);
  if (seen.has(key) || seen.size > MAX_CHAIN) return;
  seen.add(key);
  if (walk.steered?.(key, qtype)) {
    walk.result.chased = target;
    return;
  }
  const zone = walk.zones.answering(key, qtype);
  if (zone) resolve(walk, zone, target, key);
}

function negative(zone: Zone, result: LookupResult): void {
  result.authority.push({ owner: zone.origin, rrset: zone.soa, ttl: zone.negativeTtl });
}

function refer(zone: Zone, cut: ZoneNode, result: LookupResult): void {
  if (result.answer.length === 0) result.authoritative = false;
  const ns = rrsetOf(cut, RRType.NS)!;
  const cutName = nodeName(cut);
  result.authority.push({ owner: cutName, rrset: ns, ttl: ns.ttl });
  for (const rdata of rdataOf(ns)) {
    const target = Buffer.from(rdata, 'latin1');
    if (!isSubdomain(target, cutName)) continue;
    const glue = zone.nodes.get(wireKey(target));
    if (!glue) continue;
    for (const type of [RRType.A, RRType.AAAA]) {
      const rrset = rrsetOf(glue, type);
      if (rrset && !result.additional.some((placed) => placed.rrset === rrset)) {
        result.additional.push({ owner: nodeName(glue), rrset, ttl: rrset.ttl });
        result.requiredAdditional += rdataCount(rrset);
      }
    }
  }
}

/** Name offset inside RDATA for the types whose targets get additional addresses. */
function targetOffset(type: number): number {
  if (type === RRType.NS) return 0;
  if (type === RRType.MX) return 2;
  if (type === RRType.SRV) return 6;
  return -1;
}

function addAdditional(walk: Walk): void {
  const { result } = walk;
  const sources = result.rcode === Rcode.NOERROR ? [...result.answer, ...result.authority] : [];
  for (const { rrset } of sources) {
    const offset = targetOffset(rrset.type);
    if (offset < 0) continue;
    for (const rdata of rdataOf(rrset)) {
      addAddresses(walk, Buffer.from(rdata, 'latin1').subarray(offset));
    }
  }
}

function addAddresses({ zones, result, steered }: Walk, target: Buffer): void {
  const key = wireKey(target);
  if (steered?.(key, RRType.A) || steered?.(key, RRType.AAAA)) {
    const targets = (result.steeredTargets ??= []);
    if (!targets.some((known) => wireKey(known) === key)) targets.push(target);
    return;
  }
  const node = zones.findZone(key)?.nodes.get(key);
  if (!node || node.cut) return;
  for (const type of [RRType.A, RRType.AAAA]) {
    const rrset = rrsetOf(node, type);
    if (rrset && !result.additional.some((placed) => placed.rrset === rrset)) {
      result.additional.push({ owner: nodeName(node), rrset, ttl: rrset.ttl });
    }
  }
}
