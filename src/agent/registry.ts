import { decodeAnnouncement, type Announcement, type DecodeFailure } from './announcement.js';
import { ReplayGuard } from './replay-guard.js';

/** What a server knows of one announcing node of one service. Immutable. */
export interface AnnouncedNode {
  /** The service as a lower-case DNS name with a trailing dot (`app.example.org.`). */
  readonly service: string;
  readonly node: string;
  readonly addresses: readonly string[];
  readonly load: number | undefined;
  readonly connections: number | undefined;
  readonly capacity: number | undefined;
  readonly admin: 'enabled' | 'draining';
  readonly intervalMs: number;
  /** When the last accepted announcement arrived, by the server's clock (ms). */
  readonly heardAt: number;
  /** When the node is removed unless it announces again (ms). */
  readonly expiresAt: number;
}

/**
 * Every node heard, as one immutable value. `membership` changes only when a node joins or
 * leaves or changes its addresses or capacity: what the services are built from. Load,
 * connections and admin state change with every announcement and only feed the state view.
 */
export interface AgentSnapshot {
  readonly nodes: readonly AnnouncedNode[];
  readonly membership: string;
}

/** An empty snapshot: no agent heard. */
export const NO_AGENTS: AgentSnapshot = { nodes: [], membership: '' };

/**
 * Why a datagram was not taken: decoding failures, replay-guard verdicts, and `collision`:
 * another agent run announces the node id for the service with other addresses while the
 * run first heard is still announcing.
 */
export type RejectReason = DecodeFailure | 'stale' | 'future' | 'replay' | 'collision';

/** One agent run announcing a node id: where from, and what it announces. */
export interface NodeClaim {
  /** The datagram's source, `host:port` (`[v6]:port`). */
  readonly source: string;
  readonly epoch: string;
  readonly addresses: readonly string[];
}

/** Two agent runs announcing one node id of one service with different addresses. */
export interface Collision {
  readonly service: string;
  readonly node: string;
  /** The run heard first: it keeps the node until it leaves or goes silent. */
  readonly holder: NodeClaim;
  /** The run refused. */
  readonly newcomer: NodeClaim;
  /** True for the first datagram of this newcomer run refused while this holder holds. */
  readonly first: boolean;
}

/** What an accepted datagram changed. */
export type NodeChange = 'joined' | 'changed' | 'drain' | 'undrain' | 'left' | 'none';

/** What one datagram did. */
export type ReceiveOutcome =
  | {
      readonly accepted: true;
      /** The node as now known; for `left`, as it was last known. */
      readonly node: AnnouncedNode;
      /**
       * joined: a new node; changed: addresses or capacity changed; drain/undrain: admin;
       * left: removed by its agent's leave; none: figures only, or a leave of a node not held.
       */
      readonly change: NodeChange;
    }
  | {
      readonly accepted: false;
      readonly reason: RejectReason;
      readonly detail?: string;
      /** For `collision`: who holds the node and who was refused. */
      readonly collision?: Collision;
    };

/** Options of an {@link AgentRegistry}. */
export interface AgentRegistryOptions {
  readonly key: Buffer;
  /** A second key accepted too, while agents move to `key` (a key rotation). */
  readonly previousKey?: Buffer | undefined;
  /** A node silent for this many of its own intervals is removed. */
  readonly missedIntervals: number;
  readonly maxSkewMs: number;
  readonly now: () => number;
}

const serviceKey = (service: string): string => `${service.toLowerCase().replace(/\.$/, '')}.`;

const membershipOf = (node: AnnouncedNode): string =>
  `${node.service} ${node.node} ${node.addresses.join(',')} ${String(node.capacity)}`;

const sameAddresses = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && [...a].sort().join() === [...b].sort().join();

/** A node and the agent run that holds it. */
interface Held {
  readonly node: AnnouncedNode;
  readonly claim: NodeClaim;
}

/**
 * The nodes that announce themselves to this server (seed 000): authenticates and
 * de-duplicates announcements, keeps each node's latest status, and forgets nodes that
 * go silent or leave. Never throws on a datagram. Counts what it accepts and rejects.
 *
 * Identity: a node (service and node id) is held by the agent run (epoch) it was first
 * heard from. Another run announcing other addresses for it while the holder is heard
 * is a `collision`: refused (the holder keeps the node, nothing flips), reported once per
 * refused run. When the holder leaves or goes silent, the other run takes the node with
 * its next announcement. Another run with the same addresses is the holder restarted
 * (a crash, an upgrade) and takes the node at once.
 */
export class AgentRegistry {
  private readonly guard: ReplayGuard;
  private readonly nodes = new Map<string, Held>();
  /** Per held node, the newcomer epoch whose collision was last reported. */
  private readonly reported = new Map<string, string>();
  private cached: AgentSnapshot | undefined = NO_AGENTS;
  /** Datagrams accepted, and rejected by reason. */
  readonly counts = new Map<'accepted' | RejectReason, number>();

  private options: AgentRegistryOptions;

  constructor(options: AgentRegistryOptions) {
    this.options = options;
    this.guard = new ReplayGuard({ maxSkewMs: options.maxSkewMs, now: options.now });
  }

  /**
   * Takes new keys and limits (a reload). The nodes heard stay: a node is only dropped by
   * going silent, so rotating the key does not empty the pools. A new `missedIntervals`
   * applies from each node's next announcement.
   */
  reconfigure(options: Omit<AgentRegistryOptions, 'now'>): void {
    this.options = { ...options, now: this.options.now };
    this.guard.setMaxSkew(options.maxSkewMs);
  }

  /**
   * Takes one datagram; `source` is where it came from (`host:port`), for the collision
   * report. The collision check comes before the replay guard, so that a refused run's
   * announcements do not move the guard's record of the holder's run.
   */
  receive(bytes: Buffer, source = 'unknown'): ReceiveOutcome {
    let decoded = decodeAnnouncement(bytes, this.options.key);
    const previous = this.options.previousKey;
    if (!decoded.ok && decoded.reason === 'bad-mac' && previous)
      decoded = decodeAnnouncement(bytes, previous);
    if (!decoded.ok) return this.reject(decoded.reason, decoded.detail);
    const a = decoded.announcement;
    const key = `${serviceKey(a.service)} ${a.node}`;
    const collision = this.collision(key, a, source);
    if (collision) {
      this.count('collision');
      return {
        accepted: false,
        reason: 'collision',
        detail: `node ${a.node} is held by ${collision.holder.source}`,
        collision,
      };
    }
    const verdict = this.guard.accept(a);
    if (!verdict.ok) return this.reject(verdict.reason);
    this.count('accepted');
    if (a.kind === 'leave') return this.leave(key, a);
    return this.record(key, a, source);
  }

  /** Removes the nodes silent for too long; returns them. */
  sweep(): AnnouncedNode[] {
    const now = this.options.now();
    const removed: AnnouncedNode[] = [];
    for (const [key, { node }] of this.nodes) {
      if (node.expiresAt > now) continue;
      this.remove(key);
      removed.push(node);
    }
    return removed;
  }

  /** Every node heard and not yet removed. The same object until something changes. */
  snapshot(): AgentSnapshot {
    if (this.cached) return this.cached;
    const nodes = [...this.nodes.values()]
      .map((held) => held.node)
      .sort((a, b) =>
        a.service === b.service ? (a.node < b.node ? -1 : 1) : a.service < b.service ? -1 : 1,
      );
    this.cached = { nodes, membership: nodes.map(membershipOf).join('\n') };
    return this.cached;
  }

  /** Another run with other addresses than the live holder's: refused (see the class). */
  private collision(key: string, a: Announcement, source: string): Collision | undefined {
    const held = this.nodes.get(key);
    if (!held || held.claim.epoch === a.epoch) return undefined;
    if (sameAddresses(held.claim.addresses, a.addresses)) return undefined;
    if (held.node.expiresAt <= this.options.now()) {
      this.remove(key); // silent already; the sweep had not come round yet
      return undefined;
    }
    const first = this.reported.get(key) !== a.epoch;
    this.reported.set(key, a.epoch);
    return {
      service: held.node.service,
      node: a.node,
      holder: held.claim,
      newcomer: { source, epoch: a.epoch, addresses: a.addresses },
      first,
    };
  }

  private remove(key: string): void {
    this.nodes.delete(key);
    this.reported.delete(key);
    this.cached = undefined;
  }

  /** An authenticated, fresh leave: the node goes at once. */
  private leave(key: string, a: Announcement): ReceiveOutcome {
    const held = this.nodes.get(key);
    if (!held) return { accepted: true, node: this.nodeOf(a), change: 'none' };
    this.remove(key);
    return { accepted: true, node: held.node, change: 'left' };
  }

  private nodeOf(a: Announcement): AnnouncedNode {
    const now = this.options.now();
    return {
      service: serviceKey(a.service),
      node: a.node,
      addresses: a.addresses,
      load: a.load,
      connections: a.connections,
      capacity: a.capacity,
      admin: a.admin,
      intervalMs: a.intervalMs,
      heardAt: now,
      expiresAt: now + a.intervalMs * this.options.missedIntervals,
    };
  }

  private record(key: string, a: Announcement, source: string): ReceiveOutcome {
    const before = this.nodes.get(key)?.node;
    const node = this.nodeOf(a);
    if (this.nodes.get(key)?.claim.epoch !== a.epoch) this.reported.delete(key);
    this.nodes.set(key, { node, claim: { source, epoch: a.epoch, addresses: a.addresses } });
    this.cached = undefined;
    let change: NodeChange = 'none';
    if (!before) change = 'joined';
    else if (membershipOf(before) !== membershipOf(node)) change = 'changed';
    else if (before.admin !== node.admin) change = node.admin === 'draining' ? 'drain' : 'undrain';
    return { accepted: true, node, change };
  }

  private reject(reason: RejectReason, detail?: string): ReceiveOutcome {
    this.count(reason);
    return detail === undefined ? { accepted: false, reason } : { accepted: false, reason, detail };
  }

  private count(what: 'accepted' | RejectReason): void {
    this.counts.set(what, (this.counts.get(what) ?? 0) + 1);
  }
}
