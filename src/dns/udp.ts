import dgram from 'node:dgram';
import { servfailFor } from './transport.js';
import type { UdpEngine, UdpListenerOptions } from './udp-engine.js';

export type { UdpListenerOptions } from './udp-engine.js';

/**
 * The socket's address lookup. Every address it is given is an IP literal (the listen
 * address, and the source address of the query a reply answers); the default, dns.lookup,
 * would check that with a regular expression and defer every send to the next tick.
 */
function literalLookup(family: 4 | 6) {
  return (
    address: string,
    _options: unknown,
    callback: (error: null, address: string, family: number) => void,
  ): void => {
    callback(null, address, family);
  };
}

/**
 * Binds a UDP socket and answers each datagram synchronously. In a cluster worker the
 * socket is shared with the other workers (Node's cluster hands out one handle).
 */
export async function listenUdp(options: UdpListenerOptions): Promise<dgram.Socket> {
  const type = options.host.includes(':') ? 'udp6' : 'udp4';
  const socket = dgram.createSocket({
    type,
    ipv6Only: type === 'udp6',
    recvBufferSize: 4 << 20,
    lookup: literalLookup(type === 'udp6' ? 6 : 4),
  });
  socket.on('message', (msg, remote) => {
    let reply: Buffer | Iterable<Buffer> | undefined;
    try {
      reply = options.handler(msg, 'udp', remote.address);
    } catch (error) {
      options.onError(error, 'udp');
      reply = servfailFor(msg);
    }
    if (reply === undefined) return;
    if (Buffer.isBuffer(reply)) {
      socket.send(reply, remote.port, remote.address);
    } else {
      for (const part of reply) socket.send(part, remote.port, remote.address);
    }
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ address: options.host, port: options.port }, () => {
      socket.off('error', reject);
      socket.on('error', (error) => {
        options.onError(error, 'udp');
      });
      resolve();
    });
  });
  return socket;
}

/** `node:dgram`: one receive and one send system call per datagram; runs everywhere. */
export const dgramEngine: UdpEngine = {
  name: 'dgram',
  unavailable: () => undefined,
  listen: listenUdp,
};
