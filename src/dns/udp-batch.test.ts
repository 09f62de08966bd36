import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  answerBatch,
  createBatchView,
  createReplyQueue,
  META_FIELDS,
  sourceAddress,
  type BatchView,
} from './udp-batch.js';
import type { PacketHandler } from './transport.js';

/** A view of `batch` slots of 16 bytes; datagram i says its index in its first byte. */
function viewWith(
  rows: readonly { length: number; family: number; address?: readonly number[] }[],
): BatchView {
  const view = createBatchView(4, 16);
  rows.forEach((row, i) => {
    view.buffer.fill(i, i * 16, i * 16 + 16);
    view.meta[i * META_FIELDS] = row.length;
    view.meta[i * META_FIELDS + 1] = 5300 + i;
    view.meta[i * META_FIELDS + 2] = row.family;
    view.addresses.set(row.address ?? [192, 0, 2, i], i * 16);
  });
  return view;
}

interface Sent {
  readonly replies: string[];
  readonly slots: number[];
}

/** Runs answerBatch with a handler that echoes "index:length:address"; returns the sends. */
function run(view: BatchView, count: number, capacity = 8, handler?: PacketHandler) {
  const sends: Sent[] = [];
  const errors: unknown[] = [];
  const echo: PacketHandler = (msg, _transport, address) =>
    Buffer.from(`${msg[0]}:${msg.length}:${address}`);
  const answered = answerBatch(
    view,
    count,
    handler ?? echo,
    (error) => errors.push(error),
    createReplyQueue(capacity),
    (replies, slots, n) => {
      sends.push({
        replies: replies.slice(0, n).map((r) => r.toString('latin1')),
        slots: [...slots.subarray(0, n)],
      });
    },
  );
  return { answered, sends, errors };
}

test('each datagram of the batch is answered in order, with its source, in one send', () => {
  const view = viewWith([
    { length: 12, family: 4 },
    { length: 16, family: 4 },
  ]);
  const { answered, sends } = run(view, 2);
  assert.equal(answered, 2);
  assert.deepEqual(sends, [{ replies: ['0:12:192.0.2.0', '1:16:192.0.2.1'], slots: [0, 1] }]);
});

test('what the addon wrote is checked: bad rows are skipped, not answered', () => {
  const rows = [
    { length: 0, family: 4, why: 'length 0: dropped by the addon (too long)' },
    { length: 17, family: 4, why: 'a length past the slot' },
    { length: 12, family: 5, why: 'an unknown family' },
    { length: 12, family: 4, why: 'a good one' },
  ];
  const { answered, sends } = run(viewWith(rows), 4);
  assert.equal(answered, 1);
  assert.deepEqual(sends, [{ replies: ['3:12:192.0.2.3'], slots: [3] }]);
  // A count past the batch is cut to the batch.
  assert.equal(run(viewWith(rows), 1000).answered, 1);
});

test('IPv6 sources are written as Node writes them', () => {
  const cases: { bytes: number[]; want: string }[] = [
    { bytes: [...Array<number>(15).fill(0), 1], want: '::1' },
    { bytes: [0x20, 0x01, 0x0d, 0xb8, ...Array<number>(11).fill(0), 0x53], want: '2001:db8::53' },
    { bytes: [...Array<number>(10).fill(0), 0xff, 0xff, 192, 0, 2, 1], want: '::ffff:192.0.2.1' },
  ];
  for (const { bytes, want } of cases)
    assert.equal(sourceAddress(viewWith([{ length: 12, family: 6, address: bytes }]), 0), want);
});

test('a handler that throws is reported and answered SERVFAIL; no reply, nothing sent', () => {
  const view = viewWith([
    { length: 12, family: 4 },
    { length: 12, family: 4 },
  ]);
  view.buffer[2] = 0x01; // a query (QR clear), RD set
  view.buffer[16 + 2] = 0x01;
  const { sends, errors } = run(view, 2, 8, (msg) => {
    if (msg[0] === 0) throw new Error('bug');
    return undefined;
  });
  assert.equal(errors.length, 1);
  assert.equal(sends.length, 1);
  assert.deepEqual(sends[0]!.slots, [0]);
  const servfail = Buffer.from(sends[0]!.replies[0]!, 'latin1');
  assert.equal(servfail.length, 12);
  assert.equal(servfail[3]! & 0x0f, 2);
});

test('replies past the queue are sent in several calls, each to its datagram', () => {
  const view = viewWith([
    { length: 12, family: 4 },
    { length: 12, family: 4 },
  ]);
  const parts: PacketHandler = (msg) => [Buffer.from(`${msg[0]}a`), Buffer.from(`${msg[0]}b`)];
  const { sends } = run(view, 2, 3, parts);
  assert.deepEqual(sends, [
    { replies: ['0a', '0b', '1a'], slots: [0, 0, 1] },
    { replies: ['1b'], slots: [1] },
  ]);
});
