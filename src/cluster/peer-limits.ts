import type { Logger } from '../observability/log.js';

/** Bounds of the link between nodes; every wait has one. */
export interface PeerLimits {
  /** Largest frame, header included. @default 4 MiB */
  readonly maxFrameBytes: number;
  /** Output buffered for one peer beyond which its connection is dropped (not the node). @default 32 MiB */
  readonly maxBufferedBytes: number;
  /** A full-table copy waits for the peer to drain below this before it writes more. @default 1 MiB */
  readonly drainAtBytes: number;
  /** How long a drain may take before the peer counts as slow and is dropped. @default 10000 */
  readonly drainMs: number;
  /** Connect and greeting (dialer), hello (listener). @default 5000 */
  readonly handshakeMs: number;
  /** A dialer sends a ping when it has sent nothing for this long. @default 2000 */
  readonly pingMs: number;
  /** A listener drops a connection that sent nothing for this long. @default 10000 */
  readonly idleMs: number;
  /** Reconnect backoff, doubling from the first to the last. @default [100, 5000] */
  readonly backoffMs: readonly [number, number];
  /** Connections a listener accepts at once. @default 256 */
  readonly maxInbound: number;
}

/** The defaults of {@link PeerLimits}. */
export const DEFAULT_PEER_LIMITS: PeerLimits = {
  maxFrameBytes: 4 * 1024 * 1024,
  maxBufferedBytes: 32 * 1024 * 1024,
  drainAtBytes: 1024 * 1024,
  drainMs: 10_000,
  handshakeMs: 5000,
  pingMs: 2000,
  idleMs: 10_000,
  backoffMs: [100, 5000],
  maxInbound: 256,
};

/** What the link counts (cumulative since the node started). */
export interface PeerCounters {
  /** Frames accepted, and batches of rows among them. */
  framesIn: number;
  batchesIn: number;
  /** Frames whose MAC fails: another key, altered, or replayed from another connection. */
  forged: number;
  /** Authentic frames out of sequence: replayed on their own connection. */
  replayed: number;
  /** Length fields above the frame bound. */
  oversize: number;
  /** Hellos (or frames) whose clock is further off than `maxSkew`. */
  skewed: number;
  /** Connections refused above `maxInbound`. */
  refused: number;
  /** Outgoing connections dropped because the peer did not keep up. */
  slowPeers: number;
  /** Outgoing connections that reached a peer's hello. */
  connects: number;
}

/** Counters at zero. */
export const zeroCounters = (): PeerCounters => ({
  framesIn: 0,
  batchesIn: 0,
  forged: 0,
  replayed: 0,
  oversize: 0,
  skewed: 0,
  refused: 0,
  slowPeers: 0,
  connects: 0,
});

/**
 * Logs about a peer at most once per `periodMs` per peer (a forger must not fill the log).
 * Returns whether it logged.
 */
export function oncePerPeer(
  log: Logger,
  now: () => number,
  periodMs = 60_000,
): (peer: string, level: 'warn' | 'error', fields: object, message: string) => boolean {
  const last = new Map<string, number>();
  return (peer, level, fields, message) => {
    const at = now();
    const before = last.get(peer);
    if (before !== undefined && at - before < periodMs) return false;
    if (last.size >= 1024) last.clear();
    last.set(peer, at);
    log[level]({ peer, ...fields }, message);
    return true;
  };
}
