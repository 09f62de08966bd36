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

/** Why a datagram was not taken: decoding failures and replay-guard verdicts. */
export type RejectReason = DecodeFailure | 'stale' | 'future' | 'replay';

/** What one datagram did. */
export type ReceiveOutcome =
  | {
      readonly accepted: true;
      readonly node: AnnouncedNode;
      /** joined: a new node; changed: addresses or capacity changed; drain/undrain: admin. */
      readonly change: 'joined' | 'changed' | 'drain' | 'undrain' | 'none';
    }
  | { readonly accepted: false; readonly reason: RejectReason; readonly detail?: string };

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

/**
 * The nodes that announce themselves to this server (seed 000): authenticates and
 * de-duplicates announcements, keeps each node's latest status, and forgets nodes that
 * go silent. Never throws on a datagram. Counts what it accepts and rejects.
 */
export class AgentRegistry {
  private readonly guard: ReplayGuard;
  private readonly nodes = new Map<string, AnnouncedNode>();
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

  /** Takes one datagram. */
  receive(bytes: Buffer): ReceiveOutcome {
    let decoded = decodeAnnouncement(bytes, this.options.key);
    const previous = this.options.previousKey;
    if (!decoded.ok && decoded.reason === 'bad-mac' && previous)
      decoded = decodeAnnouncement(bytes, previous);
    if (!decoded.ok) return this.reject(decoded.reason, decoded.detail);
    const verdict = this.guard.accept(decoded.announcement);
    if (!verdict.ok) return this.reject(verdict.reason);
    this.count('accepted');
    return this.record(decoded.announcement);
  }

  /** Removes the nodes silent for too long; returns them. */
  sweep(): AnnouncedNode[] {
    const now = this.options.now();
    const removed: AnnouncedNode[] = [];
    for (const [key, node] of this.nodes) {
      if (node.expiresAt > now) continue;
      this.nodes.delete(key);
      removed.push(node);
    }
    if (removed.length > 0) this.cached = undefined;
    return removed;
  }

  /** Every node heard and not yet removed. The same object until something changes. */
  snapshot(): AgentSnapshot {
    if (this.cached) return this.cached;
    const nodes = [...this.nodes.values()].sort((a, b) =>
      a.service === b.service ? (a.node < b.node ? -1 : 1) : a.service < b.service ? -1 : 1,
    );
    this.cached = { nodes, membership: nodes.map(membershipOf).join('\n') };
    return this.cached;
  }

  private record(a: Announcement): ReceiveOutcome {
    const now = this.options.now();
    const service = serviceKey(a.service);
    const key = `${service} ${a.node}`;
    const before = this.nodes.get(key);
    const node: AnnouncedNode = {
      service,
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
    this.nodes.set(key, node);
    this.cached = undefined;
    let change: 'joined' | 'changed' | 'drain' | 'undrain' | 'none' = 'none';
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
