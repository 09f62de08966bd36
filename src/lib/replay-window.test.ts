import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MessageClock, ReplayWindow } from './replay-window.js';

test('the window takes each message once, in sequence, within the skew', () => {
  let now = 1_000_000;
  const window = new ReplayWindow(30_000, () => now);
  const clock = new MessageClock('A', () => now);
  const first = clock.next();
  const second = clock.next();
  assert.equal(window.accept('A', first), undefined);
  assert.equal(window.accept('A', first), 'replay', 'the same message again');
  assert.equal(window.accept('A', second), undefined);
  assert.equal(window.accept('A', first), 'replay', 'an older one after a newer');
  assert.equal(window.accept('B', first), undefined, 'kept per key');
  now += 31_000;
  assert.equal(window.accept('A', { ...clock.next(), timestamp: now - 31_000 }), 'stale');
  assert.equal(window.accept('A', { ...clock.next(), timestamp: now + 31_000 }), 'future');
});

test('a new epoch (a restarted sender) is taken only with a later timestamp', () => {
  let now = 5_000_000;
  const window = new ReplayWindow(30_000, () => now);
  const before = new MessageClock('A', () => now);
  assert.equal(window.accept('A', before.next()), undefined);
  const restarted = new MessageClock('A', () => now);
  assert.equal(window.accept('A', restarted.next()), 'replay', 'same millisecond');
  now += 1;
  assert.equal(window.accept('A', restarted.next()), undefined);
});

test('saved marks restored after a restart still stop a captured message', () => {
  const now = 9_000_000;
  const clock = new MessageClock('A', () => now);
  const captured = clock.next();
  const window = new ReplayWindow(30_000, () => now);
  window.accept('A', captured);
  const restored = new ReplayWindow(30_000, () => now);
  restored.restore(window.saved());
  assert.equal(restored.accept('A', captured), 'replay');
});
