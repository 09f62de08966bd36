import { parseHostPort } from '../lib/ip.js';
import type { Logger } from '../observability/log.js';
import {
  startPeerLink,
  type Peer,
  type PeerCounters,
  type PeerLink,
} from '../cluster/peer-link.js';
import type { CompiledReplication } from '../config/compile-cluster.js';
import type { ClusterNodeView } from './cluster-view.js';
import type { ReplicationBatch } from './replication.js';

/**
 * The node's replicated tables as the peer link sees them: every row for a peer that
 * connects, and a place for the rows peers send. Rows written on this node are given to
 * the `send` the link passes when it asks for them.
 */
export interface NodeTables {
  snapshot(): ReplicationBatch[];
  receive(batch: ReplicationBatch): void;
  stop(): void;
}

/** What peer replication needs of the cluster producer. */
export interface ClusterNodes {
  nodes(): readonly ClusterNodeView[];
  onNodes(listener: (nodes: readonly ClusterNodeView[]) => void): () => void;
}

/** Persistence entries shared with every other node of the cluster. */
export interface PeerReplication {
  /** Where this node listens for peers (register it). */
  readonly address: string;
  readonly counters: Readonly<PeerCounters>;
  /** The replication lag from each peer (ms), see PeerLink.lag. */
  lag(): ReadonlyMap<string, number>;
  /** Connects to every registered node, and follows them as they come and go. */
  follow(cluster: ClusterNodes): void;
  /** Sends what is left, then disconnects. */
  stop(): Promise<void>;
}

/** A payload well below the frame bound (4 MiB): rows are grouped up to this. */
const PAYLOAD_BYTES = 256 * 1024;

/** `batch` as JSON payloads of at most about {@link PAYLOAD_BYTES} each (whole rows). */
export function* payloads(batch: ReplicationBatch): Generator<Buffer> {
  const head = `{"table":${JSON.stringify(batch.table)},"rows":[`;
  let parts: string[] = [];
  let size = 0;
  for (const row of batch.rows) {
    const text = JSON.stringify(row);
    if (size + text.length > PAYLOAD_BYTES && parts.length > 0) {
      yield Buffer.from(`${head}${parts.join(',')}]}`);
      parts = [];
      size = 0;
    }
    parts.push(text);
    size += text.length + 1;
  }
  if (parts.length > 0) yield Buffer.from(`${head}${parts.join(',')}]}`);
}

const isBatch = (value: unknown): value is ReplicationBatch =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as { table?: unknown }).table === 'string' &&
  Array.isArray((value as { rows?: unknown }).rows);

const peersOf = (nodes: readonly ClusterNodeView[]): Peer[] =>
  nodes.flatMap((node) => {
    const address = node.replication === undefined ? undefined : parseHostPort(node.replication);
    return address?.port === undefined
      ? []
      : [{ name: node.name, host: address.host, port: address.port }];
  });

/**
 * Starts sharing the node's tables with its peers (`cluster.replication`): binds the
 * listener now (its address goes into the node's registration), connects to peers once
 * {@link PeerReplication.follow} is given the cluster. `tables(send)` returns the node's
 * tables and has rows written on this node sent with `send`.
 */
export async function startPeerReplication(
  config: CompiledReplication,
  name: string,
  log: Logger,
  tables: (send: (batch: ReplicationBatch) => void) => NodeTables,
): Promise<PeerReplication> {
  // Rows written before the link is up are not lost: a peer gets the full table on connect.
  const linked: { link?: PeerLink } = {};
  const node = tables((batch) => {
    for (const payload of payloads(batch)) linked.link?.send(payload);
  });
  const replicationLog = log.child({ component: 'replication' });
  const link = await startPeerLink({
    name,
    key: Buffer.from(config.key, 'base64'),
    host: config.host,
    port: config.port,
    maxSkewMs: config.maxSkewMs,
    log: replicationLog,
    *greet() {
      for (const batch of node.snapshot()) yield* payloads(batch);
    },
    receive(message, from) {
      if (!isBatch(message)) {
        replicationLog.warn({ peer: from }, 'replication: a message that is not a batch');
        return;
      }
      try {
        node.receive(message);
      } catch (error) {
        replicationLog.warn({ peer: from, err: error }, 'replication: cannot apply a batch');
      }
    },
  });
  linked.link = link;
  replicationLog.info({ address: link.address }, `replication: listening on ${link.address}`);
  const started = link;
  let unfollow: (() => void) | undefined;
  return {
    address: started.address,
    counters: started.counters,
    lag: () => started.lag(),
    follow(cluster) {
      started.setPeers(peersOf(cluster.nodes()));
      unfollow = cluster.onNodes((nodes) => {
        started.setPeers(peersOf(nodes));
      });
    },
    async stop() {
      unfollow?.();
      node.stop();
      await started.close();
    },
  };
}
