import type { Logger } from '../observability/log.js';
import { listenForPeers } from './peer-inbound.js';
import {
  DEFAULT_PEER_LIMITS,
  oncePerPeer,
  zeroCounters,
  type PeerCounters,
  type PeerLimits,
} from './peer-limits.js';
import { PeerConnection, type Peer } from './peer-outbound.js';

export type { Peer } from './peer-outbound.js';
export type { PeerCounters, PeerLimits } from './peer-limits.js';

/** Options of {@link startPeerLink}. */
export interface PeerLinkOptions {
  /** This node's name (peers of that name are skipped). */
  readonly name: string;
  /** The key every node of the cluster shares (at least 16 bytes). */
  readonly key: Buffer;
  readonly host: string;
  /** 0: the system chooses. */
  readonly port: number;
  /** Peers whose clock is further off are refused. */
  readonly maxSkewMs: number;
  readonly log: Logger;
  /** What a peer gets on every new connection: the full table, as JSON payloads. */
  readonly greet: () => Iterable<Buffer>;
  /** A message a peer sent (parsed JSON; trust it as far as the key is trusted). */
  readonly receive: (message: unknown, from: string) => void;
  readonly limits?: Partial<PeerLimits>;
  /** @default Date.now */
  readonly clock?: () => number;
}

/** Every node connected to every other: each sends its own rows on its own connections. */
export interface PeerLink {
  /** Where this node listens, `ADDR:PORT` as bound (register it for the others). */
  readonly address: string;
  /** Sends a JSON payload to every connected peer. */
  send(payload: Buffer): void;
  /** The peers now (others are disconnected, new ones connected). */
  setPeers(peers: readonly Peer[]): void;
  readonly counters: Readonly<PeerCounters>;
  /**
   * The replication lag from each peer: how long its batches took from being stamped to
   * arriving here, averaged over the last batches (ms; clocks apart count in it).
   */
  lag(): ReadonlyMap<string, number>;
  close(): Promise<void>;
}

/**
 * Listens for the cluster's other nodes and connects to each of them (see `peer-frame.ts`
 * for the frames, `peer-inbound.ts` and `peer-outbound.ts` for each side). Data flows from
 * dialer to listener: a pair of nodes has two connections, one each way.
 */
export async function startPeerLink(options: PeerLinkOptions): Promise<PeerLink> {
  const limits = { ...DEFAULT_PEER_LIMITS, ...options.limits };
  const clock = options.clock ?? Date.now;
  const counters = zeroCounters();
  const log = options.log;
  const lag = new Map<string, number>();
  const inbound = await listenForPeers({
    ...options,
    limits,
    counters,
    clock,
    onBatchDelay: (from, delayMs) => {
      // An average over about the last ten batches: one late batch does not make a peer look slow.
      const before = lag.get(from);
      lag.set(from, before === undefined ? delayMs : before + (delayMs - before) / 10);
    },
  });
  const report = oncePerPeer(log, clock);
  const connections = new Map<string, PeerConnection>();
  const outbound = { ...options, limits, counters, clock, report };
  return {
    address: inbound.address,
    counters,
    lag: () => lag,
    send(payload) {
      for (const connection of connections.values()) connection.send(payload);
    },
    setPeers(peers) {
      const wanted = new Map(
        peers
          .filter((peer) => peer.name !== options.name)
          .map((peer) => [`${peer.name} ${peer.host} ${peer.port}`, peer]),
      );
      for (const [id, connection] of connections)
        if (!wanted.has(id)) {
          connection.close();
          connections.delete(id);
        }
      for (const [id, peer] of wanted)
        if (!connections.has(id)) connections.set(id, new PeerConnection(peer, outbound));
    },
    async close() {
      for (const connection of connections.values()) connection.close();
      connections.clear();
      await inbound.close();
    },
  };
}
