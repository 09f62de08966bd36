import { createSocket, type Socket } from 'node:dgram';
import { hostPort } from '../lib/ip.js';
import { isIP } from 'node:net';
import { addressAndZone, interfaceFor, isMulticastGroup, zoneProblem } from '../agent/multicast.js';
import {
  AgentRegistry,
  type AgentRegistryOptions,
  NO_AGENTS,
  type AgentSnapshot,
  type AnnouncedNode,
  type RejectReason,
} from '../agent/registry.js';
import type { AgentsConfig } from '../config/load.js';
import type { Logger } from '../observability/log.js';
import type { SteeredName } from '../answer/steer.js';
import type { MemberState, StateView } from '../steering/types.js';

/** How often silent nodes are looked for: the bound on how late a removal can be. */
const SWEEP_MS = 100;
/** Load and connection updates are gathered this long; joins, leaves and drains go at once. */
const UPDATE_BATCH_MS = 250;
/** Rejected datagrams are logged at most this often, with counts. */
const REJECT_LOG_MS = 60_000;

/** Receives node status announcements and keeps the registry of announcing nodes. */
export interface AgentListener {
  snapshot(): AgentSnapshot;
  /** Datagrams accepted, and rejected by reason. */
  counts(): ReadonlyMap<string, number>;
  /** Applies a reloaded `agents` section: new key and limits; sockets rebound if moved. */
  update(config: AgentsConfig): Promise<void>;
  close(): Promise<void>;
}

const sameListen = (a: AgentsConfig, b: AgentsConfig): boolean =>
  a.listen.map((l) => `${l.host}:${l.port}`).join() ===
    b.listen.map((l) => `${l.host}:${l.port}`).join() &&
  a.multicastInterface === b.multicastInterface;

/** An interface that is not there (ENODEV, EADDRNOTAVAIL), reported like an address that is not. */
const notAvailable = (message: string, cause?: unknown): Error =>
  Object.assign(new Error(message, { cause }), { code: 'EADDRNOTAVAIL' });

/**
 * One socket per listen address. A multicast group is bound with its port shared
 * (reuseAddr: other servers on the host may join it too) to the group address itself, so
 * that it gets that group's datagrams only, and joined on the configured interface (IPv4)
 * or its zone (IPv6); without one, the kernel picks the interface from its routes.
 */
async function bind(config: AgentsConfig, onMessage: (bytes: Buffer) => void): Promise<Socket[]> {
  const sockets: Socket[] = [];
  try {
    for (const { host, port } of config.listen) {
      const group = isMulticastGroup(host);
      const zone = zoneProblem(host);
      if (zone !== undefined) throw notAvailable(`agents.listen ${hostPort(host, port)}: ${zone}`);
      const socket = createSocket({
        type: isIP(addressAndZone(host).address) === 6 ? 'udp6' : 'udp4',
        reuseAddr: group,
      });
      socket.on('message', onMessage);
      sockets.push(socket);
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(port, host, () => {
          socket.off('error', reject);
          resolve();
        });
      });
      if (group) {
        const iface = interfaceFor(host, config.multicastInterface);
        const { address } = addressAndZone(host);
        try {
          socket.addMembership(address, iface);
        } catch (error) {
          throw notAvailable(
            `agents.listen ${hostPort(host, port)}: cannot join the group${iface === undefined ? '' : ` on ${iface}`}: ${(error as Error).message}`,
            error,
          );
        }
      }
    }
  } catch (error) {
    for (const socket of sockets) socket.close();
    throw error;
  }
  return sockets;
}

/**
 * Starts receiving announcements on the configured UDP addresses. `onChange` gets each new
 * snapshot: at once when a node joins, leaves, changes address or drains, otherwise (load
 * and connection figures) at most every 250 ms.
 */
export async function startAgentListener(
  initial: AgentsConfig,
  log: Logger,
  onChange: (snapshot: AgentSnapshot) => void,
  now: () => number = Date.now,
): Promise<AgentListener> {
  let config = initial;
  const registry = newRegistry(config, now);
  let batchTimer: NodeJS.Timeout | undefined;
  const publish = (): void => {
    clearTimeout(batchTimer);
    batchTimer = undefined;
    onChange(registry.snapshot());
  };
  const rejects = rejectLogger(log);
  const onMessage = (bytes: Buffer): void => {
    const outcome = registry.receive(bytes);
    if (!outcome.accepted) {
      rejects(outcome.reason, outcome.detail);
      return;
    }
    if (outcome.change === 'none') {
      batchTimer ??= setTimeout(publish, UPDATE_BATCH_MS);
      return;
    }
    logChange(log, outcome.node, outcome.change);
    publish();
  };
  let sockets = await bind(config, onMessage);
  const sweeper = setInterval(() => {
    const removed = registry.sweep();
    if (removed.length === 0) return;
    for (const node of removed)
      log.warn(
        { agent: node.node, service: node.service, silentMs: now() - node.heardAt },
        `agent ${node.node} (${node.service}): silent for ${config.missedIntervals} intervals, removed`,
      );
    publish();
  }, SWEEP_MS);
  sweeper.unref();
  log.info(
    { listen: config.listen.map((l) => hostPort(l.host, l.port)) },
    'receiving agent announcements',
  );
  return {
    snapshot: () => registry.snapshot(),
    counts: () => registry.counts,
    async update(next) {
      if (!sameListen(config, next)) {
        const fresh = await bind(next, onMessage);
        for (const socket of sockets) socket.close();
        sockets = fresh;
      }
      // The nodes heard stay (a key rotation must not empty the pools); one that cannot
      // announce under the new keys goes silent and is removed as any other.
      registry.reconfigure(registryOptions(next));
      config = next;
    },
    async close() {
      clearInterval(sweeper);
      clearTimeout(batchTimer);
      await Promise.all(
        sockets.map(
          (socket) =>
            new Promise<void>((resolve) => {
              socket.close(() => {
                resolve();
              });
            }),
        ),
      );
    },
  };
}

function registryOptions(config: AgentsConfig): Omit<AgentRegistryOptions, 'now'> {
  return {
    key: config.key,
    previousKey: config.previousKey,
    missedIntervals: config.missedIntervals,
    maxSkewMs: config.maxSkewMs,
  };
}

function newRegistry(config: AgentsConfig, now: () => number): AgentRegistry {
  return new AgentRegistry({ ...registryOptions(config), now });
}

function logChange(log: Logger, node: AnnouncedNode, change: string): void {
  const what =
    change === 'joined'
      ? `joined with ${node.addresses.join(', ')}`
      : change === 'changed'
        ? `now announces ${node.addresses.join(', ')} (capacity ${String(node.capacity)})`
        : change === 'drain'
          ? 'is draining: no new answers'
          : 'is enabled again';
  log.info(
    { agent: node.node, service: node.service, change, addresses: node.addresses },
    `agent ${node.node} (${node.service}) ${what}`,
  );
}

/** Logs the first rejected datagram of each reason, then a count at most once a minute. */
function rejectLogger(log: Logger): (reason: RejectReason, detail?: string) => void {
  const unlogged = new Map<RejectReason, number>();
  let lastLog = -Infinity;
  return (reason, detail) => {
    unlogged.set(reason, (unlogged.get(reason) ?? 0) + 1);
    const time = Date.now();
    if (time - lastLog < REJECT_LOG_MS) return;
    lastLog = time;
    const counts = Object.fromEntries(unlogged);
    unlogged.clear();
    log.warn(
      { rejected: counts, detail },
      `agent announcements dropped: ${Object.entries(counts)
        .map(([r, n]) => `${r} ${n}`)
        .join(', ')}`,
    );
  };
}

/**
 * The state view with what agents announce on top: an announcing node is up, with its load,
 * connections and (when draining) admin state. Nodes are matched to members by service name
 * and member name = node id, so a configured member can also have an agent.
 */
export function agentStateView(
  services: Iterable<SteeredName>,
  snapshot: AgentSnapshot,
  base: StateView,
): StateView {
  if (snapshot.nodes.length === 0) return base;
  const byNode = new Map(snapshot.nodes.map((n) => [`${n.service} ${n.node}`, n]));
  const states = new Map<string, MemberState>();
  for (const { service } of services) {
    const name = service.name.toLowerCase();
    for (const pool of service.pools)
      for (const member of pool.members) {
        const node = byNode.get(`${name} ${member.name}`);
        if (!node) continue;
        const underlying = base.member(member.key);
        states.set(member.key, {
          ...underlying,
          up: underlying.up ?? true,
          load: node.load ?? underlying.load,
          connections: node.connections ?? underlying.connections,
          admin: node.admin === 'draining' ? 'draining' : underlying.admin,
        });
      }
  }
  return { member: (key) => states.get(key) ?? base.member(key) };
}

export { NO_AGENTS, type AgentSnapshot, type AnnouncedNode };
