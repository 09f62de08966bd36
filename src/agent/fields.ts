/**
 * The fields of an announcement and the rules every field keeps, shared by the encoder, the
 * decoder and the agent's command line, so that an agent can never send what a server would
 * reject.
 */
import { isIP } from 'node:net';

/** What one node says about itself in one announcement. */
export interface Announcement {
  /** Node id, unique in the cluster: 1-253 of `A-Z a-z 0-9 . _ -`, starting with a letter or digit. */
  readonly node: string;
  /** The DNS name the node serves, e.g. `app.example.org`: lower case, no trailing dot. */
  readonly service: string;
  /** Addresses to answer with (IPv4 or IPv6 literals, no zone id): 1-32 of them, distinct. */
  readonly addresses: readonly string[];
  /** CPU busy (or the load command's figure) in percent, 0-100; absent when not measured. */
  readonly load?: number;
  /** Active (ESTABLISHED) connections, an integer >= 0; absent when not measured. */
  readonly connections?: number;
  /** How many connections the node is meant to carry, an integer >= 1; absent if unset. */
  readonly capacity?: number;
  /** `draining`: keep existing connections, give no new answers (maintenance). */
  readonly admin: 'enabled' | 'draining';
  /** The agent's announcement interval in ms (100-60000): how often to expect the next one. */
  readonly intervalMs: number;
  /** When the agent sent it, ms since the epoch (an integer). */
  readonly timestamp: number;
  /** Random 64-bit id of this agent run, 16 lower-case hex digits; a restart picks a new one. */
  readonly epoch: string;
  /** Counts announcements within one epoch; increases by one per interval. */
  readonly sequence: number;
  /**
   * `leave`: the agent stops and the node is to be removed at once (sent as version 2).
   * Absent (or `status`): a status announcement. Decoded status announcements have no `kind`.
   */
  readonly kind?: 'status' | 'leave';
}

/** Most addresses one announcement may carry. */
export const MAX_ADDRESSES = 32;
/** Shortest and longest announcement interval, ms. */
export const MIN_INTERVAL_MS = 100;
export const MAX_INTERVAL_MS = 60_000;
/** Largest connection count or capacity: far above any real server, well inside 2^53. */
const MAX_COUNT = 1_000_000_000;

const NODE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/;
const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;
const EPOCH = /^[0-9a-f]{16}$/;

/** True for a node id: 1-253 of `A-Z a-z 0-9 . _ -`, starting with a letter or digit. */
export function isNodeId(value: unknown): boolean {
  return typeof value === 'string' && NODE_ID.test(value);
}

/**
 * True for a service name in canonical form: lower case, no trailing dot, at most 253
 * characters, labels of 1-63 `a-z 0-9 _ -` not starting or ending with `-`.
 */
export function isServiceName(value: unknown): boolean {
  return (
    typeof value === 'string' &&
    value.length >= 1 &&
    value.length <= 253 &&
    value.split('.').every((label) => LABEL.test(label))
  );
}

/** True for an IPv4 or IPv6 literal without a zone id (`fe80::1%eth0` is refused). */
export function isAnnouncedAddress(value: unknown): boolean {
  return typeof value === 'string' && !value.includes('%') && isIP(value) !== 0;
}

const isCount = (value: unknown, min: number): value is number =>
  typeof value === 'number' && Number.isInteger(value) && value >= min && value <= MAX_COUNT;

const isSafeNatural = (value: unknown): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

/** The result of {@link checkAnnouncement}: the announcement, or which field is wrong. */
export type CheckResult =
  | { readonly ok: true; readonly announcement: Announcement }
  | { readonly ok: false; readonly detail: string };

function own(record: object, name: string): unknown {
  return Object.hasOwn(record, name) ? (record as Record<string, unknown>)[name] : undefined;
}

function checkAddresses(value: unknown): string | undefined {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_ADDRESSES) {
    return `addresses: expected 1-${MAX_ADDRESSES} addresses`;
  }
  const bad = (value as unknown[]).find((item) => !isAnnouncedAddress(item));
  if (bad !== undefined) return `addresses: ${JSON.stringify(bad)} is not an IP address`;
  if (new Set(value).size !== value.length) return 'addresses: listed twice';
  return undefined;
}

/** Each field with its rule and the message when it is broken. Optional fields may be absent. */
const RULES: readonly (readonly [string, (v: unknown) => boolean, string, boolean])[] = [
  ['node', isNodeId, 'expected 1-253 of A-Z a-z 0-9 . _ -', false],
  ['service', isServiceName, 'expected a lower-case DNS name without trailing dot', false],
  ['load', (v) => typeof v === 'number' && v >= 0 && v <= 100, 'expected 0-100', true],
  ['connections', (v) => isCount(v, 0), 'expected an integer >= 0', true],
  ['capacity', (v) => isCount(v, 1), 'expected an integer >= 1', true],
  ['admin', (v) => v === 'enabled' || v === 'draining', 'expected enabled or draining', false],
  [
    'intervalMs',
    (v) => Number.isInteger(v) && Number(v) >= MIN_INTERVAL_MS && Number(v) <= MAX_INTERVAL_MS,
    `expected an integer ${MIN_INTERVAL_MS}-${MAX_INTERVAL_MS}`,
    false,
  ],
  ['timestamp', isSafeNatural, 'expected ms since the epoch', false],
  ['epoch', (v) => typeof v === 'string' && EPOCH.test(v), 'expected 16 hex digits', false],
  ['sequence', isSafeNatural, 'expected an integer >= 0', false],
  ['kind', (v) => v === 'status' || v === 'leave', 'expected status or leave', true],
];

/**
 * Checks a value (a parsed body, or an announcement about to be encoded) against every
 * field rule and returns a fresh announcement holding only the known fields. Unknown
 * fields are ignored, so that a later agent may add optional ones without a new version.
 */
export function checkAnnouncement(value: unknown): CheckResult {
  if (typeof value !== 'object' || value === null) return { ok: false, detail: 'not an object' };
  for (const [name, valid, message, optional] of RULES) {
    const field = own(value, name);
    if (optional && field === undefined) continue;
    if (!valid(field)) return { ok: false, detail: `${name}: ${message}` };
  }
  const addresses = own(value, 'addresses');
  const addressProblem = checkAddresses(addresses);
  if (addressProblem !== undefined) return { ok: false, detail: addressProblem };
  const field = (name: string): unknown => own(value, name);
  const announcement: Announcement = {
    node: field('node') as string,
    service: field('service') as string,
    addresses: [...(addresses as string[])],
    ...optionalNumber('load', field('load')),
    ...optionalNumber('connections', field('connections')),
    ...optionalNumber('capacity', field('capacity')),
    admin: field('admin') as Announcement['admin'],
    intervalMs: field('intervalMs') as number,
    timestamp: field('timestamp') as number,
    epoch: field('epoch') as string,
    sequence: field('sequence') as number,
    // A status is the default: only a leave carries its kind.
    ...(field('kind') === 'leave' ? { kind: 'leave' as const } : {}),
  };
  return { ok: true, announcement };
}

function optionalNumber<K extends string>(name: K, value: unknown): Partial<Record<K, number>> {
  return typeof value === 'number' ? ({ [name]: value } as Record<K, number>) : {};
}
