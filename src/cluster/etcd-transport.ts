import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import type { ClientRequest, IncomingMessage, RequestOptions } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { SteerdnsError } from '../lib/errors.js';
import { isObject, numberField, stringField, type JsonObject } from './etcd-codec.js';

/**
 * Why an etcd call failed. `unreachable`: no connection (refused, reset, no socket file);
 * `timeout`: no full answer within the deadline; `rejected`: etcd answered with an error
 * (`grpcCode`); `protocol`: the answer was not what the gateway sends; `broken`: a watch
 * stream ended or stopped answering; `compacted`: a watch asked for history etcd compacted
 * (`compactRevision`); `canceled`: etcd canceled a watch; `closed`: the client was closed.
 */
export type EtcdErrorKind =
  | 'unreachable'
  | 'timeout'
  | 'rejected'
  | 'protocol'
  | 'broken'
  | 'compacted'
  | 'canceled'
  | 'closed';

/** A failed etcd call; the message names the call and the endpoint. */
export class EtcdError extends SteerdnsError {
  readonly kind: EtcdErrorKind;
  /** The call, e.g. `kv/range`, `lease/keepalive`, `watch`. */
  readonly call: string;
  /** The endpoint as configured, e.g. `http://192.0.2.2:2379`, `unix:///run/etcd.sock`. */
  readonly endpoint: string;
  /** The gRPC status code etcd answered with (kind `rejected`): 5 not found, 14 unavailable... */
  readonly grpcCode: number | undefined;
  /** The oldest revision etcd still has (kind `compacted`). */
  readonly compactRevision: number | undefined;

  constructor(
    kind: EtcdErrorKind,
    call: string,
    endpoint: string,
    reason: string,
    details: { grpcCode?: number; compactRevision?: number; cause?: unknown } = {},
  ) {
    super('STEERDNS_ERR_ETCD', `etcd ${call} at ${endpoint}: ${reason}`, {
      cause: details.cause,
    });
    this.kind = kind;
    this.call = call;
    this.endpoint = endpoint;
    this.grpcCode = details.grpcCode;
    this.compactRevision = details.compactRevision;
  }
}

/** TLS material for `https://` endpoints, as buffers (the caller reads the files). */
export interface EtcdTlsOptions {
  /** The CA that signed etcd's server certificates. @default Node's built-in CAs */
  readonly ca?: Buffer;
  /** This client's certificate (PEM), for etcd's `--client-cert-auth`. */
  readonly cert?: Buffer;
  /** The key of `cert` (PEM). */
  readonly key?: Buffer;
}

/** Options of {@link EtcdTransport} (and of `EtcdClient`). */
export interface EtcdTransportOptions {
  /**
   * etcd's client URLs, tried in order: `http://HOST:PORT`, `https://HOST:PORT` or
   * `unix:///ABSOLUTE/PATH` (steerdns' form for a unix socket: `unix://` then the path).
   * @example ['https://192.0.2.2:2379', 'https://192.0.2.3:2379']
   */
  readonly endpoints: readonly string[];
  /** The deadline of one request on one endpoint, in ms. @default 1000 */
  readonly timeoutMs?: number;
  readonly tls?: EtcdTlsOptions;
  /** etcd user and password: the client authenticates and sends the token with every call. */
  readonly auth?: { readonly user: string; readonly password: string };
}

/** One configured endpoint, ready for node:http(s). */
interface Endpoint {
  readonly url: string;
  readonly secure: boolean;
  readonly options: RequestOptions;
}

/** gRPC Unavailable: etcd has no leader or the member is stopping; another member may serve. */
const GRPC_UNAVAILABLE = 14;
/** gRPC Unauthenticated: the token expired or etcd restarted; authenticate again. */
const GRPC_UNAUTHENTICATED = 16;

/** Parses one endpoint URL; throws on anything else. */
export function parseEndpoint(url: string, tls: EtcdTlsOptions | undefined): Endpoint {
  if (url.startsWith('unix://')) {
    const socketPath = url.slice('unix://'.length);
    if (!socketPath.startsWith('/'))
      throw new Error(`etcd endpoint ${url}: unix:// needs an absolute path (unix:///path)`);
    return { url, secure: false, options: { socketPath } };
  }
  const parsed = new URL(url);
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new Error(`etcd endpoint ${url}: use http://, https:// or unix:///path`);
  const secure = parsed.protocol === 'https:';
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = parsed.port === '' ? 2379 : Number(parsed.port);
  const options: RequestOptions & { ca?: Buffer; cert?: Buffer; key?: Buffer } = { host, port };
  if (secure && tls?.ca !== undefined) options.ca = tls.ca;
  if (secure && tls?.cert !== undefined) options.cert = tls.cert;
  if (secure && tls?.key !== undefined) options.key = tls.key;
  return { url, secure, options };
}

/** An open streaming response (a watch). */
export interface EtcdStream {
  readonly endpoint: string;
  readonly request: ClientRequest;
  readonly response: IncomingMessage;
}

/**
 * Requests to etcd's JSON gateway with endpoint failover: a call goes to the current endpoint;
 * when it cannot connect, times out or etcd answers Unavailable, the next endpoint becomes
 * current and the call is sent there, each endpoint once. Writes may so be applied twice
 * (the first attempt timed out after etcd applied it): steerdns' writes are idempotent.
 */
export class EtcdTransport {
  readonly timeoutMs: number;
  readonly #endpoints: readonly Endpoint[];
  readonly #agents: { http: HttpAgent; https: HttpsAgent };
  readonly #auth: EtcdTransportOptions['auth'];
  #current = 0;
  #token: string | undefined;
  #closed = false;

  constructor(options: EtcdTransportOptions) {
    if (options.endpoints.length === 0) throw new Error('etcd: no endpoints');
    this.#endpoints = options.endpoints.map((url) => parseEndpoint(url, options.tls));
    this.timeoutMs = options.timeoutMs ?? 1000;
    this.#auth = options.auth;
    this.#agents = {
      http: new HttpAgent({ keepAlive: true }),
      https: new HttpsAgent({ keepAlive: true }),
    };
  }

  /** The endpoint calls go to now. */
  get currentEndpoint(): string {
    return this.#endpoints[this.#current]!.url;
  }

  /** Sends `body` to `path` (e.g. `/v3/kv/range`) and resolves the answer's JSON object. */
  async call(call: string, path: string, body: object): Promise<JsonObject> {
    let last: EtcdError | undefined;
    for (let tried = 0; tried < this.#endpoints.length; tried++) {
      const endpoint = this.#endpoints[this.#current]!;
      try {
        return await this.#callAt(endpoint, call, path, body, true);
      } catch (error) {
        if (!(error instanceof EtcdError) || !failover(error)) throw error;
        last = error;
        this.#advance(endpoint);
      }
    }
    throw last!;
  }

  /** Like {@link call}, but only to the endpoint `endpointUrl` (no failover). */
  callEndpoint(endpointUrl: string, call: string, path: string, body: object): Promise<JsonObject> {
    const endpoint = this.#endpoints.find((candidate) => candidate.url === endpointUrl);
    if (endpoint === undefined) throw new Error(`etcd: unknown endpoint ${endpointUrl}`);
    return this.#callAt(endpoint, call, path, body, true);
  }

  /**
   * Opens a streaming POST (a watch) on the current endpoint and resolves once the response
   * headers came with status 200. A failure makes the next endpoint current, so the caller's
   * retry goes elsewhere.
   */
  async openStream(call: string, path: string, body: object): Promise<EtcdStream> {
    const endpoint = this.#endpoints[this.#current]!;
    try {
      const deadline = Date.now() + this.timeoutMs;
      const headers = await this.#headers(endpoint, deadline);
      const { request, response } = await this.#send(endpoint, call, path, body, headers, deadline);
      if (response.statusCode !== 200) {
        const answer = await readBody(response, endpoint, call, deadline, this.timeoutMs);
        throw rejection(answer, response.statusCode ?? 0, endpoint.url, call);
      }
      return { endpoint: endpoint.url, request, response };
    } catch (error) {
      if (error instanceof EtcdError && failover(error)) this.#advance(endpoint);
      throw error;
    }
  }

  /** Makes the next endpoint current when a failure at `endpoint` means it is unusable. */
  reportFailure(endpointUrl: string): void {
    const endpoint = this.#endpoints.find((candidate) => candidate.url === endpointUrl);
    if (endpoint !== undefined) this.#advance(endpoint);
  }

  /** Closes idle connections; calls after this reject with kind `closed`. */
  close(): void {
    this.#closed = true;
    this.#agents.http.destroy();
    this.#agents.https.destroy();
  }

  #advance(endpoint: Endpoint): void {
    if (this.#endpoints[this.#current] === endpoint)
      this.#current = (this.#current + 1) % this.#endpoints.length;
  }

  async #callAt(
    endpoint: Endpoint,
    call: string,
    path: string,
    body: object,
    reauthenticate: boolean,
  ): Promise<JsonObject> {
    const deadline = Date.now() + this.timeoutMs;
    const headers = await this.#headers(endpoint, deadline);
    let sent: { response: IncomingMessage; request: ClientRequest };
    try {
      sent = await this.#send(endpoint, call, path, body, headers, deadline);
    } catch (error) {
      // A kept-alive connection the server closed in between: once more, on a new one.
      if (!(error instanceof EtcdError) || error.kind !== 'unreachable' || !isReused(error))
        throw error;
      sent = await this.#send(endpoint, call, path, body, headers, deadline);
    }
    const status = sent.response.statusCode ?? 0;
    const answer = await readBody(sent.response, endpoint, call, deadline, this.timeoutMs);
    if (status === 200) return answer;
    const error = rejection(answer, status, endpoint.url, call);
    if (reauthenticate && this.#auth !== undefined && error.grpcCode === GRPC_UNAUTHENTICATED) {
      this.#token = undefined;
      return this.#callAt(endpoint, call, path, body, false);
    }
    throw error;
  }

  async #headers(endpoint: Endpoint, deadline: number): Promise<Record<string, string>> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.#auth === undefined) return headers;
    if (this.#token === undefined) {
      const auth = { name: this.#auth.user, password: this.#auth.password };
      const call = 'auth/authenticate';
      const sent = await this.#send(endpoint, call, '/v3/' + call, auth, headers, deadline);
      const answer = await readBody(sent.response, endpoint, call, deadline, this.timeoutMs);
      if (sent.response.statusCode !== 200)
        throw rejection(answer, sent.response.statusCode ?? 0, endpoint.url, 'auth/authenticate');
      this.#token = stringField(answer, 'token');
    }
    return { ...headers, authorization: this.#token };
  }

  /** One request; resolves at the response headers, rejects when they do not come by `deadline`. */
  #send(
    endpoint: Endpoint,
    call: string,
    path: string,
    body: object,
    headers: Record<string, string>,
    deadline: number,
  ): Promise<{ request: ClientRequest; response: IncomingMessage }> {
    if (this.#closed) return Promise.reject(new EtcdError('closed', call, endpoint.url, 'closed'));
    return new Promise((resolve, reject) => {
      const payload = JSON.stringify(body);
      const request = (endpoint.secure ? httpsRequest : httpRequest)({
        ...endpoint.options,
        agent: endpoint.secure ? this.#agents.https : this.#agents.http,
        method: 'POST',
        path,
        headers: { ...headers, 'content-length': Buffer.byteLength(payload) },
      });
      const fail = (error: EtcdError): void => {
        clearTimeout(timer);
        request.destroy();
        reject(error);
      };
      const timer = setTimeout(
        () => {
          fail(
            new EtcdError('timeout', call, endpoint.url, `no answer within ${this.timeoutMs} ms`),
          );
        },
        Math.max(0, deadline - Date.now()),
      );
      request.on('error', (error: NodeJS.ErrnoException) => {
        const failure = new EtcdError('unreachable', call, endpoint.url, error.message, {
          cause: error,
        });
        reusedRequests.set(failure, request.reusedSocket);
        fail(failure);
      });
      request.once('response', (response) => {
        clearTimeout(timer);
        resolve({ request, response });
      });
      request.end(payload);
    });
  }
}

/** Whether the failed request went out on a kept-alive connection. */
const reusedRequests = new WeakMap<EtcdError, boolean>();

function isReused(error: EtcdError): boolean {
  return reusedRequests.get(error) === true;
}

/** Whether another endpoint may answer where this one failed. */
function failover(error: EtcdError): boolean {
  return (
    error.kind === 'unreachable' ||
    error.kind === 'timeout' ||
    (error.kind === 'rejected' && error.grpcCode === GRPC_UNAVAILABLE)
  );
}

/** Reads a whole JSON answer by `deadline` (`timeoutMs` is for the message). */
function readBody(
  response: IncomingMessage,
  endpoint: Endpoint,
  call: string,
  deadline: number,
  timeoutMs: number,
): Promise<JsonObject> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const timer = setTimeout(
      () => {
        response.destroy();
        reject(new EtcdError('timeout', call, endpoint.url, `no answer within ${timeoutMs} ms`));
      },
      Math.max(0, deadline - Date.now()),
    );
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.once('error', (error) => {
      clearTimeout(timer);
      reject(new EtcdError('unreachable', call, endpoint.url, error.message, { cause: error }));
    });
    response.once('end', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('utf8');
      try {
        const parsed: unknown = JSON.parse(text);
        if (!isObject(parsed)) throw new Error('not a JSON object');
        // Streaming calls (lease/keepalive) wrap their one message in `result`.
        const result = parsed['result'];
        resolve(isObject(result) && parsed['header'] === undefined ? result : parsed);
      } catch (error) {
        reject(
          new EtcdError(
            'protocol',
            call,
            endpoint.url,
            `answer is not JSON: ${text.slice(0, 200)}`,
            {
              cause: error,
            },
          ),
        );
      }
    });
  });
}

/** The error of a non-200 answer: `{"error","message","code"}` (or `{"error":{...}}` on streams). */
export function rejection(
  answer: JsonObject,
  status: number,
  endpoint: string,
  call: string,
): EtcdError {
  const inner = answer['error'];
  const source = isObject(inner) ? inner : answer;
  const message = stringField(source, 'message') || `HTTP ${status}`;
  const grpcCode = numberField(source, isObject(inner) ? 'grpc_code' : 'code');
  return new EtcdError('rejected', call, endpoint, message, { grpcCode });
}
