import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseFifoLine, roleOfVrrpState } from './keepalived.js';
import { interleave } from './nftables.js';
import { computeSlots, type ServerLoad } from './weights.js';

const load = (mark: number, weight: number, extra: Partial<ServerLoad> = {}): ServerLoad => ({
  mark,
  weight,
  eligible: true,
  open: 0,
  rate: 0,
  responseMs: undefined,
  ...extra,
});
const weighted = { mode: 'weighted', intervalMs: 1000, floor: 0.25 } as const;
const adaptive = { ...weighted, mode: 'adaptive' } as const;
const sum = (m: Map<number, number>): number => [...m.values()].reduce((a, b) => a + b, 0);

test('weighted: slots follow the configured weights; drained or down servers get none', () => {
  const slots = computeSlots([load(1, 1), load(2, 2), load(3, 3)], weighted);
  assert.deepEqual(
    [...slots],
    [
      [1, 167],
      [2, 333],
      [3, 500],
    ],
  );
  const drained = computeSlots([load(1, 1), load(2, 2, { eligible: false }), load(3, 3)], weighted);
  assert.deepEqual(
    [...drained],
    [
      [1, 250],
      [3, 750],
    ],
  );
  assert.equal(computeSlots([load(1, 1, { eligible: false })], weighted).size, 0);
});

test('adaptive: a loaded or slow server gets less, but never below the floor of its share', () => {
  const even = computeSlots([load(1, 1, { open: 10 }), load(2, 1, { open: 10 })], adaptive);
  assert.deepEqual(
    [...even],
    [
      [1, 500],
      [2, 500],
    ],
  );
  const loaded = computeSlots([load(1, 1, { open: 100 }), load(2, 1, { open: 0 })], adaptive);
  assert.ok(loaded.get(1)! < loaded.get(2)!, JSON.stringify([...loaded]));
  // The floor: 0.25 of a half share is 12.5 %.
  assert.ok(loaded.get(1)! >= 125, JSON.stringify([...loaded]));
  const slow = computeSlots(
    [load(1, 1, { responseMs: 50 }), load(2, 1, { responseMs: 5 }), load(3, 1)],
    adaptive,
  );
  assert.ok(slow.get(1)! < slow.get(2)!, JSON.stringify([...slow]));
  for (const slots of [even, loaded, slow]) assert.equal(sum(slots), 1000);
  const worst = computeSlots(
    [load(1, 1, { open: 10_000, responseMs: 1000 }), load(2, 1), load(3, 1)],
    adaptive,
  );
  assert.ok(worst.get(1)! >= Math.floor((0.25 * 1000) / 3) - 1, JSON.stringify([...worst]));
});

test('interleave: numgen walks the slots spread out, in the exact ratio', () => {
  assert.deepEqual(
    interleave(
      new Map([
        [1, 1],
        [2, 2],
        [3, 3],
      ]),
    ),
    [3, 2, 1, 3, 2, 3],
  );
  const order = interleave(
    new Map([
      [1, 167],
      [2, 333],
      [3, 500],
    ]),
  );
  assert.equal(order.length, 1000);
  // No run of one server longer than the ratio needs.
  let run = 1;
  let longest = 1;
  for (let i = 1; i < order.length; i++) {
    run = order[i] === order[i - 1] ? run + 1 : 1;
    longest = Math.max(longest, run);
  }
  assert.ok(longest <= 2, `longest run ${longest}`);
  assert.deepEqual(interleave(new Map()), []);
});

test('keepalived FIFO lines become roles', () => {
  assert.deepEqual(parseFifoLine('INSTANCE "steerdns" MASTER 150\n'), {
    instance: 'steerdns',
    state: 'MASTER',
    priority: 150,
  });
  assert.equal(parseFifoLine('GROUP "g" MASTER 0'), undefined);
  assert.equal(roleOfVrrpState('MASTER').role, 'active');
  assert.equal(roleOfVrrpState('BACKUP').role, 'standby');
  assert.equal(roleOfVrrpState('FAULT').role, 'inop');
  assert.equal(roleOfVrrpState('STOP').role, 'inop');
});
