/**
 * The agent: runs on each node, measures it and sends a signed status announcement to
 * every DNS server about once per interval (seed 000). Sending stops when the node
 * fails, which is how the servers notice.
 */
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { isIP } from 'node:net';
import { AnnouncementError, encodeAnnouncement, type Announcement } from './announcement.js';
import { MIN_KEY_BYTES } from './key-file.js';
import { createConnectionMeter, createLoadMeter, isLoadUrl, type Meter } from './metrics.js';
import {
  familyOf,
  interfaceFor,
  isMulticastGroup,
  multicastProblem,
  zoneProblem,
} from './multicast.js';

/**
 * A DNS server to announce to: an IP literal and a UDP port; or a multicast group the
 * servers joined (IPv6 groups with their interface as a zone: `ff02::5380%eth0`).
 */
export interface Destination {
  readonly host: string;
  readonly port: number;
}

/** Where the agent reports what went wrong; `main.ts` passes the process logger. */
export type AgentLog = (
  level: 'debug' | 'info' | 'warn' | 'error',
  message: string,
  fields?: Readonly<Record<string, unknown>>,
) => void;

/** Options of {@link startAgent}. */
export interface AgentOptions {
  /** Servers to announce to; each gets one datagram per interval. */
  readonly to: readonly Destination[];
  /** Shared key, at least 16 bytes (see readKeyFile). */
  readonly key: Buffer;
  /** The DNS name this node serves, canonical: lower case, no trailing dot. */
  readonly service: string;
  /** This node's id, unique in the cluster. */
  readonly node: string;
  /** Addresses the servers should answer with for this node. */
  readonly addresses: readonly string[];
  /** @default 1000 (100-60000); each wait is jittered by ±10%. */
  readonly intervalMs?: number | undefined;
  /** Shell command printing the load % (first number); replaces the CPU figure. */
  readonly loadCommand?: string | undefined;
  /** http(s) URL whose body's first number is the load %; not with `loadCommand`. */
  readonly loadUrl?: string | undefined;
  /**
   * IPv4 address of the local interface that datagrams to IPv4 multicast groups leave
   * from. @default the kernel's choice (its route to the group)
   */
  readonly multicastInterface?: string | undefined;
  /** Hops datagrams to multicast groups may take (0-255). @default 1: the local network */
  readonly multicastTtl?: number | undefined;
  /** Shell command printing the active connection count (first number). */
  readonly connectionsCommand?: string | undefined;
  /** Local ports whose ESTABLISHED TCP connections are counted. */
  readonly ports?: readonly number[] | undefined;
  /** Connections this node is meant to carry, announced as is. */
  readonly capacity?: number | undefined;
  /** Start in maintenance: announce `draining`. @default false */
  readonly drain?: boolean | undefined;
  /** Clock for timestamps, ms since the epoch. @default Date.now */
  readonly now?: (() => number) | undefined;
  /** Uniform in [0, 1), for the jitter. @default Math.random */
  readonly random?: (() => number) | undefined;
  /** This run's epoch (16 hex digits). @default 8 random bytes */
  readonly epoch?: string | undefined;
  /** @default writes to the console */
  readonly log?: AgentLog | undefined;
  /** Replace the measurements (tests). */
  readonly meters?: { readonly load?: Meter; readonly connections?: Meter } | undefined;
}

/** A running agent. */
export interface Agent {
  /** The epoch of this run, as announced. */
  readonly epoch: string;
  /** Enters (true) or leaves (false) maintenance; a change is announced at once. */
  setDrain(on: boolean): void;
  /**
   * Stops announcing, kills running commands, sends a leave to every destination (the
   * servers drop the node at once rather than after its missed intervals), closes the
   * sockets. Idempotent.
   */
  stop(): Promise<void>;
}

/** Share of the interval by which each wait varies, either way. */
export const JITTER = 0.1;
/** Longest that stop waits for the leave datagrams to be handed to the kernel. */
const LEAVE_SEND_MS = 1000;

const consoleLog: AgentLog = (level, message, fields) => {
  console.error(`steerdns agent ${level}: ${message}`, fields ?? '');
};

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Logs a source's failure once, and its recovery, rather than once per interval. */
function changeReporter(log: AgentLog): (source: string, error: unknown) => void {
  const failing = new Map<string, string>();
  return (source, error) => {
    const message = error === undefined ? undefined : errorMessage(error);
    const before = failing.get(source);
    if (message === before) return;
    if (message === undefined) {
      failing.delete(source);
      log('info', `${source}: working again`, { source });
    } else {
      failing.set(source, message);
      log('warn', `${source}: ${message}`, { source, error: message });
    }
  };
}

function checkOptions(options: AgentOptions): void {
  if (options.key.length < MIN_KEY_BYTES) {
    throw new AnnouncementError(
      `agent: key is ${options.key.length} bytes, at least ${MIN_KEY_BYTES} needed`,
    );
  }
  if (options.to.length === 0) throw new AnnouncementError('agent: no destination to announce to');
  for (const { host, port } of options.to) {
    if (familyOf(host) === 0 || !Number.isInteger(port) || port < 1 || port > 65535) {
      throw new AnnouncementError(`agent: bad destination ${host}:${port}`);
    }
    const problem = multicastProblem(host);
    if (problem !== undefined) throw new AnnouncementError(`agent: ${problem}`);
  }
  if (options.loadCommand !== undefined && options.loadUrl !== undefined) {
    throw new AnnouncementError('agent: give loadCommand or loadUrl, not both');
  }
  if (options.loadUrl !== undefined && !isLoadUrl(options.loadUrl)) {
    throw new AnnouncementError(`agent: loadUrl is not an http(s) URL: ${options.loadUrl}`);
  }
  const { multicastInterface: iface, multicastTtl: ttl } = options;
  if (iface !== undefined && isIP(iface) !== 4) {
    throw new AnnouncementError(`agent: multicastInterface is not an IPv4 address: ${iface}`);
  }
  if (ttl !== undefined && !(Number.isInteger(ttl) && ttl >= 0 && ttl <= 255)) {
    throw new AnnouncementError(`agent: multicastTtl is not 0-255: ${ttl}`);
  }
}

/** Which socket sends to a destination: one per family, one per multicast interface. */
function socketKey(to: Destination, ipv4Interface: string | undefined): string {
  const family = familyOf(to.host);
  if (!isMulticastGroup(to.host)) return `unicast ${family}`;
  return `multicast ${family} ${interfaceFor(to.host, ipv4Interface) ?? ''}`;
}

/**
 * Starts announcing: the first announcement at once, then one per interval (±10%
 * jitter), each sent to every destination. Throws {@link AnnouncementError} at once
 * when an option is invalid (an announcement built from them would not encode); after that, nothing throws out:
 * failed measurements leave their field out, failed sends are retried next interval,
 * and each kind of failure is logged when it starts and when it ends.
 */
export function startAgent(options: AgentOptions): Agent {
  checkOptions(options);
  const intervalMs = options.intervalMs ?? 1000;
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const epoch = options.epoch ?? randomBytes(8).toString('hex');
  const log = options.log ?? consoleLog;
  const report = changeReporter(log);
  const abort = new AbortController();
  const loadMeter =
    options.meters?.load ??
    createLoadMeter({ command: options.loadCommand, url: options.loadUrl, timeoutMs: intervalMs });
  const connectionMeter =
    options.meters?.connections ??
    createConnectionMeter({
      command: options.connectionsCommand,
      ports: options.ports,
      timeoutMs: intervalMs,
    });
  let draining = options.drain ?? false;
  let sequence = 0;

  const build = (load?: number, connections?: number, leave = false): Announcement => ({
    node: options.node,
    service: options.service,
    addresses: options.addresses,
    ...(load === undefined ? {} : { load }),
    ...(connections === undefined ? {} : { connections }),
    ...(options.capacity === undefined ? {} : { capacity: options.capacity }),
    admin: draining ? 'draining' : 'enabled',
    intervalMs,
    timestamp: Math.round(now()),
    epoch,
    sequence,
    ...(leave ? { kind: 'leave' as const } : {}),
  });
  encodeAnnouncement(build(), options.key); // throws now for bad options, not every interval

  // A socket for unicast per family; one per multicast interface, bound at once so that
  // its interface and TTL are set before the first datagram (`ready` holds what failed).
  const sockets = new Map<string, { socket: dgram.Socket; ready: Promise<Error | undefined> }>();
  const ttl = options.multicastTtl ?? 1;
  for (const to of options.to) {
    const key = socketKey(to, options.multicastInterface);
    if (sockets.has(key)) continue;
    const socket = dgram.createSocket(familyOf(to.host) === 6 ? 'udp6' : 'udp4');
    socket.on('error', (error) => {
      log('error', `socket: ${error.message}`, { source: 'socket', error: error.message });
    });
    let ready = Promise.resolve<Error | undefined>(undefined);
    if (isMulticastGroup(to.host)) {
      const iface = interfaceFor(to.host, options.multicastInterface);
      ready = new Promise((resolve) => {
        const failed = (error: Error): void => {
          resolve(error);
        };
        socket.once('error', failed);
        socket.bind(0, () => {
          socket.off('error', failed);
          const zone = zoneProblem(to.host);
          if (zone !== undefined) {
            resolve(new Error(zone));
            return;
          }
          try {
            socket.setMulticastTTL(ttl);
            if (iface !== undefined) socket.setMulticastInterface(iface);
            resolve(undefined);
          } catch (error) {
            const message = errorMessage(error);
            resolve(new Error(iface === undefined ? message : `interface ${iface}: ${message}`));
          }
        });
      });
    }
    sockets.set(key, { socket, ready });
  }

  const measure = async (
    source: 'load' | 'connections',
    meter: Meter | undefined,
  ): Promise<number | undefined> => {
    if (meter === undefined) return undefined;
    try {
      const value = await meter(abort.signal);
      const max = source === 'load' ? 100 : 1_000_000_000;
      const valid = value >= 0 && value <= max && (source === 'load' || Number.isInteger(value));
      if (!valid) throw new Error(`out of range: ${value}`);
      report(source, undefined);
      return value;
    } catch (error) {
      if (!abort.signal.aborted) report(source, error);
      return undefined;
    }
  };

  /** Sends to one destination; true when the kernel took the datagram. */
  const send = async (packet: Buffer, to: Destination): Promise<boolean> => {
    const source = `send to ${to.host}:${to.port}`;
    const entry = sockets.get(socketKey(to, options.multicastInterface));
    const unusable = entry === undefined ? new Error('stopped') : await entry.ready;
    if (unusable !== undefined || entry === undefined) {
      report(source, unusable);
      return false;
    }
    const { socket } = entry;
    return new Promise((resolve) => {
      try {
        socket.send(packet, to.port, to.host, (error) => {
          report(source, error ?? undefined);
          resolve(!error);
        });
      } catch (error) {
        report(source, error); // the socket was closed under us
        resolve(false);
      }
    });
  };

  const announce = async (): Promise<void> => {
    try {
      const [load, connections] = await Promise.all([
        measure('load', loadMeter),
        measure('connections', connectionMeter),
      ]);
      if (abort.signal.aborted) return;
      sequence++;
      const packet = encodeAnnouncement(build(load, connections), options.key);
      await Promise.all(options.to.map((to) => send(packet, to)));
      report('announcement', undefined);
    } catch (error) {
      report('announcement', error); // not expected: every field was checked at start
    }
  };

  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> | undefined;
  let pending = false;
  const nextDelay = (): number => Math.round(intervalMs * (1 - JITTER + 2 * JITTER * random()));
  // The next wait is started before measuring, so that a slow command does not stretch
  // the interval; at most one announcement is in flight, a due one waits for it.
  const fire = (): void => {
    timer = undefined;
    if (abort.signal.aborted) return;
    if (inFlight !== undefined) {
      pending = true;
      return;
    }
    timer = setTimeout(fire, nextDelay());
    inFlight = announce().finally(() => {
      inFlight = undefined;
      if (!pending) return;
      pending = false;
      clearTimeout(timer);
      fire();
    });
  };
  fire();

  // The leave is the run's last announcement: the next sequence, so that it is not taken
  // for a replay, and, like every announcement, signed and checked by the replay guard.
  const leave = async (): Promise<void> => {
    sequence++;
    const packet = encodeAnnouncement(build(undefined, undefined, true), options.key);
    let timeout: NodeJS.Timeout | undefined;
    const sent = await Promise.race([
      Promise.all(options.to.map((to) => send(packet, to))),
      new Promise<boolean[]>((resolve) => {
        timeout = setTimeout(() => {
          resolve([]);
        }, LEAVE_SEND_MS);
      }),
    ]);
    clearTimeout(timeout);
    const count = sent.filter(Boolean).length;
    log('info', `left: sent a leave to ${count} of ${options.to.length} destination(s)`, {
      leave: true,
      sequence,
      sent: count,
    });
  };

  let stopping: Promise<void> | undefined;
  const stop = async (): Promise<void> => {
    abort.abort();
    clearTimeout(timer);
    timer = undefined;
    await inFlight;
    try {
      await leave();
    } catch (error) {
      report('leave', error); // not expected: the same fields encoded at start
    }
    const open = [...sockets.values()];
    sockets.clear();
    await Promise.all(
      open.map(async ({ socket, ready }) => {
        await ready; // a bind in progress finishes first
        await new Promise<void>((resolve) => {
          socket.close(resolve);
        });
      }),
    );
  };

  return {
    epoch,
    setDrain(on) {
      if (on === draining || abort.signal.aborted) return;
      draining = on;
      log('info', on ? 'draining' : 'enabled', { admin: on ? 'draining' : 'enabled' });
      clearTimeout(timer);
      fire();
    },
    stop() {
      stopping ??= stop();
      return stopping;
    },
  };
}
