import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CompiledConfig } from '../../config/compiled.js';
import type { PrimaryMessage } from '../messages.js';
import { workerOutbox, type OutboxTimers, type WorkerOutbox } from './worker-outbox.js';

type Change = PrimaryMessage & { type: 'change' };

const config = (version: number): Change => ({
  type: 'change',
  version,
  change: { kind: 'config', config: {} as CompiledConfig },
});
const health = (version: number): Change => ({
  type: 'change',
  version,
  change: { kind: 'health', states: [] },
});

/** Timers that fire only when the test says so. */
function manualTimers(): OutboxTimers & { fire(): void; pending(): number } {
  const timers = new Map<number, () => void>();
  let next = 0;
  return {
    setTimeout: (callback) => {
      timers.set(++next, callback);
      return next;
    },
    clearTimeout: (timer) => timers.delete(timer as number),
    fire: () => {
      const due = [...timers.values()];
      timers.clear();
      for (const callback of due) callback();
    },
    pending: () => timers.size,
  };
}

/** An outbox over workers 'a', 'b', 'c'; `sent` lists `worker:kind version` as sent. */
function setup(): {
  outbox: WorkerOutbox<string>;
  sent: string[];
  late: string[];
  timers: ReturnType<typeof manualTimers>;
} {
  const sent: string[] = [];
  const late: string[] = [];
  const timers = manualTimers();
  const outbox = workerOutbox<string>({
    send: (worker, message) => sent.push(`${worker}:${message.change.kind} ${message.version}`),
    onLate: (worker, version) => late.push(`${worker} ${version}`),
    timers,
  });
  for (const worker of ['a', 'b', 'c']) outbox.add(worker);
  return { outbox, sent, late, timers };
}

test('a configuration goes to one worker at a time, the next when the previous is done', () => {
  const { outbox, sent } = setup();
  outbox.change(config(2));
  assert.deepEqual(sent.splice(0), ['a:config 2']);
  assert.equal(outbox.turn(), 'a');
  outbox.done('b', 2);
  assert.deepEqual(sent.splice(0), [], 'only the worker whose turn it is ends it');
  outbox.done('a', 1);
  assert.deepEqual(sent.splice(0), [], 'the version must be the one it was sent');
  outbox.done('a', 2);
  assert.deepEqual(sent.splice(0), ['b:config 2']);
  outbox.done('b', 2);
  assert.deepEqual(sent.splice(0), ['c:config 2']);
  outbox.done('c', 2);
  assert.equal(outbox.turn(), undefined);
});

test('other changes go at once, but never ahead of a configuration a worker has not applied', () => {
  const { outbox, sent } = setup();
  outbox.change(health(1));
  assert.deepEqual(sent.splice(0), ['a:health 1', 'b:health 1', 'c:health 1']);
  outbox.change(config(2));
  outbox.change(health(3));
  assert.deepEqual(sent.splice(0), ['a:config 2'], 'a is applying 2; b and c wait for their turn');
  outbox.done('a', 2);
  assert.deepEqual(sent.splice(0), ['a:health 3', 'b:config 2']);
  outbox.done('b', 2);
  assert.deepEqual(sent.splice(0), ['b:health 3', 'c:config 2']);
  outbox.done('c', 2);
  assert.deepEqual(sent.splice(0), ['c:health 3']);
});

test('a worker that is gone, or late past the deadline, gives the turn to the next', () => {
  const { outbox, sent, late, timers } = setup();
  outbox.change(config(2));
  assert.deepEqual(sent.splice(0), ['a:config 2']);
  outbox.remove('a');
  assert.deepEqual(sent.splice(0), ['b:config 2']);
  assert.equal(timers.pending(), 1, "a's deadline was cleared, b's is set");
  timers.fire();
  assert.deepEqual(late, ['b 2']);
  assert.deepEqual(sent.splice(0), ['c:config 2']);
  outbox.done('b', 2);
  assert.equal(outbox.turn(), 'c', "b's late word does not end c's turn");
  outbox.done('c', 2);
  assert.equal(timers.pending(), 0);
});

test('two configurations in a row: each worker applies both, in order, one worker at a time', () => {
  const { outbox, sent } = setup();
  outbox.change(config(2));
  outbox.change(config(3));
  const order: string[] = [];
  for (let turn = outbox.turn(); turn !== undefined; turn = outbox.turn()) {
    const mine = sent.splice(0);
    assert.equal(mine.length, 1, `one message at a time: ${mine.join(', ')}`);
    order.push(mine[0]!);
    outbox.done(turn, Number(mine[0]!.split(' ')[1]));
  }
  assert.deepEqual(order, [
    'a:config 2',
    'a:config 3',
    'b:config 2',
    'b:config 3',
    'c:config 2',
    'c:config 3',
  ]);
});

test('a worker that starts during a turn has the snapshot: it gets only later changes', () => {
  const { outbox, sent } = setup();
  outbox.change(config(2));
  outbox.add('d');
  outbox.change(health(3));
  for (const worker of ['a', 'b', 'c']) outbox.done(worker, 2);
  assert.deepEqual(sent.splice(0), [
    'a:config 2',
    'd:health 3',
    'a:health 3',
    'b:config 2',
    'b:health 3',
    'c:config 2',
    'c:health 3',
  ]);
});
