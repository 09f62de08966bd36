import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';

/** Options of {@link httpGet}. */
export interface HttpGetOptions {
  /** Over TLS (node:https), with `request`'s TLS settings (`ca`, `rejectUnauthorized`, ...). */
  readonly tls: boolean;
  /** At most this many bytes of the body are read; then the connection is closed. */
  readonly maxBodyBytes: number;
  /** The whole request, body included, is given up after this long. @default no limit */
  readonly timeoutMs?: number;
  /** Aborting ends the request; it then rejects with kind `aborted`. */
  readonly signal?: AbortSignal;
  /** Whether to read the body of a response with this status. @default every status */
  readonly readBody?: (status: number) => boolean;
  /** Reading stops as soon as this returns true for the body read so far. */
  readonly enough?: (body: Buffer) => boolean;
}

/** What the server answered. */
export interface HttpGetResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** The body as far as it was read: empty when not read, at most `maxBodyBytes`. */
  readonly body: Buffer;
  /**
   * True when the whole body arrived (its end was seen); false when reading stopped early
   * (not read, the limit, `enough`) or the connection closed before the end (an abnormal
   * termination: fewer bytes than Content-Length, a chunked body without its last chunk).
   */
  readonly complete: boolean;
}

/** Why a request failed: `timeout`, `aborted`, or `failed` (a network or TLS error, in `cause`). */
export class HttpGetError extends Error {
  readonly kind: 'timeout' | 'aborted' | 'failed';
  /** True when it failed after the TCP connect and before the TLS handshake completed. */
  readonly tls: boolean;
  /** True when it failed after the status line came: the body was cut off. */
  readonly responded: boolean;

  constructor(kind: HttpGetError['kind'], tls: boolean, cause?: Error, responded = false) {
    super(cause?.message ?? kind, cause === undefined ? undefined : { cause });
    this.kind = kind;
    this.tls = tls;
    this.responded = responded;
  }
}

/**
 * Sends one request (GET unless `request.method` says otherwise) on a connection of its own,
 * closed afterwards (no keep-alive, no redirects followed), and resolves the status and the
 * first `maxBodyBytes` of the body, whatever the status. Rejects with {@link HttpGetError};
 * an already aborted `signal` rejects at once. Nothing stays open once it has settled.
 * @example await httpGet({ host: '127.0.0.1', port: 8080, path: '/load' }, { tls: false, maxBodyBytes: 65536 })
 */
export function httpGet(
  request: RequestOptions,
  options: HttpGetOptions,
): Promise<HttpGetResponse> {
  const { signal, timeoutMs, maxBodyBytes } = options;
  if (signal?.aborted === true) return Promise.reject(new HttpGetError('aborted', false));
  return new Promise((resolve, reject) => {
    let settled = false;
    let connected = false;
    let secured = false;
    let response: IncomingMessage | undefined;
    let req: ReturnType<typeof httpRequest> | undefined;
    const settle = (outcome: HttpGetResponse | HttpGetError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      response?.destroy();
      req?.destroy();
      if (outcome instanceof HttpGetError) reject(outcome);
      else resolve(outcome);
    };
    const failed = (error: Error): void => {
      const tls = options.tls && connected && !secured;
      settle(new HttpGetError('failed', tls, error, response !== undefined));
    };
    const onAbort = (): void => {
      settle(new HttpGetError('aborted', false));
    };
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            settle(new HttpGetError('timeout', false));
          }, timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      req = (options.tls ? httpsRequest : httpRequest)({ ...request, agent: false });
    } catch (error) {
      failed(error as Error); // bad options: an invalid header, port or protocol
      return;
    }
    req.once('socket', (socket) => {
      socket.once('connect', () => (connected = true));
      socket.once('secureConnect', () => (secured = true));
    });
    req.on('error', failed);
    req.once('response', (res: IncomingMessage) => {
      response = res;
      const status = res.statusCode ?? 0;
      if (options.readBody?.(status) === false) {
        settle({ status, headers: res.headers, body: Buffer.alloc(0), complete: false });
        return;
      }
      let body = Buffer.alloc(0);
      res.on('data', (chunk: Buffer) => {
        body = Buffer.concat([body, chunk.subarray(0, maxBodyBytes - body.length)]);
        if (body.length >= maxBodyBytes || options.enough?.(body) === true)
          settle({ status, headers: res.headers, body, complete: false });
      });
      res.on('error', failed);
      res.once('end', () => {
        settle({ status, headers: res.headers, body, complete: true });
      });
      // 'close' without 'end' (and without an error): what came is all there is.
      res.once('close', () => {
        settle({ status, headers: res.headers, body, complete: res.complete });
      });
    });
    req.end();
  });
}
