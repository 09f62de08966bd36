import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { MAX_KEY_BYTES, StringSlotIndex } from './string-slot-index.js';

const subnet = (i: number): string => `${10 + (i >>> 16)}.${(i >>> 8) & 255}.${i & 255}.0/24`;

test('find, keyAt, remove: a key goes in, comes back, and goes', () => {
  const index = new StringSlotIndex(4);
  index.insert('10.1.2.0/24', 3);
  index.insert('', 0);
  assert.equal(index.find('10.1.2.0/24'), 3);
  assert.equal(index.find(''), 0);
  assert.equal(index.find('10.1.2.0/25'), -1);
  assert.equal(index.keyAt(3), '10.1.2.0/24');
  assert.equal(index.keyAt(1), undefined);
  assert.equal(index.size, 2);
  assert.equal(index.remove(3), true);
  assert.equal(index.remove(3), false);
  assert.equal(index.find('10.1.2.0/24'), -1);
  assert.equal(index.size, 1);
  index.verify();
});

test('insert refuses a held key and a used slot', () => {
  const index = new StringSlotIndex();
  index.insert('a', 0);
  assert.throws(() => {
    index.insert('a', 1);
  }, /held already/);
  assert.throws(() => {
    index.insert('b', 0);
  }, /in use/);
  index.insert('é€', 2);
  assert.throws(() => {
    index.insert('é€', 3);
  }, /held already/);
  index.verify();
});

test('growth: 100,000 keys from an index made for 1, all found', () => {
  const index = new StringSlotIndex(1);
  for (let i = 0; i < 100_000; i++) index.insert(subnet(i), i);
  for (let i = 0; i < 100_000; i++) assert.equal(index.find(subnet(i)), i);
  assert.equal(index.find(subnet(100_000)), -1);
  assert.ok(index.footprint().table >= (100_000 / 0.6) * 4, 'load at most 0.6');
  index.verify();
});

test('collisions: keys alike but for one character, and a nearly full run, stay apart', () => {
  const index = new StringSlotIndex();
  const keys = Array.from({ length: 2000 }, (_, i) => `k${String.fromCharCode(i % 256)}${i}`);
  keys.forEach((key, slot) => {
    index.insert(key, slot);
  });
  // Removing every other key shifts runs back: the rest must still be found.
  for (let slot = 0; slot < keys.length; slot += 2) index.remove(slot);
  keys.forEach((key, slot) => {
    assert.equal(index.find(key), slot % 2 === 0 ? -1 : slot, key);
  });
  index.verify();
});

test('keys that are not Latin-1, or too long, live beside the table', () => {
  const index = new StringSlotIndex();
  const long = 'x'.repeat(MAX_KEY_BYTES + 1);
  const latin = 'ÿ'.repeat(MAX_KEY_BYTES);
  index.insert('2001:db8::/56', 0);
  index.insert('ĀB', 1);
  index.insert('😀', 2);
  index.insert(long, 3);
  index.insert(latin, 4);
  assert.deepEqual(
    [0, 1, 2, 3, 4].map((slot) => index.keyAt(slot)),
    ['2001:db8::/56', 'ĀB', '😀', long, latin],
  );
  assert.equal(index.find('ĀB'), 1);
  assert.equal(index.find('\u0000B'), -1, 'Ā is not its low byte');
  assert.equal(index.footprint().wideKeys, 3);
  index.remove(1);
  assert.equal(index.find('ĀB'), -1);
  assert.equal(index.size, 4);
  index.verify();
});

test('churn: a slot reused by a key that fits writes in place; waste is compacted', () => {
  const index = new StringSlotIndex();
  const fixed = (i: number): string => `k${String(i).padStart(6, '0')}`;
  for (let i = 0; i < 10_000; i++) index.insert(fixed(i), i);
  const arena = index.footprint().arena;
  // Same-length keys through the same slots: no new cells.
  for (let i = 10_000; i < 50_000; i++) {
    index.remove(i % 10_000);
    index.insert(fixed(i), i % 10_000);
  }
  assert.equal(index.footprint().arena, arena);
  assert.equal(index.footprint().compactions, 0);
  // Longer keys each need a new cell: the old ones are waste until a compaction.
  for (let i = 0; i < 60_000; i++) {
    index.remove(i % 10_000);
    index.insert(`${'x'.repeat(4 + (i % 5) * 4)}${i}`, i % 10_000);
  }
  const after = index.footprint();
  assert.ok(after.compactions > 0, 'compacted');
  assert.ok(after.arena < 8 * 10_000 * 28, `arena ${after.arena} bytes stays bounded`);
  for (let i = 50_000; i < 60_000; i++)
    assert.equal(index.find(`${'x'.repeat(4 + (i % 5) * 4)}${i}`), i % 10_000);
  index.verify();
});

test('property: the same answers as a Map, under any mix of inserts and removals', () => {
  const key = fc.oneof(
    fc.string({ maxLength: 6 }),
    fc.constantFrom('10.0.0.0/24', '10.0.1.0/24', 'a', 'é', 'Ā', ''),
    fc.integer({ min: 0, max: 300 }).map(subnet),
    fc.string({ minLength: 250, maxLength: 260 }),
  );
  const op = fc.oneof(
    fc.record({ kind: fc.constant('insert' as const), key }),
    fc.record({ kind: fc.constant('remove' as const), at: fc.nat() }),
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
      const index = new StringSlotIndex(2);
      const model = new Map<string, number>();
      const free: number[] = [];
      let next = 0;
      for (const o of ops) {
        if (o.kind === 'insert') {
          if (model.has(o.key)) continue;
          const slot = free.pop() ?? next++;
          index.insert(o.key, slot);
          model.set(o.key, slot);
        } else if (model.size > 0) {
          const [k, slot] = [...model][o.at % model.size]!;
          assert.equal(index.remove(slot), true);
          model.delete(k);
          free.push(slot);
        }
        assert.equal(index.size, model.size);
      }
      for (const [k, slot] of model) {
        assert.equal(index.find(k), slot);
        assert.equal(index.keyAt(slot), k);
      }
      for (const slot of free) assert.equal(index.has(slot), false);
      index.verify();
    }),
    { numRuns: 300 },
  );
});
