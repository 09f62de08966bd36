/**
 * Site lists by multicast (seed 002: the DNS-B "forwards the site list to its DNS-LBs,
 * multicast to all or unicast"): one datagram per list to an IPv4 group, the same signed
 * map message as over TCP (so the same MAC check and replay guard at every DNS-LB), with
 * no acknowledgement: a lost datagram is made good by the owner's next periodic list.
 */
import { createSocket, type Socket } from 'node:dgram';
import { hostPort } from '../lib/ip.js';

/** A group and the interface it is sent and joined on (`referral.*.multicast`). */
export interface MulticastGroup {
  readonly host: string;
  readonly port: number;
  /** An IPv4 address of the interface; undefined: the kernel's choice by its routes. */
  readonly interface: string | undefined;
}

/** Sends map messages to a group. */
export class MulticastSender {
  private readonly socket: Socket;
  private readonly group: MulticastGroup;

  private constructor(socket: Socket, group: MulticastGroup) {
    this.socket = socket;
    this.group = group;
  }

  static async open(group: MulticastGroup, ttl: number): Promise<MulticastSender> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, group.interface, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    if (group.interface !== undefined) socket.setMulticastInterface(group.interface);
    socket.setMulticastTTL(ttl);
    // DNS-LBs on this host (and tests on loopback) hear it too.
    socket.setMulticastLoopback(true);
    return new MulticastSender(socket, group);
  }

  /** Resolves false when the kernel refused the datagram. Never rejects. */
  send(message: Buffer): Promise<boolean> {
    return new Promise((resolve) => {
      this.socket.send(message, this.group.port, this.group.host, (error) => {
        resolve(!error);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.socket.close(() => {
        resolve();
      });
    });
  }
}

/** A joined group: where it is bound, and how to leave it. */
export interface MulticastListener {
  readonly address: string;
  close(): Promise<void>;
}

/**
 * Joins `group` and hands every datagram to `handle` with its sender's address. Bound to
 * the group address with reuseAddr: several DNS-LBs on one host share the port.
 */
export async function listenMulticast(
  group: MulticastGroup,
  handle: (bytes: Buffer, from: string) => void,
): Promise<MulticastListener> {
  const socket = createSocket({ type: 'udp4', reuseAddr: true });
  socket.on('message', (bytes, from) => {
    handle(bytes, from.address);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(group.port, group.host, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  try {
    socket.addMembership(group.host, group.interface);
  } catch (error) {
    socket.close();
    throw new Error(
      `cannot join ${group.host} on ${group.interface ?? 'the default interface'}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  const bound = socket.address();
  return {
    address: hostPort(bound.address, bound.port),
    close: () =>
      new Promise((resolve) => {
        socket.close(() => {
          resolve();
        });
      }),
  };
}
