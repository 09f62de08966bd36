import assert from 'node:assert/strict';
import { test } from 'node:test';
import dnsPacket from 'dns-packet';
import { silentUdp } from '../helpers/sockets.js';
import { startStubServer } from '../helpers/stub-dns-server.js';
import { DecoderFuzzError, fuzzDecoder, fuzzServer, runWireFuzz } from './fuzz.js';
import { createMutator } from './mutate.js';

// Self-tests of the fuzz drivers, against dns-packet and the helpers' stub server.

test('fuzzDecoder passes a decoder whose errors are all expected', () => {
  const report = fuzzDecoder((buf) => dnsPacket.decode(buf), 3000, 1, {
    isExpected: (err) => err instanceof Error,
  });
  assert.equal(report.count, 3000);
  assert.ok((report.expected['Error'] ?? 0) > 0, JSON.stringify(report.expected));
});

test('fuzzDecoder reports the first unexpected error with what reproduces it', () => {
  const decode = (buf: Buffer): void => {
    if (buf.length % 7 === 3) throw new TypeError('boom');
  };
  let caught: unknown;
  try {
    fuzzDecoder(decode, 10_000, 9);
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof DecoderFuzzError, String(caught));
  assert.match(caught.message, /decoder threw TypeError \(seed 9, packet \d+/);
  const m = createMutator(9);
  for (let i = 0; i < caught.index; i++) m.next();
  assert.deepEqual(m.next().bytes, caught.mutant.bytes, 'seed and index reproduce the packet');
});

test('fuzzDecoder reports an input that is slow every time, not one slow moment', () => {
  const busy = (ms: number): void => {
    const until = performance.now() + ms;
    while (performance.now() < until) {
      // spin: a decoder stuck on this input
    }
  };
  // Slow once (a pause of the machine): timed again, and passes.
  let first = true;
  const pausedOnce = fuzzDecoder(
    () => {
      if (first) busy(60);
      first = false;
    },
    50,
    3,
    { slowMs: 40 },
  );
  assert.equal(pausedOnce.count, 50);
  // Slow on one kind of input every time: reported, with that input.
  let caught: unknown;
  try {
    fuzzDecoder(
      (buf) => {
        if (buf.length % 11 === 5) busy(60);
      },
      2000,
      4,
      { slowMs: 40 },
    );
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof DecoderFuzzError, String(caught));
  assert.match(caught.message, /decoder took \d+\.\d ms/);
  assert.equal(caught.mutant.bytes.length % 11, 5);
});

test('runWireFuzz keeps a healthy server answering and counts replies', async () => {
  const stub = await startStubServer();
  try {
    const report = await runWireFuzz({
      target: { host: '127.0.0.1', port: stub.port },
      count: 3000,
      seconds: 30,
      seed: 3,
      checkEvery: 1000,
      tcpEvery: 20,
    });
    assert.equal(report.failure, undefined);
    assert.deepEqual([report.alive, report.answering], [true, true]);
    assert.equal(report.checks.passed, 4, 'three periodic checks and a final one');
    assert.equal(report.sent.udp, 3000);
    assert.ok(report.sent.tcp > 0 && report.replies.udp > 1000, JSON.stringify(report));
    assert.ok((report.rcodes['FORMERR'] ?? 0) > 0 && (report.rcodes['NOERROR'] ?? 0) > 0);
  } finally {
    await stub.close();
  }
});

test('runWireFuzz fails when the server does not answer', async () => {
  // A UDP socket of this test's that receives and never answers.
  const silent = await silentUdp('127.0.0.1');
  const report = await runWireFuzz({
    target: { host: '127.0.0.1', port: silent.address().port },
    count: 100,
    seconds: 10,
    seed: 1,
    checkEvery: 50,
  }).finally(() => silent.close());
  assert.equal(report.answering, false);
  assert.match(report.failure ?? '', /udp probe/);
  assert.equal(report.sent.udp, 50, 'stops at the first failed check');
  assert.ok(report.recent.length > 0, 'keeps the last packets for reproduction');
});

test('fuzzServer runs a server process end to end', async () => {
  const report = await fuzzServer({
    count: 2000,
    seconds: 30,
    seed: 11,
    checkEvery: 1000,
    server: { entry: 'test/helpers/stub-dns-server.ts' },
  });
  assert.equal(report.failure, undefined);
  assert.equal(report.checks.passed, 3);
});
