/** The command line of `steerdns agent --measure` (seed 002 MService). */
import { parseArgs } from 'node:util';
import { AgentUsageError } from '../agent/cli.js';
import { readKeyFile } from '../agent/key-file.js';
import { parseDuration } from '../lib/duration.js';
import { canonicalAddress, parseHostPort } from '../lib/ip.js';
import type { MeasuredSite, MeasuringAgentOptions } from './mservice.js';

/** Usage text of `steerdns agent --measure`. */
export const MEASURE_USAGE = `usage:
  steerdns agent --measure --to ADDR:PORT[,ADDR:PORT...] --key-file FILE --node NAME
                 --address IP --site IP[=ADDR:PORT] [--site ...] [--interval DURATION]
                 [--timeout DURATION] [--path PATH]

  A measurement agent (seed 002 MService): every --interval (default 5m) downloads PATH
  (default /) from every --site (at ADDR:PORT when given, else IP:80) and sends the round
  to each --to server's referral.measurements listener, signed with the shared key.
  --address is this agent's own address: servers use the agent whose address shares the
  longest prefix with a client. --node is a DNS label (a-z 0-9 -).`;

const fail = (message: string): never => {
  throw new AgentUsageError(message);
};

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

function hostPort(flag: string, text: string): { host: string; port: number } {
  const parsed = parseHostPort(text);
  if (parsed?.port === undefined || parsed.port === 0)
    return fail(`${flag} expects ADDR:PORT, got "${text}"`);
  return { host: parsed.host, port: parsed.port };
}

function site(text: string): MeasuredSite {
  const [answered, probe] = text.split('=', 2) as [string, string | undefined];
  const address = canonicalAddress(answered);
  if (address === undefined) return fail(`--site expects IP[=ADDR:PORT], got "${text}"`);
  return {
    address,
    probe: probe === undefined ? { host: address, port: 80 } : hostPort('--site', probe),
  };
}

function duration(flag: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const ms = parseDuration(text);
  if (ms === undefined || ms < 100)
    return fail(`${flag} expects a duration of at least 100ms, got "${text}"`);
  return ms;
}

/** Parses the arguments after `steerdns agent --measure`; throws AgentUsageError. */
export function parseMeasureArgs(
  args: readonly string[],
  readKey: (path: string) => Buffer = readKeyFile,
): Omit<MeasuringAgentOptions, 'log'> {
  let values;
  try {
    ({ values } = parseArgs({
      args: args.filter((a) => a !== '--measure'),
      options: {
        to: { type: 'string', multiple: true },
        'key-file': { type: 'string' },
        node: { type: 'string' },
        address: { type: 'string' },
        site: { type: 'string', multiple: true },
        interval: { type: 'string' },
        timeout: { type: 'string' },
        path: { type: 'string' },
      },
      strict: true,
    }));
  } catch (error) {
    throw new AgentUsageError((error as Error).message, { cause: error });
  }
  const to = (values.to ?? []).flatMap((v) => v.split(',')).map((t) => hostPort('--to', t.trim()));
  if (to.length === 0) fail('--to is required: the servers that take measurements');
  const name = values.node ?? fail("--node is required: this agent's name");
  if (!LABEL.test(name)) fail(`--node expects a DNS label (a-z 0-9 -), got "${name}"`);
  const address = canonicalAddress(
    values.address ?? fail("--address is required: this agent's own address"),
  );
  if (address === undefined) fail(`--address expects an IP address, got "${values.address}"`);
  const sites = (values.site ?? []).map(site);
  if (sites.length === 0) fail('--site is required: the sites to measure');
  const intervalMs = duration('--interval', values.interval, 300_000);
  const timeoutMs = duration('--timeout', values.timeout, Math.min(10_000, intervalMs / 2));
  if (timeoutMs >= intervalMs) fail('--timeout must be shorter than --interval');
  const path = values.path ?? '/';
  if (!path.startsWith('/')) fail(`--path must start with /, got "${path}"`);
  let key: Buffer;
  try {
    key = readKey(values['key-file'] ?? fail('--key-file is required: the shared key'));
  } catch (error) {
    if (error instanceof AgentUsageError) throw error;
    throw new AgentUsageError((error as Error).message, { cause: error });
  }
  return { name, address: address!, sites, to, key, intervalMs, timeoutMs, path };
}
