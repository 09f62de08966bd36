import { parseArgs } from 'node:util';
import { checkOnce } from '../app.js';
import { readConfig } from '../config/load.js';
import { ConfigError, formatProblem } from '../lib/errors.js';
import type { Logger } from '../observability/log.js';
import { formatStatus, memberStatus, type MemberStatus } from '../server/member-status.js';
import { UsageError, USAGE } from './args.js';
import {
  askServer,
  OperatorError,
  type OperatorReply,
  type OperatorTls,
} from './operator-client.js';
import { ExitCode, type CommandOutcome } from './outcome.js';
import { formatCluster, isClusterView, type ClusterStatusView } from './cluster-format.js';
import { formatSites, isSitesStatus } from './sites-format.js';
import type { SitesStatus } from '../sites/exchange.js';

export { formatStatus, memberStatus, type MemberStatus };

/** The DNS counters a running server reports (`GET /status`, field `dns`). */
type DnsCounters = Readonly<Record<string, number>>;

/** One line of a server's rate-limiting and cookie counters, for the table output. */
export function formatCounters(dns: DnsCounters): string {
  const n = (key: string): number => dns[key] ?? 0;
  return `rate limiting: ${n('rateLimitDropped')} responses dropped, ${n('rateLimitSlipped')} sent truncated (slip); cookies: ${n('cookieExempt')} responses exempt by a valid cookie, ${n('badCookies')} bad server cookies, ${n('badCookieReplies')} BADCOOKIE replies`;
}

/** What a running server's `GET /status` says. */
interface ServerStatus {
  members: MemberStatus[];
  dns?: DnsCounters;
  cluster?: ClusterStatusView;
  sites?: SitesStatus;
}

/** Asks a running server's operator interface (`api.listen`) for its member table. */
async function fetchStatus(server: string, secure: OperatorTls): Promise<ServerStatus> {
  let reply: OperatorReply;
  try {
    reply = await askServer(server, '/status', 5000, secure);
  } catch (error) {
    if (error instanceof OperatorError) throw new StatusError(error.message);
    throw error;
  }
  if (reply.status !== 200) throw new StatusError(`${reply.url} answered ${reply.status}`);
  const body = reply.body as
    { members?: MemberStatus[]; dns?: DnsCounters; cluster?: unknown; sites?: unknown } | undefined;
  const members = body?.members;
  if (body === undefined || !Array.isArray(members))
    throw new StatusError(`${reply.url}: not a steerdns status`);
  const status: ServerStatus = { members };
  if (body.dns !== undefined) status.dns = body.dns;
  if (isClusterView(body.cluster)) status.cluster = body.cluster;
  if (isSitesStatus(body.sites)) status.sites = body.sites;
  return status;
}

/** The running server cannot be asked. */
export class StatusError extends Error {
  readonly code = 'STEERDNS_ERR_STATUS';
}

/** The member rows, from a running server or from one round of checks here; and `--json`. */
async function statusRows(
  args: readonly string[],
  log: Logger,
): Promise<{
  rows: MemberStatus[];
  json: boolean;
  dns?: DnsCounters;
  cluster?: ClusterStatusView;
  sites?: SitesStatus;
}> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      config: { type: 'string', short: 'c' },
      server: { type: 'string', short: 's' },
      json: { type: 'boolean', default: false },
      tls: { type: 'boolean', default: false },
      ca: { type: 'string' },
    },
  });
  if (values.server !== undefined) {
    if (values.config !== undefined) throw new UsageError('give either --config or --server');
    const secure = { tls: values.tls, ca: values.ca };
    const { members, ...rest } = await fetchStatus(values.server, secure);
    return { rows: members, json: values.json, ...rest };
  }
  if (values.config === undefined)
    throw new UsageError('status needs --config FILE or --server ADDR:PORT');
  const file = values.config;
  // The table shows every state change: health log lines (a member down is a warning)
  // would only interleave with it on stdout.
  const quiet =
    log.levelVal >= log.levels.values['error']! ? log : log.child({}, { level: 'error' });
  return { rows: await checkOnce(() => readConfig(file), quiet), json: values.json };
}

/** States in which a member is answered: checked and up, or not checked at all. */
const ANSWERED: ReadonlySet<MemberStatus['state']> = new Set(['up', 'unchecked']);

/**
 * The services of `rows` of which no member is up (or unchecked), each with a count of its
 * members by state: `app.example.org. has no member up (2 down, 1 unknown)`. Admin state
 * does not count: a disabled member that is up is up. A service with no members at all is
 * not in the rows and is not reported.
 */
export function servicesWithoutMemberUp(rows: readonly MemberStatus[]): string[] {
  const byService = new Map<string, MemberStatus[]>();
  for (const row of rows) byService.set(row.service, [...(byService.get(row.service) ?? []), row]);
  const lines: string[] = [];
  for (const [service, members] of byService) {
    if (members.some((m) => ANSWERED.has(m.state))) continue;
    const counts = new Map<string, number>();
    for (const m of members) counts.set(m.state, (counts.get(m.state) ?? 0) + 1);
    const summary = [...counts].map(([state, n]) => `${n} ${state}`).join(', ');
    lines.push(`${service} has no member up (${summary})`);
  }
  return lines;
}

/**
 * `steerdns status --config FILE`: runs one round of the configured checks from this host
 * and prints every member's state, last result, average response time, load, connections
 * and admin state. `--server ADDR:PORT` asks a running server (its `api.listen`) instead,
 * which also knows the nodes that joined by announcement, and on a node of a cluster prints
 * the cluster too (every node with its role, epoch and last update; `--json`: `{ members,
 * cluster }`).
 * Exit 0 every service has a member up; 1 the configuration is bad or the server cannot be
 * asked; 2 a usage mistake; 3 a service has no member up (the table is printed, and one
 * line per such service on stderr).
 */
export async function statusCommand(args: readonly string[], log: Logger): Promise<CommandOutcome> {
  let result: Awaited<ReturnType<typeof statusRows>>;
  try {
    result = await statusRows(args, log);
  } catch (error) {
    const code = (error as { code?: string } | undefined)?.code;
    if (error instanceof UsageError || code?.startsWith('ERR_PARSE_ARGS_') === true) {
      const message = `steerdns status: ${(error as Error).message}`;
      return { out: [], errors: [message, USAGE], exitCode: ExitCode.usage };
    }
    if (error instanceof StatusError)
      return { out: [], errors: [`steerdns status: ${error.message}`], exitCode: ExitCode.failed };
    if (error instanceof ConfigError)
      return { out: [], errors: error.problems.map(formatProblem), exitCode: ExitCode.failed };
    throw error;
  }
  const { rows, json, dns, cluster, sites } = result;
  const down = servicesWithoutMemberUp(rows);
  const table = [
    formatStatus(rows),
    ...(dns === undefined ? [] : [formatCounters(dns)]),
    ...(cluster === undefined ? [] : [formatCluster(cluster, Date.now())]),
    ...(sites === undefined ? [] : [formatSites(sites)]),
  ];
  // --json is the member rows; a node of a cluster adds its view: { members, cluster }.
  // The counters are in the server's GET /status.
  const document =
    cluster === undefined && sites === undefined
      ? rows
      : {
          members: rows,
          ...(cluster === undefined ? {} : { cluster }),
          ...(sites === undefined ? {} : { sites }),
        };
  return {
    out: json ? [JSON.stringify(document, null, 2)] : table,
    errors: down.map((line) => `steerdns status: ${line}`),
    exitCode: down.length > 0 ? ExitCode.serviceDown : ExitCode.ok,
  };
}
