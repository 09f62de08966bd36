import type { AddressInfo } from 'node:net';
import { hostPort } from '../lib/ip.js';
import type { TcpListener } from './tcp.js';
import type { UdpSocket } from './udp-engine.js';

/** UDP and TCP bound on one port. */
export interface ListenPair {
  readonly udp: UdpSocket;
  readonly tcp: TcpListener;
}

/** How {@link listenPair} binds: each function binds one socket on `port` of the listen address. */
export interface PairOptions {
  readonly host: string;
  readonly port: number;
  readonly udp: (port: number) => Promise<UdpSocket>;
  readonly tcp: (port: number) => Promise<TcpListener>;
  /** With port 0, UDP ports tried before giving up. @default 20 */
  readonly attempts?: number;
}

/**
 * Binds UDP, then TCP on the port UDP got: an operator expects one port for both. With port
 * 0 the system chooses the UDP port; when that port is taken for TCP (EADDRINUSE), the UDP
 * socket is closed and a new port 0 tried, at most `attempts` times. Rejects with the UDP
 * socket closed; the error of a port-0 address that found no port has code EADDRINUSE.
 */
export async function listenPair(options: PairOptions): Promise<ListenPair> {
  const attempts = options.attempts ?? 20;
  for (let attempt = 1; ; attempt++) {
    const udp = await options.udp(options.port);
    try {
      return { udp, tcp: await options.tcp(udp.address().port) };
    } catch (error) {
      await new Promise<void>((resolve) => {
        udp.close(resolve);
      });
      const taken = (error as { code?: unknown }).code === 'EADDRINUSE';
      if (options.port !== 0 || !taken) throw error;
      if (attempt >= attempts)
        throw Object.assign(
          new Error(
            `${hostPort(options.host, 0)}: no port free for both UDP and TCP in ${attempts} attempts (each port the system chose for UDP was taken for TCP)`,
            { cause: error },
          ),
          { code: 'EADDRINUSE' },
        );
    }
  }
}

/** `host:port` (`[v6]:port`) of a bound socket. */
export function boundAddress(address: AddressInfo): string {
  return hostPort(address.address, address.port);
}
