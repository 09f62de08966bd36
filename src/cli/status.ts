import { parseArgs } from 'node:util';
import { createBoard, loadAll } from '../app.js';
import { parseListen, readConfig } from '../config/load.js';
import { healthStateView } from '../health/view.js';
import type { Logger } from '../observability/log.js';
import { formatStatus, memberStatus, type MemberStatus } from '../server/member-status.js';
import { UsageError } from './args.js';

export { formatStatus, memberStatus, type MemberStatus };

/** Asks a running server's operator interface (`api.listen`) for its member table. */
async function fetchStatus(server: string): Promise<MemberStatus[]> {
  const address = parseListen(server);
  if (!address) throw new UsageError(`--server expects ADDR:PORT or [IPv6]:PORT, got "${server}"`);
  const host = address.host.includes(':') ? `[${address.host}]` : address.host;
  const url = `http://${host}:${address.port}/status`;
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(5000) });
  } catch (error) {
    throw new StatusError(`cannot reach ${url}: ${String((error as Error).cause ?? error)}`);
  }
  if (!response.ok) throw new StatusError(`${url} answered ${response.status}`);
  const body = (await response.json()) as { members?: MemberStatus[] };
  if (!Array.isArray(body.members)) throw new StatusError(`${url}: not a steerdns status`);
  return body.members;
}

/** The running server cannot be asked. */
export class StatusError extends Error {
  readonly code = 'STEERDNS_ERR_STATUS';
}

/**
 * `steerdns status --config FILE`: runs one round of the configured checks from this host
 * and prints every member's state, last result, average response time, load, connections
 * and admin state. `--server ADDR:PORT` asks a running server (its `api.listen`) instead,
 * which also knows the nodes that joined by announcement.
 */
export async function runStatus(args: readonly string[], log: Logger): Promise<string> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      config: { type: 'string', short: 'c' },
      server: { type: 'string', short: 's' },
      json: { type: 'boolean', default: false },
    },
  });
  if (values.server !== undefined) {
    if (values.config !== undefined) throw new UsageError('give either --config or --server');
    const rows = await fetchStatus(values.server);
    return values.json ? JSON.stringify(rows, null, 2) : formatStatus(rows);
  }
  if (values.config === undefined)
    throw new UsageError('status needs --config FILE or --server ADDR:PORT');
  const file = values.config;
  const loaded = await loadAll(() => readConfig(file));
  const board = createBoard(log);
  try {
    board.setChecks(loaded.health.checks);
    const slowest = Math.max(
      0,
      ...loaded.health.checks.map((c) => c.tracker.intervalMs + c.timeoutMs),
    );
    await board.firstRound(Math.max(loaded.health.startupGraceMs, slowest));
    const view = healthStateView(loaded.health.targetOf, board, loaded.services.staticState);
    const rows = memberStatus(loaded, board, view);
    return values.json ? JSON.stringify(rows, null, 2) : formatStatus(rows);
  } finally {
    await board.stop();
  }
}
