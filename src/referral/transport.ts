/**
 * Map messages over TCP: one message per connection, a two-byte length before it, one
 * byte back ({@link Ack}). A receiver never waits long on a sender: the whole message must
 * arrive within `timeoutMs`, and a length over {@link MAX_MAP_BYTES} closes the connection.
 */
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { hostPort } from '../lib/ip.js';
import { Ack, MAX_MAP_BYTES } from './message.js';

/** Sends one message to `host:port`; resolves true when it was accepted. Never rejects. */
export function sendMapMessage(
  host: string,
  port: number,
  message: Buffer,
  timeoutMs = 2000,
): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => {
      done(false);
    });
    socket.once('error', () => {
      done(false);
    });
    socket.once('connect', () => {
      const length = Buffer.alloc(2);
      length.writeUInt16BE(message.length);
      socket.end(Buffer.concat([length, message]));
    });
    socket.once('data', (reply) => {
      done(reply[0] === Ack.ACCEPTED);
    });
    socket.once('end', () => {
      done(false);
    });
  });
}

/** A map listener: where it is bound, and how to stop it. */
export interface MapListener {
  readonly address: string;
  close(): Promise<void>;
}

/**
 * Listens for map messages on `host:port` (port 0: the system chooses). `handle` gets
 * each message's bytes and the sender's address and says whether it was accepted; a
 * connection that sends no whole message in time, or too much, is closed unanswered and
 * reported to `onFraming` (counted as malformed by the caller).
 */
export async function listenMap(
  host: string,
  port: number,
  handle: (bytes: Buffer, from: string) => boolean,
  onFraming: () => void,
  timeoutMs = 2000,
): Promise<MapListener> {
  const open = new Set<Socket>();
  const server = createServer((socket) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
    receive(socket, handle, onFraming, timeoutMs);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  return { address: hostPort(bound.address, bound.port), close: () => closeServer(server, open) };
}

function receive(
  socket: Socket,
  handle: (bytes: Buffer, from: string) => boolean,
  onFraming: () => void,
  timeoutMs: number,
): void {
  let chunks: Buffer[] = [];
  let received = 0;
  let answered = false;
  const fail = (): void => {
    if (answered) return;
    answered = true;
    onFraming();
    socket.destroy();
  };
  socket.setTimeout(timeoutMs, fail);
  socket.on('error', () => socket.destroy());
  socket.on('data', (chunk) => {
    if (answered) return;
    chunks.push(chunk);
    received += chunk.length;
    const all = chunks.length === 1 ? chunk : Buffer.concat(chunks);
    chunks = [all];
    if (all.length < 2) return;
    const length = all.readUInt16BE(0);
    if (length > MAX_MAP_BYTES || received > 2 + length) {
      fail();
      return;
    }
    if (all.length < 2 + length) return;
    answered = true;
    const ok = handle(all.subarray(2, 2 + length), socket.remoteAddress ?? '');
    socket.end(Buffer.from([ok ? Ack.ACCEPTED : Ack.REJECTED]));
  });
  socket.on('end', () => {
    if (!answered) fail();
  });
}

function closeServer(server: Server, open: ReadonlySet<Socket>): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => {
      resolve();
    });
    for (const socket of open) socket.destroy();
  });
}
