import { ClientAddress } from '../dns/client-address.js';
import { CookieVerdict, ServerCookies, type CookieSettings } from '../dns/cookies.js';
import type { ParsedQuery } from '../dns/query.js';
import { RateLimiter, RateVerdict, type RateLimitSettings } from '../dns/rrl.js';
import type { Transport } from '../dns/transport.js';

/**
 * The protections a query passes before it is answered: DNS cookies (RFC 7873, RFC 9018)
 * and response rate limiting of UDP. One per process, kept across reloads while its
 * settings stay the same (the rate limiter's buckets and the counters live here).
 */

/** The settings of {@link Protection}; undefined turns that protection off. */
export interface ProtectionSettings {
  readonly rateLimit: RateLimitSettings | undefined;
  readonly cookies: CookieSettings | undefined;
}

/** What the protections decided for a query. */
export const Admission = {
  ANSWER: 0,
  /** Rate limited: no reply. */
  DROP: 1,
  /** Rate limited, slipped: an empty reply with TC set (the client retries over TCP). */
  SLIP: 2,
  /** A UDP query without a valid server cookie while cookies.requireValid is set. */
  BADCOOKIE: 3,
} as const;
export type Admission = (typeof Admission)[keyof typeof Admission];

/** Counters of the protections, since the process started (reloads keep them). */
export interface ProtectionStats {
  /** UDP responses the rate limiter dropped. */
  rateLimitDropped: number;
  /** UDP responses the rate limiter sent as an empty TC reply instead (slip). */
  rateLimitSlipped: number;
  /** UDP responses sent without metering because the query had a valid server cookie. */
  cookieExempt: number;
  /** Queries whose server cookie was not valid (not ours, another address, expired). */
  badCookies: number;
  /** BADCOOKIE replies (cookies.requireValid). */
  badCookieReplies: number;
}

/** The counters, all zero. */
export const noProtectionStats = (): ProtectionStats => ({
  rateLimitDropped: 0,
  rateLimitSlipped: 0,
  cookieExempt: 0,
  badCookies: 0,
  badCookieReplies: 0,
});

/** Rate limiting and cookies for a responder. */
export class Protection {
  readonly settings: ProtectionSettings;
  readonly stats: ProtectionStats;
  private readonly limiter: RateLimiter | undefined;
  private readonly cookies: ServerCookies | undefined;
  private readonly client = new ClientAddress();
  private readonly now: () => number;

  /**
   * `stats` carries the counters over from the protection this one replaces; `now` is the
   * clock in milliseconds (read once per query that needs it; injected by tests).
   */
  constructor(
    settings: ProtectionSettings,
    stats: ProtectionStats = noProtectionStats(),
    now: () => number = Date.now,
  ) {
    this.settings = settings;
    this.stats = stats;
    this.limiter = settings.rateLimit && new RateLimiter(settings.rateLimit);
    this.cookies = settings.cookies && new ServerCookies(settings.cookies);
    this.now = now;
  }

  /**
   * Decides whether a parsed query (any verdict but DROP) is answered, and sets the
   * reply's cookie on `q`. TCP is never limited; a valid server cookie is never limited.
   */
  admit(q: ParsedQuery, transport: Transport, address: string): Admission {
    const cookies = q.cookieLength > 0 ? this.cookies : undefined;
    const limiter = transport === 'udp' ? this.limiter : undefined;
    if (cookies === undefined && limiter === undefined) return Admission.ANSWER;
    if (this.client.read(address) === 0) return Admission.ANSWER;
    const bytes = this.client.view;
    const now = this.now();
    const cookie =
      cookies === undefined ? CookieVerdict.NONE : cookies.check(q, bytes, Math.floor(now / 1000));
    if (cookie === CookieVerdict.BAD) this.stats.badCookies++;
    if (transport === 'tcp') return Admission.ANSWER;
    if (cookie === CookieVerdict.VALID) {
      if (limiter !== undefined) this.stats.cookieExempt++;
      return Admission.ANSWER;
    }
    if (limiter !== undefined) {
      const rate = limiter.take(bytes, now);
      if (rate === RateVerdict.DROP) {
        this.stats.rateLimitDropped++;
        return Admission.DROP;
      }
      if (rate === RateVerdict.SLIP) {
        this.stats.rateLimitSlipped++;
        return Admission.SLIP;
      }
    }
    if (cookie === CookieVerdict.BAD && cookies!.requireValid) {
      this.stats.badCookieReplies++;
      return Admission.BADCOOKIE;
    }
    return Admission.ANSWER;
  }
}

/** True when two settings are the same (a reload that changes neither keeps the buckets). */
export function sameProtection(a: ProtectionSettings, b: ProtectionSettings): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}
