/**
 * The DNS-B's table (seed 002, FIG. 3): ISP resolver address -> DNS-LB, from the
 * registrations heard, and the referral it answers. Immutable: a registration makes a new
 * table, and a query reads the one current when it arrived.
 */
import { nameFromText, wireKey } from '../dns/name.js';
import { parseAddress, unmapAddress } from '../lib/ip.js';
import type { Ranking } from './message.js';

/** A DNS-LB as the DNS-B knows it: plain data (it is saved, and crosses processes). */
export interface BalancerEntry {
  /** The DNS-LB's label: the referral is to `<label>.<name>`. */
  readonly label: string;
  /** Its DNS address (the glue). */
  readonly balancer: string;
  readonly resolvers: readonly string[];
  /** Where it takes site lists, `ADDR:PORT`, if it does. */
  readonly notify: string | undefined;
  readonly intervalMs: number;
  /** When its last registration arrived (ms since the epoch). */
  readonly heardAt: number;
  /** Its rankings of the sites, per balanced name, if it sends them (the rankings variant). */
  readonly rankings?: readonly Ranking[];
}

/** The DNS-B's settings (`referral.backbone`), compiled. */
export interface BackboneSettings {
  /** The balanced names, lower case with a trailing dot. */
  readonly names: readonly string[];
  /** TTL of the CNAME and the referral (the medium tier), seconds. */
  readonly referralTtl: number;
  /**
   * A resolver nobody registered: the DNS-LB of the nearest one by prefix, or by the geo
   * data (country, else continent, else registry region), or the zone's own answer.
   */
  readonly unmapped: 'nearest' | 'geo' | 'answer';
  /** `nearest` needs at least this many leading bits in common. */
  readonly nearestMinPrefix: number;
  /** The rankings variant: answer A / AAAA from the DNS-LB's ranking instead of referring. */
  readonly direct: boolean;
  /** TTL of those direct answers (the short tier), seconds. */
  readonly directTtl: number;
}

/** Where an address is, by the country database (src/geo/ `GeoLookup.locate`). */
export type LocateAddress = (address: Uint8Array) => {
  readonly country: string | undefined;
  readonly continent: string | undefined;
  readonly region: string | undefined;
};

/** What the answer path needs of the referral (it matches answer/referral.ts ReferralReply). */
export interface Referral {
  readonly cname: Buffer | undefined;
  readonly cut: Buffer;
  readonly ns: Buffer;
  readonly glue: readonly Uint8Array[];
  readonly ttl: number;
}

/** A direct answer of the rankings variant: the ranked sites of one family, best first. */
export interface Ranked {
  readonly ranked: readonly Uint8Array[];
  readonly ttl: number;
}

/** One balancer, indexed for answering. */
interface Indexed {
  readonly entry: BalancerEntry;
  readonly resolvers: readonly Uint8Array[];
  /** By balanced name key: the answer with the CNAME and the referral alone, made once. */
  readonly referrals: ReadonlyMap<string, { readonly cname: Referral; readonly plain: Referral }>;
  /** By balanced name key and family (`4`, `6`): its ranking without offline sites, made once. */
  readonly ranked: ReadonlyMap<string, { readonly 4?: Ranked; readonly 6?: Ranked }>;
}

/** One balanced name: its wire form and its key. */
interface Balanced {
  readonly wire: Buffer;
  readonly key: string;
}

const bytesKey = (bytes: Uint8Array): string => Buffer.from(bytes).toString('latin1');

/** Leading bits two addresses of one family have in common. */
export function commonPrefix(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return -1;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]! ^ b[i]!;
    if (x !== 0) return i * 8 + Math.clz32(x) - 24;
  }
  return a.length * 8;
}

/**
 * The table and the referral decision. `refer` is the answer path's hook: it does no I/O
 * and allocates only the few buffers of its answer.
 */
export class ReferralTable {
  private readonly byResolver = new Map<string, Indexed>();
  private readonly byLabel = new Map<string, Indexed>();
  private readonly names = new Map<string, Balanced>();
  private readonly all: Indexed[] = [];
  /** `unmapped: geo`: the places of every registered resolver, and the choices made so far. */
  private readonly places: { readonly indexed: Indexed; readonly place: Place }[] = [];
  private readonly locate: LocateAddress | undefined;
  private readonly geoChosen = new Map<string, Indexed | null>();

  readonly settings: BackboneSettings;
  readonly entries: readonly BalancerEntry[];

  /**
   * `offline`: the addresses the owner has offline (the site lists this DNS-B keeps); a
   * direct answer leaves them out.
   */
  constructor(
    settings: BackboneSettings,
    entries: readonly BalancerEntry[],
    offline: ReadonlySet<string> = new Set(),
    locate?: LocateAddress,
  ) {
    this.settings = settings;
    this.locate = locate;
    this.entries = entries;
    for (const text of settings.names) {
      const wire = nameFromText(text);
      this.names.set(wireKey(wire), { wire, key: wireKey(wire) });
    }
    const glue = (entry: BalancerEntry): readonly Uint8Array[] => [parseAddress(entry.balancer)!];
    // Later registrations win a resolver two DNS-LBs claim: the newest mapping is the truth.
    const ordered = [...entries].sort((a, b) => a.heardAt - b.heardAt);
    for (const entry of ordered) {
      const referrals = new Map(
        [...this.names.values()].map((name) => {
          const cut = nameFromText(entry.label, name.wire);
          const plain = { cname: undefined, cut, ns: nameFromText('ns', cut), glue: glue(entry) };
          const ttl = settings.referralTtl;
          return [name.key, { cname: { ...plain, cname: cut, ttl }, plain: { ...plain, ttl } }];
        }),
      );
      const indexed: Indexed = {
        entry,
        resolvers: entry.resolvers.map((r) => parseAddress(r)!),
        referrals,
        ranked: settings.direct ? this.rankedOf(entry, offline) : new Map(),
      };
      this.all.push(indexed);
      this.byLabel.set(entry.label, indexed);
      for (const bytes of indexed.resolvers) this.byResolver.set(bytesKey(bytes), indexed);
    }
    if (settings.unmapped === 'geo' && locate)
      // Newest first: the DNS-LB that registered a resolver last wins a tie, as it wins it.
      for (const indexed of [...this.all].reverse())
        for (const bytes of indexed.resolvers)
          if (this.byResolver.get(bytesKey(bytes)) === indexed)
            this.places.push({ indexed, place: locate(bytes) });
  }

  /** An entry's rankings by name key and family, offline sites left out; empty ones too. */
  private rankedOf(
    entry: BalancerEntry,
    offline: ReadonlySet<string>,
  ): Map<string, { 4?: Ranked; 6?: Ranked }> {
    const out = new Map<string, { 4?: Ranked; 6?: Ranked }>();
    for (const ranking of entry.rankings ?? []) {
      const key = wireKey(nameFromText(`${ranking.name}.`));
      if (!this.names.has(key)) continue;
      const bytes = ranking.sites.filter((a) => !offline.has(a)).map((a) => parseAddress(a)!);
      const of = (length: number): Ranked | undefined => {
        const ranked = bytes.filter((b) => b.length === length);
        return ranked.length > 0 ? { ranked, ttl: this.settings.directTtl } : undefined;
      };
      const [v4, v6] = [of(4), of(16)];
      out.set(key, { ...(v4 ? { 4: v4 } : {}), ...(v6 ? { 6: v6 } : {}) });
    }
    return out;
  }

  /** The DNS-LB registered for this resolver address (exactly), if any. */
  mapped(resolver: Uint8Array): BalancerEntry | undefined {
    return this.byResolver.get(bytesKey(resolver))?.entry;
  }

  /** The DNS-LB for this resolver: mapped, else by the `unmapped` rule. */
  balancerFor(resolver: Uint8Array): BalancerEntry | undefined {
    return this.chosenFor(resolver)?.entry;
  }

  private chosenFor(resolver: Uint8Array): Indexed | undefined {
    const exact = this.byResolver.get(bytesKey(resolver));
    if (exact || this.settings.unmapped === 'answer') return exact;
    if (this.settings.unmapped === 'geo') return this.byGeo(resolver);
    let best: Indexed | undefined;
    let bestBits = this.settings.nearestMinPrefix - 1;
    for (const indexed of this.all)
      for (const bytes of indexed.resolvers) {
        const bits = commonPrefix(bytes, resolver);
        if (bits > bestBits) [best, bestBits] = [indexed, bits];
      }
    return best;
  }

  /**
   * `unmapped: geo`: the DNS-LB of a registered resolver in the same country, else the same
   * continent, else the same registry region; the longest common prefix among equals. None:
   * the zone answers. Each resolver's choice is kept (the table is rebuilt on every
   * registration), so the database is read once per resolver, not per query.
   */
  private byGeo(resolver: Uint8Array): Indexed | undefined {
    const key = bytesKey(resolver);
    const known = this.geoChosen.get(key);
    if (known !== undefined) return known ?? undefined;
    const place = this.locate?.(resolver);
    let best: Indexed | undefined;
    let bestScore = 0;
    for (const { indexed, place: at } of place ? this.places : []) {
      const level =
        at.country !== undefined && at.country === place!.country
          ? 3
          : at.continent !== undefined && at.continent === place!.continent
            ? 2
            : at.region !== undefined && at.region === place!.region
              ? 1
              : 0;
      if (level === 0) continue;
      const bits = Math.max(0, ...indexed.resolvers.map((r) => commonPrefix(r, resolver)));
      const score = level * 256 + bits;
      if (score > bestScore) [best, bestScore] = [indexed, score];
    }
    // Bounded: a flood of new source addresses must not grow it without end.
    if (this.geoChosen.size >= GEO_MEMO) this.geoChosen.clear();
    this.geoChosen.set(key, best ?? null);
    return best;
  }

  /**
   * The referral for a question: the balanced name itself gets a CNAME to the DNS-LB of
   * the asking resolver plus the referral; a name at or below `<label>.<name>` gets the
   * referral to that label's DNS-LB. Undefined: the zone answers (not ours, an apex
   * type, no DNS-LB for this resolver).
   */
  refer(key: string, qtype: number, address: string): Referral | Ranked | undefined {
    if (this.names.size === 0) return undefined;
    const name = this.names.get(key);
    if (name) {
      if (APEX_TYPES.has(qtype)) return undefined;
      const resolver = parseAddress(unmapAddress(address));
      const chosen = resolver && this.chosenFor(resolver);
      if (!chosen) return undefined;
      const ranking = chosen.ranked.get(name.key);
      // Ranked by its DNS-LB: the addresses themselves, and no CNAME for any type (the zone
      // answers the others, NODATA). A ranking with no site left (all offline, or none up at
      // the DNS-LB) refers to the DNS-LB, which has the rest of its rules.
      if (ranking && (ranking[4] || ranking[6]))
        return qtype === A ? ranking[4] : qtype === AAAA ? ranking[6] : undefined;
      return this.referral(chosen, name, true);
    }
    return this.below(key, qtype);
  }

  /**
   * A name below a balanced name: the label right under it picks the DNS-LB. Most queries
   * are for other names: they cost one `endsWith` per balanced name.
   */
  private below(key: string, qtype: number): Referral | undefined {
    for (const name of this.names.values()) {
      if (key.length <= name.key.length || !key.endsWith(name.key)) continue;
      const rest = key.length - name.key.length;
      // Walk the labels to the one that ends where the balanced name starts.
      let at = 0;
      while (at < rest && at + 1 + key.charCodeAt(at) < rest) at += 1 + key.charCodeAt(at);
      if (at + 1 + key.charCodeAt(at) !== rest) continue;
      const chosen = this.byLabel.get(key.slice(at + 1, rest));
      // DS at the cut is the parent's (ours): the zone answers it (NODATA).
      if (!chosen || (at === 0 && qtype === DS)) return undefined;
      return this.referral(chosen, name, false);
    }
    return undefined;
  }

  private referral(chosen: Indexed, name: Balanced, cname: boolean): Referral | undefined {
    const made = chosen.referrals.get(name.key);
    return made && (cname ? made.cname : made.plain);
  }
}

const DS = 43;
type Place = ReturnType<LocateAddress>;

/** Resolvers whose `unmapped: geo` choice is kept. */
const GEO_MEMO = 65_536;

const A = 1;
const AAAA = 28;
/** Types the DNS-B's zone answers at the balanced name: SOA, NS, DS, DNSKEY. */
const APEX_TYPES: ReadonlySet<number> = new Set([6, 2, 43, 48]);
