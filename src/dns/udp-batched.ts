import type { AddressInfo } from 'node:net';
import { formatAddress, parseAddress } from '../lib/ip.js';
import { loadUdpAddon, type UdpAddon } from './udp-addon.js';
import {
  answerBatch,
  createBatchView,
  createReplyQueue,
  type BatchView,
  type ReplyQueue,
} from './udp-batch.js';
import type { UdpEngine, UdpListenerOptions, UdpSocket } from './udp-engine.js';

/** Datagrams per recvmmsg. A batch is what is waiting: the addon never waits to fill one. */
const BATCH = 64;
/** Bytes per datagram: any UDP payload. Pages the kernel never writes cost no memory. */
const SLOT = 65_536;
/** Replies per sendmmsg call (more are sent in several calls). */
const REPLIES = 256;
/** SO_RCVBUF asked for, as on the dgram path (the system caps it at net.core.rmem_max). */
const RECEIVE_BUFFER = 4 << 20;

/** Counters of one batched socket since it was bound. */
export interface BatchedStats {
  readonly batches: number;
  readonly datagrams: number;
  /** Datagrams longer than a slot, dropped by the addon. */
  readonly tooLong: number;
  /** Replies the system did not take (socket buffer full, unreachable). */
  readonly sendErrors: number;
}

/** A UDP socket of the addon: datagrams in batches of up to {@link BATCH}, replies in one sendmmsg. */
export class BatchedSocket implements UdpSocket {
  private readonly view: BatchView = createBatchView(BATCH, SLOT);
  private readonly queue: ReplyQueue = createReplyQueue(REPLIES);
  private readonly handle: object = {};
  private closed = false;
  private readonly host: string;
  private readonly boundPort: number;
  private readonly addon: UdpAddon;

  constructor(addon: UdpAddon, options: UdpListenerOptions) {
    this.addon = addon;
    const bytes = parseAddress(options.host);
    this.host = bytes === undefined ? options.host : formatAddress(bytes);
    const send = (replies: readonly Buffer[], slots: Uint32Array, count: number): void => {
      addon.sendBatch(this.handle, replies, slots, count);
    };
    const { handler, onError } = options;
    const onBatch = (count: number): void => {
      answerBatch(this.view, count, handler, onError, this.queue, send);
    };
    const { buffer, meta, addresses } = this.view;
    addon.open(
      options.host,
      options.port,
      BATCH,
      SLOT,
      RECEIVE_BUFFER,
      options.reusePort === true ? 1 : 0,
      [buffer, meta, addresses],
      onBatch,
      this.handle,
    );
    this.boundPort = addon.port(this.handle);
  }

  address(): AddressInfo {
    if (this.closed)
      throw Object.assign(new Error('Not running'), { code: 'ERR_SOCKET_DGRAM_NOT_RUNNING' });
    return {
      address: this.host,
      family: this.host.includes(':') ? 'IPv6' : 'IPv4',
      port: this.boundPort,
    };
  }

  close(callback?: () => void): void {
    if (!this.closed) {
      this.closed = true;
      this.addon.close(this.handle);
    }
    // The addon has closed the descriptor already; the callback runs later, as dgram's does.
    if (callback) setImmediate(callback);
  }

  /** Counters since the socket was bound. */
  stats(): BatchedStats {
    const [batches, datagrams, tooLong, sendErrors] = this.addon.stats(this.handle);
    return { batches, datagrams, tooLong, sendErrors };
  }
}

/**
 * The UDP addon (native/udp): recvmmsg and sendmmsg on Node's event loop, replies from the
 * address that was asked (IP_PKTINFO). Linux only, and only once `npm run build` built it.
 */
export const batchedEngine: UdpEngine = {
  name: 'batched',
  unavailable: () => loadUdpAddon().reason,
  // async: a bind error (thrown by the addon, with its code) becomes the rejection.
  // eslint-disable-next-line @typescript-eslint/require-await
  listen: async (options) => {
    const { addon, reason } = loadUdpAddon();
    if (addon === undefined) throw new Error(`the batched UDP engine cannot run: ${reason}`);
    return new BatchedSocket(addon, options);
  },
};
