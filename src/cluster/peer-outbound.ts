import { connect, type Socket } from 'node:net';
import type { Logger } from '../observability/log.js';
import { encodeFrame, FrameType, GREETING_BYTES, greetingNonce } from './peer-frame.js';
import type { oncePerPeer, PeerCounters, PeerLimits } from './peer-limits.js';

/** Another node, as its registration gives it. */
export interface Peer {
  readonly name: string;
  /** Its replication listener, `ADDR:PORT` or `[IPv6]:PORT`. */
  readonly host: string;
  readonly port: number;
}

/** Options shared by every outgoing connection. */
export interface OutboundOptions {
  /** This node's name, sent in the hello. */
  readonly name: string;
  readonly key: Buffer;
  readonly limits: PeerLimits;
  readonly counters: PeerCounters;
  readonly log: Logger;
  readonly clock: () => number;
  readonly report: ReturnType<typeof oncePerPeer>;
  /** What a peer gets first on every new connection (the full table), as JSON payloads. */
  readonly greet: () => Iterable<Buffer>;
}

/**
 * The connection to one peer: connects, waits for its greeting, says hello, sends the full
 * table, then every payload given to {@link send}. Reconnects with backoff until closed; a
 * peer that does not keep up (output above `maxBufferedBytes`, or no drain in `drainMs`)
 * loses its connection and gets the full table again on the next.
 */
export class PeerConnection {
  private socket: Socket | undefined;
  private nonce: Buffer | undefined;
  private seq = 0;
  private lastSent = 0;
  private backoff: number;
  private retry: NodeJS.Timeout | undefined;
  private ping: NodeJS.Timeout | undefined;
  private closed = false;

  readonly peer: Peer;
  private readonly options: OutboundOptions;

  constructor(peer: Peer, options: OutboundOptions) {
    this.peer = peer;
    this.options = options;
    this.backoff = options.limits.backoffMs[0];
    this.connect();
  }

  /** Sends `payload` (a JSON batch) if connected; otherwise the next full copy carries it. */
  send(payload: Buffer): void {
    if (this.nonce !== undefined) this.write(FrameType.batch, payload);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.retry);
    clearInterval(this.ping);
    // What is written goes out (a stopping node's last rows); a stuck peer is cut after 1 s.
    const socket = this.socket;
    socket?.end();
    setTimeout(() => socket?.destroy(), 1000).unref();
  }

  private connect(): void {
    const { limits } = this.options;
    const socket = connect({ host: this.peer.host, port: this.peer.port, noDelay: true });
    this.socket = socket;
    socket.setKeepAlive(true, 1000);
    let pending = Buffer.alloc(0);
    const handshake = setTimeout(() => {
      this.fail(socket, `no greeting within ${limits.handshakeMs} ms`);
    }, limits.handshakeMs);
    socket.on('data', (chunk: Buffer) => {
      if (this.nonce !== undefined && this.socket === socket) return;
      pending = Buffer.concat([pending, chunk]);
      if (pending.length < GREETING_BYTES) return;
      clearTimeout(handshake);
      const nonce = greetingNonce(pending.subarray(0, GREETING_BYTES));
      if (nonce === undefined) this.fail(socket, 'not a steerdns replication listener');
      else this.ready(socket, nonce);
    });
    socket.on('error', (error) => {
      this.fail(socket, error.message);
    });
    socket.on('close', () => {
      clearTimeout(handshake);
      if (this.socket !== socket) return;
      this.socket = undefined;
      this.nonce = undefined;
      clearInterval(this.ping);
      if (this.closed) return;
      this.retry = setTimeout(
        () => {
          this.connect();
        },
        this.backoff * (0.8 + Math.random() * 0.4),
      );
      this.backoff = Math.min(this.backoff * 2, limits.backoffMs[1]);
    });
  }

  private fail(socket: Socket, reason: string): void {
    if (!this.closed)
      this.options.report(
        this.peer.name,
        'warn',
        { address: `${this.peer.host}:${this.peer.port}` },
        `replication: cannot reach ${this.peer.name}: ${reason}; retrying`,
      );
    socket.destroy();
  }

  private ready(socket: Socket, nonce: Buffer): void {
    const { limits, counters, log } = this.options;
    this.nonce = nonce;
    this.seq = 0;
    this.backoff = limits.backoffMs[0];
    counters.connects += 1;
    this.write(FrameType.hello, Buffer.from(JSON.stringify({ node: this.options.name })));
    log.info({ peer: this.peer.name }, `replication: connected to ${this.peer.name}`);
    this.ping = setInterval(() => {
      if (this.options.clock() - this.lastSent >= limits.pingMs)
        this.write(FrameType.ping, Buffer.alloc(0));
    }, limits.pingMs / 2);
    void this.sendTable(socket);
  }

  /** The full table, waiting for the peer to drain between parts (with a deadline). */
  private async sendTable(socket: Socket): Promise<void> {
    const { limits } = this.options;
    for (const payload of this.options.greet()) {
      if (this.socket !== socket || socket.destroyed) return;
      this.write(FrameType.batch, payload);
      if (socket.writableLength > limits.drainAtBytes && !(await drained(socket, limits.drainMs))) {
        this.slow(socket, `no drain within ${limits.drainMs} ms`);
        return;
      }
    }
  }

  private write(type: FrameType, payload: Buffer): void {
    const socket = this.socket;
    if (socket === undefined || this.nonce === undefined) return;
    const now = this.options.clock();
    socket.write(
      encodeFrame(this.options.key, this.nonce, { type, seq: this.seq++, sentAt: now }, payload),
    );
    this.lastSent = now;
    if (socket.writableLength > this.options.limits.maxBufferedBytes)
      this.slow(socket, `more than ${this.options.limits.maxBufferedBytes} bytes unsent`);
  }

  private slow(socket: Socket, reason: string): void {
    this.options.counters.slowPeers += 1;
    this.options.report(
      this.peer.name,
      'warn',
      {},
      `replication: ${this.peer.name} is too slow (${reason}); reconnecting`,
    );
    socket.destroy();
  }
}

/** Resolves true when `socket` drains, false after `ms` or when it closes. */
function drained(socket: Socket, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      socket.off('drain', onDrain);
      socket.off('close', onClose);
      resolve(ok);
    };
    const onDrain = (): void => {
      done(true);
    };
    const onClose = (): void => {
      done(false);
    };
    const timer = setTimeout(() => {
      done(false);
    }, ms);
    socket.on('drain', onDrain);
    socket.on('close', onClose);
  });
}
