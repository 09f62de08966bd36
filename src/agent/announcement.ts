/**
 * The node status announcement: what an agent sends to the DNS servers about once per
 * second (seed 000: presence, load %, active connections, addresses), its wire format
 * and its authentication. Layout (docs/agent.md):
 *
 *   'SDA1' (4 bytes) | version (1 byte, 1 or 2) | body (UTF-8 JSON object) | HMAC-SHA256 (32 bytes)
 *
 * The MAC covers every byte before it. A datagram is at most {@link MAX_ANNOUNCEMENT_BYTES}.
 * Version 1 is a status announcement. Version 2 adds the `kind` field (`status` or
 * `leave`); agents send status as version 1, which servers of every version read, and a
 * leave (the agent stops) as version 2, which version-1 servers drop as `bad-version`
 * rather than take for a status (they then remove the node when it has been silent).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { SteerdnsError } from '../lib/errors.js';
import { canonicalAddress, memberAddressProblem, parseAddress } from '../lib/ip.js';
import { checkAnnouncement, type Announcement } from './fields.js';

export type { Announcement } from './fields.js';
export { readKeyFile } from './key-file.js';

/** The four bytes every announcement starts with. */
export const ANNOUNCEMENT_MAGIC = Buffer.from('SDA1', 'latin1');
/** The wire format version of status announcements: read by servers of every version. */
export const ANNOUNCEMENT_VERSION = 1;
/** The wire format version with a `kind` field: leave announcements. */
export const KIND_VERSION = 2;
/** Largest datagram accepted or produced: fits an IPv6 minimum MTU path with room to spare. */
export const MAX_ANNOUNCEMENT_BYTES = 1200;
/** Length of the trailing HMAC-SHA256. */
export const MAC_BYTES = 32;

const HEADER_BYTES = ANNOUNCEMENT_MAGIC.length + 1;
/** The shortest datagram that can be valid: header, `{}`, MAC. */
const MIN_BYTES = HEADER_BYTES + 2 + MAC_BYTES;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Why a datagram was rejected. Stable strings: the registry counts them as metric labels. */
export type DecodeFailure =
  | 'too-large'
  | 'truncated'
  | 'bad-magic'
  | 'bad-version'
  | 'bad-mac'
  | 'malformed'
  | 'invalid-field'
  | 'bad-address';

/** The outcome of {@link decodeAnnouncement}. `detail` says which field, for logs only. */
export type DecodeResult =
  | { readonly ok: true; readonly announcement: Announcement }
  | { readonly ok: false; readonly reason: DecodeFailure; readonly detail?: string };

/** An announcement that cannot be encoded (a field out of range, or too large). */
export class AnnouncementError extends SteerdnsError {
  constructor(message: string) {
    super('STEERDNS_ERR_AGENT_ANNOUNCEMENT', message);
  }
}

function mac(key: Buffer, signed: Buffer): Buffer {
  return createHmac('sha256', key).update(signed).digest();
}

/**
 * Encodes and signs an announcement. Throws {@link AnnouncementError} when a field is
 * invalid (the same checks as the decoder) or the datagram would pass 1200 bytes.
 */
export function encodeAnnouncement(a: Announcement, key: Buffer): Buffer {
  const checked = checkAnnouncement(a);
  if (!checked.ok) throw new AnnouncementError(`announcement: ${checked.detail}`);
  const n = checked.announcement;
  const leave = n.kind === 'leave';
  // Fixed key order, optional fields left out when absent.
  const body = JSON.stringify({
    ...(leave ? { kind: 'leave' } : {}),
    node: n.node,
    service: n.service,
    addresses: n.addresses,
    load: n.load,
    connections: n.connections,
    capacity: n.capacity,
    admin: n.admin,
    intervalMs: n.intervalMs,
    timestamp: n.timestamp,
    epoch: n.epoch,
    sequence: n.sequence,
  });
  const signed = Buffer.concat([
    ANNOUNCEMENT_MAGIC,
    Buffer.from([leave ? KIND_VERSION : ANNOUNCEMENT_VERSION]),
    Buffer.from(body, 'utf8'),
  ]);
  const total = signed.length + MAC_BYTES;
  if (total > MAX_ANNOUNCEMENT_BYTES) {
    throw new AnnouncementError(
      `announcement: ${total} bytes, more than ${MAX_ANNOUNCEMENT_BYTES} (fewer addresses or a shorter node id)`,
    );
  }
  return Buffer.concat([signed, mac(key, signed)]);
}

/**
 * The body as its version reads it: version 1 has no kind (a `kind` there is an unknown
 * field, ignored: it is a status); version 2 must have one, else undefined.
 */
function withKindOf(version: number, body: object): object | undefined {
  const hasKind = Object.hasOwn(body, 'kind');
  if (version === KIND_VERSION) return hasKind ? body : undefined;
  if (!hasKind) return body;
  return Object.fromEntries(Object.entries(body).filter(([name]) => name !== 'kind'));
}

/**
 * The announcement with its addresses in canonical form (RFC 5952), so that one address
 * spelt two ways is one address; `bad-address` when one cannot be answered to clients
 * (unspecified, broadcast, multicast, IPv4-mapped), `invalid-field` when two are one.
 */
function withMemberAddresses(a: Announcement): DecodeResult {
  const addresses: string[] = [];
  for (const text of a.addresses) {
    const problem = memberAddressProblem(parseAddress(text)!);
    if (problem !== undefined)
      return { ok: false, reason: 'bad-address', detail: `addresses: ${text} is ${problem}` };
    addresses.push(canonicalAddress(text)!);
  }
  if (new Set(addresses).size !== addresses.length)
    return { ok: false, reason: 'invalid-field', detail: 'addresses: listed twice' };
  return { ok: true, announcement: { ...a, addresses } };
}

/**
 * Checks and decodes one datagram. Never throws. Order of checks: size, magic, version,
 * MAC (constant time), then the body; nothing in the body is looked at before the MAC
 * verifies; addresses come back in canonical form. A valid result still has to pass a
 * {@link ReplayGuard}.
 */
export function decodeAnnouncement(bytes: Buffer, key: Buffer): DecodeResult {
  try {
    if (bytes.length > MAX_ANNOUNCEMENT_BYTES) return { ok: false, reason: 'too-large' };
    if (bytes.length < MIN_BYTES) return { ok: false, reason: 'truncated' };
    if (!bytes.subarray(0, ANNOUNCEMENT_MAGIC.length).equals(ANNOUNCEMENT_MAGIC)) {
      return { ok: false, reason: 'bad-magic' };
    }
    const version = bytes[ANNOUNCEMENT_MAGIC.length];
    if (version !== ANNOUNCEMENT_VERSION && version !== KIND_VERSION) {
      return { ok: false, reason: 'bad-version' };
    }
    const end = bytes.length - MAC_BYTES;
    if (!timingSafeEqual(mac(key, bytes.subarray(0, end)), bytes.subarray(end))) {
      return { ok: false, reason: 'bad-mac' };
    }
    let value: unknown;
    try {
      value = JSON.parse(utf8.decode(bytes.subarray(HEADER_BYTES, end)));
    } catch {
      return { ok: false, reason: 'malformed', detail: 'body is not UTF-8 JSON' };
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return { ok: false, reason: 'malformed', detail: 'body is not a JSON object' };
    }
    const fields = withKindOf(version, value);
    if (fields === undefined) {
      return { ok: false, reason: 'invalid-field', detail: 'kind: required in version 2' };
    }
    const checked = checkAnnouncement(fields);
    if (!checked.ok) return { ok: false, reason: 'invalid-field', detail: checked.detail };
    return withMemberAddresses(checked.announcement);
  } catch {
    // Nothing above should throw; a datagram must never take the listener down.
    return { ok: false, reason: 'malformed' };
  }
}
