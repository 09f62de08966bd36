import { Rcode, RRType } from '../dns/constants.js';
import { nameFromText, wireKey } from '../dns/name.js';
import type { ParsedQuery } from '../dns/query.js';
import { parseAddress, unmapAddress } from '../lib/ip.js';
import { decide, type Decision } from '../steering/chain.js';
import type { Service } from '../steering/service.js';
import type { ClientInfo, Member, SelectionContext, StateView } from '../steering/types.js';
import { lookup, type LookupResult, type PlacedRRset, type SteeredCheck } from '../zone/lookup.js';
import type { Zone } from '../zone/zone.js';
import type { ZoneSet } from '../zone/zone-set.js';

/** A service placed in a zone, ready for the answer path. */
export interface SteeredName {
  readonly key: string;
  readonly name: Buffer;
  readonly zone: Zone;
  readonly service: Service;
}

/** What the answer path needs to steer: the names, live state, randomness and time. */
export interface SteeringDeps {
  readonly names: ReadonlyMap<string, SteeredName>;
  /** The current state snapshot; called once per steered query. */
  readonly state: () => StateView;
  readonly random: () => number;
  readonly now: () => number;
  /** An explanation only: nothing is written (see SelectionContext.dryRun). */
  readonly dryRun?: boolean;
}

/** A steered answer: a lookup result to encode, the ECS scope, or SERVFAIL. */
export interface SteeredAnswer {
  /** Set for address answers: written straight into the reply. */
  readonly records?: AddressRecords;
  /** Everything else (negative answers, CNAMEs); undefined with no records means SERVFAIL. */
  readonly result: LookupResult | undefined;
  readonly scope: number;
  readonly decision: Decision;
}

const NO_ADDRESS = new Uint8Array(4);

/** Parses dotted-quad IPv4 text without allocating strings; undefined if it is not one. */
function ipv4Bytes(text: string): Uint8Array | undefined {
  const out = new Uint8Array(4);
  let part = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2e) {
      if (digits === 0 || part === 3) return undefined;
      out[part++] = value;
      value = 0;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39 && digits < 3) {
      value = value * 10 + c - 0x30;
      if (value > 255) return undefined;
      digits++;
    } else {
      return undefined;
    }
  }
  if (part !== 3 || digits === 0) return undefined;
  out[3] = value;
  return out;
}

/** Who asked, from the resolver's address and the query's ECS option. */
export function clientInfo(q: ParsedQuery, address: string): ClientInfo {
  const fast = ipv4Bytes(address);
  const resolverText = fast ? address : unmapAddress(address);
  const resolver = fast ?? parseAddress(resolverText) ?? NO_ADDRESS;
  if (!q.hasEcs) {
    return {
      resolver,
      location: resolver,
      locationPrefix: resolver.length * 8,
      fromEcs: false,
      resolverText,
    };
  }
  const location = Uint8Array.from(q.ecsAddress.subarray(0, q.ecsFamily === 1 ? 4 : 16));
  return { resolver, location, locationPrefix: q.ecsSourcePrefix, fromEcs: true, resolverText };
}

/** The query types a service answers itself; others go to the zone (NODATA). */
export function steers(service: Service, qtype: number): boolean {
  if (service.type === 'cname') return qtype !== RRType.DS;
  return qtype === RRType.A || qtype === RRType.AAAA || qtype === RRType.ANY;
}

const rdataOf = (address: string): string => String.fromCharCode(...parseAddress(address)!);

/** Address records answered directly, without a general encode (the fast path). */
export interface AddressRecords {
  readonly type: number;
  readonly ttl: number;
  readonly rdata: readonly Buffer[];
}

function addressRecords(members: readonly Member[], qtype: number, ttl: number): AddressRecords {
  const v6 = qtype === RRType.AAAA;
  if (members.length === 1)
    return {
      type: v6 ? RRType.AAAA : RRType.A,
      ttl,
      rdata: v6 ? members[0]!.ipv6Bytes : members[0]!.ipv4Bytes,
    };
  const rdata: Buffer[] = [];
  for (const member of members)
    for (const bytes of v6 ? member.ipv6Bytes : member.ipv4Bytes) rdata.push(bytes);
  return { type: v6 ? RRType.AAAA : RRType.A, ttl, rdata };
}

function negative(zone: Zone, rcode: number, ttl: number): LookupResult {
  return {
    rcode,
    authoritative: true,
    answer: [],
    authority: [{ owner: zone.origin, rrset: zone.soa, ttl: Math.min(ttl, zone.negativeTtl) }],
    additional: [],
    requiredAdditional: 0,
  };
}

function positive(qname: Buffer, type: number, ttl: number, rdata: string[]): LookupResult {
  return {
    rcode: Rcode.NOERROR,
    authoritative: true,
    answer: [{ owner: qname, rrset: { type, ttl, rdata }, ttl }],
    authority: [],
    additional: [],
    requiredAdditional: 0,
  };
}

/** Follows a steered CNAME inside our zones, as static CNAMEs are followed. */
function followCname(
  zones: ZoneSet,
  result: LookupResult,
  rdata: string,
  qtype: number,
): LookupResult {
  if (qtype === RRType.CNAME) return result;
  const target = Buffer.from(rdata, 'latin1');
  const key = wireKey(target);
  if (!zones.findZone(key)) return result;
  const rest = lookup(zones, target, key, qtype);
  if (rest.rcode === Rcode.REFUSED) return result;
  return { ...rest, authoritative: true, answer: [...result.answer, ...rest.answer] };
}

function allDownResult(
  steered: SteeredName,
  decision: Decision,
  qname: Buffer,
  qtype: number,
  zones: ZoneSet,
): LookupResult | undefined {
  const action = steered.service.allDown;
  switch (action.action) {
    case 'servfail':
      return undefined;
    case 'nodata':
      return negative(steered.zone, Rcode.NOERROR, decision.ttl);
    case 'rcode':
      return negative(steered.zone, action.rcode, action.ttl);
    case 'fallback': {
      if (action.cname !== undefined) {
        const rdata = nameFromText(action.cname).toString('latin1');
        return followCname(
          zones,
          positive(qname, RRType.CNAME, decision.ttl, [rdata]),
          rdata,
          qtype,
        );
      }
      const list = qtype === RRType.AAAA ? action.ipv6 : action.ipv4;
      if (list.length === 0) return negative(steered.zone, Rcode.NOERROR, decision.ttl);
      return positive(
        qname,
        qtype === RRType.AAAA ? RRType.AAAA : RRType.A,
        decision.ttl,
        list.map(rdataOf),
      );
    }
    case 'fail-open':
      return negative(steered.zone, Rcode.NOERROR, decision.ttl);
  }
}

/**
 * Answers a query for a steered name: runs the service's chain on the current state
 * snapshot and turns the decision into records. Synchronous; no I/O.
 */
/** True when the service has members, none of them with an address of `family`. */
function lacksFamily(service: Service, family: 4 | 6): boolean {
  let any = false;
  for (const pool of service.pools) {
    if ((family === 4 ? pool.ipv4Members : pool.ipv6Members).length > 0) return false;
    if (pool.members.length > 0) any = true;
  }
  return any;
}

export function steer(
  steered: SteeredName,
  deps: SteeringDeps,
  q: ParsedQuery,
  qname: Buffer,
  address: string,
  zones: ZoneSet,
  explain = false,
  qtype = q.qtype,
): SteeredAnswer {
  const ctx: SelectionContext = {
    service: steered.service.name,
    client: clientInfo(q, address),
    state: deps.state(),
    random: deps.random,
    now: deps.now(),
    explain,
    dryRun: deps.dryRun === true,
  };
  const service = steered.service;
  const family = service.type === 'cname' ? 0 : qtype === RRType.AAAA ? 6 : 4;
  if (family !== 0 && lacksFamily(service, family)) {
    // An IPv4-only service asked for AAAA (or the reverse): NODATA, not "all down".
    const decision: Decision = {
      members: [],
      ttl: service.ttl,
      scope: 0,
      pool: undefined,
      allDown: false,
      steps: [],
    };
    return { result: negative(steered.zone, Rcode.NOERROR, service.ttl), scope: 0, decision };
  }
  const decision = decide(service, ctx, family);
  const scope = q.hasEcs ? Math.min(decision.scope, q.ecsSourcePrefix) : 0;
  if (decision.members.length === 0) {
    return { result: allDownResult(steered, decision, qname, qtype, zones), scope, decision };
  }
  if (service.type === 'address') {
    const records = addressRecords(decision.members, qtype, decision.ttl);
    if (records.rdata.length > 0) return { records, result: undefined, scope, decision };
    return { result: negative(steered.zone, Rcode.NOERROR, decision.ttl), scope, decision };
  }
  const rdata = nameFromText(decision.members[0]!.target!).toString('latin1');
  const result = positive(qname, RRType.CNAME, decision.ttl, [rdata]);
  return { result: followCname(zones, result, rdata, qtype), scope, decision };
}

/** A {@link SteeredCheck} for the lookup: is `key` a service that answers `qtype` itself? */
export function steeredCheck(names: ReadonlyMap<string, SteeredName>): SteeredCheck {
  return (key, qtype) => {
    const steered = names.get(key);
    return steered !== undefined && steers(steered.service, qtype);
  };
}

/** A chased answer, and the services whose all-down behaviour answered a part of it. */
export interface ChasedAnswer extends SteeredAnswer {
  readonly allDown: readonly SteeredName[];
}

/**
 * Completes a static answer that reached steered names ({@link LookupResult.chased},
 * {@link LookupResult.steeredTargets}): a CNAME chain goes on with the steered answer for
 * its last name, as if the client had asked that name (its rcode, RFC 6604); MX, SRV and
 * NS targets get their steered addresses in the additional section. The ECS scope is
 * the narrowest any decision needed; the decision is the chased name's (else the first
 * target's). Decided per query: never to be cached. `explain` as for {@link steer}.
 */
export function chaseSteered(
  base: LookupResult,
  deps: SteeringDeps,
  q: ParsedQuery,
  address: string,
  zones: ZoneSet,
  explain = false,
): ChasedAnswer {
  let result: LookupResult | undefined = base;
  let scope = 0;
  let decision: Decision | undefined;
  const allDown: SteeredName[] = [];
  const decide = (name: Buffer, qtype: number): SteeredAnswer | undefined => {
    const steered = deps.names.get(wireKey(name));
    if (!steered) return undefined;
    const answer = steer(steered, deps, q, name, address, zones, explain, qtype);
    scope = Math.max(scope, answer.scope);
    decision ??= answer.decision;
    if (answer.decision.allDown) allDown.push(steered);
    return answer;
  };
  if (base.chased) {
    const answer = decide(base.chased, q.qtype);
    result = answer && joined(base, base.chased, answer);
  }
  for (const target of result ? (base.steeredTargets ?? []) : []) {
    for (const qtype of [RRType.A, RRType.AAAA]) {
      const answer = decide(target, qtype);
      if (answer) result!.additional.push(...addressesOf(target, answer));
    }
  }
  decision ??= { members: [], ttl: 0, scope: 0, pool: undefined, allDown: false, steps: [] };
  return { result, scope, decision, allDown };
}

/** The static chain of `base` followed by the steered answer for its last name. */
function joined(base: LookupResult, name: Buffer, answer: SteeredAnswer): LookupResult | undefined {
  const rest = answer.result;
  if (!answer.records && !rest) return undefined; // SERVFAIL, as the name itself answers
  return {
    rcode: rest?.rcode ?? Rcode.NOERROR,
    authoritative: base.authoritative,
    answer: [...base.answer, ...(rest ? rest.answer : addressesOf(name, answer))],
    authority: rest ? [...base.authority, ...rest.authority] : base.authority,
    additional: [...base.additional, ...(rest?.additional ?? [])],
    requiredAdditional: base.requiredAdditional,
  };
}

/** The address records of a steered answer (fast-path records or fallback ones), owned by `name`. */
function addressesOf(name: Buffer, answer: SteeredAnswer): PlacedRRset[] {
  const records = answer.records;
  if (records) {
    const rdata = records.rdata.map((bytes) => bytes.toString('latin1'));
    const rrset = { type: records.type, ttl: records.ttl, rdata };
    return [{ owner: name, rrset, ttl: records.ttl }];
  }
  if (!answer.result) return [];
  // Fallback addresses: positive() places them at the name already.
  return answer.result.answer.filter(
    ({ rrset }) => rrset.type === RRType.A || rrset.type === RRType.AAAA,
  );
}
