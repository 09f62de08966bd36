import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { test } from 'node:test';
import { loadUdpAddon } from './udp-addon.js';
import { BatchedSocket, batchedEngine } from './udp-batched.js';
import type { PacketHandler } from './transport.js';

const { addon, reason } = loadUdpAddon();
const skip = addon === undefined ? `the UDP addon cannot run here: ${reason}` : false;

/** The error reporter of a test where the handler never throws. */
const unexpected = (error: unknown): never => {
  throw new Error('the handler failed', { cause: error });
};

/** A handler that answers each datagram with its bytes reversed. */
const reverse: PacketHandler = (msg) => Buffer.from(msg).reverse();

/** Sends `messages` from one client socket to `port` and resolves the replies (deadline 5 s). */
async function exchange(host: string, port: number, messages: readonly Buffer[]) {
  const client = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  const replies: { text: string; from: string; port: number }[] = [];
  try {
    const all = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`${replies.length} of ${messages.length} replies within 5 s`));
      }, 5000);
      client.on('message', (msg, remote) => {
        replies.push({ text: msg.toString(), from: remote.address, port: remote.port });
        if (replies.length === messages.length) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    for (const m of messages) client.send(m, port, host);
    await all;
    return replies;
  } finally {
    client.close();
  }
}

test('answers every datagram of a burst, from the port it listens on', { skip }, async () => {
  const socket = new BatchedSocket(addon!, {
    host: '127.0.0.1',
    port: 0,
    handler: reverse,
    onError: unexpected,
  });
  try {
    const { port } = socket.address();
    const messages = Array.from({ length: 200 }, (_, i) => Buffer.from(`q${i}`));
    const replies = await exchange('127.0.0.1', port, messages);
    assert.deepEqual(
      replies.map((r) => r.text).sort(),
      messages.map((m) => Buffer.from(m).reverse().toString()).sort(),
    );
    assert.ok(replies.every((r) => r.from === '127.0.0.1' && r.port === port));
    const stats = socket.stats();
    assert.equal(stats.datagrams, 200);
    assert.ok(stats.batches <= 200, JSON.stringify(stats));
  } finally {
    socket.close();
  }
});

test('IPv6: answers from ::1', { skip }, async () => {
  const socket = await batchedEngine.listen({
    host: '::1',
    port: 0,
    handler: reverse,
    onError: unexpected,
  });
  try {
    const replies = await exchange('::1', socket.address().port, [Buffer.from('ab')]);
    assert.deepEqual(
      replies.map((r) => [r.text, r.from]),
      [['ba', '::1']],
    );
    assert.equal(socket.address().family, 'IPv6');
  } finally {
    socket.close();
  }
});

test(
  'a port in use is refused with EADDRINUSE; a closed socket frees its port',
  { skip },
  async () => {
    const first = await batchedEngine.listen({
      host: '127.0.0.1',
      port: 0,
      handler: reverse,
      onError: unexpected,
    });
    const { port } = first.address();
    await assert.rejects(
      batchedEngine.listen({ host: '127.0.0.1', port, handler: reverse, onError: unexpected }),
      { code: 'EADDRINUSE' },
    );
    await new Promise<void>((resolve) => {
      first.close(resolve);
    });
    assert.throws(() => first.address(), { code: 'ERR_SOCKET_DGRAM_NOT_RUNNING' });
    const again = await batchedEngine.listen({
      host: '127.0.0.1',
      port,
      handler: reverse,
      onError: unexpected,
    });
    again.close();
  },
);

test('the addon checks what JavaScript gives it', { skip }, () => {
  const a = addon!;
  const handle = {};
  const memory = [Buffer.alloc(4 * 512), new Uint32Array(16), new Uint8Array(64)] as const;
  const open = (batch: number, slot: number, mem = memory) =>
    a.open('127.0.0.1', 0, batch, slot, 0, 0, mem, () => undefined, {});
  const rows: { why: string; call: () => unknown }[] = [
    { why: 'a buffer smaller than batch * slot', call: () => open(5, 512) },
    { why: 'a slot under 512', call: () => open(4, 100) },
    { why: 'a batch of 0', call: () => open(0, 512) },
    {
      why: 'meta too short',
      call: () => open(4, 512, [memory[0], new Uint32Array(15), memory[2]] as const),
    },
    {
      why: 'a host that is not an address',
      call: () => a.open('localhost', 0, 4, 512, 0, 0, memory, () => undefined, {}),
    },
    { why: 'an object that is not a handle', call: () => a.port({}) },
  ];
  for (const row of rows) assert.throws(row.call, /./, row.why);
  a.open('127.0.0.1', 0, 4, 512, 0, 0, memory, () => undefined, handle);
  try {
    assert.throws(
      () => a.sendBatch(handle, [Buffer.from('x')], new Uint32Array(1), 1),
      /outside the batch/,
    );
    assert.throws(() => a.sendBatch(handle, [], new Uint32Array(0), 2), /bad replies/);
  } finally {
    a.close(handle);
  }
});

test('a reply may only go to a datagram of the batch being answered', { skip }, async () => {
  const a = addon!;
  const handle = {};
  const memory = [Buffer.alloc(4 * 512), new Uint32Array(16), new Uint8Array(64)] as const;
  const errors: string[] = [];
  const client = dgram.createSocket('udp4');
  try {
    const called = new Promise<void>((resolve) => {
      a.open(
        '127.0.0.1',
        0,
        4,
        512,
        0,
        0,
        memory,
        (count) => {
          try {
            a.sendBatch(handle, [Buffer.from('x')], Uint32Array.of(count), 1);
          } catch (error) {
            errors.push((error as Error).message);
          }
          resolve();
        },
        handle,
      );
    });
    client.send('q', a.port(handle), '127.0.0.1');
    await called;
    assert.deepEqual(errors, ['a reply is not a Buffer or its slot is not in the batch']);
  } finally {
    a.close(handle);
    client.close();
  }
});

test('the engine says why it cannot run when the addon is missing', { skip: !skip }, async () => {
  assert.match(batchedEngine.unavailable() ?? '', /./);
  await assert.rejects(
    batchedEngine.listen({ host: '127.0.0.1', port: 0, handler: reverse, onError: unexpected }),
    /cannot run/,
  );
});
