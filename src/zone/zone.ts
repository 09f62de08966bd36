import { RRType } from '../dns/constants.js';
import { isSubdomain, nameToText, wireKey } from '../dns/name.js';
import type { ResourceRecord, SourcePosition } from '../dns/record.js';
import { runToEnd, type Steps } from '../lib/slices.js';

/** Records of one owner and type, with one TTL (RFC 2181 5). */
export interface RRset {
  readonly type: number;
  readonly ttl: number;
  /**
   * RDATA of each record, uncompressed wire form held as latin1 strings: a short string
   * costs a fraction of a Buffer, which matters for zones of millions of records. Most
   * RRsets hold one record: that one is the string itself, not an array of one (which
   * would cost more than the record). Read it with {@link rdataOf}.
   */
  readonly rdata: string | readonly string[];
}

/** The records of `rrset` (a new one-element array for a single record: not for the hot path). */
export function rdataOf(rrset: RRset): readonly string[] {
  return typeof rrset.rdata === 'string' ? [rrset.rdata] : rrset.rdata;
}

/** The first (for SOA and CNAME, the only) record of `rrset`. */
export function firstRdata(rrset: RRset): string {
  return typeof rrset.rdata === 'string' ? rrset.rdata : rrset.rdata[0]!;
}

/** How many records `rrset` holds. */
export function rdataCount(rrset: RRset): number {
  return typeof rrset.rdata === 'string' ? 1 : rrset.rdata.length;
}

/** One name in a zone: its RRsets, or none for an empty non-terminal. */
export interface ZoneNode {
  /** Lower-cased wire form as a latin1 string: the node's key in {@link Zone.nodes}. */
  readonly key: string;
  /**
   * Wire form with the case as written, as a latin1 string; the very same string as `key`
   * when the name has no upper case, so it usually costs nothing. See {@link nodeName}.
   */
  readonly name: string;
  /**
   * Few per name, so a short array beats a map in both memory and speed; a name with a
   * single RRset (most of a large zone) holds it directly. Read it with {@link rrsetsOf}.
   */
  readonly rrsets: RRset | readonly RRset[];
  /**
   * The delegation (zone cut) at or above this node, below the apex; undefined for
   * authoritative names. A cut node itself has `cut === this`.
   */
  readonly cut: ZoneNode | undefined;
}

/** The owner name of `node` in wire form, case as written (a new Buffer: not for the hot path). */
export function nodeName(node: ZoneNode): Buffer {
  return Buffer.from(node.name, 'latin1');
}

/** The RRsets of `node` (a new one-element array for a single RRset: not for the hot path). */
export function rrsetsOf(node: ZoneNode): readonly RRset[] {
  return isSingle(node.rrsets) ? [node.rrsets] : node.rrsets;
}

function isSingle<T extends RRset>(rrsets: T | readonly T[]): rrsets is T {
  return !Array.isArray(rrsets);
}

/** The RRset of `type` at `node`, if any. */
export function rrsetOf(node: ZoneNode | undefined, type: number): RRset | undefined {
  if (!node) return undefined;
  const rrsets = node.rrsets;
  if (isSingle(rrsets)) return rrsets.type === type ? rrsets : undefined;
  for (const rrset of rrsets) if (rrset.type === type) return rrset;
  return undefined;
}

/** An immutable zone: built once by {@link buildZone}, then only read. */
export interface Zone {
  readonly origin: Buffer;
  readonly key: string;
  readonly soa: RRset;
  readonly ns: RRset;
  /** TTL of negative answers: min(SOA TTL, SOA MINIMUM) (RFC 2308 3). */
  readonly negativeTtl: number;
  readonly nodes: ReadonlyMap<string, ZoneNode>;
  /** Number of records, for logs and status. */
  readonly size: number;
  /** SOA serial. */
  readonly serial: number;
  /** True when a name of the zone owns a DNAME (RFC 6672): only then do lookups look for one. */
  readonly hasDname: boolean;
}

/** A problem found while building a zone; `position` names the record's source line. */
export interface ZoneProblem {
  readonly position: SourcePosition | undefined;
  readonly reason: string;
}

/** Result of {@link buildZone}: the zone, or the errors that prevented it. */
export interface BuildResult {
  readonly zone: Zone | undefined;
  readonly errors: readonly ZoneProblem[];
  readonly warnings: readonly ZoneProblem[];
}

type PositionedRecord = ResourceRecord & { readonly position?: SourcePosition };

interface MutableRRset {
  type: number;
  ttl: number;
  rdata: string | string[];
}

interface MutableNode {
  key: string;
  name: string;
  rrsets: MutableRRset | MutableRRset[];
  cut: ZoneNode | undefined;
}

const DNSSEC_TYPES = new Set<number>([RRType.RRSIG, RRType.NSEC, 50, 51]);

/** Names between two points where a sliced build may pause. */
const NODES_PER_STEP = 1024;

/** Calls `visit` on every node of `nodes`, yielding every {@link NODES_PER_STEP} nodes. */
function* eachNode(
  nodes: Map<string, MutableNode>,
  visit: (node: MutableNode) => void,
): Steps<void> {
  let count = 0;
  for (const node of nodes.values()) {
    visit(node);
    if (++count % NODES_PER_STEP === 0) yield;
  }
}

class ZoneBuilder {
  readonly nodes = new Map<string, MutableNode>();
  readonly errors: ZoneProblem[] = [];
  readonly warnings: ZoneProblem[] = [];
  /**
   * Where each RRset other than A and AAAA was first written, for messages; only kept
   * while building. Addresses never need one (no check below names them), and skipping
   * them spares a large zone an entry per name that would only become garbage.
   */
  private readonly positions = new Map<RRset, SourcePosition | undefined>();
  private readonly origin: Buffer;
  private readonly originKey: string;
  private lastName: Buffer | undefined;
  private lastNode: MutableNode | undefined;
  /** Keys of the names that own a DNAME. */
  private readonly dnames = new Set<string>();

  constructor(origin: Buffer) {
    this.origin = origin;
    this.originKey = wireKey(origin);
  }

  add(rr: PositionedRecord): void {
    const node = rr.name === this.lastName ? this.lastNode : this.nodeFor(rr);
    if (!node) return;
    this.lastName = rr.name;
    this.lastNode = node;
    const rrset = rrsetOf(node, rr.type) as MutableRRset | undefined;
    const rdata = rr.rdata.toString('latin1');
    if (!rrset) {
      const created: MutableRRset = { type: rr.type, ttl: rr.ttl, rdata };
      // A new array each time, exact in size: push would make room for 17 (see trim).
      const rrsets = node.rrsets;
      if (isSingle(rrsets)) node.rrsets = [rrsets, created];
      else node.rrsets = rrsets.length === 0 ? created : [...rrsets, created];
      if (rr.type !== RRType.A && rr.type !== RRType.AAAA) this.positions.set(created, rr.position);
      if (rr.type === RRType.DNAME) this.dnames.add(node.key);
      return;
    }
    if (rrset.rdata === rdata || (typeof rrset.rdata !== 'string' && rrset.rdata.includes(rdata))) {
      this.warnings.push({
        position: rr.position,
        reason: `duplicate record ${nameToText(rr.name)} ignored`,
      });
      return;
    }
    if (rr.ttl !== rrset.ttl) {
      this.warnings.push({
        position: rr.position,
        reason: `TTLs differ in the RRset ${nameToText(rr.name)}; using the smallest`,
      });
      rrset.ttl = Math.min(rrset.ttl, rr.ttl);
    }
    if (rr.type === RRType.SOA || rr.type === RRType.CNAME || rr.type === RRType.DNAME) {
      const what =
        rr.type === RRType.SOA ? 'SOA record' : rr.type === RRType.CNAME ? 'CNAME' : 'DNAME';
      this.errors.push({
        position: rr.position,
        reason: `more than one ${what} at ${nameToText(rr.name)}`,
      });
    }
    if (typeof rrset.rdata === 'string') rrset.rdata = [rrset.rdata, rdata];
    else rrset.rdata.push(rdata);
  }

  declare(name: Buffer): void {
    if (isSubdomain(name, this.origin)) this.ensure(name.toString('latin1'), wireKey(name));
  }

  private nodeFor(rr: PositionedRecord): MutableNode | undefined {
    const key = wireKey(rr.name);
    const known = this.nodes.get(key);
    if (known) return known;
    if (!isSubdomain(rr.name, this.origin)) {
      const reason = `${nameToText(rr.name)} is outside the zone ${nameToText(this.origin)}`;
      this.errors.push({ position: rr.position, reason });
      return undefined;
    }
    return this.ensure(rr.name.toString('latin1'), key);
  }

  private ensure(name: string, key: string): MutableNode {
    let node = this.nodes.get(key);
    if (node) return node;
    node = { key, name: name === key ? key : name, rrsets: [], cut: undefined };
    this.nodes.set(key, node);
    if (key !== this.originKey) {
      const skip = key.charCodeAt(0) + 1;
      this.ensure(name.slice(skip), key.slice(skip));
    }
    return node;
  }

  /** Checks each name: SOA only at the apex and only one, CNAME alone. */
  private check(): Steps<void> {
    return eachNode(this.nodes, (node) => {
      const types = rrsetsOf(node).map((rrset) => rrset.type);
      const soa = rrsetOf(node, RRType.SOA) as MutableRRset | undefined;
      if (soa && node.key !== this.originKey) {
        const reason = `SOA at ${nameToText(nodeName(node))}, which is not the zone apex`;
        this.errors.push({ position: this.positions.get(soa), reason });
      }
      const cname = rrsetOf(node, RRType.CNAME) as MutableRRset | undefined;
      if (!cname) return;
      const position = this.positions.get(cname);
      if (types.some((type) => type !== RRType.CNAME && !DNSSEC_TYPES.has(type))) {
        this.errors.push({
          position,
          reason: `CNAME and other data at ${nameToText(nodeName(node))}`,
        });
      }
    });
  }

  /** Checks and seals the zone, in steps that a slicer may pause between (each name is visited three times). */
  *finish(size: number, where: SourcePosition | undefined): Steps<BuildResult> {
    yield* this.check();
    const { errors, warnings, nodes, origin } = this;
    const apex = nodes.get(this.originKey);
    const soa = rrsetOf(apex, RRType.SOA);
    const ns = rrsetOf(apex, RRType.NS);
    if (!soa)
      errors.push({ position: where, reason: `zone ${nameToText(origin)} has no SOA at its apex` });
    if (!ns)
      errors.push({ position: where, reason: `zone ${nameToText(origin)} has no NS at its apex` });
    if (!soa || !ns || errors.length > 0) return { zone: undefined, errors, warnings };
    yield* this.markCuts();
    this.positions.clear();
    yield* this.trim();
    const soaRdata = Buffer.from(firstRdata(soa), 'latin1');
    const zone: Zone = {
      origin: Buffer.from(origin),
      key: this.originKey,
      soa,
      ns,
      negativeTtl: Math.min(soa.ttl, soaRdata.readUInt32BE(soaRdata.length - 4)),
      nodes,
      size,
      serial: soaRdata.readUInt32BE(soaRdata.length - 20),
      hasDname: this.dnames.size > 0,
    };
    return { zone, errors: [], warnings };
  }

  /**
   * Replaces the record arrays grown by push (room for 17 entries after the first push)
   * with exact-size copies. Most RRsets hold one record and never grew; in a zone of
   * millions of names, the spare room would be the largest part of each name's memory.
   */
  private trim(): Steps<void> {
    return eachNode(this.nodes, (node) => {
      for (const rrset of rrsetsOf(node) as MutableRRset[])
        if (typeof rrset.rdata !== 'string') rrset.rdata = rrset.rdata.slice();
    });
  }

  /** Sets `cut` on delegation points and on every name below one. */
  private markCuts(): Steps<void> {
    const cutOf = (node: MutableNode): ZoneNode | undefined => {
      if (node.key === this.originKey) return undefined;
      if (node.cut) return node.cut;
      const above = cutOf(this.nodes.get(node.key.slice(node.key.charCodeAt(0) + 1))!);
      const cut = above ?? (rrsetOf(node, RRType.NS) ? node : undefined);
      node.cut = cut;
      return cut;
    };
    return eachNode(this.nodes, (node) => {
      if (this.dnames.size > 0) this.checkBelowDname(node);
      if (cutOf(node) === undefined) return;
      if (node.cut === node) {
        this.checkGlue(node);
        return;
      }
      const occluded = rrsetsOf(node).find((r) => r.type !== RRType.A && r.type !== RRType.AAAA);
      if (occluded) {
        const reason = `${nameToText(nodeName(node))} is below a delegation; only glue addresses are used`;
        this.warnings.push({ position: this.positions.get(occluded), reason });
      }
    });
  }

  /**
   * Warns of a delegation whose NS targets are inside the delegated zone but have no
   * address here: without glue, a resolver cannot reach those servers (RFC 9471 2.1).
   */
  private checkGlue(cut: MutableNode): void {
    const ns = rrsetOf(cut, RRType.NS)!;
    const cutName = nodeName(cut);
    for (const rdata of rdataOf(ns)) {
      const target = Buffer.from(rdata, 'latin1');
      if (!isSubdomain(target, cutName)) continue;
      const glue = this.nodes.get(wireKey(target));
      if (rrsetOf(glue, RRType.A) || rrsetOf(glue, RRType.AAAA)) continue;
      const reason = `the delegation ${nameToText(cutName)} has NS ${nameToText(target)}, inside it, without a glue address (A or AAAA)`;
      this.warnings.push({ position: this.positions.get(ns), reason });
    }
  }

  /** Warns of data below a DNAME owner: it is never answered (RFC 6672 2.4). */
  private checkBelowDname(node: MutableNode): void {
    if (rrsetsOf(node).length === 0) return;
    for (let p = 0; node.key.slice(p) !== this.originKey;) {
      p += node.key.charCodeAt(p) + 1;
      const owner = node.key.slice(p);
      if (!this.dnames.has(owner)) continue;
      // Addresses keep no position (see positions): name the first record that has one.
      const position = rrsetsOf(node)
        .map((rrset) => this.positions.get(rrset))
        .find((known) => known !== undefined);
      const reason = `${nameToText(nodeName(node))} is below the DNAME at ${nameToText(Buffer.from(owner, 'latin1'))}; it is never answered`;
      this.warnings.push({ position, reason });
      return;
    }
  }
}

/** Builds a zone record by record (for streaming loads); `finish` checks and seals it. */
export interface ZoneAssembly {
  add(record: PositionedRecord): void;
  /** Makes `name` exist (with no data) if it is inside the zone: steered names answer NODATA for other types. */
  declare(name: Buffer): void;
  finish(): BuildResult;
  /** {@link finish} as steps that a slicer (`lib/slices.ts`) can pause between. */
  finishSteps(): Steps<BuildResult>;
}

/**
 * Starts building a zone, checked as Knot and NSD check one: exactly one SOA, at the apex;
 * NS at the apex; every name inside the origin; CNAME alone at its name; one TTL per RRset
 * (the smallest, with a warning). Data below a delegation other than glue addresses is kept
 * out of answers.
 */
export function assembleZone(origin: Buffer): ZoneAssembly {
  const builder = new ZoneBuilder(origin);
  let size = 0;
  let first: SourcePosition | undefined;
  return {
    add(record) {
      if (size++ === 0) first = record.position;
      builder.add(record);
    },
    declare: (name) => {
      builder.declare(name);
    },
    finish: () => runToEnd(builder.finish(size, first)),
    finishSteps: () => builder.finish(size, first),
  };
}

/** Builds a zone from all its records at once; see {@link assembleZone}. */
export function buildZone(origin: Buffer, records: readonly PositionedRecord[]): BuildResult {
  const assembly = assembleZone(origin);
  for (const record of records) assembly.add(record);
  return assembly.finish();
}
