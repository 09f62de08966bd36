/**
 * The DSSP wire format (seed 003's distributed site state protocol, docs/sites.md). One
 * frame per TCP connection, answered with one byte ({@link Ack}):
 *
 * ```
 * u32 length (of everything after it)
 * 'DSP1' (4 bytes) | u8 version = 1 | u8 key id length | key id (ASCII)
 * body: canonical JSON (lib/canonical-json.ts), UTF-8
 * HMAC-SHA256 (32 bytes) over everything from 'DSP1' to the end of the body
 * ```
 *
 * The key id names which shared key signed it (keys can be rolled: a site accepts every
 * key it has). Nothing of the body is parsed before the MAC verifies; a body that is not
 * its own canonical encoding is malformed.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { canonicalJson } from '../lib/canonical-json.js';

export const DSSP_MAGIC = Buffer.from('DSP1', 'latin1');
export const DSSP_VERSION = 1;
/** Largest frame, length field included: 8 peers with dozens of VIPs per name fit easily. */
export const MAX_FRAME_BYTES = 262_144;
const MAC_BYTES = 32;

/** The receiver's one-byte answer. */
export const Ack = { ACCEPTED: 0, REJECTED: 1 } as const;

/** Why a frame was dropped before its body was read. */
export type FrameFailure =
  'truncated' | 'oversize' | 'bad-magic' | 'bad-version' | 'unknown-key' | 'bad-mac' | 'malformed';

/** The outcome of {@link decodeFrame}. */
export type FrameDecoded =
  | { readonly ok: true; readonly keyId: string; readonly body: unknown }
  | { readonly ok: false; readonly reason: FrameFailure };

const mac = (key: Buffer, signed: Buffer): Buffer =>
  createHmac('sha256', key).update(signed).digest();

/** The frame of `body` signed with `key` under `keyId` (1-255 ASCII characters). */
export function encodeFrame(keyId: string, key: Buffer, body: unknown): Buffer {
  const id = Buffer.from(keyId, 'latin1');
  if (id.length < 1 || id.length > 255) throw new RangeError('DSSP key id: 1-255 characters');
  const text = Buffer.from(canonicalJson(body), 'utf8');
  const signed = Buffer.concat([DSSP_MAGIC, Buffer.from([DSSP_VERSION, id.length]), id, text]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(signed.length + MAC_BYTES);
  return Buffer.concat([length, signed, mac(key, signed)]);
}

/**
 * Checks and opens one whole frame (length field included). `keys` are the shared keys by
 * key id. Fails with the first reason found: framing, then MAC, then the body's encoding.
 */
export function decodeFrame(frame: Buffer, keys: ReadonlyMap<string, Buffer>): FrameDecoded {
  if (frame.length > MAX_FRAME_BYTES) return { ok: false, reason: 'oversize' };
  if (frame.length < 4 || frame.readUInt32BE(0) !== frame.length - 4)
    return { ok: false, reason: 'truncated' };
  const idStart = 4 + DSSP_MAGIC.length + 2;
  if (frame.length < idStart + MAC_BYTES) return { ok: false, reason: 'truncated' };
  if (!frame.subarray(4, 4 + DSSP_MAGIC.length).equals(DSSP_MAGIC))
    return { ok: false, reason: 'bad-magic' };
  if (frame[4 + DSSP_MAGIC.length] !== DSSP_VERSION) return { ok: false, reason: 'bad-version' };
  const idEnd = idStart + frame[idStart - 1]!;
  if (frame.length < idEnd + MAC_BYTES) return { ok: false, reason: 'truncated' };
  const keyId = frame.subarray(idStart, idEnd).toString('latin1');
  const key = keys.get(keyId);
  if (!key) return { ok: false, reason: 'unknown-key' };
  const signed = frame.subarray(4, frame.length - MAC_BYTES);
  if (!timingSafeEqual(mac(key, signed), frame.subarray(frame.length - MAC_BYTES)))
    return { ok: false, reason: 'bad-mac' };
  return openBody(keyId, frame.subarray(idEnd, frame.length - MAC_BYTES));
}

function openBody(keyId: string, bytes: Buffer): FrameDecoded {
  const text = bytes.toString('utf8');
  try {
    const body: unknown = JSON.parse(text);
    if (canonicalJson(body) !== text) return { ok: false, reason: 'malformed' };
    return { ok: true, keyId, body };
  } catch {
    return { ok: false, reason: 'malformed' };
  }
}

/**
 * Collects the bytes of one frame from a stream. `push` answers the whole frame once it is
 * in, `oversize` as soon as the length field says too much, undefined while waiting.
 */
export class FrameCollector {
  private chunks: Buffer[] = [];
  private size = 0;

  push(chunk: Buffer): Buffer | 'oversize' | undefined {
    this.chunks.push(chunk);
    this.size += chunk.length;
    if (this.size < 4) return undefined;
    const head = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    this.chunks = [head];
    const wanted = head.readUInt32BE(0) + 4;
    if (wanted > MAX_FRAME_BYTES) return 'oversize';
    return head.length >= wanted ? head.subarray(0, wanted) : undefined;
  }
}
