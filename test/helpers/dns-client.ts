import { createSocket } from 'node:dgram';
import { connect, isIPv6 } from 'node:net';
import type { Socket } from 'node:net';
import { decodeReply, encodeQuery } from './dns-wire.js';
import type { DecodedReply, QuerySpec } from './dns-wire.js';

/**
 * A small DNS client for tests, independent of src/dns (it encodes and decodes with the
 * `dns-packet` package, see dns-wire.ts). Every call opens its own socket and closes it
 * before settling.
 */

export * from './dns-wire.js';

/** Where a server listens. `host` is an IP literal; IPv6 may be given with or without []. */
export interface ServerAddress {
  readonly host: string;
  readonly port: number;
}

/** How to send. */
export interface TransportOptions {
  /** @default 'udp' */
  readonly transport?: 'udp' | 'tcp';
  /** How long to wait for the reply. @default 2000 */
  readonly timeoutMs?: number;
}

/** Thrown by {@link query} when no reply arrives in time. */
export class DnsTimeoutError extends Error {
  readonly code = 'DNS_CLIENT_TIMEOUT';
}

const DEFAULT_TIMEOUT_MS = 2000;

const bareHost = (host: string): string => host.replace(/^\[(.*)\]$/, '$1');

/** Prefixes a message with its two-octet length (RFC 1035 4.2.2). */
export function frame(message: Uint8Array): Buffer {
  if (message.length > 0xffff) throw new Error('dns-client: message longer than 65535 octets');
  const prefix = Buffer.alloc(2);
  prefix.writeUInt16BE(message.length);
  return Buffer.concat([prefix, message]);
}

/** Sends one datagram; resolves the first datagram `accept` takes, or undefined on timeout. */
function udpExchange(
  server: ServerAddress,
  bytes: Uint8Array,
  timeoutMs: number,
  accept: (msg: Buffer) => boolean,
): Promise<Buffer | undefined> {
  const host = bareHost(server.host);
  const socket = createSocket(isIPv6(host) ? 'udp6' : 'udp4');
  return new Promise<Buffer | undefined>((resolve, reject) => {
    const finish = (err: Error | undefined, msg?: Buffer): void => {
      clearTimeout(timer);
      socket.removeAllListeners('message');
      socket.close(() => {
        if (err) reject(err);
        else resolve(msg);
      });
    };
    const timer = setTimeout(() => {
      finish(undefined);
    }, timeoutMs);
    socket.on('error', (err) => {
      finish(err);
    });
    socket.on('message', (msg, rinfo) => {
      if (rinfo.port === server.port && accept(msg)) finish(undefined, msg);
    });
    socket.send(bytes, server.port, host, (err) => {
      if (err) finish(err);
    });
  });
}

/** Sends one framed message over a new TCP connection; resolves the first reply frame. */
async function tcpExchange(
  server: ServerAddress,
  bytes: Uint8Array,
  timeoutMs: number,
): Promise<Buffer | undefined> {
  const session = await tcpSession(server, { connectTimeoutMs: timeoutMs });
  try {
    await session.write(frame(bytes));
    return await session.nextReply(timeoutMs);
  } finally {
    await session.close();
  }
}

/**
 * Sends a query and decodes the reply (with the same id). Rejects with
 * {@link DnsTimeoutError} when none arrives, or when a TCP server closes without one.
 * @example await query({ host: '127.0.0.1', port }, { name: 'www.example.org', type: 'A' })
 */
export async function query(
  server: ServerAddress,
  spec: QuerySpec,
  opts: TransportOptions = {},
): Promise<DecodedReply> {
  const bytes = encodeQuery(spec);
  const id = bytes.readUInt16BE(0);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const transport = opts.transport ?? 'udp';
  const raw =
    transport === 'tcp'
      ? await tcpExchange(server, bytes, timeoutMs)
      : await udpExchange(
          server,
          bytes,
          timeoutMs,
          (m) => m.length >= 2 && m.readUInt16BE(0) === id,
        );
  if (!raw) {
    throw new DnsTimeoutError(
      `dns-client: no ${transport} reply from ${server.host}:${server.port} to ${spec.name} ${String(spec.type)} within ${timeoutMs} ms`,
    );
  }
  return decodeReply(raw);
}

/**
 * Sends arbitrary bytes (framed with a length prefix over TCP) and resolves the first reply
 * as raw bytes, or undefined when none arrives in time (or a TCP server closes without one).
 */
export async function sendRaw(
  server: ServerAddress,
  bytes: Uint8Array,
  opts: TransportOptions = {},
): Promise<Buffer | undefined> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (opts.transport === 'tcp') return tcpExchange(server, bytes, timeoutMs);
  return udpExchange(server, bytes, timeoutMs, () => true);
}

/** An open TCP connection to a server, for tests of framing, pipelining and idle handling. */
export interface TcpSession {
  /** Writes bytes as given: no length prefix is added. */
  write(bytes: Uint8Array): Promise<void>;
  /** Encodes a query, writes it with its length prefix, and returns its id. */
  send(spec: QuerySpec): Promise<number>;
  /** Resolves the next complete reply frame (without prefix), or undefined on timeout/close. */
  nextReply(timeoutMs?: number): Promise<Buffer | undefined>;
  /** Half-closes the connection (sends FIN); replies can still be read. */
  end(): Promise<void>;
  /** Resolves when the connection is closed, by either side. */
  closed(): Promise<void>;
  /** True once the connection is closed. */
  readonly isClosed: boolean;
  /** Closes the connection (idempotent). */
  close(): Promise<void>;
}

/** Opens a TCP connection; rejects if it cannot connect within `connectTimeoutMs`. */
export async function tcpSession(
  server: ServerAddress,
  opts: { readonly connectTimeoutMs?: number } = {},
): Promise<TcpSession> {
  const socket = await new Promise<Socket>((resolve, reject) => {
    const s = connect({ host: bareHost(server.host), port: server.port });
    const timer = setTimeout(() => {
      s.destroy();
      reject(new DnsTimeoutError(`dns-client: cannot connect to ${server.host}:${server.port}`));
    }, opts.connectTimeoutMs ?? DEFAULT_TIMEOUT_MS);
    s.once('connect', () => {
      clearTimeout(timer);
      s.removeAllListeners('error');
      resolve(s);
    });
    s.once('error', (err) => {
      clearTimeout(timer);
      s.destroy();
      reject(err);
    });
  });
  return new FramedSession(socket);
}

class FramedSession implements TcpSession {
  readonly #socket: Socket;
  readonly #frames: Buffer[] = [];
  readonly #waiters: ((frame: Buffer | undefined) => void)[] = [];
  readonly #closed: Promise<void>;
  #pending: Buffer = Buffer.alloc(0);
  #isClosed = false;

  constructor(socket: Socket) {
    this.#socket = socket;
    socket.setNoDelay(true);
    // Errors (such as a reset by the server) are seen as the connection closing.
    socket.on('error', () => undefined);
    socket.on('data', (chunk) => {
      this.#onData(chunk);
    });
    this.#closed = new Promise((resolve) => {
      socket.once('close', () => {
        this.#isClosed = true;
        for (const waiter of this.#waiters.splice(0)) waiter(undefined);
        resolve();
      });
    });
  }

  get isClosed(): boolean {
    return this.#isClosed;
  }

  #onData(chunk: Buffer): void {
    this.#pending = Buffer.concat([this.#pending, chunk]);
    while (this.#pending.length >= 2) {
      const len = this.#pending.readUInt16BE(0);
      if (this.#pending.length < 2 + len) break;
      const frame = this.#pending.subarray(2, 2 + len);
      this.#pending = this.#pending.subarray(2 + len);
      const waiter = this.#waiters.shift();
      if (waiter) waiter(frame);
      else this.#frames.push(frame);
    }
  }

  write(bytes: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#socket.write(bytes, (err) => {
        if (err) reject(err);
        else resolve();
      });
    });
  }

  async send(spec: QuerySpec): Promise<number> {
    const bytes = encodeQuery(spec);
    await this.write(frame(bytes));
    return bytes.readUInt16BE(0);
  }

  nextReply(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Buffer | undefined> {
    const ready = this.#frames.shift();
    if (ready) return Promise.resolve(ready);
    if (this.#isClosed) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const waiter = (frame: Buffer | undefined): void => {
        clearTimeout(timer);
        resolve(frame);
      };
      const timer = setTimeout(() => {
        const i = this.#waiters.indexOf(waiter);
        if (i >= 0) this.#waiters.splice(i, 1);
        resolve(undefined);
      }, timeoutMs);
      this.#waiters.push(waiter);
    });
  }

  end(): Promise<void> {
    // Settles on 'finish', or on 'close' when the connection goes first (the end callback
    // is never called then).
    return new Promise((resolve) => {
      this.#socket.end(() => {
        resolve();
      });
      void this.#closed.then(resolve);
    });
  }

  closed(): Promise<void> {
    return this.#closed;
  }

  async close(): Promise<void> {
    this.#socket.destroy();
    await this.#closed;
  }
}
