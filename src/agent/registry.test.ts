import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { encodeAnnouncement, type Announcement } from './announcement.js';
import { AgentRegistry } from './registry.js';

const KEY = Buffer.alloc(32, 7);

function setup(missedIntervals = 3) {
  let now = 1_750_000_000_000;
  const registry = new AgentRegistry({
    key: KEY,
    missedIntervals,
    maxSkewMs: 30_000,
    now: () => now,
  });
  let sequence = 0;
  const announce = (fields: Partial<Announcement> = {}, key = KEY) =>
    registry.receive(
      encodeAnnouncement(
        {
          node: 'web-1',
          service: 'app.example.org',
          addresses: ['192.0.2.10'],
          load: 30,
          connections: 5,
          admin: 'enabled',
          intervalMs: 1000,
          timestamp: now,
          epoch: '00000000000000aa',
          sequence: ++sequence,
          ...fields,
        },
        key,
      ),
    );
  return {
    registry,
    announce,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('AgentRegistry', () => {
  test('a first announcement joins; the service gets a trailing dot', () => {
    const { registry, announce } = setup();
    const outcome = announce();
    assert.ok(outcome.accepted);
    assert.equal(outcome.change, 'joined');
    const node = registry.snapshot().nodes[0];
    assert.ok(node);
    assert.equal(node.service, 'app.example.org.');
    assert.equal(node.load, 30);
    assert.equal(registry.counts.get('accepted'), 1);
  });

  test('load updates keep the membership; addresses, capacity and admin changes are reported', () => {
    const { registry, announce } = setup();
    announce();
    const before = registry.snapshot();
    const update = announce({ load: 80 });
    assert.ok(update.accepted && update.change === 'none');
    const after = registry.snapshot();
    assert.notEqual(after, before);
    assert.equal(after.membership, before.membership);
    assert.equal(after.nodes[0]?.load, 80);
    const drain = announce({ admin: 'draining' });
    assert.ok(drain.accepted && drain.change === 'drain');
    const undrain = announce();
    assert.ok(undrain.accepted && undrain.change === 'undrain');
    const moved = announce({ addresses: ['192.0.2.11'] });
    assert.ok(moved.accepted && moved.change === 'changed');
    assert.notEqual(registry.snapshot().membership, before.membership);
    const capacity = announce({ addresses: ['192.0.2.11'], capacity: 500 });
    assert.ok(capacity.accepted && capacity.change === 'changed');
  });

  test('the snapshot is the same object until something changes', () => {
    const { registry, announce } = setup();
    announce();
    assert.equal(registry.snapshot(), registry.snapshot());
  });

  test('forged, altered, replayed, stale and garbage datagrams are rejected and counted', () => {
    const { registry, announce } = setup();
    const forged = announce({}, Buffer.alloc(32, 9));
    assert.deepEqual(forged, { accepted: false, reason: 'bad-mac' });
    assert.equal(registry.receive(Buffer.from('not an announcement')).accepted, false);
    const stale = announce({ timestamp: 1_750_000_000_000 - 60_000 });
    assert.ok(!stale.accepted && stale.reason === 'stale');
    const first = announce({ sequence: 10 });
    assert.ok(first.accepted);
    const replay = announce({ sequence: 10 });
    assert.ok(!replay.accepted && replay.reason === 'replay');
    assert.equal(registry.counts.get('bad-mac'), 1);
    assert.equal(registry.counts.get('replay'), 1);
    assert.equal(registry.counts.get('stale'), 1);
    assert.equal(registry.counts.get('accepted'), 1);
    assert.equal(registry.snapshot().nodes.length, 1);
  });

  test('a node silent for missed x its interval is swept; one that announces in time is kept', () => {
    const { registry, announce, advance } = setup(3);
    announce();
    announce({
      node: 'web-2',
      addresses: ['192.0.2.12'],
      intervalMs: 500,
      epoch: '00000000000000bb',
    });
    advance(1499);
    assert.deepEqual(registry.sweep(), []);
    advance(1);
    assert.deepEqual(
      registry.sweep().map((n) => n.node),
      ['web-2'],
    );
    announce();
    advance(2999);
    assert.deepEqual(registry.sweep(), []);
    advance(1);
    assert.deepEqual(
      registry.sweep().map((n) => n.node),
      ['web-1'],
    );
    assert.equal(registry.snapshot().nodes.length, 0);
    assert.equal(registry.snapshot().membership, '');
  });

  test('reconfigure keeps the nodes; a previous key is accepted until it is dropped', () => {
    const { registry, announce } = setup(3);
    const next = Buffer.alloc(32, 9);
    assert.equal(announce().accepted, true);
    const snapshot = registry.snapshot();
    registry.reconfigure({ key: next, previousKey: KEY, missedIntervals: 3, maxSkewMs: 30_000 });
    // Nothing changed for the answer path: the same snapshot object.
    assert.equal(registry.snapshot(), snapshot);
    assert.equal(announce({}, KEY).accepted, true);
    assert.equal(announce({ node: 'web-2', epoch: '00000000000000bb' }, next).accepted, true);
    registry.reconfigure({ key: next, missedIntervals: 3, maxSkewMs: 30_000 });
    assert.deepEqual(announce({}, KEY), { accepted: false, reason: 'bad-mac' });
    assert.equal(announce({}, next).accepted, true);
    assert.deepEqual(
      registry.snapshot().nodes.map((n) => n.node),
      ['web-1', 'web-2'],
    );
    const other = Buffer.alloc(32, 3);
    assert.equal(announce({}, other).accepted, false);
  });
});
