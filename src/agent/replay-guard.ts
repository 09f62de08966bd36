import type { Announcement } from './fields.js';

/** Options of a {@link ReplayGuard}. */
export interface ReplayGuardOptions {
  /**
   * How far an announcement's timestamp may be from the server's clock, either way.
   * @default 30000
   */
  readonly maxSkewMs?: number;
  /** The server's clock, ms since the epoch. @default Date.now */
  readonly now?: () => number;
  /**
   * Most nodes remembered; the least recently heard is forgotten first.
   * @default 100000
   */
  readonly maxNodes?: number;
}

/**
 * The guard's verdict. Accepted: `first` (node not known), `next` (same epoch, higher
 * sequence) or `restart` (a new epoch, newer than the last accepted announcement).
 */
export type ReplayVerdict =
  | { readonly ok: true; readonly kind: 'first' | 'next' | 'restart' }
  | { readonly ok: false; readonly reason: 'stale' | 'future' | 'replay' };

interface NodeState {
  epoch: string;
  sequence: number;
  timestamp: number;
}

const nodeKey = (a: Pick<Announcement, 'service' | 'node'>): string => `${a.service} ${a.node}`;

/**
 * Rejects replayed and out-of-date announcements, per node and service (two agents of one
 * host, one per service, may share the host name as node id without disturbing each other). Give it only announcements
 * whose MAC verified: only accepted ones are remembered, so a sender without the key
 * cannot fill its memory.
 *
 * Rules, in order:
 * 1. `timestamp` more than `maxSkewMs` before now: `stale`; after now: `future`.
 * 2. Node not known: accepted (`first`).
 * 3. Same epoch as the last accepted: `sequence` must be higher, else `replay`.
 * 4. Another epoch (the agent restarted): accepted (`restart`) only when its `timestamp`
 *    is later than the last accepted one's, else `replay`. A packet captured before the
 *    restart is older than what the new run already sent, and a stale one fails rule 1.
 *
 * A node's entry outlives its usefulness after `maxSkewMs` (anything older is stale), so
 * forgetting the least recently heard node beyond `maxNodes` only weakens protection if
 * more than `maxNodes` nodes announce within one skew window.
 */
export class ReplayGuard {
  private maxSkewMs: number;
  private readonly now: () => number;
  private readonly maxNodes: number;
  // Map iteration order is insertion order: re-inserting on accept makes it an LRU.
  private readonly nodes = new Map<string, NodeState>();

  constructor(options: ReplayGuardOptions = {}) {
    this.maxSkewMs = options.maxSkewMs ?? 30_000;
    this.now = options.now ?? Date.now;
    this.maxNodes = Math.max(1, options.maxNodes ?? 100_000);
  }
  /** Changes the accepted clock skew (a reload); the sequence numbers seen are kept. */
  setMaxSkew(maxSkewMs: number): void {
    this.maxSkewMs = maxSkewMs;
  }

  /** Number of nodes remembered. */
  get size(): number {
    return this.nodes.size;
  }

  /** Checks `a` and, when accepted, remembers it as the node's latest. */
  accept(a: Announcement): ReplayVerdict {
    const now = this.now();
    if (a.timestamp < now - this.maxSkewMs) return { ok: false, reason: 'stale' };
    if (a.timestamp > now + this.maxSkewMs) return { ok: false, reason: 'future' };
    const key = nodeKey(a);
    const last = this.nodes.get(key);
    let kind: 'first' | 'next' | 'restart' = 'first';
    if (last !== undefined) {
      if (a.epoch === last.epoch) {
        if (a.sequence <= last.sequence) return { ok: false, reason: 'replay' };
        kind = 'next';
      } else {
        if (a.timestamp <= last.timestamp) return { ok: false, reason: 'replay' };
        kind = 'restart';
      }
    }
    this.nodes.delete(key);
    this.nodes.set(key, { epoch: a.epoch, sequence: a.sequence, timestamp: a.timestamp });
    if (this.nodes.size > this.maxNodes) {
      const oldest = this.nodes.keys().next();
      if (oldest.done !== true) this.nodes.delete(oldest.value);
    }
    return { ok: true, kind };
  }

  /** Forgets a node of a service (e.g. removed by the operator). */
  forget(service: string, node: string): void {
    this.nodes.delete(nodeKey({ service, node }));
  }
}
