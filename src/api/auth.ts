import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { isIP } from 'node:net';
import { tokenDigest, type ApiToken } from '../config/compile-api.js';
import { ApiError } from './errors.js';

/** Who made a request: a token's name, or `anonymous` (a read on a loopback API without tokens). */
export interface Caller {
  readonly name: string;
  /** True when a token was presented and matched. */
  readonly authenticated: boolean;
}

const ANONYMOUS: Caller = { name: 'anonymous', authenticated: false };

/** The token a request carries: `X-API-Key` (PowerDNS) or `Authorization: Bearer`. */
export function presentedToken(headers: IncomingHttpHeaders): string | undefined {
  const key = headers['x-api-key'];
  if (typeof key === 'string' && key !== '') return key;
  const authorization = headers.authorization;
  const match = authorization === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  return match?.[1];
}

/**
 * The token whose secret is `secret`, compared in constant time: both sides are SHA-256
 * digests of the same length, and every token is compared (no early exit), so neither the
 * length of the secret nor which token matched shows in the timing.
 */
export function matchToken(tokens: readonly ApiToken[], secret: string): ApiToken | undefined {
  const presented = Buffer.from(tokenDigest(secret), 'hex');
  let found: ApiToken | undefined;
  for (const token of tokens) {
    const equal = timingSafeEqual(presented, Buffer.from(token.digest, 'hex'));
    if (equal && found === undefined) found = token;
  }
  return found;
}

/** True for an address only this machine can reach (127.0.0.0/8, ::1, localhost). */
export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return /^::ffff:127\./i.test(host);
}

/** What a route needs: a read (`GET`) or a write. */
export type Access = 'read' | 'write';

/**
 * Who is asking, or the ApiError that refuses the request. With tokens configured, every
 * request needs one of them. Without, reads are allowed when the API listens on loopback
 * only, and writes never are: nobody could be named in the log.
 */
export function authorize(
  headers: IncomingHttpHeaders,
  tokens: readonly ApiToken[] | undefined,
  access: Access,
  loopback: boolean,
): Caller {
  const secret = presentedToken(headers);
  if (tokens === undefined) {
    if (access === 'write')
      throw new ApiError(
        'STEERDNS_ERR_API_WRITES_DISABLED',
        'writes are refused: no api.tokenFile is configured',
      );
    if (!loopback)
      throw new ApiError(
        'STEERDNS_ERR_API_READS_DISABLED',
        'reads are refused: the API listens beyond loopback and no api.tokenFile is configured',
      );
    return ANONYMOUS;
  }
  if (secret === undefined)
    throw new ApiError(
      'STEERDNS_ERR_API_TOKEN_MISSING',
      'send the API token as X-API-Key or Authorization: Bearer',
    );
  const token = matchToken(tokens, secret);
  if (token === undefined)
    throw new ApiError('STEERDNS_ERR_API_TOKEN_WRONG', 'the API token is not one of api.tokenFile');
  return { name: token.name, authenticated: true };
}
