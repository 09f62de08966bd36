import { createServer, type Server } from 'node:http';
import { hostPort } from '../lib/ip.js';
import type { ListenAddress } from '../config/load.js';
import type { Logger } from '../observability/log.js';
import type { MemberStatus } from './member-status.js';

/** The operator HTTP interface: read-only for now. */
export interface StatusApi {
  readonly listen: ListenAddress;
  close(): Promise<void>;
}

/**
 * Serves `GET /status`: `{ "members": [...] }`, one entry per member of every service with
 * its state, last check result, average response time, load, connections and admin state.
 * Everything else is 404 (405 for other methods on /status).
 */
export async function startStatusApi(
  listen: ListenAddress,
  rows: () => readonly MemberStatus[],
  log: Logger,
): Promise<StatusApi> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (path !== '/status') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end();
      return;
    }
    let body: string;
    try {
      body = `${JSON.stringify({ members: rows() }, null, 2)}\n`;
    } catch (error) {
      log.error({ err: error }, 'status: cannot build the member table');
      response.writeHead(500, { 'content-type': 'text/plain' }).end('internal error\n');
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    response.end(request.method === 'HEAD' ? undefined : body);
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  log.info({ api: hostPort(listen.host, listen.port) }, 'operator interface: GET /status');
  return {
    listen,
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
  private readonly rows: () => readonly MemberStatus[];
  private readonly log: Logger;

  constructor(rows: () => readonly MemberStatus[], log: Logger) {
    this.rows = rows;
    this.log = log;
  }

  /** Serves on `listen` (or stops serving when undefined). */
  async follow(listen: ListenAddress | undefined): Promise<void> {
    if (sameAddress(this.api?.listen, listen)) return;
    await this.close();
    if (listen) this.api = await startStatusApi(listen, this.rows, this.log);
  }

  async close(): Promise<void> {
    const api = this.api;
    this.api = undefined;
    await api?.close();
  }
}
