import type { Logger } from '../observability/log.js';
import type { BoundDns } from './dns-server.js';

/**
 * Where every listener of a server is bound, as `host:port` or `[v6]:port`: the fields of
 * its `listening` log line. A listen address with port 0 shows the port the system chose;
 * operators and the tests read the ports from this line.
 */
export interface Listening {
  readonly dns: BoundDns;
  /** The operator interface (`api.listen`), when configured. */
  readonly api: string | undefined;
  /** The sockets receiving agent announcements (`agents.listen`). */
  readonly agents: readonly string[];
  /** The map protocol listeners of a DNS-B and a DNS-LB (`referral:`), when configured. */
  readonly referral?: { readonly backbone?: string; readonly balancer?: string };
  /** A site's DSSP listener and HTTP redirect listener (`distributedSites:`), when one. */
  readonly sites?: { readonly dssp?: string; readonly redirect?: string };
}

const key = (listening: Listening): string =>
  JSON.stringify([
    listening.dns.udp,
    listening.dns.tcp,
    listening.api ?? null,
    listening.agents,
    listening.referral ?? null,
    listening.sites ?? null,
  ]);

/**
 * Logs `listening` the first time it is called, and again only when a listener moved (a
 * reload can move any of them). The line is at level info but written whatever the log
 * level: with port 0 it is the only place that says where the server listens.
 */
export function listeningReporter(log: Logger): (listening: Listening) => void {
  const out = log.isLevelEnabled('info') ? log : log.child({}, { level: 'info' });
  let last: string | undefined;
  return (listening) => {
    const now = key(listening);
    if (now === last) return;
    last = now;
    const { dns, api, agents, referral, sites } = listening;
    const extra = { ...(referral ? { referral } : {}), ...(sites ? { sites } : {}) };
    out.info({ dns, api, agents, ...extra }, 'listening');
  };
}

/** True when two processes are bound to the same DNS addresses (every worker must be). */
export const sameDns = (a: BoundDns, b: BoundDns): boolean =>
  JSON.stringify([a.udp, a.tcp]) === JSON.stringify([b.udp, b.tcp]);
