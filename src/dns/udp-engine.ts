import type { AddressInfo } from 'node:net';
import type { ErrorReporter, PacketHandler } from './transport.js';

/** The UDP engines, as `dns.udpEngine` names them (`auto` picks one of them). */
export type UdpEngineName = 'dgram' | 'batched';

/** Options of a UDP listener. */
export interface UdpListenerOptions {
  readonly host: string;
  readonly port: number;
  /**
   * Answers one datagram, synchronously. `msg` is valid only until the handler returns (the
   * batched engine reuses its memory for the next batch): keep a copy, never the Buffer.
   */
  readonly handler: PacketHandler;
  readonly onError: ErrorReporter;
  /**
   * Bind with SO_REUSEPORT, so that every worker of a node binds its own socket on the same
   * port and the kernel spreads the datagrams. Only the batched engine uses it (dgram sockets
   * of cluster workers share one handle). @default false
   */
  readonly reusePort?: boolean;
}

/** A bound UDP listener: what the DNS server needs of it. `node:dgram`'s Socket is one. */
export interface UdpSocket {
  /** The address it is bound to; throws once closed. */
  address(): AddressInfo;
  /** Stops receiving and frees the socket; `callback` runs once it is closed. */
  close(callback?: () => void): void;
}

/**
 * A way to receive UDP queries and send their replies. Implementations must answer every
 * datagram synchronously with `handler`, send its reply (or replies) to the datagram's
 * source from the address it was sent to, survive a handler that throws (report it with
 * `onError` and answer SERVFAIL, see `servfailFor`), and reject `listen` with the system's
 * error code (EADDRINUSE, EADDRNOTAVAIL) when the address cannot be bound.
 */
export interface UdpEngine {
  readonly name: UdpEngineName;
  /** Why this engine cannot run in this process, or undefined when it can. */
  unavailable(): string | undefined;
  listen(options: UdpListenerOptions): Promise<UdpSocket>;
}
