/**
 * The map protocol of seed 002 (FIG. 4): the small authenticated messages DNS-LBs, DNS-Bs
 * and the DNS-A exchange over TCP. One message per connection, framed as DNS over TCP is
 * (a two-byte length, RFC 1035 4.2.2), laid out as announcements are (docs/agent.md):
 *
 *   'SDM1' (4 bytes) | version 1 (1 byte) | body (UTF-8 JSON, fixed key order) | HMAC-SHA256 (32)
 *
 * The MAC covers every byte before it; nothing in the body is read before it verifies.
 * The receiver answers one byte: {@link Ack}.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { DecodeFailure } from '../agent/announcement.js';
import { canonicalAddress, parseHostPort } from '../lib/ip.js';

/** The four bytes every map message starts with. */
export const MAP_MAGIC = Buffer.from('SDM1', 'latin1');
/** The wire format version. */
export const MAP_VERSION = 1;
/** Largest message, framing excluded: a site list of a few hundred sites fits. */
export const MAX_MAP_BYTES = 16_384;
const MAC_BYTES = 32;
const HEADER_BYTES = MAP_MAGIC.length + 1;

/** What every message carries for the replay guard. */
export interface MapHeader {
  /** Who sends it: a DNS-LB's label, a DNS-B's or DNS-A's name (1-63 of `a-z 0-9 -`). */
  readonly sender: string;
  /** Random id of the sender's run, 16 lower-case hex digits. */
  readonly epoch: string;
  /** Counts messages within one epoch; each is higher than the last. */
  readonly sequence: number;
  /** When it was sent, ms since the epoch. */
  readonly timestamp: number;
}

/** A DNS-LB's registration: "my address <-> the ISP resolvers next to me". */
export interface Registration extends MapHeader {
  readonly kind: 'register';
  /** The DNS-LB's DNS address: the glue of the referral. */
  readonly balancer: string;
  /** The ISP resolvers the DNS-LB serves (their query source addresses). */
  readonly resolvers: readonly string[];
  /** Where the DNS-LB takes site lists (`ADDR:PORT`); absent: it takes none. */
  readonly notify: string | undefined;
  /** How often it registers again, ms: the DNS-B forgets it after a few silent intervals. */
  readonly intervalMs: number;
  /**
   * The variant "rankings to the DNS-Bs" (seed 002 [0046]): the sites this DNS-LB measured,
   * best first, per balanced name; a DNS-B with `direct` answers them itself. Sent with
   * every registration, and at once when one changes.
   */
  readonly rankings?: readonly Ranking[];
}

/** One balanced name's sites as a DNS-LB ranks them: addresses, best first (may be empty). */
export interface Ranking {
  /** The balanced name, lower case, no trailing dot. */
  readonly name: string;
  readonly sites: readonly string[];
}

/** One site of a site list and whether the owner has it online. */
export interface SiteEntry {
  readonly address: string;
  readonly online: boolean;
}

/** The site list of a balanced name: DNS-A to DNS-B, DNS-B to its DNS-LBs. */
export interface SiteList extends MapHeader {
  readonly kind: 'sites';
  /** The balanced name, lower case, no trailing dot. */
  readonly name: string;
  readonly sites: readonly SiteEntry[];
}

/** What a measurement agent measured of one site in its last round. */
export interface SiteMeasurement {
  readonly address: string;
  /** Whether the last probe succeeded (the page downloaded whole, status expected). */
  readonly ok: boolean;
  /** Time of the last successful probe, ms; absent when it has none yet. */
  readonly ms?: number;
  /** Probes the site reset, and probes cut off mid-answer, since the agent started. */
  readonly resets: number;
  readonly abnormal: number;
}

/**
 * A measurement agent's round (seed 002 MService): every site probed from where it
 * stands. `address` is the agent's own: servers use the agent sharing the longest prefix
 * with a client.
 */
export interface Measurements extends MapHeader {
  readonly kind: 'measure';
  readonly address: string;
  /** How often it measures, ms. */
  readonly intervalMs: number;
  readonly sites: readonly SiteMeasurement[];
}

/** Any map message. */
export type MapMessage = Registration | SiteList | Measurements;

/** The receiver's one-byte answer. */
export const Ack = { ACCEPTED: 0, REJECTED: 1 } as const;

/**
 * Why a message was dropped: the announcements' reasons (stable strings, counted as metric
 * labels) but an address, which a map message checks as one of its fields.
 */
export type MapFailure = Exclude<DecodeFailure, 'bad-address'>;

/** The outcome of {@link decodeMapMessage}. */
export type MapDecoded =
  | { readonly ok: true; readonly message: MapMessage }
  | { readonly ok: false; readonly reason: MapFailure; readonly detail?: string };

const mac = (key: Buffer, signed: Buffer): Buffer =>
  createHmac('sha256', key).update(signed).digest();

/** The body in its one canonical form: fixed key order, canonical addresses. */
function canonicalBody(m: MapMessage): string {
  const header = { sender: m.sender, epoch: m.epoch, sequence: m.sequence, timestamp: m.timestamp };
  if (m.kind === 'register')
    return JSON.stringify({
      kind: m.kind,
      ...header,
      balancer: m.balancer,
      resolvers: m.resolvers,
      ...(m.notify === undefined ? {} : { notify: m.notify }),
      intervalMs: m.intervalMs,
      ...(m.rankings === undefined
        ? {}
        : { rankings: m.rankings.map((r) => ({ name: r.name, sites: r.sites })) }),
    });
  if (m.kind === 'measure')
    return JSON.stringify({
      kind: m.kind,
      ...header,
      address: m.address,
      intervalMs: m.intervalMs,
      sites: m.sites.map((s) => ({
        address: s.address,
        ok: s.ok,
        ...(s.ms === undefined ? {} : { ms: s.ms }),
        resets: s.resets,
        abnormal: s.abnormal,
      })),
    });
  return JSON.stringify({ kind: m.kind, ...header, name: m.name, sites: m.sites });
}

/** Encodes and signs a message; throws on a field the decoder would reject. */
export function encodeMapMessage(message: MapMessage, key: Buffer): Buffer {
  const checked = checkFields(JSON.parse(canonicalBody(message)) as unknown);
  if (!checked.ok) throw new Error(`map message: ${checked.detail ?? checked.reason}`);
  const signed = Buffer.concat([
    MAP_MAGIC,
    Buffer.from([MAP_VERSION]),
    Buffer.from(canonicalBody(checked.message), 'utf8'),
  ]);
  if (signed.length + MAC_BYTES > MAX_MAP_BYTES) throw new Error('map message: too large');
  return Buffer.concat([signed, mac(key, signed)]);
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Checks and decodes one message (framing removed). Never throws. Size, magic, version,
 * then the MAC in constant time (with `key`, then each of `previous`), then the fields.
 */
export function decodeMapMessage(
  bytes: Buffer,
  key: Buffer,
  previous: readonly Buffer[] = [],
): MapDecoded {
  if (bytes.length > MAX_MAP_BYTES) return { ok: false, reason: 'too-large' };
  if (bytes.length < HEADER_BYTES + 2 + MAC_BYTES) return { ok: false, reason: 'truncated' };
  if (!bytes.subarray(0, MAP_MAGIC.length).equals(MAP_MAGIC))
    return { ok: false, reason: 'bad-magic' };
  if (bytes[MAP_MAGIC.length] !== MAP_VERSION) return { ok: false, reason: 'bad-version' };
  const end = bytes.length - MAC_BYTES;
  const signed = bytes.subarray(0, end);
  const given = bytes.subarray(end);
  if (![key, ...previous].some((k) => timingSafeEqual(mac(k, signed), given)))
    return { ok: false, reason: 'bad-mac' };
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(bytes.subarray(HEADER_BYTES, end)));
  } catch {
    return { ok: false, reason: 'malformed', detail: 'body is not UTF-8 JSON' };
  }
  return checkFields(value);
}

const SENDER = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const EPOCH = /^[0-9a-f]{16}$/;
const NAME =
  /^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*$/;
const MAX_RESOLVERS = 64;
const MAX_SITES = 256;
const MAX_RANKINGS = 16;

type Fields = Record<string, unknown>;
const invalid = (detail: string): MapDecoded => ({ ok: false, reason: 'invalid-field', detail });
const isInteger = (v: unknown, min: number, max: number): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;

/** The fields every message has, or what is wrong with them. */
function headerProblem(f: Fields): string | undefined {
  if (typeof f['sender'] !== 'string' || !SENDER.test(f['sender'])) return 'sender';
  if (typeof f['epoch'] !== 'string' || !EPOCH.test(f['epoch'])) return 'epoch';
  if (!isInteger(f['sequence'], 0, Number.MAX_SAFE_INTEGER)) return 'sequence';
  if (!isInteger(f['timestamp'], 0, Number.MAX_SAFE_INTEGER)) return 'timestamp';
  return undefined;
}

/** An address list in canonical form, or undefined when one is no address. */
function addresses(value: unknown, max: number): string[] | undefined {
  if (!Array.isArray(value) || value.length === 0 || value.length > max) return undefined;
  const out: string[] = [];
  for (const text of value as unknown[]) {
    const canonical = typeof text === 'string' ? canonicalAddress(text) : undefined;
    if (canonical === undefined) return undefined;
    out.push(canonical);
  }
  return [...new Set(out)];
}

function checkFields(value: unknown): MapDecoded {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { ok: false, reason: 'malformed', detail: 'body is not a JSON object' };
  const f = value as Fields;
  const problem = headerProblem(f);
  if (problem !== undefined) return invalid(problem);
  const header = {
    sender: f['sender'] as string,
    epoch: f['epoch'] as string,
    sequence: f['sequence'] as number,
    timestamp: f['timestamp'] as number,
  };
  if (f['kind'] === 'register') return checkRegistration(f, header);
  if (f['kind'] === 'sites') return checkSiteList(f, header);
  if (f['kind'] === 'measure') return checkMeasurements(f, header);
  return invalid('kind');
}

/** One site's figures, or undefined when a field is out of range. */
function siteMeasurement(entry: unknown): SiteMeasurement | undefined {
  if (typeof entry !== 'object' || entry === null) return undefined;
  const e = entry as Fields;
  const address = typeof e['address'] === 'string' ? canonicalAddress(e['address']) : undefined;
  const ms = e['ms'];
  const msOk = ms === undefined || (typeof ms === 'number' && ms >= 0 && ms <= 3_600_000);
  if (address === undefined || typeof e['ok'] !== 'boolean' || !msOk) return undefined;
  if (!isInteger(e['resets'], 0, Number.MAX_SAFE_INTEGER)) return undefined;
  if (!isInteger(e['abnormal'], 0, Number.MAX_SAFE_INTEGER)) return undefined;
  const base = { address, ok: e['ok'], resets: e['resets'], abnormal: e['abnormal'] };
  return ms === undefined ? base : { ...base, ms };
}

function checkMeasurements(f: Fields, header: MapHeader): MapDecoded {
  const address = typeof f['address'] === 'string' ? canonicalAddress(f['address']) : undefined;
  if (address === undefined) return invalid('address');
  if (!isInteger(f['intervalMs'], 100, 86_400_000)) return invalid('intervalMs');
  const list = f['sites'];
  if (!Array.isArray(list) || list.length > MAX_SITES) return invalid('sites');
  const sites: SiteMeasurement[] = [];
  for (const entry of list as unknown[]) {
    const site = siteMeasurement(entry);
    if (!site) return invalid('sites');
    sites.push(site);
  }
  return {
    ok: true,
    message: { kind: 'measure', ...header, address, intervalMs: f['intervalMs'], sites },
  };
}

function checkRegistration(f: Fields, header: MapHeader): MapDecoded {
  const balancer = typeof f['balancer'] === 'string' ? canonicalAddress(f['balancer']) : undefined;
  if (balancer === undefined) return invalid('balancer');
  const resolvers = addresses(f['resolvers'], MAX_RESOLVERS);
  if (resolvers === undefined) return invalid('resolvers');
  const notify = f['notify'];
  if (notify !== undefined && (typeof notify !== 'string' || !parseHostPort(notify)))
    return invalid('notify');
  if (!isInteger(f['intervalMs'], 100, 86_400_000)) return invalid('intervalMs');
  const rankings = f['rankings'] === undefined ? undefined : rankingsOf(f['rankings']);
  if (rankings === false) return invalid('rankings');
  const message: Registration = {
    kind: 'register',
    ...header,
    balancer,
    resolvers,
    notify,
    intervalMs: f['intervalMs'],
  };
  return { ok: true, message: rankings === undefined ? message : { ...message, rankings } };
}

/** Rankings in canonical form, or false when one is not a name with an address list. */
function rankingsOf(value: unknown): Ranking[] | false {
  if (!Array.isArray(value) || value.length > MAX_RANKINGS) return false;
  const out: Ranking[] = [];
  for (const entry of value as unknown[]) {
    if (typeof entry !== 'object' || entry === null) return false;
    const e = entry as Fields;
    if (typeof e['name'] !== 'string' || !NAME.test(e['name'])) return false;
    const empty = Array.isArray(e['sites']) && e['sites'].length === 0;
    const sites = empty ? [] : addresses(e['sites'], MAX_SITES);
    if (sites === undefined || out.some((r) => r.name === e['name'])) return false;
    out.push({ name: e['name'], sites });
  }
  return out;
}

function checkSiteList(f: Fields, header: MapHeader): MapDecoded {
  if (typeof f['name'] !== 'string' || !NAME.test(f['name'])) return invalid('name');
  const list = f['sites'];
  if (!Array.isArray(list) || list.length > MAX_SITES) return invalid('sites');
  const sites: SiteEntry[] = [];
  for (const entry of list as unknown[]) {
    if (typeof entry !== 'object' || entry === null) return invalid('sites');
    const e = entry as Fields;
    const address = typeof e['address'] === 'string' ? canonicalAddress(e['address']) : undefined;
    if (address === undefined || typeof e['online'] !== 'boolean') return invalid('sites');
    sites.push({ address, online: e['online'] });
  }
  return { ok: true, message: { kind: 'sites', ...header, name: f['name'], sites } };
}
