import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  authentic,
  encodeFrame,
  FrameReader,
  FrameType,
  greeting,
  greetingNonce,
  HEADER_BYTES,
} from './peer-frame.js';

const KEY = Buffer.alloc(32, 1);
const NONCE = Buffer.alloc(16, 2);
const payload = Buffer.from('{"table":"persistence","rows":[]}');
const frame = encodeFrame(
  KEY,
  NONCE,
  { type: FrameType.batch, seq: 2 ** 33 + 5, sentAt: 1234.5 },
  payload,
);

test('a frame reads back whole, in any chunking, with its fields', () => {
  for (const size of [1, 7, HEADER_BYTES, frame.length]) {
    const reader = new FrameReader(1024);
    const frames = [];
    for (let i = 0; i < frame.length * 2; i += size) {
      const out = reader.push(Buffer.concat([frame, frame]).subarray(i, i + size));
      assert.notEqual(out, 'oversize');
      if (out !== 'oversize') frames.push(...out);
    }
    assert.equal(frames.length, 2, `chunks of ${size}`);
    const [first] = frames;
    assert.equal(first!.type, FrameType.batch);
    assert.equal(first!.seq, 2 ** 33 + 5);
    assert.equal(first!.sentAt, 1234.5);
    assert.deepEqual(first!.payload, payload);
    assert.ok(authentic(KEY, NONCE, first!));
  }
});

test('authentic: only with the key and the nonce it was made for, and unaltered', () => {
  const read = (bytes: Buffer) => {
    const out = new FrameReader(1024).push(bytes);
    assert.ok(out !== 'oversize' && out.length === 1);
    return out[0]!;
  };
  const rows: [string, Buffer, Buffer, Buffer, boolean][] = [
    ['as made', KEY, NONCE, frame, true],
    ['another key', Buffer.alloc(32, 9), NONCE, frame, false],
    ['another connection (nonce)', KEY, Buffer.alloc(16, 3), frame, false],
    [
      'a payload byte changed',
      KEY,
      NONCE,
      Buffer.concat([frame.subarray(0, -1), Buffer.from('x')]),
      false,
    ],
    ['the sequence changed', KEY, NONCE, Buffer.from(frame).fill(0, 9, 13), false],
  ];
  for (const [name, key, nonce, bytes, want] of rows)
    assert.equal(authentic(key, nonce, read(bytes)), want, name);
});

test('a length above the bound (or below a header) is oversize, not a wait', () => {
  assert.equal(new FrameReader(64).push(frame), 'oversize');
  const tiny = Buffer.alloc(8);
  tiny.writeUInt32BE(3, 0);
  assert.equal(new FrameReader(1024).push(tiny), 'oversize');
});

test('greeting: magic and nonce', () => {
  assert.deepEqual(greetingNonce(greeting(NONCE)), NONCE);
  assert.equal(greetingNonce(Buffer.concat([Buffer.from('HTTP'), NONCE])), undefined);
});
