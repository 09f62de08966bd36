import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readLbConfig } from '../config/load.js';
import { startBalancer, type Balancer, type LbStatus } from '../lb/balancer.js';
import type { LbSettings } from '../lb/settings.js';
import { ConfigError } from '../lib/errors.js';
import type { Logger } from '../observability/log.js';
import type { CommandOutcome } from './outcome.js';
import { UsageError } from './args.js';

export const LB_USAGE = `usage:
  steerdns lb --config FILE          (runs one balancer of the pair until SIGTERM; SIGHUP reloads)
  steerdns lb status --config FILE [--json]   (the running balancer's role and servers)`;

async function settingsOf(file: string): Promise<LbSettings> {
  const lb = await readLbConfig(file);
  if (lb === undefined) {
    throw new ConfigError([{ file, line: 1, reason: 'the configuration has no lb: section' }]);
  }
  return lb;
}

const configFlag = (args: readonly string[]): { config: string; json: boolean } => {
  const { values } = parseArgs({
    args: [...args],
    options: { config: { type: 'string' }, json: { type: 'boolean', default: false } },
    strict: true,
  });
  if (values.config === undefined) throw new UsageError('lb: give --config FILE');
  return { config: values.config, json: values.json };
};

/** A running `steerdns lb`: main.ts gives it the signals. */
export interface LbRun {
  readonly balancer: Balancer;
  /** Reads the file again; a bad one is logged and the last good settings stay. */
  reload(): Promise<void>;
}

/** `steerdns lb --config FILE`: starts the balancer. */
export async function runLb(args: readonly string[], log: Logger): Promise<LbRun> {
  const { config } = configFlag(args);
  const first = await settingsOf(config);
  const balancer = await startBalancer(first, log);
  let current = first;
  return {
    balancer,
    async reload() {
      try {
        const next = await settingsOf(config);
        const same = (a: LbSettings, b: LbSettings): boolean =>
          JSON.stringify(a.servers.map((s) => [s.name, s.address])) ===
            JSON.stringify(b.servers.map((s) => [s.name, s.address])) &&
          a.runDirectory === b.runDirectory;
        if (!same(current, next)) {
          log.error('reload refused: the servers (names, addresses) changed; restart the balancer');
          return;
        }
        await balancer.reload(next);
        current = next;
      } catch (error) {
        log.error({ err: error }, 'reload failed; the last good settings stay');
      }
    },
  };
}

/** `steerdns lb status --config FILE`: the status file the running balancer keeps. */
export async function lbStatusCommand(args: readonly string[]): Promise<CommandOutcome> {
  const { config, json } = configFlag(args);
  const settings = await settingsOf(config);
  let status: LbStatus;
  try {
    status = JSON.parse(
      await readFile(join(settings.runDirectory, 'status.json'), 'utf8'),
    ) as LbStatus;
  } catch (error) {
    return {
      out: [],
      errors: [
        `steerdns lb status: no status in ${settings.runDirectory}: ${(error as Error).message}`,
      ],
      exitCode: 1,
    };
  }
  if (json) return { out: [JSON.stringify(status, null, 2)], errors: [], exitCode: 0 };
  return { out: formatLbStatus(status), errors: [], exitCode: status.role === 'inop' ? 3 : 0 };
}

/** The status as a table. */
export function formatLbStatus(status: LbStatus): string[] {
  const lines = [
    `balancer ${status.node}: ${status.role} (keepalived ${status.vrrp ?? 'not reported yet'}), floating ${status.floating}, cluster ${status.clusterAddress}`,
    ...status.faults.map((f) => `  fault: ${f}`),
    'server          address          weight  state     open  share  response',
  ];
  for (const s of status.servers) {
    const state = s.drain ? 'draining' : s.health;
    lines.push(
      `${s.name.padEnd(15)} ${s.address.padEnd(16)} ${String(s.weight).padStart(6)}  ${state.padEnd(8)} ${String(s.open).padStart(5)}  ${(s.share * 100).toFixed(1).padStart(5)}%  ${s.responseMs === undefined ? '-' : `${s.responseMs} ms`}${s.reason ? ` (${s.reason})` : ''}`,
    );
  }
  lines.push(`updated ${status.updatedAt}`);
  return lines;
}

/**
 * Whether `steerdns status ARGS` is about a balancer: `--config FILE` names a balancer's own
 * file (an `lb:` section and no zones). Then `steerdns status` shows the balancer.
 */
export async function isBalancerStatus(args: readonly string[]): Promise<boolean> {
  const { values } = parseArgs({
    args: [...args],
    options: { config: { type: 'string' } },
    strict: false,
  });
  return typeof values.config === 'string' && isBalancerFile(values.config);
}

/** A balancer's own file: an `lb:` section and no `zones:` (a DNS node's file has zones). */
export async function isBalancerFile(file: string): Promise<boolean> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return /^lb:/m.test(text) && !/^zones:/m.test(text);
}
