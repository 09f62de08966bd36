import net from 'node:net';
import { parseAddress } from '../lib/ip.js';
import { servfailFor, type ErrorReporter, type PacketHandler } from './transport.js';

/** Options of a TCP listener (RFC 7766). */
export interface TcpListenerOptions extends Partial<TcpLimits> {
  readonly host: string;
  readonly port: number;
  readonly handler: PacketHandler;
  readonly onError: ErrorReporter;
  /**
   * Open connections, shared by every listener of a process so that `maxConnections` and
   * `maxPerSource` count them all (a worker's caps, not a listener's). @default this
   * listener's own
   */
  readonly budget?: ConnectionBudget;
  /** Milliseconds now, for the timers (tests inject one). @default performance.now */
  readonly now?: () => number;
}

/** The limits of a listener that a reload may change. */
export interface TcpLimits {
  /** Close a connection that completes no message (and reads nothing of ours) for this long. @default 10000 */
  readonly idleTimeoutMs: number;
  /** Close a connection that has not sent the whole of a message this long after its first byte. @default 1000 */
  readonly messageTimeoutMs: number;
  /**
   * Connections over all listeners. At the cap a new connection closes the oldest idle one
   * (RFC 7766 §6.2.3), or else the oldest slow one; with neither it is refused. @default 1024
   */
  readonly maxConnections: number;
  /** Connections from one source ({@link sourceKey}); more are refused. @default 64 */
  readonly maxPerSource: number;
  /** Unsent reply bytes past which a connection is not read (nor answered) until it drains. @default 131072 */
  readonly outputLimit: number;
}

const DEFAULT_LIMITS: TcpLimits = {
  idleTimeoutMs: 10_000,
  messageTimeoutMs: 1000,
  maxConnections: 1024,
  maxPerSource: 64,
  outputLimit: 128 * 1024,
};

/** At close, a connection quiet for this long (all answered, nothing new) is ended. */
const DRAIN_IDLE_MS = 200;
/** At close, connections still open after this long are cut. */
const DRAIN_DEADLINE_MS = 5000;

/**
 * Writes `reply` with its 2-byte length in front (RFC 1035 4.2.2) as two buffers of one
 * writev, not copied into a framed one: a client that reads slowly makes the server write
 * megabytes of replies into the kernel's socket buffer before it sees backpressure, and a
 * copy of each doubled that garbage. `reply` is the handler's to give away: it is written
 * as it is, so it must not be reused afterwards.
 */
function writeFramed(socket: net.Socket, reply: Buffer): void {
  const length = Buffer.allocUnsafe(2);
  length[0] = reply.length >> 8;
  length[1] = reply.length & 0xff;
  socket.cork();
  socket.write(length);
  socket.write(reply);
  socket.uncork();
}

/**
 * Who a connection counts against for `maxPerSource`: an IPv4 address (also written
 * IPv4-mapped), or the /64 of an IPv6 address (what one site is usually given, so that a
 * host cannot dodge the limit by using many addresses of its own prefix).
 */
export function sourceKey(address: string): string {
  if (!address.includes(':')) return address;
  if (address.startsWith('::ffff:') && address.includes('.')) return address.slice(7);
  const bytes = parseAddress(address);
  return bytes ? `${Buffer.from(bytes.subarray(0, 8)).toString('hex')}/64` : address;
}

/** One connection and where it is: what it has sent, what it waits for. */
class Connection {
  /** Received bytes not answered yet: a partial message, or messages held back. */
  pending: Buffer | undefined = undefined;
  /** When the partial message in `pending` began (0: none, or reading is held). */
  frameSince = 0;
  /** When a message last completed or the client last took our output. */
  activeAt: number;
  /** The rest of a multi-message reply (AXFR) being written. */
  stream: Iterator<Buffer> | undefined = undefined;
  /** A turn of the event loop is booked to write the stream's next message. */
  pumping = false;
  /** Reading is stopped until the output drains or the stream ends. */
  held = false;
  readonly address: string;
  readonly socket: net.Socket;
  readonly listener: ListenerState;
  /** What it counts against for `maxPerSource`. */
  readonly source: string;

  constructor(socket: net.Socket, listener: ListenerState, source: string) {
    this.socket = socket;
    this.listener = listener;
    this.source = source;
    this.activeAt = listener.now;
    this.address = socket.remoteAddress ?? '';
  }

  /** Nothing in progress: no query, no partial message, nothing unsent. */
  get idle(): boolean {
    return (
      this.pending === undefined && this.stream === undefined && this.socket.writableLength === 0
    );
  }
}

/** Open connections of every listener of a process, oldest first, and by source. */
export class ConnectionBudget {
  readonly connections = new Set<Connection>();
  private readonly bySource = new Map<string, number>();

  /** Connections open. */
  get open(): number {
    return this.connections.size;
  }

  /** Connections open from `source`. */
  from(source: string): number {
    return this.bySource.get(source) ?? 0;
  }

  add(connection: Connection): void {
    this.connections.add(connection);
    this.bySource.set(connection.source, this.from(connection.source) + 1);
  }

  /** Forgets a connection (once: a second call does nothing). */
  delete(connection: Connection): void {
    if (!this.connections.delete(connection)) return;
    const left = this.from(connection.source) - 1;
    if (left > 0) this.bySource.set(connection.source, left);
    else this.bySource.delete(connection.source);
  }

  /**
   * The connection to close for a new one at the cap: the oldest idle one, else the oldest
   * whose message has been arriving for half the message timeout (a slow client: a real
   * one sends a query in one round trip), else none.
   */
  victim(now: number, messageTimeoutMs: number): Connection | undefined {
    let slow: Connection | undefined;
    for (const c of this.connections) {
      if (c.idle) return c;
      if (slow === undefined && c.frameSince !== 0 && now - c.frameSince >= messageTimeoutMs / 2)
        slow = c;
    }
    return slow;
  }
}

/** What the connections of one listener share. */
interface ListenerState {
  readonly options: TcpListenerOptions;
  limits: TcpLimits;
  /** Milliseconds, as of the last timer tick (coarse: the hot path reads no clock). */
  now: number;
}

/** Answers one message; a multi-message reply is started as the connection's stream. */
function answer(c: Connection, msg: Buffer): void {
  const { options } = c.listener;
  let reply: Buffer | Iterable<Buffer> | undefined;
  try {
    reply = options.handler(msg, 'tcp', c.address);
  } catch (error) {
    options.onError(error, 'tcp');
    reply = servfailFor(msg);
  }
  if (reply === undefined) return;
  if (Buffer.isBuffer(reply)) {
    writeFramed(c.socket, reply);
    return;
  }
  c.stream = reply[Symbol.iterator]();
  schedulePump(c);
}

function schedulePump(c: Connection): void {
  if (c.pumping) return;
  c.pumping = true;
  setImmediate(pump, c);
}

/**
 * Writes the stream's next message, then gives the event loop a turn before the one after
 * (UDP and other connections are served in between); waits for 'drain' when the client
 * has not taken what is already written.
 */
function pump(c: Connection): void {
  c.pumping = false;
  const { socket } = c;
  if (c.stream === undefined) return;
  if (socket.destroyed || socket.writableEnded) {
    c.stream = undefined;
    return;
  }
  if (socket.writableNeedDrain && socket.writableLength > c.listener.limits.outputLimit) return;
  let next: IteratorResult<Buffer>;
  try {
    next = c.stream.next();
  } catch (error) {
    c.listener.options.onError(error, 'tcp');
    c.stream = undefined;
    socket.destroy();
    return;
  }
  if (next.done === true) {
    c.stream = undefined;
    release(c);
    return;
  }
  writeFramed(socket, next.value);
  c.activeAt = c.listener.now;
  schedulePump(c);
}

/** Answers every whole message of `data` (in order) while the output stays under the limit. */
function consume(c: Connection, data: Buffer): void {
  const { socket } = c;
  const limit = c.listener.limits.outputLimit;
  let offset = 0;
  while (data.length - offset >= 2) {
    if (c.stream !== undefined || (socket.writableNeedDrain && socket.writableLength > limit)) {
      hold(c, offset === 0 ? data : data.subarray(offset));
      return;
    }
    const length = data.readUInt16BE(offset);
    const end = offset + 2 + length;
    if (data.length < end) break;
    answer(c, data.subarray(offset + 2, end));
    offset = end;
    c.activeAt = c.listener.now;
  }
  if (offset === data.length) {
    c.pending = undefined;
    c.frameSince = 0;
    return;
  }
  // A partial message: its deadline runs from its first byte.
  if (offset > 0 || c.frameSince === 0) c.frameSince = c.listener.now;
  c.pending = Buffer.from(data.subarray(offset));
}

/** Consumes `data`; says whether that stopped reading again. */
function consumeHolds(c: Connection, data: Buffer): boolean {
  consume(c, data);
  return c.held;
}

/** Stops reading: `rest` waits until the output drains or the stream ends. */
function hold(c: Connection, rest: Buffer): void {
  c.pending = rest;
  c.frameSince = 0; // waiting for us, not for the client
  if (!c.held) {
    c.held = true;
    c.socket.pause();
  }
}

/** Reads again after a hold: answers what was held back first. */
function release(c: Connection): void {
  if (!c.held || c.stream !== undefined || c.socket.destroyed) return;
  c.held = false;
  const rest = c.pending;
  c.pending = undefined;
  // consume() may hold again (the held-back messages filled the output once more).
  if (rest === undefined || !consumeHolds(c, rest)) c.socket.resume();
}

/** Serves one connection: length-framed, pipelined queries answered in order. */
function serveConnection(c: Connection): void {
  const { socket } = c;
  socket.setNoDelay(true);
  socket.on('error', () => socket.destroy());
  socket.on('drain', () => {
    c.activeAt = c.listener.now;
    if (c.stream !== undefined) schedulePump(c);
    else release(c);
  });
  socket.on('data', (chunk: Buffer) => {
    if (socket.writableEnded) return;
    if (c.held) {
      // Read before the pause took effect: keep it behind what is held.
      c.pending = c.pending ? Buffer.concat([c.pending, chunk]) : chunk;
      return;
    }
    consume(c, c.pending ? Buffer.concat([c.pending, chunk]) : chunk);
  });
}

/** Ends connections past their deadlines: a message too slow, or idle too long. */
function sweep(state: ListenerState, connections: ReadonlySet<Connection>): void {
  const now = state.options.now?.() ?? performance.now();
  state.now = now;
  const { messageTimeoutMs, idleTimeoutMs } = state.limits;
  for (const c of connections) {
    if (c.frameSince !== 0 && now - c.frameSince >= messageTimeoutMs) c.socket.destroy();
    else if (now - c.activeAt >= idleTimeoutMs) {
      // Idle (or, while draining, quiet): an orderly close, after what is already written.
      if (draining.has(c.socket)) c.socket.end();
      else c.socket.destroy();
    }
  }
}

/** How often deadlines are checked: a fifth of the shortest, within 20 ms to 1 s. */
const tickOf = (limits: TcpLimits): number =>
  Math.min(1000, Math.max(20, Math.min(limits.messageTimeoutMs, limits.idleTimeoutMs) / 5));

/** A running TCP listener. */
export interface TcpListener {
  readonly server: net.Server;
  /** Applies new limits, to the connections open and to accepting. */
  setLimits(limits: TcpLimits): void;
  /** Stops accepting and closes every open connection. */
  close(): Promise<void>;
}

/** Connections being closed: their idle timeout ends them instead of cutting them. */
const draining = new WeakSet<net.Socket>();

/** Starts a TCP DNS listener. */
export async function listenTcp(options: TcpListenerOptions): Promise<TcpListener> {
  const connections = new Set<Connection>();
  const budget = options.budget ?? new ConnectionBudget();
  const state: ListenerState = {
    options,
    limits: {
      idleTimeoutMs: options.idleTimeoutMs ?? DEFAULT_LIMITS.idleTimeoutMs,
      messageTimeoutMs: options.messageTimeoutMs ?? DEFAULT_LIMITS.messageTimeoutMs,
      maxConnections: options.maxConnections ?? DEFAULT_LIMITS.maxConnections,
      maxPerSource: options.maxPerSource ?? DEFAULT_LIMITS.maxPerSource,
      outputLimit: options.outputLimit ?? DEFAULT_LIMITS.outputLimit,
    },
    now: options.now?.() ?? performance.now(),
  };
  let ticker: NodeJS.Timeout | undefined;
  const startTicker = (): void => {
    clearInterval(ticker);
    ticker = setInterval(sweep, tickOf(state.limits), state, connections);
    ticker.unref();
  };
  const server = net.createServer((socket) => {
    const { limits } = state;
    const source = sourceKey(socket.remoteAddress ?? '');
    if (budget.from(source) >= limits.maxPerSource) {
      socket.destroy();
      return;
    }
    if (budget.open >= limits.maxConnections) {
      const victim = budget.victim(state.now, limits.messageTimeoutMs);
      if (victim === undefined) {
        socket.destroy();
        return;
      }
      budget.delete(victim);
      victim.socket.destroy();
    }
    const c = new Connection(socket, state, source);
    budget.add(c);
    connections.add(c);
    socket.on('close', () => {
      budget.delete(c);
      connections.delete(c);
      c.stream = undefined;
      c.pending = undefined;
    });
    serveConnection(c);
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
  startTicker();
  return {
    server,
    setLimits(next) {
      state.limits = next;
      startTicker();
    },
    close: () =>
      new Promise<void>((resolve) => {
        // Drain (RFC 7766 lets either side close): accept nothing new, answer what the
        // clients already sent, end each connection once it has been quiet for a moment,
        // and cut whatever is still open at the deadline.
        const deadline = setTimeout(() => {
          for (const c of connections) c.socket.destroy();
        }, DRAIN_DEADLINE_MS);
        server.close(() => {
          clearTimeout(deadline);
          clearInterval(ticker);
          resolve();
        });
        for (const c of connections) {
          draining.add(c.socket);
          c.socket.setTimeout(DRAIN_IDLE_MS, () => c.socket.end());
        }
      }),
  };
}
