import assert from 'node:assert/strict';
import { test } from 'node:test';
import dnsPacket from 'dns-packet';
import { encodeOpt } from '../helpers/dns-wire.js';
import { seedCorpus, rawMessage, wireName, wireQuestion } from './corpus.js';
import { MAX_PACKET, MUTATIONS, createMutator, createRng, layout } from './mutate.js';
import type { MutationName } from './mutate.js';

const hexes = (seed: number, n: number): string[] => {
  const m = createMutator(seed);
  return Array.from({ length: n }, () => m.next().bytes.toString('hex'));
};

test('the mutator is deterministic for a seed and differs between seeds', () => {
  assert.deepEqual(hexes(42, 2000), hexes(42, 2000));
  assert.notDeepEqual(hexes(42, 50), hexes(43, 50));
});

test('the rng is mulberry32 and stays in range', () => {
  const rng = createRng(1);
  // Reference values of the usual JavaScript mulberry32 with seed 1.
  assert.deepEqual([rng.next(), rng.next(), rng.next()], [2693262067, 11749833, 2265367787]);
  const values = Array.from({ length: 10_000 }, () => rng.below(10));
  assert.ok(values.every((v) => v >= 0 && v < 10 && Number.isInteger(v)));
  assert.equal(new Set(values).size, 10);
});

test('every mutation is used and packets stay within bounds', () => {
  const m = createMutator(7);
  const used = new Set<MutationName>();
  let unmutated = 0;
  for (let i = 0; i < 20_000; i++) {
    const { bytes, ops } = m.next();
    ops.forEach((op) => used.add(op));
    if (ops.length === 0) unmutated++;
    assert.ok(bytes.length <= MAX_PACKET, `packet ${i} is ${bytes.length} octets`);
  }
  assert.deepEqual([...used].sort(), Object.keys(MUTATIONS).sort());
  assert.ok(unmutated > 100 && unmutated < 1000, `${unmutated} unmutated packets`);
});

test('the seed corpus is made of well-formed queries, bar the deliberate oddities', () => {
  const corpus = seedCorpus();
  assert.ok(corpus.length > 150);
  const decoded = corpus.filter((p) => {
    try {
      dnsPacket.decode(p);
      return true;
    } catch {
      return false;
    }
  });
  assert.ok(decoded.length >= corpus.length - 3, `${corpus.length - decoded.length} do not decode`);
});

test('layout finds labels, records and EDNS options', () => {
  const name = wireName(['www', 'example', 'org']);
  const opt = encodeOpt({ options: [{ code: 3, data: Buffer.alloc(4) }] });
  const msg = rawMessage({ questions: [wireQuestion(name, 1)], additionals: [opt] });
  const got = layout(msg);
  assert.deepEqual(got.labels, [12, 16, 24, 28, 33]);
  assert.deepEqual(got.records, [34]);
  assert.deepEqual(got.options, [44]);
  assert.deepEqual(layout(Buffer.alloc(5)), { labels: [], records: [], options: [] });
});
