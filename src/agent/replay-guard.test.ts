import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Announcement } from './announcement.js';
import { ReplayGuard, type ReplayVerdict } from './replay-guard.js';

const T = 1_750_000_000_000;
const A = 'aaaaaaaaaaaaaaaa';
const B = 'bbbbbbbbbbbbbbbb';

const announcement = (
  node: string,
  epoch: string,
  sequence: number,
  timestamp: number,
  service = 'app.example.org',
): Announcement => ({
  node,
  service,
  addresses: ['192.0.2.1'],
  admin: 'enabled',
  intervalMs: 1000,
  timestamp,
  epoch,
  sequence,
});

const verdict = (v: ReplayVerdict): string => (v.ok ? v.kind : v.reason);

test('replay guard: each row is a sequence of announcements and the verdicts expected', () => {
  // [node, epoch, sequence, timestamp offset from now (ms)] -> verdict
  const cases: { name: string; steps: [string, string, number, number, string][] }[] = [
    {
      name: 'increasing sequences are accepted',
      steps: [
        ['n1', A, 1, 0, 'first'],
        ['n1', A, 2, 0, 'next'],
        ['n1', A, 10, 0, 'next'],
      ],
    },
    {
      name: 'a duplicate is a replay',
      steps: [
        ['n1', A, 5, 0, 'first'],
        ['n1', A, 5, 0, 'replay'],
      ],
    },
    {
      name: 'an older sequence is a replay, even with a newer timestamp',
      steps: [
        ['n1', A, 5, -1000, 'first'],
        ['n1', A, 4, 0, 'replay'],
        ['n1', A, 6, 0, 'next'],
      ],
    },
    {
      name: 'timestamps beyond the skew are stale or future, inside it accepted',
      steps: [
        ['n1', A, 1, -30_001, 'stale'],
        ['n1', A, 2, 30_001, 'future'],
        ['n1', A, 3, -30_000, 'first'],
        ['n1', A, 4, 30_000, 'next'],
      ],
    },
    {
      name: 'a rejected announcement changes nothing',
      steps: [
        ['n1', A, 9, 40_000, 'future'],
        ['n1', A, 1, 0, 'first'],
        ['n1', A, 2, 0, 'next'],
      ],
    },
    {
      name: 'a new epoch with a newer timestamp is a restart, sequences start over',
      steps: [
        ['n1', A, 500, -2000, 'first'],
        ['n1', B, 0, -1000, 'restart'],
        ['n1', B, 1, 0, 'next'],
      ],
    },
    {
      name: 'the old epoch cannot come back after a restart',
      steps: [
        ['n1', A, 500, -2000, 'first'],
        ['n1', B, 0, -1000, 'restart'],
        ['n1', A, 501, -1500, 'replay'],
        ['n1', A, 502, -1000, 'replay'],
      ],
    },
    {
      name: 'a new epoch with an older or equal timestamp is a replay',
      steps: [
        ['n1', A, 1, 0, 'first'],
        ['n1', B, 1, -1, 'replay'],
        ['n1', B, 1, 0, 'replay'],
      ],
    },
    {
      name: 'nodes are independent',
      steps: [
        ['n1', A, 5, 0, 'first'],
        ['n2', A, 1, 0, 'first'],
        ['n2', A, 2, 0, 'next'],
        ['n1', A, 5, 0, 'replay'],
      ],
    },
  ];
  for (const { name, steps } of cases) {
    const guard = new ReplayGuard({ maxSkewMs: 30_000, now: () => T });
    const got = steps.map(([node, epoch, sequence, offset]) =>
      verdict(guard.accept(announcement(node, epoch, sequence, T + offset))),
    );
    assert.deepEqual(
      got,
      steps.map((s) => s[4]),
      name,
    );
  }
});

test('replay guard: the clock moves, the skew follows it', () => {
  let now = T;
  const guard = new ReplayGuard({ now: () => now });
  assert.equal(verdict(guard.accept(announcement('n1', A, 1, T))), 'first');
  now = T + 30_001;
  assert.equal(verdict(guard.accept(announcement('n1', A, 2, T))), 'stale');
  assert.equal(verdict(guard.accept(announcement('n1', A, 2, now))), 'next');
});

test('replay guard: memory is bounded, the least recently heard node goes first', () => {
  const guard = new ReplayGuard({ now: () => T, maxNodes: 3 });
  for (const node of ['n1', 'n2', 'n3']) guard.accept(announcement(node, A, 1, T));
  guard.accept(announcement('n1', A, 2, T)); // n1 heard again: n2 is now the oldest
  guard.accept(announcement('n4', A, 1, T));
  assert.equal(guard.size, 3);
  assert.equal(verdict(guard.accept(announcement('n2', A, 1, T))), 'first', 'n2 forgotten');
  assert.equal(verdict(guard.accept(announcement('n1', A, 2, T))), 'replay', 'n1 remembered');
  guard.forget('app.example.org', 'n1');
  assert.equal(verdict(guard.accept(announcement('n1', A, 2, T))), 'first', 'n1 forgotten');
});

test('replay guard: one node id in two services is two nodes (two agents of one host)', () => {
  const guard = new ReplayGuard({ now: () => T });
  assert.equal(verdict(guard.accept(announcement('host', A, 5, T, 'www.example.org'))), 'first');
  assert.equal(
    verdict(guard.accept(announcement('host', B, 1, T + 1, 'api.example.org'))),
    'first',
  );
  // Arriving after the other service's newer one, it is still the next of its own run.
  assert.equal(verdict(guard.accept(announcement('host', A, 6, T, 'www.example.org'))), 'next');
  assert.equal(verdict(guard.accept(announcement('host', A, 6, T, 'www.example.org'))), 'replay');
});

test('replay guard: 100000 nodes by default', () => {
  const guard = new ReplayGuard({ now: () => T });
  for (let i = 0; i < 100_010; i++) guard.accept(announcement(`n${i}`, A, 1, T));
  assert.equal(guard.size, 100_000);
});
