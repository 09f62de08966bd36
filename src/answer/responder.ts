import { Flag, Limits, Rcode, RRClass, RRType } from '../dns/constants.js';
import { ParsedQuery, parseQuery, Verdict } from '../dns/query.js';
import type { Transport } from '../dns/transport.js';
import { MessageWriter } from '../dns/writer.js';
import { lookup, type LookupResult, type SteeredCheck } from '../zone/lookup.js';
import type { ZoneSet } from '../zone/zone-set.js';
import { encodeAnswer, type EncodedAnswer } from './encoded.js';
import { answerReply, emptyReply, recordsReply } from './reply.js';
import { chaseSteered, steer, steeredCheck, steers, type SteeringDeps } from './steer.js';
import { ExplainError, explainQuery, explanationOf, type ExplainRequest } from './explain.js';
import type { Explanation } from '../steering/explain.js';
import { formatAddress } from '../lib/ip.js';
import { transferMessages } from './transfer.js';
import { Admission, type Protection } from './protection.js';
import { referralResult, type ReferralHook } from './referral.js';
import type { QuestionSampler } from './question-sampler.js';
import { UNTIMED, type QueryCounters } from './query-counters.js';

/** Options of a {@link Responder}. */
export interface ResponderOptions {
  /**
   * Largest UDP payload we accept to send (RFC 6891); clients asking for more get this.
   * @default 1232
   */
  readonly udpPayloadMax?: number;
  /** Says whether `address` may transfer the zone with key `zoneKey` (AXFR/IXFR). */
  readonly transferAllowed?: (zoneKey: string, address: string) => boolean;
  /**
   * Encoded answers kept for reuse (the hot names); when full, the cache starts over.
   * @default 20000
   */
  readonly cacheEntries?: number;
  /** Steered names (GSLB services) and what deciding them needs. */
  readonly steering?: SteeringDeps;
  /** Fraction of steered queries (0-1) whose decision is explained to `onExplain`. @default 0 */
  readonly explainSample?: number;
  /** Receives sampled explanations (the server logs them). */
  readonly onExplain?: (explanation: Explanation) => void;
  /** Called when a service's pools all came out empty and its all-down behaviour answered. */
  readonly onAllDown?: (service: string, action: string) => void;
  /** Cookies and UDP rate limiting (see protection.ts); none when undefined. */
  readonly protection?: Protection | undefined;
  /** A DNS-B's referral answers (seed 002), asked before steering and the zones. */
  readonly referral?: ReferralHook | undefined;
  /** Takes a steered question now and then for the decisions log (see question-sampler.ts). */
  readonly sampler?: QuestionSampler | undefined;
  /** The process's query counters (metrics); nothing is counted or timed when undefined. */
  readonly counters?: QueryCounters | undefined;
}

/** Counters a responder keeps; read by logs and, later, metrics. */
export interface ResponderStats {
  queries: number;
  dropped: number;
  formerr: number;
  cacheHits: number;
  /** Steered queries answered by the all-down behaviour (fail open, fallback, ...). */
  allDown: number;
}

/**
 * Answers DNS queries from one immutable zone snapshot. Synchronous and allocation-light:
 * a repeated question is answered by copying a pre-encoded body. Never throws for bad
 * input: malformed packets get FORMERR or no reply.
 */
export class Responder {
  readonly stats: ResponderStats = {
    queries: 0,
    dropped: 0,
    formerr: 0,
    cacheHits: 0,
    allDown: 0,
  };
  private readonly query = new ParsedQuery();
  private readonly writer = new MessageWriter();
  /** By name key; the few types asked of one name are chained (cheaper than a Map each). */
  private readonly cache = new Map<string, CachedAnswer>();
  private cached = 0;
  /** Names missed recently, by hash slot (see seenBefore). */
  private readonly doorkeeper: (string | undefined)[] = new Array<string | undefined>(
    DOORKEEPER_SLOTS,
  ).fill(undefined);
  private readonly payload: number;
  private readonly cacheEntries: number;
  /** Stops a lookup's CNAME chain at a steered name (see chased). */
  private readonly steeredCheck: SteeredCheck | undefined;
  private readonly sampler: QuestionSampler | undefined;

  /** The zones this responder answers from. */
  readonly zones: ZoneSet;
  private readonly options: ResponderOptions;
  private readonly counters: QueryCounters | undefined;
  /** Counter slots of the zones, by zone key (see query-counters.ts). */
  private readonly zoneSlots: ReadonlyMap<string, number> | undefined;
  /** The current query's zone slot once known; -1: still to be found. */
  private zoneSlot = -1;
  /** The current reply's extended RCODE (BADVERS, BADCOOKIE); -1: the header's. */
  private extendedRcode = -1;
  /** xorshift32 state: picks the UDP queries that are timed (see {@link handle}). */
  private timingDraw = 0x9e3779b9;

  constructor(zones: ZoneSet, options: ResponderOptions = {}) {
    this.zones = zones;
    this.options = options;
    this.payload = Math.max(
      Limits.minUdpPayload,
      options.udpPayloadMax ?? Limits.defaultUdpPayload,
    );
    this.cacheEntries = options.cacheEntries ?? 20_000;
    this.steeredCheck = options.steering && steeredCheck(options.steering.names);
    this.sampler = options.sampler;
    this.counters = options.counters;
    this.zoneSlots = this.counters?.registerZones(zones);
    if (this.counters && options.steering)
      for (const { service } of options.steering.names.values())
        for (const pool of service.pools) this.counters.registerMembers(pool.members);
  }

  /**
   * Returns the reply to `msg`: one packet, several (a zone transfer over TCP: made one
   * message at a time as they are taken, see {@link transferMessages}), or undefined when
   * the packet deserves no reply.
   */
  handle(
    msg: Buffer,
    transport: Transport,
    address: string,
  ): Buffer | Iterable<Buffer> | undefined {
    const counters = this.counters;
    if (counters === undefined) return this.answer(msg, transport, address);
    this.zoneSlot = -1;
    this.extendedRcode = -1;
    // Two clock reads cost more than all the counting (BENCHMARKS.md 1.11): one UDP query in
    // four, drawn at random so that no repeating query pattern escapes, is timed and stands
    // for the untimed ones of its zone and type. TCP (transfers, the slow answers) is always timed.
    if (transport === 'udp' && !this.drawTimed()) {
      const reply = this.answer(msg, transport, address);
      this.count(counters, reply, transport, address, UNTIMED);
      return reply;
    }
    const started = clock.now();
    const reply = this.answer(msg, transport, address);
    this.count(counters, reply, transport, address, clock.now() - started);
    return reply;
  }

  /** True for one call in four on average (xorshift32: a few integer operations). */
  private drawTimed(): boolean {
    let x = this.timingDraw;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.timingDraw = x;
    return (x & 3) === 0;
  }

  /** Counts the query just answered: its zone, type, transport, family, rcode and time. */
  private count(
    counters: QueryCounters,
    reply: Buffer | Iterable<Buffer> | undefined,
    transport: Transport,
    address: string,
    ms: number,
  ): void {
    const q = this.query;
    let zone = this.zoneSlot;
    if (zone < 0) zone = q.hasQuestion ? this.slotOf(q.key) : 0;
    let rcode = -1;
    if (reply !== undefined)
      rcode =
        this.extendedRcode >= 0 ? this.extendedRcode : Buffer.isBuffer(reply) ? reply[3]! & 0xf : 0;
    counters.query(zone, q.hasQuestion ? q.qtype : -1, transport, address.includes(':'), rcode, ms);
  }

  /** The counter slot of the zone holding the name with key `key` (0: none of ours). */
  private slotOf(key: string): number {
    const zone = this.zones.findZone(key);
    return zone === undefined ? 0 : (this.zoneSlots!.get(zone.key) ?? 0);
  }

  /** {@link handle} without counting. */
  private answer(
    msg: Buffer,
    transport: Transport,
    address: string,
  ): Buffer | Iterable<Buffer> | undefined {
    const q = this.query;
    this.stats.queries++;
    const verdict = parseQuery(msg, q);
    if (verdict !== Verdict.DROP && this.options.protection) {
      const admission = this.options.protection.admit(q, transport, address);
      if (admission !== Admission.ANSWER) return this.withheld(q, msg, admission);
    }
    if (verdict !== Verdict.OK) return this.refuse(q, msg, verdict);
    if (q.qclass !== RRClass.IN) return emptyReply(q, msg, Rcode.REFUSED, 0, this.negotiated(q));
    if (q.qtype === RRType.OPT) return emptyReply(q, msg, Rcode.FORMERR, 0, this.negotiated(q));
    if (q.qtype === RRType.AXFR || q.qtype === RRType.IXFR)
      return this.transfer(q, msg, transport, address);
    if (this.options.referral) {
      const referred = this.refer(q, msg, transport, address);
      if (referred) return referred;
    }
    const steered = this.options.steering?.names.get(q.key);
    if (steered && steers(steered.service, q.qtype)) return this.steer(q, msg, transport, address);
    const answer = this.answerFor(q, msg);
    if (!isEncoded(answer)) return this.chased(q, msg, answer, transport, address);
    const payload = this.negotiated(q);
    const limit = transport === 'tcp' ? Limits.maxMessage : q.edns ? payload : Limits.minUdpPayload;
    return answerReply(q, msg, answer, limit, payload, 0);
  }

  /** A DNS-B's referral, decided per query on the current table; undefined: not referred. */
  private refer(
    q: ParsedQuery,
    msg: Buffer,
    transport: Transport,
    address: string,
  ): Buffer | undefined {
    const reply = this.options.referral!(q.key, q.qtype, address);
    if (!reply) return undefined;
    const qname = msg.subarray(12, q.qnameEnd);
    const answer = encodeAnswer(this.writer, qname, referralResult(Buffer.from(qname), reply));
    const payload = this.negotiated(q);
    const limit = transport === 'tcp' ? Limits.maxMessage : q.edns ? payload : Limits.minUdpPayload;
    return answerReply(q, msg, answer, limit, payload, 0);
  }

  /** Answers a steered name: never cached, decided per query on the current state. */
  private steer(q: ParsedQuery, msg: Buffer, transport: Transport, address: string): Buffer {
    const steering = this.options.steering!;
    const qname = msg.subarray(12, q.qnameEnd);
    if (this.sampler?.wanted) this.sampler.offer(q, msg, transport, address, steering.now());
    const sampled =
      (this.options.explainSample ?? 0) > 0 && steering.random() < this.options.explainSample!;
    const steered = steer(
      steering.names.get(q.key)!,
      steering,
      q,
      qname,
      address,
      this.zones,
      sampled,
    );
    if (sampled) this.options.onExplain?.(explanationOf(q, qname, address, ecsText(q), steered));
    if (this.counters) {
      this.counters.chose(steered.decision.members);
      this.zoneSlot = this.zoneSlots!.get(steering.names.get(q.key)!.zone.key) ?? 0;
    }
    const { result, scope, records } = steered;
    if (steered.decision.allDown) {
      this.stats.allDown++;
      const { service } = steering.names.get(q.key)!;
      this.options.onAllDown?.(service.name, service.allDown.action);
    }
    const payload = this.negotiated(q);
    const limit = transport === 'tcp' ? Limits.maxMessage : q.edns ? payload : Limits.minUdpPayload;
    if (records)
      return recordsReply(q, msg, records.type, records.ttl, records.rdata, limit, payload, scope);
    if (!result) return emptyReply(q, msg, Rcode.SERVFAIL, 0, payload);
    const answer = encodeAnswer(this.writer, qname, result);
    return answerReply(q, msg, answer, limit, payload, scope);
  }

  /**
   * Answers a static answer that reached steered names (a CNAME to a service, MX or SRV
   * targets that are services): the steered part is decided per query, so the whole is
   * encoded per query and never cached.
   */
  private chased(
    q: ParsedQuery,
    msg: Buffer,
    base: LookupResult,
    transport: Transport,
    address: string,
  ): Buffer {
    const steering = this.options.steering!;
    if (this.sampler?.wanted) this.sampler.offer(q, msg, transport, address, steering.now());
    const chased = chaseSteered(base, steering, q, address, this.zones);
    this.counters?.chose(chased.decision.members);
    for (const { service } of chased.allDown) {
      this.stats.allDown++;
      this.options.onAllDown?.(service.name, service.allDown.action);
    }
    const payload = this.negotiated(q);
    const limit = transport === 'tcp' ? Limits.maxMessage : q.edns ? payload : Limits.minUdpPayload;
    if (!chased.result) return emptyReply(q, msg, Rcode.SERVFAIL, 0, payload);
    const answer = encodeAnswer(this.writer, msg.subarray(12, q.qnameEnd), chased.result);
    return answerReply(q, msg, answer, limit, payload, chased.scope);
  }

  /** Explains what this responder would answer for a steered name, on its current state. */
  explain(request: ExplainRequest): Explanation {
    if (!this.options.steering) throw new ExplainError('no steered names are configured');
    return explainQuery(this.options.steering, this.zones, request);
  }

  /** The UDP payload size for this exchange: min(client's, ours), never below 512 (RFC 6891). */
  private negotiated(q: ParsedQuery): number {
    return q.edns
      ? Math.max(Limits.minUdpPayload, Math.min(q.udpPayload, this.payload))
      : this.payload;
  }

  /** The reply to a query the protections did not admit: none, TC (slip) or BADCOOKIE. */
  private withheld(q: ParsedQuery, msg: Buffer, admission: Admission): Buffer | undefined {
    if (admission === Admission.DROP) return undefined;
    if (admission === Admission.BADCOOKIE) this.extendedRcode = BADCOOKIE;
    const rcode = admission === Admission.SLIP ? Rcode.NOERROR : BADCOOKIE;
    return emptyReply(
      q,
      msg,
      rcode,
      admission === Admission.SLIP ? Flag.TC : 0,
      this.negotiated(q),
    );
  }

  private refuse(q: ParsedQuery, msg: Buffer, verdict: Verdict): Buffer | undefined {
    switch (verdict) {
      case Verdict.DROP:
        this.stats.dropped++;
        return undefined;
      case Verdict.FORMERR:
        this.stats.formerr++;
        return emptyReply(q, msg, Rcode.FORMERR, 0, this.negotiated(q));
      case Verdict.NOTIMP:
        return emptyReply(q, msg, Rcode.NOTIMP, 0, this.negotiated(q));
      default:
        this.extendedRcode = Rcode.BADVERS;
        return emptyReply(q, msg, Rcode.BADVERS, 0, this.negotiated(q));
    }
  }

  /** The cached or encoded static answer, or a lookup result that reached steered names. */
  private answerFor(q: ParsedQuery, msg: Buffer): EncodedAnswer | LookupResult {
    const first = this.cache.get(q.key);
    for (let entry = first; entry !== undefined; entry = entry.next) {
      if (entry.qtype === q.qtype) {
        this.stats.cacheHits++;
        this.zoneSlot = entry.zoneSlot;
        return entry.answer;
      }
    }
    const qname = Buffer.from(msg.subarray(12, q.qnameEnd));
    const result = lookup(this.zones, qname, q.key, q.qtype, this.steeredCheck);
    if (result.chased || result.steeredTargets) return result;
    const answer = encodeAnswer(this.writer, qname, result);
    if (!this.seenBefore(q.key)) return answer;
    const kept = detached(answer);
    let next = first;
    if (this.cached >= this.cacheEntries) {
      this.cache.clear();
      this.cached = 0;
      next = undefined;
    }
    // The zone slot is found once per cached entry (-1 without counters: never read).
    const zoneSlot = this.counters ? this.slotOf(q.key) : -1;
    this.zoneSlot = zoneSlot;
    this.cache.set(q.key, { qtype: q.qtype, answer: kept, next, zoneSlot });
    this.cached++;
    return kept;
  }

  /**
   * Admits a name to the cache on its second miss within a short window. Names asked once
   * (random names, a scan of a large zone) would only churn the cache, and every entry
   * evicted from it is garbage in the old generation: that is what makes the heap grow.
   */
  private seenBefore(key: string): boolean {
    let hash = key.length;
    for (let i = 0; i < key.length; i++) hash = (Math.imul(hash, 31) + key.charCodeAt(i)) | 0;
    const slot = hash & (DOORKEEPER_SLOTS - 1);
    if (this.doorkeeper[slot] === key) return true;
    this.doorkeeper[slot] = key;
    return false;
  }

  private transfer(
    q: ParsedQuery,
    msg: Buffer,
    transport: Transport,
    address: string,
  ): Buffer | Iterable<Buffer> {
    const zone = this.zones.zones.get(q.key);
    const allowed =
      zone !== undefined && (this.options.transferAllowed?.(zone.key, address) ?? false);
    if (!allowed) return emptyReply(q, msg, Rcode.REFUSED, 0, this.negotiated(q));
    // Over UDP, tell the client to come back over TCP (RFC 5936 4.2 allows TCP only).
    if (transport === 'udp')
      return emptyReply(q, msg, Rcode.NOERROR, Flag.TC | Flag.AA, this.negotiated(q));
    return transferMessages(q, msg, zone);
  }
}

/** Tells an encoded answer from a lookup result still to be completed. */
function isEncoded(answer: EncodedAnswer | LookupResult): answer is EncodedAnswer {
  return 'body' in answer;
}

/**
 * The clock a query's duration is read from. Held here: the global `performance` is an
 * accessor, and reading it costs as much again as the clock (cachegrind: 400 instructions a
 * call through it, 240 through this).
 */
const clock = performance;

/** BADCOOKIE, an extended RCODE (RFC 7873 8): 7 in the header, 1 in the OPT. */
const BADCOOKIE = 23;

/** Slots of the cache's doorkeeper (a power of two). */
const DOORKEEPER_SLOTS = 4096;

/**
 * The answer with a body of its own. A small Buffer is a slice of a shared 8 KiB slab, and
 * one long-lived slice keeps the whole slab alive: cached bodies get exact-size storage.
 */
function detached(answer: EncodedAnswer): EncodedAnswer {
  const body = Buffer.allocUnsafeSlow(answer.body.length);
  answer.body.copy(body);
  return { ...answer, body };
}

/** One cached answer, and the next type cached for the same name. */
interface CachedAnswer {
  readonly qtype: number;
  readonly answer: EncodedAnswer;
  readonly next: CachedAnswer | undefined;
  /** The counter slot of its zone (see query-counters.ts). */
  readonly zoneSlot: number;
}

/** The query's ECS subnet as text, for explanations. */
function ecsText(q: ParsedQuery): string | undefined {
  if (!q.hasEcs) return undefined;
  return `${formatAddress(q.ecsAddress.subarray(0, q.ecsFamily === 1 ? 4 : 16))}/${q.ecsSourcePrefix}`;
}
