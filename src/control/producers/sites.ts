import type { CompiledConfig } from '../../config/compiled.js';
import type { CompiledDistributedSites } from '../../config/compile-sites.js';
import type { Logger } from '../../observability/log.js';
import { SiteExchange } from '../../sites/exchange.js';
import type { SiteVip, SteeredName } from '../../sites/measure.js';
import { RedirectListener } from '../../sites/redirect.js';
import { hostPort } from '../../lib/ip.js';
import type { ControlNode, NodeSnapshot } from '../node.js';

/** A site of seed 003 running in this process (docs/sites.md). */
export interface SitesProducer {
  /** The DSSP and HTTP redirect listeners, when this node is a site. */
  bound(): { readonly dssp?: string; readonly redirect?: string } | undefined;
  /** What `GET /status` shows under `sites`; undefined when this node is no site. */
  status(): unknown;
  stop(): Promise<void>;
}

/** The VIPs of every site of the section, per steered name: members with their `site:`. */
export function steeredNames(config: CompiledConfig): SteeredName[] {
  const sites = config.distributedSites;
  if (!sites) return [];
  const known = new Set([sites.site, ...sites.peers.map((p) => p.name)]);
  const portOf = new Map(config.health.checks.map((c) => [c.id, c.port]));
  return sites.names.map((name) => {
    const service = config.services.find((s) => s.name === name);
    const vips: SiteVip[] = [];
    for (const pool of service?.pools ?? [])
      for (const m of pool.members)
        if (m.site !== undefined && known.has(m.site) && m.addresses[0] !== undefined)
          vips.push({
            key: m.key,
            site: m.site,
            address: m.addresses[0],
            port: m.check === undefined ? undefined : portOf.get(m.check),
            capacity: m.capacity,
          });
    return { name, vips };
  });
}

/** The running parts of a site. */
interface Running {
  readonly settings: CompiledDistributedSites;
  readonly exchange: SiteExchange;
  readonly redirect: RedirectListener | undefined;
  readonly redirectAt: string | undefined;
}

async function startSite(
  node: ControlNode,
  settings: CompiledDistributedSites,
  log: Logger,
): Promise<Running> {
  const exchange = new SiteExchange(settings, log, (sites) => {
    void node.publish({ kind: 'sites', sites });
  });
  const snapshot = node.snapshot();
  await exchange.start(steeredNames(snapshot.config), snapshot.state);
  if (!settings.httpRedirect)
    return { settings, exchange, redirect: undefined, redirectAt: undefined };
  const redirect = new RedirectListener({
    site: settings.site,
    names: () => steeredNames(node.snapshot().config),
    state: () => node.snapshot().state,
    layer: () => node.snapshot().sites,
  });
  const { host, port } = settings.httpRedirect.listen;
  try {
    const bound = await redirect.listen(host, port);
    return { settings, exchange, redirect, redirectAt: hostPort(host, bound.port) };
  } catch (error) {
    await exchange.close();
    throw error;
  }
}

async function stopSite(running: Running | undefined): Promise<void> {
  await running?.redirect?.close();
  await running?.exchange.close();
}

const same = (a: CompiledDistributedSites | undefined, b: CompiledDistributedSites | undefined) =>
  JSON.stringify(a) === JSON.stringify(b);

/**
 * Runs this node's site of the `distributedSites:` section: the DSSP exchange (it measures
 * through the members' health checks on every change of the live state, and publishes the
 * hand-off tables as the `sites` layer) and the HTTP redirect listener. A reload that
 * changes the section restarts both; one that removes it stops them and clears the layer.
 */
export async function startSitesProducer(node: ControlNode, log: Logger): Promise<SitesProducer> {
  const slog = log.child({ component: 'sites' });
  let running: Running | undefined;
  const follow = async (config: CompiledConfig): Promise<void> => {
    const wanted = config.distributedSites;
    if (running && same(running.settings, wanted)) return;
    await stopSite(running);
    running = undefined;
    if (wanted) running = await startSite(node, wanted, slog);
    else if (node.snapshot().sites) void node.publish({ kind: 'sites', sites: undefined });
  };
  await follow(node.snapshot().config);
  let following = Promise.resolve();
  const observe = (snapshot: NodeSnapshot): void => {
    running?.exchange.observe(steeredNames(snapshot.config), snapshot.state);
  };
  const unsubscribe = node.subscribe((snapshot, change) => {
    if (change.kind === 'sites' || change.kind === 'cluster') return undefined;
    if (change.kind !== 'config') {
      observe(snapshot);
      return undefined;
    }
    const applied = following
      .then(() => follow(snapshot.config))
      .then(() => {
        observe(snapshot);
      });
    following = applied.catch(() => undefined);
    return applied;
  });
  return {
    bound: () =>
      running && {
        ...(running.exchange.address() ? { dssp: running.exchange.address()! } : {}),
        ...(running.redirectAt ? { redirect: running.redirectAt } : {}),
      },
    status: () => running?.exchange.status(),
    async stop() {
      unsubscribe();
      await following;
      await stopSite(running);
      running = undefined;
    },
  };
}
