import type { MemberStatus } from '../server/member-status.js';
import type { Logger } from '../observability/log.js';
import type { MetricsExposition } from '../observability/metrics-exposition.js';
import type { DnsCounters, ExplainOnLiveState } from '../server/status-api.js';
import { startApiServer, type ApiServer } from './server.js';

/**
 * The operator interface without a node behind it: `/status` from `rows`, `/explain` from
 * `explain`, `/metrics`, and /api/v1 answering 501. For tests of the clients
 * (`steerdns status --server`, `explain --server`) that need a server, not a node.
 */
export function startStatusApi(
  listen: { readonly host: string; readonly port: number },
  rows: () => readonly MemberStatus[],
  log: Logger,
  explain?: ExplainOnLiveState,
  counters?: DnsCounters,
  cluster?: () => unknown,
  metrics?: MetricsExposition,
): Promise<ApiServer> {
  return startApiServer(
    {
      log,
      settings: () => undefined,
      status: () => ({ members: rows(), dns: counters?.(), cluster: cluster?.() }),
      explain,
      metrics,
    },
    listen,
  );
}
