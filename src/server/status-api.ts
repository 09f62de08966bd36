import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostPort } from '../lib/ip.js';
import type { ListenAddress } from '../config/load.js';
import type { Logger } from '../observability/log.js';
import type { ExplainError, ExplainRequest, QueryExplanation } from '../answer/explain.js';
import type { MemberStatus } from './member-status.js';
import type { ProtectionStats } from '../answer/protection.js';
import type { MetricsExposition } from '../observability/metrics-exposition.js';

/**
 * The DNS counters of the process that serves the interface (rate limiting and cookies),
 * or undefined when it does not answer DNS itself (a primary with workers).
 */
export type DnsCounters = () => Readonly<ProtectionStats> | undefined;

/**
 * The node's view of its cluster for `GET /status` (its `ClusterView`), or undefined when
 * it runs alone.
 */
export type ClusterStatus = () => unknown;

/** More top-level sections of `GET /status`, by name (the map protocol's counters: `referral`). */
export type StatusSections = () => Readonly<Record<string, unknown>>;

/** What explaining a query comes to: an explanation, or the ExplainError that says why not. */
export type ExplainOutcome = QueryExplanation | ExplainError;

/**
 * Explains a query on the live state: an explanation, or the ExplainError that says which
 * parameter is wrong (answered as 400), now or later (a primary asks a worker). Thrown
 * errors and rejections are answered as 500.
 */
export type ExplainOnLiveState = (
  request: ExplainRequest,
) => ExplainOutcome | Promise<ExplainOutcome>;

/** The operator HTTP interface: read-only for now. */
export interface StatusApi {
  /** The address bound (the system's port when the configured port is 0). */
  readonly listen: ListenAddress;
  close(): Promise<void>;
}

/** The parameters `GET /explain` accepts. */
const EXPLAIN_PARAMETERS = new Set(['name', 'type', 'client', 'ecs']);

type Reply = (status: number, body: unknown) => void;

/** A status and a JSON body. */
interface Answer {
  readonly status: number;
  readonly body: unknown;
}

const badRequest = (message: string, code = 'STEERDNS_ERR_EXPLAIN'): Answer => ({
  status: 400,
  body: { error: { code, message } },
});

/** `GET /explain?name=&type=&client=&ecs=`: checks the parameters, then asks `explain`. */
async function explainAnswer(url: URL, explain: ExplainOnLiveState | undefined): Promise<Answer> {
  if (!explain) {
    const error = {
      code: 'STEERDNS_ERR_EXPLAIN_UNAVAILABLE',
      message: 'this server cannot explain',
    };
    return { status: 501, body: { error } };
  }
  const params = url.searchParams;
  for (const key of new Set(params.keys())) {
    if (!EXPLAIN_PARAMETERS.has(key))
      return badRequest(`unknown parameter "${key}"; known: ${[...EXPLAIN_PARAMETERS].join(', ')}`);
    if (params.getAll(key).length > 1) return badRequest(`parameter "${key}" given twice`);
  }
  const name = params.get('name');
  if (name === null || name === '') return badRequest('parameter "name" is required');
  const request: { -readonly [K in keyof ExplainRequest]: ExplainRequest[K] } = { name };
  const type = params.get('type');
  const client = params.get('client');
  const ecs = params.get('ecs');
  if (type !== null) request.type = type;
  if (client !== null) request.client = client;
  if (ecs !== null) request.ecs = ecs;
  const outcome = await explain(request);
  if (outcome instanceof Error) return badRequest(outcome.message, outcome.code);
  return { status: 200, body: { explanation: outcome } };
}

/** `GET /metrics`: the exposition, or 500 when it cannot be gathered. */
function serveMetrics(
  metrics: MetricsExposition,
  request: IncomingMessage,
  response: ServerResponse,
  log: Logger,
): void {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end();
    return;
  }
  metrics.text().then(
    (text) => {
      response.writeHead(200, { 'content-type': metrics.contentType, 'cache-control': 'no-store' });
      response.end(request.method === 'HEAD' ? undefined : text);
    },
    (error: unknown) => {
      log.error({ err: error }, 'operator interface: /metrics failed');
      response.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n');
    },
  );
}

function handler(
  rows: () => readonly MemberStatus[],
  explain: ExplainOnLiveState | undefined,
  log: Logger,
  counters: DnsCounters | undefined,
  cluster: ClusterStatus | undefined,
  metrics: MetricsExposition | undefined,
  sections: StatusSections | undefined,
): (request: IncomingMessage, response: ServerResponse) => void {
  return (request, response) => {
    const url = new URL(request.url ?? '/', 'http://operator');
    if (url.pathname === '/metrics' && metrics) {
      serveMetrics(metrics, request, response, log);
      return;
    }
    const reply: Reply = (status, body) => {
      response.writeHead(status, {
        'content-type': 'application/json',
        'cache-control': 'no-store',
      });
      response.end(request.method === 'HEAD' ? undefined : `${JSON.stringify(body, null, 2)}\n`);
    };
    if (url.pathname !== '/status' && url.pathname !== '/explain') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end();
      return;
    }
    const failed = (error: unknown): void => {
      log.error({ err: error }, `operator interface: ${url.pathname} failed`);
      reply(500, { error: { code: 'STEERDNS_ERR_INTERNAL', message: 'internal error' } });
    };
    try {
      const answer: Answer | Promise<Answer> =
        url.pathname === '/status'
          ? {
              status: 200,
              body: { members: rows(), dns: counters?.(), cluster: cluster?.(), ...sections?.() },
            }
          : explainAnswer(url, explain);
      if (answer instanceof Promise)
        answer.then((a) => {
          reply(a.status, a.body);
        }, failed);
      else reply(answer.status, answer.body);
    } catch (error) {
      failed(error);
    }
  };
}

/**
 * Serves the operator interface on `listen` (port 0: the system chooses; `listen` of the
 * result is the bound address):
 * - `GET /status`: `{ "members": [...], "dns": {...} }`, one entry per member of every
 *   service with its state, last check result, average response time, load, connections and
 *   admin state; `dns`, when this process answers DNS, the counters of rate limiting and
 *   cookies (see {@link DnsCounters}); `cluster`, on a node of a cluster, its view of it
 *   (every node with its role, epoch and last update; see {@link ClusterStatus}); and the
 *   `sections` given (`referral`: the map protocol's accepted and dropped messages);
 * - `GET /explain?name=NAME[&type=T][&client=IP][&ecs=CIDR]`: `{ "explanation": {...} }`,
 *   what the server would answer now and why; a bad or missing parameter is a 400 with
 *   `{ "error": { "code", "message" } }`; 501 when no `explain` is given.
 * - `GET /metrics`, when `metrics` is given: the Prometheus text exposition.
 * Other paths are 404, other methods 405.
 */
export async function startStatusApi(
  listen: ListenAddress,
  rows: () => readonly MemberStatus[],
  log: Logger,
  explain?: ExplainOnLiveState,
  counters?: DnsCounters,
  cluster?: ClusterStatus,
  metrics?: MetricsExposition,
  sections?: StatusSections,
): Promise<StatusApi> {
  const server: Server = createServer(
    handler(rows, explain, log, counters, cluster, metrics, sections),
  );
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = { host: listen.host, port: (server.address() as AddressInfo).port };
  log.info(
    { api: hostPort(bound.host, bound.port) },
    'operator interface: GET /status, GET /explain',
  );
  return {
    listen: bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}

/** True when two listen addresses are the same. */
export const sameAddress = (a: ListenAddress | undefined, b: ListenAddress | undefined): boolean =>
  a?.host === b?.host && a?.port === b?.port;

/** Keeps the interface on the configured address across reloads (moved, added, removed). */
export class StatusApiHolder {
  private api: StatusApi | undefined;
  /** The address asked for (port 0 stays 0 here; the bound port is in `api.listen`). */
  private configured: ListenAddress | undefined;
  private readonly rows: () => readonly MemberStatus[];
  private readonly log: Logger;
  private readonly explain: ExplainOnLiveState | undefined;
  private readonly counters: DnsCounters | undefined;
  private readonly cluster: ClusterStatus | undefined;
  private readonly metrics: MetricsExposition | undefined;
  private readonly sections: StatusSections | undefined;

  constructor(
    rows: () => readonly MemberStatus[],
    log: Logger,
    explain?: ExplainOnLiveState,
    counters?: DnsCounters,
    cluster?: ClusterStatus,
    metrics?: MetricsExposition,
    sections?: StatusSections,
  ) {
    this.metrics = metrics;
    this.sections = sections;
    this.rows = rows;
    this.log = log;
    this.explain = explain;
    this.counters = counters;
    this.cluster = cluster;
  }

  /** The bound address, while serving. */
  get listen(): ListenAddress | undefined {
    return this.api?.listen;
  }

  /** Serves on `listen` (or stops serving when undefined). */
  async follow(listen: ListenAddress | undefined): Promise<void> {
    if (this.api && sameAddress(this.configured, listen)) return;
    // The new address is bound before the old one closes: a failed bind changes nothing.
    const next =
      listen &&
      (await startStatusApi(
        listen,
        this.rows,
        this.log,
        this.explain,
        this.counters,
        this.cluster,
        this.metrics,
        this.sections,
      ));
    await this.close();
    this.api = next;
    this.configured = next && listen;
  }

  async close(): Promise<void> {
    const api = this.api;
    this.api = undefined;
    this.configured = undefined;
    await api?.close();
  }
}
