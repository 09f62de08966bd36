import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Endpoint } from './server-process.js';

/**
 * A small client of steerdns' operator interface for end-to-end tests: one request on a
 * connection of its own, JSON in and out, over HTTP or HTTPS (with the test's own CA).
 */

/** What the interface answered. */
export interface ApiReply {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly text: string;
  /** The body parsed as JSON; undefined when it is not JSON. */
  readonly json: unknown;
}

/** Options of {@link apiCall}. */
export interface ApiCallOptions {
  readonly method?: string;
  /** Sent as `X-API-Key`, or as `Authorization: Bearer` with `bearer`. */
  readonly token?: string;
  readonly bearer?: boolean;
  /** A JSON body (sets Content-Type). */
  readonly body?: unknown;
  /** HTTPS, trusting this PEM certificate. */
  readonly ca?: string;
  readonly timeoutMs?: number;
}

/** Sends one request to `api` and resolves its answer; rejects on a network error or timeout. */
export function apiCall(api: Endpoint, path: string, opts: ApiCallOptions = {}): Promise<ApiReply> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (opts.token !== undefined) {
    if (opts.bearer === true) headers['authorization'] = `Bearer ${opts.token}`;
    else headers['x-api-key'] = opts.token;
  }
  const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  if (payload !== undefined) headers['content-type'] = 'application/json';
  const options = {
    host: api.host,
    port: api.port,
    path,
    method: opts.method ?? 'GET',
    headers,
    agent: false as const,
    timeout: opts.timeoutMs ?? 10_000,
    ...(opts.ca !== undefined ? { ca: opts.ca, servername: 'localhost' } : {}),
  };
  return new Promise((resolve, reject) => {
    const req = (opts.ca !== undefined ? httpsRequest : httpRequest)(options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = (res.headers['content-type'] ?? '').includes('json')
            ? JSON.parse(text)
            : undefined;
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`api-client: no answer to ${path} in time`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** The `error.code` of an answer, or undefined. */
export const errorCode = (reply: ApiReply): string | undefined =>
  (reply.json as { error?: { code?: string } } | undefined)?.error?.code;

/**
 * Calls `probe` until it returns a value that is not undefined, at most `timeoutMs`; rejects
 * naming `what` it waited for.
 */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 15_000,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((done) => setTimeout(done, everyMs));
  }
}
