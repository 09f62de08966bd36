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
  type Collision,
  type NodeChange,
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

/**
 * What an announced node is to the services: `dynamic`, it joins the service's dynamic
 * pool; `member`, it is a configured member of the service (its agent reports its state);
 * `unknown`, no service takes it (no such service, or one without `dynamic` and no member
 * of that name): it is kept, in case a reload adds it, but logged as ignored, not joined.
 */
export type NodeClass = 'dynamic' | 'member' | 'unknown';

/**
 * Says what a node is. `service` is lower case with a trailing dot (`app.example.org.`),
 * as in {@link AnnouncedNode}. Called once per joining node and per node at a reload.
 */
export type NodeClassifier = (service: string, node: string) => NodeClass;

/** The parts of a service {@link classifierFor} reads (a compiled or configured service). */
export interface ClassifiedService {
  readonly name: string;
  readonly type?: string;
  readonly dynamic?: unknown;
  readonly pools?: readonly { readonly members: readonly { readonly name: string }[] }[];
}

/**
 * The classifier of a configuration's services: a configured member's name is `member`,
 * any other node of a service with `dynamic` (and not CNAME) is `dynamic`, the rest
 * `unknown`. Service names are compared in lower case, trailing dot or not.
 */
export function classifierFor(services: Iterable<ClassifiedService>): NodeClassifier {
  const canonical = (name: string): string => `${name.toLowerCase().replace(/\.$/, '')}.`;
  const byName = new Map<string, { dynamic: boolean; members: Set<string> }>();
  for (const service of services)
    byName.set(canonical(service.name), {
      dynamic: service.dynamic !== undefined && service.type !== 'CNAME',
      members: new Set((service.pools ?? []).flatMap((p) => p.members.map((m) => m.name))),
    });
  return (service, node) => {
    const known = byName.get(canonical(service));
    if (known?.members.has(node)) return 'member';
    return known?.dynamic === true ? 'dynamic' : 'unknown';
  };
}

/** Options of {@link startAgentListener}. */
export interface AgentListenerOptions {
  /** @default Date.now */
  readonly now?: () => number;
  /** What each node is to the services. @default every node is `dynamic` */
  readonly classify?: NodeClassifier;
}

/** Receives node status announcements and keeps the registry of announcing nodes. */
export interface AgentListener {
  snapshot(): AgentSnapshot;
  /** Datagrams accepted, and rejected by reason. */
  counts(): ReadonlyMap<string, number>;
  /** Where the sockets are bound, `host:port` (`[v6]:port`): with port 0, the port chosen. */
  bound(): readonly string[];
  /** Applies a reloaded `agents` section: new key and limits; sockets rebound if moved. */
  update(config: AgentsConfig): Promise<void>;
  /**
   * Takes the services of a new configuration (call it on every reload). Nodes already
   * heard whose class changes are logged: joined when a service now takes them, ignored
   * when none does any more.
   */
  setClassify(classify: NodeClassifier): void;
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
async function bind(
  config: AgentsConfig,
  onMessage: (bytes: Buffer, from: { address: string; port: number }) => void,
): Promise<Socket[]> {
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
 * snapshot: at once when a node joins, leaves (its agent's leave, or silence), changes
 * address or drains, otherwise (load and connection figures) at most every 250 ms.
 */
export async function startAgentListener(
  initial: AgentsConfig,
  log: Logger,
  onChange: (snapshot: AgentSnapshot) => void,
  options: AgentListenerOptions = {},
): Promise<AgentListener> {
  const now = options.now ?? Date.now;
  let classify: NodeClassifier = options.classify ?? (() => 'dynamic');
  let config = initial;
  const registry = newRegistry(config, now);
  let batchTimer: NodeJS.Timeout | undefined;
  const publish = (): void => {
    clearTimeout(batchTimer);
    batchTimer = undefined;
    onChange(registry.snapshot());
  };
  const rejects = rejectLogger(log, now);
  const onMessage = (bytes: Buffer, from: { address: string; port: number }): void => {
    const source = hostPort(from.address, from.port);
    const outcome = registry.receive(bytes, source);
    if (!outcome.accepted) {
      if (outcome.collision) {
        if (outcome.collision.first) logCollision(log, outcome.collision);
      } else rejects(outcome.reason, source, outcome.detail);
      return;
    }
    const { node, change } = outcome;
    if (change === 'none') {
      batchTimer ??= setTimeout(publish, UPDATE_BATCH_MS);
      return;
    }
    logChange(log, node, change, classify(node.service, node.node));
    publish();
  };
  let sockets = await bind(config, onMessage);
  const sweeper = setInterval(() => {
    const removed = registry.sweep();
    if (removed.length === 0) return;
    for (const node of removed) {
      const silentMs = now() - node.heardAt;
      const fields = { agent: node.node, service: node.service, silentMs };
      const message = `agent ${node.node} (${node.service}): silent for ${config.missedIntervals} intervals, removed`;
      // A node no service took was never announced as joined: its removal is no news.
      if (classify(node.service, node.node) === 'unknown') log.debug(fields, message);
      else log.warn(fields, message);
    }
    publish();
  }, SWEEP_MS);
  sweeper.unref();
  const bound = (): string[] =>
    sockets.map((socket) => {
      const { address, port } = socket.address();
      return hostPort(address, port);
    });
  const logListening = (): void => {
    log.info(
      { listen: config.listen.map((l) => hostPort(l.host, l.port)), bound: bound() },
      `receiving agent announcements on ${bound().join(', ')}`,
    );
  };
  logListening();
  return {
    snapshot: () => registry.snapshot(),
    counts: () => registry.counts,
    bound,
    async update(next) {
      const moved = !sameListen(config, next);
      if (moved) {
        const fresh = await bind(next, onMessage);
        for (const socket of sockets) socket.close();
        sockets = fresh;
      }
      // The nodes heard stay (a key rotation must not empty the pools); one that cannot
      // announce under the new keys goes silent and is removed as any other.
      registry.reconfigure(registryOptions(next));
      config = next;
      if (moved) logListening();
    },
    setClassify(next) {
      const before = classify;
      classify = next;
      for (const node of registry.snapshot().nodes) {
        const was = before(node.service, node.node);
        const is = next(node.service, node.node);
        if ((was === 'unknown') !== (is === 'unknown')) logChange(log, node, 'joined', is);
      }
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
    key: Buffer.from(config.key, 'base64'),
    previousKey:
      config.previousKey === undefined ? undefined : Buffer.from(config.previousKey, 'base64'),
    missedIntervals: config.missedIntervals,
    maxSkewMs: config.maxSkewMs,
  };
}

function newRegistry(config: AgentsConfig, now: () => number): AgentRegistry {
  return new AgentRegistry({ ...registryOptions(config), now });
}

function logChange(log: Logger, node: AnnouncedNode, change: NodeChange, as: NodeClass): void {
  const fields = { agent: node.node, service: node.service, change, addresses: node.addresses };
  const name = `agent ${node.node} (${node.service})`;
  if (change === 'left') {
    log.info(fields, `${name} left: its agent stopped`);
    return;
  }
  if (as === 'unknown') {
    // Logged once, when it is first heard (or when a reload drops its service): a node
    // that no service takes is not "joined", whatever else it announces later.
    if (change === 'joined')
      log.warn(
        { ...fields, change: 'ignored' },
        `${name} ignored: no service ${node.service} with dynamic members or a member ${node.node}`,
      );
    return;
  }
  const what =
    change === 'joined'
      ? `joined with ${node.addresses.join(', ')}${as === 'member' ? ' (a configured member)' : ''}`
      : change === 'changed'
        ? `now announces ${node.addresses.join(', ')} (capacity ${String(node.capacity)})`
        : change === 'drain'
          ? 'is draining: no new answers'
          : 'is enabled again';
  log.info(fields, `${name} ${what}`);
}

/** Two agent runs claim one node id: said once per refused run, at warn. */
function logCollision(log: Logger, c: Collision): void {
  log.warn(
    {
      agent: c.node,
      service: c.service,
      holder: { source: c.holder.source, addresses: c.holder.addresses },
      refused: { source: c.newcomer.source, addresses: c.newcomer.addresses },
    },
    `agent ${c.node} (${c.service}): announced from ${c.newcomer.source} with ${c.newcomer.addresses.join(', ')}, ` +
      `but held by ${c.holder.source} with ${c.holder.addresses.join(', ')}: refused until that one leaves ` +
      `or goes silent (two agents with one node id: give each its own --node)`,
  );
}

/**
 * Logs the first rejected datagram, then the counts by reason at most once a minute, each
 * reason with the source of its latest datagram (a `bad-mac` names who sends with a wrong key).
 */
function rejectLogger(
  log: Logger,
  now: () => number,
): (reason: RejectReason, source: string, detail?: string) => void {
  const unlogged = new Map<RejectReason, number>();
  const lastSource = new Map<RejectReason, string>();
  let lastLog = -Infinity;
  return (reason, source, detail) => {
    unlogged.set(reason, (unlogged.get(reason) ?? 0) + 1);
    lastSource.set(reason, source);
    const time = now();
    if (time - lastLog < REJECT_LOG_MS) return;
    lastLog = time;
    const counts = Object.fromEntries(unlogged);
    const sources = Object.fromEntries([...unlogged.keys()].map((r) => [r, lastSource.get(r)]));
    unlogged.clear();
    lastSource.clear();
    log.warn(
      { rejected: counts, sources, detail },
      `agent announcements dropped: ${Object.entries(counts)
        .map(([r, n]) => `${r} ${n} (last from ${String(sources[r])})`)
        .join(', ')}`,
    );
  };
}

/**
 * Longest answer TTL (s) while a member with `announce: required` is down for want of an
 * announcement: its agent may come back with its next one, about a second later.
 */
export const UNANNOUNCED_TTL_HINT = 1;

/**
 * The state view with what agents announce on top: an announcing node is up (unless its
 * health check says down), with its load, connections and (when draining) admin state.
 * Nodes are matched to members by service name and member name = node id, so a configured
 * member can also have an agent. A member with `announce: required` and no live node (never
 * heard, left, or removed as silent) is down, with a TTL hint of
 * {@link UNANNOUNCED_TTL_HINT}.
 */
export function agentStateView(
  services: Iterable<SteeredName>,
  snapshot: AgentSnapshot,
  base: StateView,
): StateView {
  const byNode = new Map(snapshot.nodes.map((n) => [`${n.service} ${n.node}`, n]));
  const states = new Map<string, MemberState>();
  for (const { service } of services) {
    const name = service.name.toLowerCase();
    for (const pool of service.pools)
      for (const member of pool.members) {
        const node = byNode.get(`${name} ${member.name}`);
        if (!node && member.announce !== 'required') continue;
        const underlying = base.member(member.key);
        states.set(
          member.key,
          node
            ? {
                ...underlying,
                up: underlying.up ?? true,
                load: node.load ?? underlying.load,
                connections: node.connections ?? underlying.connections,
                admin: node.admin === 'draining' ? 'draining' : underlying.admin,
              }
            : {
                ...underlying,
                up: false,
                ttlHint: Math.min(underlying.ttlHint ?? Infinity, UNANNOUNCED_TTL_HINT),
              },
        );
      }
  }
  if (states.size === 0) return base;
  return { member: (key) => states.get(key) ?? base.member(key) };
}

export { NO_AGENTS, type AgentSnapshot, type AnnouncedNode };
