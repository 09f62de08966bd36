import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeFrame, encodeFrame, FrameCollector, MAX_FRAME_BYTES } from './frame.js';

const KEY = Buffer.alloc(32, 7);
const KEYS = new Map([['k1', KEY]]);
const BODY = { sender: 'A', names: [{ name: 'www.example.org.', order: ['B', 'C'] }], n: 1 };

test('a frame decodes to its body under the key id that signed it', () => {
  const frame = encodeFrame('k1', KEY, BODY);
  assert.deepEqual(decodeFrame(frame, KEYS), { ok: true, keyId: 'k1', body: BODY });
});

test('the body is canonical JSON: the same value in another key order is the same frame', () => {
  const reordered = { n: 1, names: [{ order: ['B', 'C'], name: 'www.example.org.' }], sender: 'A' };
  assert.deepEqual(encodeFrame('k1', KEY, reordered), encodeFrame('k1', KEY, BODY));
});

test('forged, truncated and malformed frames are dropped with their reason', () => {
  const frame = encodeFrame('k1', KEY, BODY);
  const flip = (at: number): Buffer => {
    const copy = Buffer.from(frame);
    copy[at] = copy[at]! ^ 1;
    return copy;
  };
  const bodyAt = 4 + 4 + 2 + 2;
  const cases: [string, Buffer, string][] = [
    ['a flipped body byte', flip(bodyAt + 3), 'bad-mac'],
    ['a flipped MAC byte', flip(frame.length - 1), 'bad-mac'],
    ['another key', encodeFrame('k1', Buffer.alloc(32, 8), BODY), 'bad-mac'],
    ['an unknown key id', encodeFrame('k2', KEY, BODY), 'unknown-key'],
    ['cut short', frame.subarray(0, frame.length - 5), 'truncated'],
    ['only a length', frame.subarray(0, 4), 'truncated'],
    ['bad magic', flip(4), 'bad-magic'],
    ['version 2', flip(8), 'bad-version'],
  ];
  for (const [row, bytes, reason] of cases)
    assert.deepEqual(decodeFrame(bytes, KEYS), { ok: false, reason }, row);
});

test('a body that is not its own canonical encoding is malformed, even when signed', async () => {
  // Signed by a writer that does not sort its keys: the MAC holds, the encoding does not.
  const { createHmac } = await import('node:crypto');
  const text = Buffer.from('{"b":1,"a":2}');
  const signed = Buffer.concat([Buffer.from('DSP1'), Buffer.from([1, 2]), Buffer.from('k1'), text]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(signed.length + 32);
  const mac = createHmac('sha256', KEY).update(signed).digest();
  const frame = Buffer.concat([length, signed, mac]);
  assert.deepEqual(decodeFrame(frame, KEYS), { ok: false, reason: 'malformed' });
});

test('the collector waits for a whole frame and stops at an oversize length', () => {
  const frame = encodeFrame('k1', KEY, BODY);
  const collector = new FrameCollector();
  assert.equal(collector.push(frame.subarray(0, 2)), undefined);
  assert.equal(collector.push(frame.subarray(2, 20)), undefined);
  assert.deepEqual(collector.push(frame.subarray(20)), frame);
  const huge = Buffer.alloc(4);
  huge.writeUInt32BE(MAX_FRAME_BYTES);
  assert.equal(new FrameCollector().push(huge), 'oversize');
});
