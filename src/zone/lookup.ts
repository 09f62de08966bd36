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
}

/** Longest CNAME chain we follow inside our zones. */
const MAX_CHAIN = 12;

/**
 * Answers a question from the zones as Knot and NSD do: referrals below zone cuts,
 * wildcards (RFC 4592), CNAME chains followed inside our zones, NXDOMAIN and NODATA with
 * the SOA (RFC 2308), minimal ANY (RFC 8482) and additional addresses for NS, MX and SRV.
 * REFUSED when no zone contains the name.
 */
export function lookup(zones: ZoneSet, qname: Buffer, key: string, qtype: number): LookupResult {
  const result: LookupResult = {
    rcode: Rcode.NOERROR,
    authoritative: true,
    answer: [],
    authority: [],
    additional: [],
    requiredAdditional: 0,
  };
  const zone = zones.findZone(key);
  if (!zone) {
    result.rcode = Rcode.REFUSED;
    result.authoritative = false;
    return result;
  }
  resolve(zones, zone, qname, key, qtype, result, new Set([key]));
  addAdditional(zones, result);
  return result;
}

function resolve(
  zones: ZoneSet,
  zone: Zone,
  qname: Buffer,
  key: string,
  qtype: number,
  result: LookupResult,
  seen: Set<string>,
): void {
  const node = zone.nodes.get(key);
  const encloser = node ?? closestEncloser(zone, key);
  const cut = encloser.cut;
  if (cut && !(node === cut && qtype === RRType.DS)) {
    refer(zone, cut, result);
    return;
  }
  if (node) {
    answerFrom(zones, zone, node, nodeName(node), qtype, result, seen);
    return;
  }
  const wildcard = zone.nodes.get(`\x01*${encloser.key}`);
  if (wildcard) {
    answerFrom(zones, zone, wildcard, qname, qtype, result, seen);
    return;
  }
  result.rcode = Rcode.NXDOMAIN;
  negative(zone, result);
}

function closestEncloser(zone: Zone, key: string): ZoneNode {
  let p = 0;
  for (;;) {
    p += key.charCodeAt(p) + 1;
    const node = zone.nodes.get(key.slice(p));
    if (node) return node;
  }
}

function answerFrom(
  zones: ZoneSet,
  zone: Zone,
  node: ZoneNode,
  owner: Buffer,
  qtype: number,
  result: LookupResult,
  seen: Set<string>,
): void {
  const rrset = qtype === RRType.ANY ? minimalAny(node) : rrsetOf(node, qtype);
  if (rrset) {
    result.answer.push({ owner, rrset, ttl: rrset.ttl });
    return;
  }
  const cname = rrsetOf(node, RRType.CNAME);
  if (cname) {
    result.answer.push({ owner, rrset: cname, ttl: cname.ttl });
    follow(zones, Buffer.from(firstRdata(cname), 'latin1'), qtype, result, seen);
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

function follow(
  zones: ZoneSet,
  target: Buffer,
  qtype: number,
  result: LookupResult,
  seen: Set<string>,
): void {
  const key = wireKey(target);
  if (seen.has(key) || seen.size > MAX_CHAIN) return;
  seen.add(key);
  const zone = zones.findZone(key);
  if (zone) resolve(zones, zone, target, key, qtype, result, seen);
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

function addAdditional(zones: ZoneSet, result: LookupResult): void {
  const sources = result.rcode === Rcode.NOERROR ? [...result.answer, ...result.authority] : [];
  for (const { rrset } of sources) {
    const offset = targetOffset(rrset.type);
    if (offset < 0) continue;
    for (const rdata of rdataOf(rrset)) {
      addAddresses(zones, Buffer.from(rdata, 'latin1').subarray(offset), result);
    }
  }
}

function addAddresses(zones: ZoneSet, target: Buffer, result: LookupResult): void {
  const key = wireKey(target);
  const node = zones.findZone(key)?.nodes.get(key);
  if (!node || node.cut) return;
  for (const type of [RRType.A, RRType.AAAA]) {
    const rrset = rrsetOf(node, type);
    if (rrset && !result.additional.some((placed) => placed.rrset === rrset)) {
      result.additional.push({ owner: nodeName(node), rrset, ttl: rrset.ttl });
    }
  }
}
