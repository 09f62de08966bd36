import { sipKey, siphash24, type SipKey } from '../lib/siphash.js';
import type { ParsedQuery } from './query.js';

/**
 * DNS cookies, server side (RFC 7873), with the interoperable server cookie of RFC 9018:
 * version 1, three reserved bytes, a 32-bit timestamp (seconds) and SipHash-2-4 over
 * client cookie | version | reserved | timestamp | client address, keyed by a secret every
 * server of a deployment shares. A previous secret is still accepted, for rotation.
 */

/** The settings of {@link ServerCookies}; checked when the configuration is loaded. */
export interface CookieSettings {
  /** The secret, 16 bytes as 32 hex digits. */
  readonly secret: string;
  /** The secret before a rotation, still accepted (not issued); hex, or undefined. */
  readonly previousSecret: string | undefined;
  /**
   * Answer BADCOOKIE to a UDP query whose server cookie is not valid (RFC 7873 5.2.4);
   * a query with a client cookie only is answered (it has no server cookie yet).
   */
  readonly requireValid: boolean;
}

/** What the query's COOKIE option came to. */
export const CookieVerdict = {
  /** No COOKIE option. */
  NONE: 0,
  /** A client cookie alone (the client has no server cookie of ours yet). */
  CLIENT_ONLY: 1,
  /** A server cookie we made, for this client and address, within its lifetime. */
  VALID: 2,
  /** A server cookie that is not ours, not for this address, or expired. */
  BAD: 3,
} as const;
export type CookieVerdict = (typeof CookieVerdict)[keyof typeof CookieVerdict];

/** Oldest and most future server cookie timestamps accepted (RFC 9018 4.3), seconds. */
const MAX_AGE_S = 3600;
const MAX_AHEAD_S = 300;
/** A valid cookie younger than this is echoed as it is; older, a fresh one is made. */
const RENEW_AFTER_S = 1800;

/** Server cookie length of RFC 9018 (version, reserved, timestamp, hash). */
const SERVER_COOKIE = 16;

/** Scratch for the hashed input: 16 bytes of cookie and at most 16 of address. */
const input = new Uint8Array(32);

/**
 * Writes the 8-byte hash of a server cookie into `out` at `at`: SipHash-2-4 of the client
 * cookie (`cookie[0, 8)`), version, reserved and timestamp (`cookie[8, 16)`) and the client
 * address (4 or 16 bytes).
 */
export function cookieHash(
  key: SipKey,
  cookie: Uint8Array,
  address: Uint8Array,
  out: Uint8Array,
  at: number,
): void {
  for (let i = 0; i < 16; i++) input[i] = cookie[i]!;
  input.set(address, 16);
  siphash24(key, input, 0, 16 + address.length, out, at);
}

/** True when the 8 bytes at `a[i]` and `b[j]` are equal. */
function same8(a: Uint8Array, i: number, b: Uint8Array, j: number): boolean {
  for (let k = 0; k < 8; k++) if (a[i + k] !== b[j + k]) return false;
  return true;
}

/** Server cookies of one process (one secret, maybe a previous one). */
export class ServerCookies {
  readonly requireValid: boolean;
  private readonly key: SipKey;
  private readonly previous: SipKey | undefined;
  private readonly hash = new Uint8Array(8);

  constructor(settings: CookieSettings) {
    this.key = sipKey(Buffer.from(settings.secret, 'hex'));
    this.previous =
      settings.previousSecret === undefined
        ? undefined
        : sipKey(Buffer.from(settings.previousSecret, 'hex'));
    this.requireValid = settings.requireValid;
  }

  /**
   * Judges the query's COOKIE option (already checked for length by the parser) for the
   * client `address` (4 or 16 bytes) and sets the reply's cookie in `q.replyCookie`: the
   * received one when it is valid and young, else the client cookie and a fresh server
   * cookie. Nothing is set without a COOKIE option. `now` is the time in seconds since 1970.
   */
  check(q: ParsedQuery, address: Uint8Array, now: number): CookieVerdict {
    const length = q.cookieLength;
    if (length === 0) return CookieVerdict.NONE;
    const cookie = q.cookie;
    const reply = q.replyCookie;
    const made = length === 8 ? NOT_OURS : this.madeBy(cookie, length, address, now);
    q.replyCookieLength = 8 + SERVER_COOKIE;
    // A valid cookie of the current secret, younger than half an hour, is echoed (RFC 9018 4.3).
    if (made === CURRENT && ((now - timestampOf(cookie)) | 0) < RENEW_AFTER_S) {
      for (let i = 0; i < 24; i++) reply[i] = cookie[i]!;
      return CookieVerdict.VALID;
    }
    for (let i = 0; i < 8; i++) reply[i] = cookie[i]!;
    reply[8] = 1;
    reply[9] = 0;
    reply[10] = 0;
    reply[11] = 0;
    reply[12] = now >>> 24;
    reply[13] = (now >>> 16) & 0xff;
    reply[14] = (now >>> 8) & 0xff;
    reply[15] = now & 0xff;
    cookieHash(this.key, reply, address, reply, 16);
    if (made !== NOT_OURS) return CookieVerdict.VALID;
    return length === 8 ? CookieVerdict.CLIENT_ONLY : CookieVerdict.BAD;
  }

  /**
   * Which of our secrets made the server cookie in `cookie[8, length)` for this client
   * cookie and address, if it is of RFC 9018 form and within its lifetime.
   */
  private madeBy(cookie: Uint8Array, length: number, address: Uint8Array, now: number): number {
    if (length !== 8 + SERVER_COOKIE || cookie[8] !== 1) return NOT_OURS;
    const age = (now - timestampOf(cookie)) | 0;
    if (age > MAX_AGE_S || age < -MAX_AHEAD_S) return NOT_OURS;
    cookieHash(this.key, cookie, address, this.hash, 0);
    if (same8(this.hash, 0, cookie, 16)) return CURRENT;
    if (this.previous === undefined) return NOT_OURS;
    cookieHash(this.previous, cookie, address, this.hash, 0);
    return same8(this.hash, 0, cookie, 16) ? PREVIOUS : NOT_OURS;
  }
}

/** Which secret made a server cookie (see madeBy). */
const NOT_OURS = 0;
const CURRENT = 1;
const PREVIOUS = 2;

/** The timestamp of a server cookie (`cookie[12, 16)`), as an unsigned 32-bit number. */
const timestampOf = (cookie: Uint8Array): number =>
  ((cookie[12]! << 24) | (cookie[13]! << 16) | (cookie[14]! << 8) | cookie[15]!) >>> 0;
