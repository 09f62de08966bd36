import { rrTypeName, RRType } from '../dns/constants.js';
import { nameToText } from '../dns/name.js';
import type { Transport } from '../dns/transport.js';
import type { Member } from '../steering/types.js';
import type { ZoneSet } from '../zone/zone-set.js';

/**
 * The query counters of one process, for the metrics (src/metrics/): kept by the DNS server
 * for the life of the process, so a reload (a new responder) never resets them. The answer
 * path only adds to preallocated typed arrays, indexed by slots fixed when a responder is
 * built (zone, query type, rcode, member): no Map of labels, no allocation, no await. Labels
 * are made when the totals are read ({@link QueryCounters.totals}), at most once a second.
 */

/** The query types counted by name (CoreDNS's list, and the types steerdns answers); the rest is `other`. */
const NAMED_TYPES = [
  RRType.A,
  RRType.AAAA,
  RRType.NS,
  RRType.CNAME,
  RRType.SOA,
  RRType.PTR,
  RRType.MX,
  RRType.TXT,
  RRType.SRV,
  RRType.NAPTR,
  RRType.DS,
  RRType.DNSKEY,
  RRType.RRSIG,
  RRType.NSEC,
  RRType.CAA,
  50, // NSEC3
  64, // SVCB
  65, // HTTPS
  RRType.IXFR,
  RRType.AXFR,
  RRType.ANY,
];
/** Type slots: one per named type, then `other`. */
const TYPE_SLOTS = NAMED_TYPES.length + 1;
const OTHER_TYPE = NAMED_TYPES.length;
const TYPE_LABELS = [
  ...NAMED_TYPES.map((type) =>
    type === 50 ? 'NSEC3' : type === 64 ? 'SVCB' : type === 65 ? 'HTTPS' : rrTypeName(type),
  ),
  'other',
];
/** The type slot of every 16-bit type number. */
const TYPE_SLOT = new Uint8Array(65536).fill(OTHER_TYPE);
NAMED_TYPES.forEach((type, slot) => (TYPE_SLOT[type] = slot));

/** RCODE names as CoreDNS (miekg/dns) prints them; 0-23, the codes a server can send. */
const RCODE_LABELS = [
  'NOERROR',
  'FORMERR',
  'SERVFAIL',
  'NXDOMAIN',
  'NOTIMP',
  'REFUSED',
  'YXDOMAIN',
  'YXRRSET',
  'NXRRSET',
  'NOTAUTH',
  'NOTZONE',
  'DSOTYPENI',
  'RCODE12',
  'RCODE13',
  'RCODE14',
  'RCODE15',
  'BADVERS',
  'BADKEY',
  'BADTIME',
  'BADMODE',
  'BADNAME',
  'BADALG',
  'BADTRUNC',
  'BADCOOKIE',
];
const RCODE_SLOTS = RCODE_LABELS.length;

/**
 * The `ms` of a query that was not timed: the answer path times a sample of the UDP queries
 * (see Responder.handle), each timed one counting for the untimed ones of its zone and type.
 */
export const UNTIMED = -1;

/** Duration buckets: 0.25 ms doubling 16 times (up to 8.192 s, as CoreDNS), then +Inf. */
export const DURATION_BUCKETS_MS: readonly number[] = Array.from(
  { length: 16 },
  (_, k) => 0.25 * 2 ** k,
);
const BUCKETS = DURATION_BUCKETS_MS.length + 1;

/** The bucket of a duration: the first whose bound is at least `ms` (bit arithmetic, no loop). */
export function bucketOf(ms: number): number {
  const quarters = Math.ceil(ms * 4);
  const k = quarters <= 1 ? 0 : 32 - Math.clz32(quarters - 1);
  return k < BUCKETS ? k : BUCKETS - 1;
}

/** Where the zone label of a query no zone of ours holds goes (as CoreDNS's root zone). */
export const NO_ZONE = '.';

/** Proto, family: 2 × 2 cells per zone and type (udp/tcp, IPv4 `1`/IPv6 `2` as CoreDNS). */
const REQUEST_CELLS = 4;

/**
 * Cumulative totals as plain data, keyed by label values joined with a tab: what a worker
 * reports to its primary and what the exposition reads. Every value only grows while the
 * process lives.
 */
export interface QueryTotals {
  /** `zone\tproto\tfamily\ttype` → requests. */
  readonly requests: Record<string, number>;
  /** `zone\trcode` → responses sent. */
  readonly responses: Record<string, number>;
  /** `zone\ttype` → per-bucket counts (not cumulative; the last is above the largest bound). */
  readonly durationBuckets: Record<string, number[]>;
  /** `zone\ttype` → sum of durations in seconds. */
  readonly durationSeconds: Record<string, number>;
  /** Member key (`service pool/member`) → answers it was chosen for. */
  readonly decisions: Record<string, number>;
}

/** Totals with nothing counted. */
export const noQueryTotals = (): QueryTotals => ({
  requests: {},
  responses: {},
  durationBuckets: {},
  durationSeconds: {},
  decisions: {},
});

/** Adds `more` into `sum` (a worker's report into the node's). */
export function addQueryTotals(sum: QueryTotals, more: QueryTotals): void {
  for (const field of ['requests', 'responses', 'durationSeconds', 'decisions'] as const) {
    const into = sum[field];
    for (const [key, value] of Object.entries(more[field])) into[key] = (into[key] ?? 0) + value;
  }
  for (const [key, counts] of Object.entries(more.durationBuckets)) {
    const into = (sum.durationBuckets[key] ??= new Array<number>(counts.length).fill(0));
    counts.forEach((count, i) => (into[i] = (into[i] ?? 0) + count));
  }
}

/** Copies `from` into a larger zeroed array (a zone or member more than before). */
function grown(from: Float64Array<ArrayBuffer>, length: number): Float64Array<ArrayBuffer> {
  if (from.length >= length) return from;
  const to = new Float64Array(Math.max(length, from.length * 2));
  to.set(from);
  return to;
}

/** See the module comment. */
export class QueryCounters {
  /** Zone slots by zone key; slot 0 is {@link NO_ZONE}. Never shrinks: counts stay with their slot. */
  private readonly zoneSlots = new Map<string, number>();
  private readonly zoneLabels: string[] = [NO_ZONE];
  private readonly memberSlots = new Map<string, number>();
  private readonly memberLabels: string[] = [];
  private requests = new Float64Array(TYPE_SLOTS * REQUEST_CELLS);
  private responses = new Float64Array(RCODE_SLOTS);
  private buckets = new Float64Array(TYPE_SLOTS * BUCKETS);
  private seconds = new Float64Array(TYPE_SLOTS);
  /** Per zone and type: queries not timed since the cell's last timed one. */
  private untimed = new Float64Array(TYPE_SLOTS);
  private decided = new Float64Array(0);
  /** Every query counted: a cheap "anything new?" for the reports. */
  count = 0;

  /** Gives each zone of `zones` a slot (a zone seen before keeps its own). Not on the answer path. */
  registerZones(zones: ZoneSet): ReadonlyMap<string, number> {
    for (const zone of zones.zones.values()) {
      if (this.zoneSlots.has(zone.key)) continue;
      this.zoneSlots.set(zone.key, this.zoneLabels.length);
      this.zoneLabels.push(nameToText(zone.origin).toLowerCase());
    }
    const zonesCount = this.zoneLabels.length;
    this.requests = grown(this.requests, zonesCount * TYPE_SLOTS * REQUEST_CELLS);
    this.responses = grown(this.responses, zonesCount * RCODE_SLOTS);
    this.buckets = grown(this.buckets, zonesCount * TYPE_SLOTS * BUCKETS);
    this.seconds = grown(this.seconds, zonesCount * TYPE_SLOTS);
    this.untimed = grown(this.untimed, zonesCount * TYPE_SLOTS);
    return this.zoneSlots;
  }

  /** Gives each member a slot, by its key. Not on the answer path. */
  registerMembers(members: Iterable<Member>): void {
    for (const member of members) {
      if (this.memberSlots.has(member.key)) continue;
      this.memberSlots.set(member.key, this.memberLabels.length);
      this.memberLabels.push(member.key);
    }
    this.decided = grown(this.decided, this.memberLabels.length);
  }

  /**
   * Counts one query: `zone` its zone slot, `qtype` its type (-1: unparsable), `rcode` the
   * reply's (-1: no reply), `ms` how long answering took ({@link UNTIMED}: not timed).
   */
  query(
    zone: number,
    qtype: number,
    transport: Transport,
    ipv6: boolean,
    rcode: number,
    ms: number,
  ): void {
    const type = qtype < 0 ? OTHER_TYPE : TYPE_SLOT[qtype]!;
    const cell = (transport === 'tcp' ? 2 : 0) + (ipv6 ? 1 : 0);
    const zoneType = zone * TYPE_SLOTS + type;
    this.requests[zoneType * REQUEST_CELLS + cell]!++;
    if (rcode >= 0 && rcode < RCODE_SLOTS) this.responses[zone * RCODE_SLOTS + rcode]!++;
    this.count++;
    if (ms === UNTIMED) {
      this.untimed[zoneType]!++;
      return;
    }
    // A timed query stands for itself and the untimed ones of its cell since the last timed.
    const weight = this.untimed[zoneType]! + 1;
    this.untimed[zoneType] = 0;
    this.buckets[zoneType * BUCKETS + bucketOf(ms)]! += weight;
    this.seconds[zoneType]! += (ms / 1000) * weight;
  }

  /** Counts an answer for each of `members`. */
  chose(members: readonly Member[]): void {
    for (let i = 0; i < members.length; i++) {
      const slot = this.memberSlots.get(members[i]!.key);
      if (slot !== undefined) this.decided[slot]!++;
    }
  }

  /** The totals so far, labelled (nonzero cells only). */
  totals(): QueryTotals {
    const totals = noQueryTotals();
    const protos = ['udp', 'udp', 'tcp', 'tcp'];
    const families = ['1', '2', '1', '2'];
    this.zoneLabels.forEach((zone, z) => {
      for (let type = 0; type < TYPE_SLOTS; type++) {
        const zoneType = z * TYPE_SLOTS + type;
        const label = `${zone}\t${TYPE_LABELS[type]!}`;
        for (let cell = 0; cell < REQUEST_CELLS; cell++) {
          const value = this.requests[zoneType * REQUEST_CELLS + cell]!;
          if (value > 0)
            totals.requests[
              `${zone}\t${protos[cell]!}\t${families[cell]!}\t${TYPE_LABELS[type]!}`
            ] = value;
        }
        const counts = Array.from(
          this.buckets.subarray(zoneType * BUCKETS, (zoneType + 1) * BUCKETS),
        );
        if (counts.some((count) => count > 0)) {
          totals.durationBuckets[label] = counts;
          totals.durationSeconds[label] = this.seconds[zoneType]!;
        }
      }
      for (let rcode = 0; rcode < RCODE_SLOTS; rcode++) {
        const value = this.responses[z * RCODE_SLOTS + rcode]!;
        if (value > 0) totals.responses[`${zone}\t${RCODE_LABELS[rcode]!}`] = value;
      }
    });
    this.memberLabels.forEach((key, slot) => {
      const value = this.decided[slot]!;
      if (value > 0) totals.decisions[key] = value;
    });
    return totals;
  }
}
