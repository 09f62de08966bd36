import { formatAddress } from '../lib/ip.js';
import { servfailFor, type ErrorReporter, type PacketHandler } from './transport.js';

/**
 * The memory a batch of datagrams arrives in, shared with the UDP addon
 * (native/udp/udp.c): datagram i at `buffer[i * slot]`, its length, source port and family
 * in `meta[i * META_FIELDS ...]`, its source address in `addresses[i * 16 ...]`.
 */
export interface BatchView {
  readonly batch: number;
  readonly slot: number;
  readonly buffer: Buffer;
  readonly meta: Uint32Array;
  readonly addresses: Uint8Array;
}

/** Fields of `meta` per datagram: length, source port, family (4 or 6), reserved. */
export const META_FIELDS = 4;

/** A view for `batch` datagrams of at most `slot` bytes each. */
export function createBatchView(batch: number, slot: number): BatchView {
  return {
    batch,
    slot,
    buffer: Buffer.allocUnsafeSlow(batch * slot),
    meta: new Uint32Array(batch * META_FIELDS),
    addresses: new Uint8Array(batch * 16),
  };
}

/** The source address of datagram `i` as text (`192.0.2.1`, `2001:db8::1`), or undefined if it has none. */
export function sourceAddress(view: BatchView, i: number): string | undefined {
  const family = view.meta[i * META_FIELDS + 2];
  const a = view.addresses;
  const at = i * 16;
  if (family === 4) return `${a[at]}.${a[at + 1]}.${a[at + 2]}.${a[at + 3]}`;
  if (family === 6) return formatAddress(a.subarray(at, at + 16), { mappedDotted: true });
  return undefined;
}

/** Where the replies of a batch are collected before one `send`: reply k answers datagram `slots[k]`. */
export interface ReplyQueue {
  readonly replies: Buffer[];
  readonly slots: Uint32Array;
}

/** A queue for up to `capacity` replies; a batch with more is sent in several calls of `send`. */
export function createReplyQueue(capacity: number): ReplyQueue {
  return { replies: [], slots: new Uint32Array(capacity) };
}

/** Sends `count` replies of the queue (reply k to the source of datagram `slots[k]`). */
export type SendReplies = (replies: readonly Buffer[], slots: Uint32Array, count: number) => void;

/**
 * Answers datagrams 0 to `count - 1` of `view` with `handler`, in order, and sends their
 * replies through `send` (once, or more when they do not fit in `queue`). What the addon
 * wrote is checked, not trusted: a count past the batch, a length past the slot or an
 * unknown family skips the datagram (a length of 0 is the addon's "dropped": too long).
 * A handler that throws is reported and answered SERVFAIL, as on the dgram path.
 * Returns how many datagrams were answered.
 */
export function answerBatch(
  view: BatchView,
  count: number,
  handler: PacketHandler,
  onError: ErrorReporter,
  queue: ReplyQueue,
  send: SendReplies,
): number {
  const n = Math.min(count, view.batch);
  const capacity = queue.slots.length;
  const { replies, slots } = queue;
  replies.length = 0;
  let answered = 0;
  const add = (reply: Buffer, i: number): void => {
    if (replies.length === capacity) {
      send(replies, slots, replies.length);
      replies.length = 0;
    }
    slots[replies.length] = i;
    replies.push(reply);
  };
  for (let i = 0; i < n; i++) {
    const length = view.meta[i * META_FIELDS]!;
    if (length === 0 || length > view.slot) continue;
    const address = sourceAddress(view, i);
    if (address === undefined) continue;
    const start = i * view.slot;
    const msg = view.buffer.subarray(start, start + length);
    let reply: Buffer | Iterable<Buffer> | undefined;
    try {
      reply = handler(msg, 'udp', address);
    } catch (error) {
      onError(error, 'udp');
      reply = servfailFor(msg);
    }
    answered++;
    if (reply === undefined) continue;
    if (Buffer.isBuffer(reply)) add(reply, i);
    else for (const part of reply) add(part, i);
  }
  if (replies.length > 0) send(replies, slots, replies.length);
  replies.length = 0;
  return answered;
}
