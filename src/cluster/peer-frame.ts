import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The wire format of the link between nodes (persistence entries, `peer-link.ts`).
 *
 * The listener opens every connection with a greeting: `SDR1` and a 16-byte random nonce,
 * new for each connection. The dialer then sends frames, the first a hello:
 *
 * ```
 * u32 length (of everything after it) | u8 type | u64 seq | f64 sentAt (ms) | 32-byte MAC | payload
 * ```
 *
 * MAC = HMAC-SHA256(key, CONTEXT | nonce | type | seq | sentAt | payload): the bytes as sent,
 * bound to the listener's nonce. A frame replayed on another connection fails the MAC (the
 * nonce differs); one replayed on the same connection fails the sequence (0, 1, 2, ... with
 * no gap). The payload is JSON.
 */

/** Starts the listener's greeting. */
export const GREETING_MAGIC = Buffer.from('SDR1', 'latin1');
export const NONCE_BYTES = 16;
export const GREETING_BYTES = GREETING_MAGIC.length + NONCE_BYTES;
const CONTEXT = Buffer.from('steerdns replication 1\0', 'latin1');
const MAC_BYTES = 32;
/** type, seq and sentAt. */
const FIELDS_BYTES = 1 + 8 + 8;
/** From the length field to the payload. */
export const HEADER_BYTES = 4 + FIELDS_BYTES + MAC_BYTES;

/** What a frame carries. */
export const FrameType = { hello: 1, batch: 2, ping: 3 } as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

/** One frame as read (not yet checked). */
export interface Frame {
  readonly type: number;
  readonly seq: number;
  readonly sentAt: number;
  readonly payload: Buffer;
  /** The type, seq and sentAt bytes, and the MAC, as received. */
  readonly fields: Buffer;
  readonly mac: Buffer;
}

/** The listener's greeting with `nonce`. */
export function greeting(nonce: Buffer): Buffer {
  return Buffer.concat([GREETING_MAGIC, nonce]);
}

/** The nonce of a greeting, or undefined when it is not one. */
export function greetingNonce(bytes: Buffer): Buffer | undefined {
  if (bytes.length !== GREETING_BYTES) return undefined;
  if (!bytes.subarray(0, GREETING_MAGIC.length).equals(GREETING_MAGIC)) return undefined;
  return Buffer.from(bytes.subarray(GREETING_MAGIC.length));
}

function mac(key: Buffer, nonce: Buffer, fields: Buffer, payload: Buffer): Buffer {
  return createHmac('sha256', key)
    .update(CONTEXT)
    .update(nonce)
    .update(fields)
    .update(payload)
    .digest();
}

/** A frame for the connection whose listener sent `nonce`. */
export function encodeFrame(
  key: Buffer,
  nonce: Buffer,
  frame: { readonly type: FrameType; readonly seq: number; readonly sentAt: number },
  payload: Buffer,
): Buffer {
  const out = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
  out.writeUInt32BE(HEADER_BYTES - 4 + payload.length, 0);
  out.writeUInt8(frame.type, 4);
  out.writeUInt32BE(Math.floor(frame.seq / 2 ** 32), 5);
  out.writeUInt32BE(frame.seq >>> 0, 9);
  out.writeDoubleBE(frame.sentAt, 13);
  const fields = out.subarray(4, 4 + FIELDS_BYTES);
  mac(key, nonce, fields, payload).copy(out, 4 + FIELDS_BYTES);
  payload.copy(out, HEADER_BYTES);
  return out;
}

/** True when `frame` was made with `key` for the connection of `nonce`. */
export function authentic(key: Buffer, nonce: Buffer, frame: Frame): boolean {
  return timingSafeEqual(mac(key, nonce, frame.fields, frame.payload), frame.mac);
}

/**
 * Cuts a byte stream into frames. Holds at most one frame of `maxFrameBytes` (header
 * included) plus one chunk: a length field above it is an error, not a wait.
 */
export class FrameReader {
  private buffer: Buffer = Buffer.alloc(0);
  private readonly maxFrameBytes: number;

  constructor(maxFrameBytes: number) {
    this.maxFrameBytes = maxFrameBytes;
  }

  /** Adds bytes; returns the complete frames, or `oversize` when a frame is too long. */
  push(chunk: Buffer): Frame[] | 'oversize' {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const frames: Frame[] = [];
    while (this.buffer.length >= 4) {
      const length = this.buffer.readUInt32BE(0);
      if (length + 4 > this.maxFrameBytes || length < HEADER_BYTES - 4) return 'oversize';
      if (this.buffer.length < length + 4) break;
      const bytes = this.buffer.subarray(0, length + 4);
      this.buffer = this.buffer.subarray(length + 4);
      frames.push({
        type: bytes.readUInt8(4),
        seq: bytes.readUInt32BE(5) * 2 ** 32 + bytes.readUInt32BE(9),
        sentAt: bytes.readDoubleBE(13),
        fields: bytes.subarray(4, 4 + FIELDS_BYTES),
        mac: bytes.subarray(4 + FIELDS_BYTES, HEADER_BYTES),
        payload: bytes.subarray(HEADER_BYTES),
      });
    }
    return frames;
  }
}
