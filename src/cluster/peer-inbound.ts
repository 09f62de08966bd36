import { randomBytes } from 'node:crypto';
import { createServer, type Socket } from 'node:net';
import { hostPort } from '../lib/ip.js';
import type { Logger } from '../observability/log.js';
import {
  authentic,
  FrameReader,
  FrameType,
  greeting,
  NONCE_BYTES,
  type Frame,
} from './peer-frame.js';
import { oncePerPeer, type PeerCounters, type PeerLimits } from './peer-limits.js';

/** Options of {@link listenForPeers}. */
export interface InboundOptions {
  readonly key: Buffer;
  readonly host: string;
  /** 0: the system chooses. */
  readonly port: number;
  readonly maxSkewMs: number;
  readonly limits: PeerLimits;
  readonly counters: PeerCounters;
  readonly log: Logger;
  readonly clock: () => number;
  /** A message (the JSON payload of a batch frame) from the node `from`. */
  readonly receive: (message: unknown, from: string) => void;
  /** Told, for each batch, how long ago its sender stamped it (ms, by the two clocks). */
  readonly onBatchDelay?: (from: string, delayMs: number) => void;
}

/** A listener for peers. */
export interface Inbound {
  /** Where it is bound: `ADDR:PORT`. */
  readonly address: string;
  close(): Promise<void>;
}

type Drop = 'forged' | 'replayed' | 'oversize' | 'skewed';

/**
 * Listens for peers' connections: greets each with a fresh nonce, then accepts only
 * authentic frames in sequence, the first a hello from a clock within `maxSkewMs`. Any other
 * frame is counted, logged at most once a minute per peer, and ends the connection.
 */
export async function listenForPeers(options: InboundOptions): Promise<Inbound> {
  const { limits, counters, log } = options;
  const report = oncePerPeer(log, options.clock);
  const sockets = new Set<Socket>();
  const server = createServer({ noDelay: true }, (socket) => {
    if (sockets.size >= limits.maxInbound) {
      counters.refused += 1;
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    serve(socket, options, report);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: options.host, port: options.port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (error) => {
    log.error({ err: error }, 'replication: the listener failed');
  });
  const bound = server.address() as { address: string; port: number };
  return {
    address: hostPort(bound.address, bound.port),
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => {
          resolve();
        });
      }),
  };
}

function serve(socket: Socket, options: InboundOptions, report: ReturnType<typeof oncePerPeer>) {
  const { key, limits, counters, clock, maxSkewMs } = options;
  const nonce = randomBytes(NONCE_BYTES);
  const reader = new FrameReader(limits.maxFrameBytes);
  const remote = socket.remoteAddress ?? 'unknown';
  let node: string | undefined;
  let expected = 0;
  let timer = setTimeout(() => socket.destroy(), limits.handshakeMs);
  const drop = (reason: Drop, detail: string): false => {
    counters[reason] += 1;
    const { forged, replayed, oversize, skewed } = counters;
    report(
      node ?? remote,
      'warn',
      { reason, remote, counters: { forged, replayed, oversize, skewed } },
      `replication: dropped a frame from ${node ?? remote}: ${detail}`,
    );
    socket.destroy();
    return false;
  };
  const accept = (frame: Frame): boolean => {
    if (!authentic(key, nonce, frame)) return drop('forged', 'bad MAC (another key, or replayed)');
    if (frame.seq !== expected)
      return drop('replayed', `sequence ${frame.seq}, expected ${expected}`);
    expected += 1;
    const skew = frame.sentAt - clock();
    if (node === undefined) {
      if (frame.type !== FrameType.hello) return drop('forged', 'no hello first');
      if (Math.abs(skew) > maxSkewMs)
        return drop('skewed', `its clock is ${Math.round(skew)} ms off (maxSkew ${maxSkewMs} ms)`);
      node = helloName(frame.payload) ?? remote;
      options.log.info({ peer: node, remote }, `replication: ${node} connected`);
    } else if (frame.type === FrameType.batch) {
      if (skew > maxSkewMs) return drop('skewed', `a frame ${Math.round(skew)} ms ahead`);
      counters.batchesIn += 1;
      options.onBatchDelay?.(node, -skew);
      let message: unknown;
      try {
        message = JSON.parse(frame.payload.toString('utf8'));
      } catch {
        options.log.warn({ peer: node }, 'replication: a batch that is not JSON');
        return true;
      }
      options.receive(message, node);
    }
    counters.framesIn += 1;
    clearTimeout(timer);
    timer = setTimeout(() => socket.destroy(), limits.idleMs);
    return true;
  };
  socket.write(greeting(nonce));
  socket.on('data', (chunk: Buffer) => {
    const frames = reader.push(chunk);
    if (frames === 'oversize') {
      drop('oversize', `a frame above ${limits.maxFrameBytes} bytes`);
      return;
    }
    for (const frame of frames) if (!accept(frame)) return;
  });
  socket.on('close', () => {
    clearTimeout(timer);
  });
  socket.on('error', () => undefined);
}

function helloName(payload: Buffer): string | undefined {
  try {
    const value = JSON.parse(payload.toString('utf8')) as { node?: unknown };
    return typeof value.node === 'string' ? value.node.slice(0, 63) : undefined;
  } catch {
    return undefined;
  }
}
