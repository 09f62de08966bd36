import net from 'node:net';
import { servfailFor, type ErrorReporter, type PacketHandler } from './transport.js';

/** Options of a TCP listener (RFC 7766). */
export interface TcpListenerOptions {
  readonly host: string;
  readonly port: number;
  readonly handler: PacketHandler;
  readonly onError: ErrorReporter;
  /** Close a connection that sends nothing for this long. @default 10000 */
  readonly idleTimeoutMs?: number;
  /** Connections beyond this many are refused. @default 1024 */
  readonly maxConnections?: number;
  /**
   * Open connections, shared by every listener of a process so that `maxConnections` counts
   * them all (a worker's cap, not a listener's). @default a count of this listener's own
   */
  readonly budget?: ConnectionBudget;
}

/** Connections open over several listeners. */
export interface ConnectionBudget {
  open: number;
}

/** At close, a connection quiet for this long (all answered, nothing new) is ended. */
const DRAIN_IDLE_MS = 200;
/** At close, connections still open after this long are cut. */
const DRAIN_DEADLINE_MS = 5000;

function frame(reply: Buffer): Buffer {
  const out = Buffer.allocUnsafe(reply.length + 2);
  out.writeUInt16BE(reply.length, 0);
  reply.copy(out, 2);
  return out;
}

/** The limits of a listener that a reload may change. */
export interface TcpLimits {
  readonly idleTimeoutMs: number;
  readonly maxConnections: number;
}

/** A running TCP listener. */
export interface TcpListener {
  readonly server: net.Server;
  /** Applies new limits: to new connections (the idle timeout) and to accepting (the cap). */
  setLimits(limits: TcpLimits): void;
  /** Stops accepting and closes every open connection. */
  close(): Promise<void>;
}

/** Serves one connection: length-framed, pipelined queries answered in order. */
function serveConnection(socket: net.Socket, options: TcpListenerOptions, limits: TcpLimits): void {
  let pending: Buffer | undefined;
  socket.setNoDelay(true);
  socket.setTimeout(limits.idleTimeoutMs, () => {
    // Idle (or, while draining, quiet): an orderly close, after what is already written.
    if (draining.has(socket)) socket.end();
    else socket.destroy();
  });
  socket.on('error', () => socket.destroy());
  const answer = (msg: Buffer): void => {
    let reply: Buffer | Buffer[] | undefined;
    try {
      reply = options.handler(msg, 'tcp', socket.remoteAddress ?? '');
    } catch (error) {
      options.onError(error, 'tcp');
      reply = servfailFor(msg);
    }
    if (reply === undefined) return;
    const parts = Array.isArray(reply) ? reply : [reply];
    for (const part of parts) {
      if (!socket.write(frame(part))) socket.pause();
    }
  };
  socket.on('drain', () => socket.resume());
  socket.on('data', (chunk: Buffer) => {
    if (socket.writableEnded) return;
    let data = pending ? Buffer.concat([pending, chunk]) : chunk;
    while (data.length >= 2) {
      const length = data.readUInt16BE(0);
      if (data.length < length + 2) break;
      answer(data.subarray(2, length + 2));
      data = data.subarray(length + 2);
    }
    pending = data.length > 0 ? Buffer.from(data) : undefined;
  });
}

/** Connections being closed: their idle timeout ends them instead of cutting them. */
const draining = new WeakSet<net.Socket>();

/** Starts a TCP DNS listener. */
export async function listenTcp(options: TcpListenerOptions): Promise<TcpListener> {
  const connections = new Set<net.Socket>();
  const budget = options.budget ?? { open: 0 };
  let limits: TcpLimits = {
    idleTimeoutMs: options.idleTimeoutMs ?? 10_000,
    maxConnections: options.maxConnections ?? 1024,
  };
  const server = net.createServer((socket) => {
    if (budget.open >= limits.maxConnections) {
      socket.destroy();
      return;
    }
    budget.open++;
    connections.add(socket);
    socket.on('close', () => {
      budget.open--;
      connections.delete(socket);
    });
    serveConnection(socket, options, limits);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(
      { host: options.host, port: options.port, ipv6Only: options.host.includes(':') },
      () => {
        server.off('error', reject);
        resolve();
      },
    );
  });
  return {
    server,
    setLimits(next) {
      limits = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        // Drain (RFC 7766 lets either side close): accept nothing new, answer what the
        // clients already sent, end each connection once it has been quiet for a moment,
        // and cut whatever is still open at the deadline.
        const deadline = setTimeout(() => {
          for (const socket of connections) socket.destroy();
        }, DRAIN_DEADLINE_MS);
        server.close(() => {
          clearTimeout(deadline);
          resolve();
        });
        for (const socket of connections) {
          draining.add(socket);
          socket.setTimeout(DRAIN_IDLE_MS);
        }
      }),
  };
}
