/** The command line of `steerdns agent`. */
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { parseDuration } from '../lib/duration.js';
import { SteerdnsError } from '../lib/errors.js';
import { formatAddress, parseAddress, parseHostPort } from '../lib/ip.js';
import type { AgentOptions, Destination } from './agent.js';
import {
  isAnnouncedAddress,
  isNodeId,
  isServiceName,
  MAX_ADDRESSES,
  MAX_INTERVAL_MS,
  MIN_INTERVAL_MS,
} from './fields.js';
import { readKeyFile } from './key-file.js';
import { isLoadUrl } from './metrics.js';
import { familyOf, isMulticastGroup, multicastProblem, splitZone } from './multicast.js';

/** Usage text of `steerdns agent`. */
export const AGENT_USAGE = `usage:
  steerdns agent --to ADDR:PORT[,ADDR:PORT...] --key-file FILE --service NAME --address IP
                 [--address IP ...] [--node ID] [--interval DURATION] [--capacity N] [--drain]
                 [--load-command CMD | --load-url URL] [--port N ... | --connections-command CMD]
                 [--multicast-interface IP] [--multicast-ttl N]

  Announces this node's status to each --to server once per interval (default 1s, 100ms-60s).
  ADDR:PORT is 192.0.2.1:5300 or [2001:db8::1]:5300, or a multicast group the servers
  joined: 239.255.53.1:5300 or [ff02::5380%eth0]:5300 (IPv6: the interface as zone).
  --multicast-interface is the IPv4 address of the interface to send to IPv4 groups from;
  --multicast-ttl the hops allowed (default 1). --node defaults to the host name: two agents
  of one host for one service need a --node each (the second is refused while the first runs).
  Load is CPU busy % unless --load-command prints it or --load-url (http/https) returns it;
  connections are ESTABLISHED TCP sockets on each --port, or what --connections-command prints.
  SIGTERM and SIGINT send a leave: the servers drop the node at once.

  steerdns agent --measure ... : a measurement agent instead (seed 002; --measure --help).`;

/** A mistake on the agent's command line; the caller prints it with {@link AGENT_USAGE}. */
export class AgentUsageError extends SteerdnsError {
  constructor(message: string, options?: ErrorOptions) {
    super('STEERDNS_ERR_USAGE', message, options);
  }
}

/** What the command line cannot know by itself; replaced in tests. */
export interface AgentArgsDeps {
  /** @default os.hostname */
  readonly hostname?: () => string;
  /** @default readKeyFile */
  readonly readKey?: (path: string) => Buffer;
}

/** Options the command line fills in: everything but the clock, randomness and log. */
export interface AgentCliOptions extends AgentOptions {
  readonly intervalMs: number;
  readonly drain: boolean;
}

const fail = (message: string): never => {
  throw new AgentUsageError(message);
};

function parseDestinations(values: readonly string[]): Destination[] {
  const texts = values.flatMap((v) => v.split(',')).map((t) => t.trim());
  if (texts.length === 0) fail('--to is required: the DNS servers to announce to');
  const seen = new Set<string>();
  return texts.map((text) => {
    const { text: plain, zone } = splitZone(text);
    const address = parseHostPort(plain);
    if (address?.port === undefined || address.port === 0) {
      return fail(`--to expects ADDR:PORT or [IPv6]:PORT, got "${text}"`);
    }
    const host =
      formatAddress(parseAddress(address.host)!) + (zone === undefined ? '' : `%${zone}`);
    const problem = multicastProblem(host);
    if (problem !== undefined) fail(`--to ${text}: ${problem}`);
    const key = `${host}|${address.port}`;
    if (seen.has(key)) fail(`--to lists ${text} twice`);
    seen.add(key);
    return { host, port: address.port };
  });
}

function parseAddresses(values: readonly string[]): string[] {
  if (values.length === 0) fail('--address is required: the address to answer with');
  if (values.length > MAX_ADDRESSES) fail(`--address: at most ${MAX_ADDRESSES}`);
  const out = values.map((text) => {
    if (!isAnnouncedAddress(text)) fail(`--address expects an IP address, got "${text}"`);
    return formatAddress(parseAddress(text)!);
  });
  if (new Set(out).size !== out.length) fail('--address lists an address twice');
  return out;
}

function parseService(text: string | undefined): string {
  if (text === undefined) return fail('--service is required: the DNS name this node serves');
  const name = text.toLowerCase().replace(/\.$/, '');
  if (!isServiceName(name)) fail(`--service expects a DNS name, got "${text}"`);
  return name;
}

function parseNode(text: string | undefined, host: () => string): string {
  if (text !== undefined) {
    if (!isNodeId(text)) fail(`--node expects 1-253 of A-Z a-z 0-9 . _ -, got "${text}"`);
    return text;
  }
  const name = host();
  if (!isNodeId(name)) fail(`the host name "${name}" cannot be a node id; give --node`);
  return name;
}

function parseInterval(text: string | undefined): number {
  if (text === undefined) return 1000;
  const ms = parseDuration(text);
  if (ms === undefined || ms < MIN_INTERVAL_MS || ms > MAX_INTERVAL_MS) {
    return fail(`--interval expects a duration from 100ms to 60s, got "${text}"`);
  }
  return ms;
}

function parseInteger(flag: string, text: string, min: number, max: number): number {
  const value = /^\d{1,10}$/.test(text) ? Number(text) : NaN;
  if (!(value >= min && value <= max))
    fail(`${flag} expects an integer ${min}-${max}, got "${text}"`);
  return value;
}

function parseCommand(flag: string, text: string | undefined): string | undefined {
  if (text?.trim() === '') fail(`${flag} is empty`);
  return text;
}

function parseLoadUrl(text: string | undefined): string | undefined {
  if (text !== undefined && !isLoadUrl(text)) {
    fail(`--load-url expects an http:// or https:// URL, got "${text}"`);
  }
  return text;
}

/** --multicast-interface and --multicast-ttl, which only mean something with a group. */
function parseMulticast(
  to: readonly Destination[],
  iface: string | undefined,
  ttl: string | undefined,
): { multicastInterface?: string; multicastTtl?: number } {
  const groups = to.filter((d) => isMulticastGroup(d.host));
  if (iface !== undefined) {
    if (familyOf(iface) !== 4 || iface.includes('%')) {
      fail(
        `--multicast-interface expects the IPv4 address of a local interface, got "${iface}"` +
          ' (for an IPv6 group, give the interface as its zone: [ff02::5380%eth0]:5300)',
      );
    }
    if (!groups.some((d) => familyOf(d.host) === 4)) {
      fail('--multicast-interface needs an IPv4 multicast group in --to');
    }
  }
  if (ttl !== undefined && groups.length === 0) {
    fail('--multicast-ttl needs a multicast group in --to');
  }
  return {
    ...(iface === undefined ? {} : { multicastInterface: formatAddress(parseAddress(iface)!) }),
    ...(ttl === undefined ? {} : { multicastTtl: parseInteger('--multicast-ttl', ttl, 0, 255) }),
  };
}

const OPTIONS = {
  to: { type: 'string', multiple: true },
  'key-file': { type: 'string' },
  service: { type: 'string' },
  address: { type: 'string', multiple: true },
  node: { type: 'string' },
  interval: { type: 'string' },
  'load-command': { type: 'string' },
  'load-url': { type: 'string' },
  'multicast-interface': { type: 'string' },
  'multicast-ttl': { type: 'string' },
  'connections-command': { type: 'string' },
  port: { type: 'string', multiple: true },
  capacity: { type: 'string' },
  drain: { type: 'boolean' },
} as const;

/**
 * Parses the arguments after `steerdns agent` and reads the key file. Throws
 * {@link AgentUsageError} with a message naming the flag when anything is wrong.
 */
export function parseAgentArgs(args: readonly string[], deps: AgentArgsDeps = {}): AgentCliOptions {
  let values;
  try {
    ({ values } = parseArgs({ args: [...args], options: OPTIONS, strict: true }));
  } catch (error) {
    throw new AgentUsageError((error as Error).message, { cause: error });
  }
  const to = parseDestinations(values.to ?? []);
  const keyFile = values['key-file'] ?? fail('--key-file is required: the shared key');
  const service = parseService(values.service);
  const addresses = parseAddresses(values.address ?? []);
  const node = parseNode(values.node, deps.hostname ?? hostname);
  const intervalMs = parseInterval(values.interval);
  const ports = [...new Set((values.port ?? []).map((p) => parseInteger('--port', p, 1, 65535)))];
  const connectionsCommand = parseCommand('--connections-command', values['connections-command']);
  if (ports.length > 0 && connectionsCommand !== undefined) {
    fail('give either --port or --connections-command, not both');
  }
  const loadCommand = parseCommand('--load-command', values['load-command']);
  const loadUrl = parseLoadUrl(values['load-url']);
  if (loadCommand !== undefined && loadUrl !== undefined) {
    fail('give either --load-command or --load-url, not both');
  }
  const multicast = parseMulticast(to, values['multicast-interface'], values['multicast-ttl']);
  const capacity =
    values.capacity === undefined
      ? undefined
      : parseInteger('--capacity', values.capacity, 1, 1_000_000_000);
  let key: Buffer;
  try {
    key = (deps.readKey ?? readKeyFile)(keyFile);
  } catch (error) {
    throw new AgentUsageError((error as Error).message, { cause: error });
  }
  return {
    to,
    key,
    service,
    node,
    addresses,
    intervalMs,
    drain: values.drain ?? false,
    ...(loadCommand === undefined ? {} : { loadCommand }),
    ...(loadUrl === undefined ? {} : { loadUrl }),
    ...(connectionsCommand === undefined ? {} : { connectionsCommand }),
    ...(ports.length === 0 ? {} : { ports }),
    ...(capacity === undefined ? {} : { capacity }),
    ...multicast,
  };
}
