/**
 * The proxy-cache variant of a DNS-LB (seed 002): an HTTP proxy that serves each request
 * from the site its chain answers first right now, through undici's RFC 9111 cache
 * interceptor (no HTTP cache of ours). Cache entries are keyed by the balanced name, not
 * the site: an object fetched from one site is served after the best site changed, and
 * only misses go to the new one.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, cacheStores, interceptors, type Dispatcher } from 'undici';
import { SteerdnsError } from '../lib/errors.js';
import type { Logger } from '../observability/log.js';

/** Where one site's HTTP is fetched. */
export interface ProxySite {
  /** The site's answered address. */
  readonly address: string;
  readonly host: string;
  readonly port: number;
}

/** `referral.balancer.proxy`, as the proxy needs it. */
export interface ProxySettings {
  readonly label: string;
  readonly listen: { readonly host: string; readonly port: number };
  /** Balanced names, lower case, no dot. */
  readonly names: readonly string[];
  readonly cacheBytes: number;
  readonly maxBodyBytes: number;
  readonly timeoutMs: number;
}

/** The best site for a balanced name now (the answer path's decision), if any is up. */
export type BestSite = (name: string) => ProxySite | undefined;

/** RFC 9110 7.6.1 hop-by-hop fields, plus the proxy ones; never forwarded. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** A proxy failure, answered with its status and code (docs/errors.md). */
class ProxyError extends SteerdnsError {
  readonly status: number;

  constructor(status: number, code: string, message: string) {
    super(code, message);
    this.status = status;
  }
}

/** The header fields to forward: hop-by-hop ones and those `Connection` names removed. */
function endToEnd(
  headers: IncomingMessage['headers'] | Record<string, string | string[] | undefined>,
): Record<string, string | string[]> {
  const named = new Set(
    String(headers.connection ?? '')
      .split(',')
      .map((x) => x.trim().toLowerCase())
      .filter((x) => x !== ''),
  );
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers))
    if (value !== undefined && !HOP_BY_HOP.has(name) && !named.has(name)) out[name] = value;
  return out;
}

/** A running proxy cache. */
export class BalancerProxy {
  private readonly server: Server;
  private readonly dispatcher: Dispatcher;
  private readonly agent: Agent;
  private readonly store: InstanceType<typeof cacheStores.MemoryCacheStore>;
  /** Requests answered, by outcome (GET /status). */
  readonly counts = { requests: 0, hits: 0, errors: {} as Record<string, number> };

  private readonly settings: ProxySettings;
  private readonly best: BestSite;
  private readonly log: Logger;

  constructor(settings: ProxySettings, best: BestSite, log: Logger) {
    this.settings = settings;
    this.best = best;
    this.log = log;
    this.agent = new Agent({
      headersTimeout: settings.timeoutMs,
      bodyTimeout: settings.timeoutMs,
      connectTimeout: settings.timeoutMs,
    });
    this.store = new cacheStores.MemoryCacheStore({
      maxSize: settings.cacheBytes,
      maxEntrySize: Math.min(settings.maxBodyBytes, settings.cacheBytes),
    });
    // compose(a, b) runs b first: the cache sees the balanced name's origin, and only what
    // it does not serve itself is sent on to the site that is best at that moment.
    this.dispatcher = this.agent.compose(
      (dispatch) => (opts, handler) =>
        dispatch({ ...opts, origin: this.siteOrigin(opts) }, handler),
      interceptors.cache({ store: this.store, type: 'shared' }),
    );
    this.server = createServer((req, res) => {
      void this.handle(req, res);
    });
    this.server.requestTimeout = settings.timeoutMs * 2;
  }

  async start(): Promise<void> {
    const { host, port } = this.settings.listen;
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  /** Where it listens, `ADDR:PORT`. */
  bound(): string {
    const a = this.server.address() as AddressInfo;
    return a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
  }

  /** The origin a miss goes to: the best site of the request's balanced name now. */
  private siteOrigin(opts: Dispatcher.DispatchOptions): string {
    const name = new URL(String(opts.origin)).hostname;
    const site = this.best(name);
    if (!site) throw new ProxyError(502, 'STEERDNS_ERR_PROXY_NO_SITE', `no site of ${name} is up`);
    const host = site.host.includes(':') ? `[${site.host}]` : site.host;
    return `http://${host}:${site.port}`;
  }

  /** The balanced name a request is for: its Host (`<name>` or `<label>.<name>`). */
  private nameOf(req: IncomingMessage): string {
    const host = (req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase().replace(/\.$/, '');
    const name = this.settings.names.find(
      (n) => host === n || host === `${this.settings.label}.${n}`,
    );
    if (name) return name;
    if (this.settings.names.length === 1) return this.settings.names[0]!;
    throw new ProxyError(421, 'STEERDNS_ERR_PROXY_HOST', `Host "${host}" is no proxied name`);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.counts.requests++;
    try {
      const name = this.nameOf(req);
      const body = await this.requestBody(req);
      const headers = endToEnd(req.headers);
      // The site expects its public name, as a client talking to it directly sends it.
      headers['host'] = name;
      const from = req.socket.remoteAddress ?? '';
      const before = headers['x-forwarded-for'];
      headers['x-forwarded-for'] = before ? `${String(before)}, ${from}` : from;
      const answer = await this.dispatcher.request({
        origin: `http://${name}`,
        path: req.url ?? '/',
        method: req.method as Dispatcher.HttpMethod,
        headers,
        body: body.length > 0 ? body : null,
      });
      await this.relay(answer, res);
    } catch (error) {
      this.fail(res, error);
    }
  }

  /** The request body, refused past `maxBodyBytes`. */
  private async requestBody(req: IncomingMessage): Promise<Buffer> {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > this.settings.maxBodyBytes) throw tooLarge('request');
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > this.settings.maxBodyBytes) throw tooLarge('request');
      chunks.push(chunk);
    }
    return Buffer.concat(chunks);
  }

  private async relay(answer: Dispatcher.ResponseData, res: ServerResponse): Promise<void> {
    const declared = Number(answer.headers['content-length'] ?? 0);
    if (declared > this.settings.maxBodyBytes) {
      answer.body.destroy();
      throw new ProxyError(
        502,
        'STEERDNS_ERR_PROXY_TOO_LARGE',
        'the site answered a body too large',
      );
    }
    if (answer.headers['age'] !== undefined) this.counts.hits++;
    res.writeHead(answer.statusCode, { ...endToEnd(answer.headers), via: '1.1 steerdns' });
    let size = 0;
    for await (const chunk of answer.body as AsyncIterable<Buffer>) {
      size += chunk.length;
      // Headers are gone: a body past the bound can only be cut off.
      if (size > this.settings.maxBodyBytes) {
        answer.body.destroy();
        res.destroy();
        return;
      }
      if (!res.write(chunk)) await new Promise((r) => res.once('drain', r));
    }
    res.end();
  }

  private fail(res: ServerResponse, error: unknown): void {
    const known = error instanceof ProxyError ? error : undefined;
    const code = known?.code ?? 'STEERDNS_ERR_PROXY_UPSTREAM';
    this.counts.errors[code] = (this.counts.errors[code] ?? 0) + 1;
    const message = known?.message ?? `the site did not answer: ${(error as Error).message}`;
    this.log.warn({ code }, `proxy: ${message}`);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.writeHead(known?.status ?? 502, { 'content-type': 'application/json' });
    res.end(`${JSON.stringify({ error: { code, message } })}\n`);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) =>
      this.server.close(() => {
        resolve();
      }),
    );
    await this.agent.close();
  }
}

const tooLarge = (what: string): ProxyError =>
  new ProxyError(413, 'STEERDNS_ERR_PROXY_TOO_LARGE', `the ${what} body is larger than maxBody`);
