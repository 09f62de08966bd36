import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostPort } from '../lib/ip.js';
import type { StateView } from '../steering/types.js';
import { constrained, measureName, type SiteVip, type SteeredName } from './measure.js';
import type { SitesLayer } from './state-view.js';

/** What the redirect listener reads on each request: the node's state now. */
export interface RedirectSource {
  readonly site: string;
  names(): readonly SteeredName[];
  state(): StateView;
  layer(): SitesLayer | undefined;
}

const urlOf = (vip: SiteVip, path: string): string =>
  `http://${vip.port === undefined ? vip.address : hostPort(vip.address, vip.port)}${path}`;

/**
 * Where a request for `name` goes: this site's VIP while it has one up with room; else
 * the up VIP of the other site with the highest hand-off total (seed 003: "HTTP redirect"
 * to the next site in the ordered hand-off list); undefined when no site is left.
 */
export function redirectTarget(source: RedirectSource, name: SteeredName): SiteVip | undefined {
  const state = source.state();
  const report = measureName(source.site, name, state);
  const upVip = (site: string): SiteVip | undefined =>
    name.vips.find((v) => v.site === site && state.member(v.key).up === true);
  if (!constrained(report)) {
    const room = report.capacity.find((c) => c.up && c.available !== 0);
    return name.vips.find((v) => v.site === source.site && v.address === room?.address);
  }
  const table = source.layer()?.tables.find((t) => t.name === name.name);
  const ranked = [...(table?.totals ?? [])]
    .filter(([site]) => site !== source.site)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  for (const [site] of ranked) {
    const vip = upVip(site);
    if (vip) return vip;
  }
  return undefined;
}

function answer(source: RedirectSource, request: IncomingMessage, response: ServerResponse) {
  const host = (request.headers.host ?? '').replace(/:\d+$/, '').toLowerCase().replace(/\.$/, '');
  const name = source.names().find((n) => n.name === `${host}.`);
  if (!name) {
    response.writeHead(404, { 'content-type': 'text/plain' }).end('unknown name\n');
    return;
  }
  const vip = redirectTarget(source, name);
  if (!vip) {
    response.writeHead(503, { 'content-type': 'text/plain', 'retry-after': '60' });
    response.end('no site can take this request\n');
    return;
  }
  response.writeHead(302, {
    location: urlOf(vip, request.url ?? '/'),
    'x-steerdns-site': vip.site,
    'cache-control': 'no-store',
  });
  response.end();
}

/**
 * The HTTP redirect listener of a site (`distributedSites.httpRedirect`): every request
 * for a steered name (by its Host header) is answered 302 to this site's VIP while it has
 * room, else to the best other site's VIP; 503 when no site is up, 404 for other names.
 */
export class RedirectListener {
  private readonly server: Server;

  constructor(source: RedirectSource) {
    this.server = createServer((request, response) => {
      answer(source, request, response);
    });
    this.server.keepAliveTimeout = 2000;
  }

  listen(host: string, port: number): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) =>
      this.server.close(() => {
        resolve();
      }),
    );
  }
}
