import type { OutgoingHttpHeaders } from 'node:http';
import type { RequestOptions } from 'node:https';
import { isIP } from 'node:net';
import { Type, type Static } from '@sinclair/typebox';
import { httpGet, HttpGetError } from '../../lib/http-get.js';
import {
  defineMonitor,
  type Figures,
  type Monitor,
  type ProbeResult,
  type Target,
} from '../monitor.js';
import { endpoint, errorCode, errorReason, runProbe, type Finish } from './probe.js';

/** At most this much of a body is read when looking for `contains`. */
export const MAX_BODY_BYTES = 64 * 1024;

/** At most this much of a page is downloaded with `download` (then the check stops reading). */
export const MAX_DOWNLOAD_BYTES = 16 * 1024 * 1024;

/** Settings shared by `http` and `https`. */
const httpSettings = {
  method: Type.String({ pattern: '^[A-Z]+$', default: 'GET', description: 'request method' }),
  path: Type.String({ pattern: '^/', default: '/', description: 'request path and query' }),
  port: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: 65535,
      description: "default: the target's port, else 80 (http) or 443 (https)",
    }),
  ),
  host: Type.Optional(
    Type.String({
      minLength: 1,
      description: 'Host header (and SNI name for https); default: the target address',
    }),
  ),
  expect: Type.Array(Type.Integer({ minimum: 100, maximum: 599 }), {
    minItems: 1,
    default: [200, 204],
    description: 'status codes that count as up',
  }),
  contains: Type.Optional(
    Type.String({
      minLength: 1,
      description: 'text the first 64 KiB of the body must contain (seed 003 content check)',
    }),
  ),
  download: Type.Optional(
    Type.Boolean({
      description:
        'download the whole page (up to 16 MiB): the response time includes it, and a body cut off before its end fails the check (seed 002 page downloads)',
    }),
  ),
  figures: Type.Optional(
    Type.Boolean({
      description:
        'read {"load": percent, "connections": N} from the JSON body into the live state (seed 000 polling); a body that is no such JSON fails the check',
    }),
  ),
  headers: Type.Record(Type.String({ pattern: "^[A-Za-z0-9!#$%&'*+.^_`|~-]+$" }), Type.String(), {
    default: {},
    additionalProperties: false,
    description: 'extra request headers',
  }),
};

const HttpConfig = Type.Object(httpSettings, { additionalProperties: false });
const HttpsConfig = Type.Object(
  {
    ...httpSettings,
    tlsVerify: Type.Boolean({
      default: true,
      description: 'verify the certificate chain and name; false accepts any certificate',
    }),
  },
  { additionalProperties: false },
);

type HttpSettings = Static<typeof HttpConfig> & { readonly tlsVerify?: boolean };

/**
 * Sends one request without keep-alive and checks the status code and, with `contains`,
 * the body; with `download`, reads the whole body. Reasons: 'status 503', 'body mismatch',
 * 'incomplete body' (the answer was cut off: fault `abnormal`), 'timeout', 'refused',
 * 'unreachable', 'tls: <code>' (https, handshake failed: 'tls: depth_zero_self_signed_cert'),
 * other error codes lower-cased ('econnreset' before any answer: fault `reset`).
 */
export const http = defineMonitor({
  type: 'http',
  config: HttpConfig,
  create: (config) => createHttpMonitor('http', config),
});

/** {@link http} over TLS, certificate verified unless `tlsVerify: false`. */
export const https = defineMonitor({
  type: 'https',
  config: HttpsConfig,
  create: (config) => createHttpMonitor('https', config),
});

function createHttpMonitor(type: 'http' | 'https', config: HttpSettings): Monitor {
  return {
    type,
    check: (target, signal) =>
      runProbe(signal, (finish) => {
        const options = requestOptions(type, config, target);
        if (typeof options === 'string') {
          finish(false, options);
          return () => undefined;
        }
        return sendRequest(type, config, options, finish);
      }),
    close: () => Promise.resolve(),
  };
}

/** Node request options for one check, or the reason the target cannot be checked. */
export function requestOptions(
  type: 'http' | 'https',
  config: HttpSettings,
  target: Target,
): RequestOptions | string {
  const to = endpoint(target, config.port, type === 'https' ? 443 : 80);
  if (typeof to === 'string') return to;
  const headers: OutgoingHttpHeaders = { 'user-agent': 'steerdns-monitor', ...config.headers };
  if (config.host !== undefined) headers.host = config.host;
  const options: RequestOptions = {
    host: to.address,
    port: to.port,
    method: config.method,
    path: config.path,
    headers,
    agent: false,
  };
  if (type === 'https') {
    options.rejectUnauthorized = config.tlsVerify ?? true;
    // SNI carries names only (RFC 6066 3); without it the certificate is checked against the address.
    if (config.host !== undefined && isIP(config.host) === 0) options.servername = config.host;
  }
  return options;
}

/** The reason and fault of a request that failed. */
function failure(error: HttpGetError): [string, ProbeResult['fault']] {
  const cause = error.cause;
  // Failing after the TCP connect and before the handshake completed is a TLS failure.
  if (error.tls) return [`tls: ${(errorCode(cause) ?? 'error').toLowerCase()}`, undefined];
  // The status line came and then the connection failed: the answer was cut off.
  if (error.responded) return ['incomplete body', 'abnormal'];
  const reason = errorReason(cause);
  return [reason, reason === 'econnreset' ? 'reset' : undefined];
}

function sendRequest(
  type: 'http' | 'https',
  config: HttpSettings,
  options: RequestOptions,
  finish: Finish,
): () => void {
  const stop = new AbortController();
  const needle = config.contains === undefined ? undefined : Buffer.from(config.contains, 'utf8');
  const download = config.download === true;
  const figures = config.figures === true;
  httpGet(options, {
    tls: type === 'https',
    maxBodyBytes: download ? MAX_DOWNLOAD_BYTES : MAX_BODY_BYTES,
    signal: stop.signal,
    readBody: (status) =>
      (download || figures || needle !== undefined) && config.expect.includes(status),
    // A download reads to the end: the page's time is the figure measured.
    enough: (body) => !download && !figures && needle !== undefined && body.includes(needle),
  }).then(
    ({ status, body, complete }) => {
      if (!config.expect.includes(status)) finish(false, `status ${status}`);
      else if (download && !complete && body.length < MAX_DOWNLOAD_BYTES)
        finish(false, 'incomplete body', 'abnormal');
      else if (needle !== undefined && !body.includes(needle)) finish(false, 'body mismatch');
      else if (!figures) finish(true);
      else {
        const read = figuresOf(body);
        if (read) finish(true, undefined, undefined, read);
        else finish(false, 'bad figures');
      }
    },
    (error: unknown) => {
      // `aborted` comes only from the release below, once the check has settled.
      if (!(error instanceof HttpGetError) || error.kind !== 'failed') return;
      finish(false, ...failure(error));
    },
  );
  return () => {
    stop.abort();
  };
}

/**
 * The figures of a JSON body: `load` a number 0-100, `connections` an integer >= 0, each
 * optional; undefined when the body is no JSON object or a figure is out of range.
 */
export function figuresOf(body: Buffer): Figures | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const { load, connections } = parsed as Record<string, unknown>;
  const loadOk = load === undefined || (typeof load === 'number' && load >= 0 && load <= 100);
  const connectionsOk =
    connections === undefined ||
    (typeof connections === 'number' && Number.isInteger(connections) && connections >= 0);
  if (!loadOk || !connectionsOk) return undefined;
  return {
    ...(typeof load === 'number' ? { load } : {}),
    ...(typeof connections === 'number' ? { connections } : {}),
  };
}
