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

describe('AgentRegistry: one node, one agent run', () => {
  const A = '00000000000000aa';
  const B = '00000000000000bb';
  /** Two agent runs of one host: web-1 from port 4001 (run A) and port 4002 (run B). */
  function twoRuns(missedIntervals = 3) {
    let now = 1_750_000_000_000;
    const registry = new AgentRegistry({
      key: KEY,
      missedIntervals,
      maxSkewMs: 30_000,
      now: () => now,
    });
    const sequences = new Map<string, number>();
    const send = (epoch: string, fields: Partial<Announcement> = {}) => {
      const sequence = (sequences.get(epoch) ?? 0) + 1;
      sequences.set(epoch, sequence);
      const source = epoch === A ? '127.0.0.1:4001' : '127.0.0.1:4002';
      const bytes = encodeAnnouncement(
        {
          node: 'web-1',
          service: 'app.example.org',
          addresses: [epoch === A ? '192.0.2.10' : '192.0.2.20'],
          admin: 'enabled',
          intervalMs: 1000,
          timestamp: now,
          epoch,
          sequence,
          ...fields,
        },
        KEY,
      );
      return { bytes, outcome: registry.receive(bytes, source) };
    };
    const addresses = () => registry.snapshot().nodes.map((n) => `${n.node} ${n.addresses.join()}`);
    return { registry, send, addresses, advance: (ms: number) => (now += ms) };
  }

  test('a second run with other addresses is refused, reported once naming both; the first keeps the node', () => {
    const { registry, send, addresses, advance } = twoRuns();
    assert.ok(send(A).outcome.accepted);
    const rows: [string, boolean][] = [];
    for (let i = 0; i < 3; i++) {
      advance(300);
      const { outcome } = send(B);
      assert.ok(!outcome.accepted && outcome.reason === 'collision');
      rows.push([outcome.detail ?? '', outcome.collision?.first ?? false]);
      if (i === 0)
        assert.deepEqual(outcome.collision, {
          service: 'app.example.org.',
          node: 'web-1',
          holder: { source: '127.0.0.1:4001', epoch: A, addresses: ['192.0.2.10'] },
          newcomer: { source: '127.0.0.1:4002', epoch: B, addresses: ['192.0.2.20'] },
          first: true,
        });
      assert.equal(send(A).outcome.accepted, true, 'the holder goes on');
      assert.deepEqual(addresses(), ['web-1 192.0.2.10'], 'no flip');
    }
    assert.deepEqual(
      rows.map((r) => r[1]),
      [true, false, false],
      'reported once',
    );
    assert.equal(rows[0]?.[0], 'node web-1 is held by 127.0.0.1:4001');
    assert.equal(registry.counts.get('collision'), 3);
    assert.equal(registry.counts.get('accepted'), 4);
  });

  test('when the holder goes silent, the other run takes the node with its next announcement', () => {
    const { registry, send, addresses, advance } = twoRuns(3);
    send(A);
    advance(1000);
    assert.equal(send(B).outcome.accepted, false);
    advance(1999); // A heard 2999 ms ago: still held
    assert.equal(send(B).outcome.accepted, false);
    advance(1); // A silent for 3 intervals, even before the sweep comes round
    const takeover = send(B).outcome;
    assert.ok(takeover.accepted && takeover.change === 'joined');
    assert.deepEqual(addresses(), ['web-1 192.0.2.20']);
    assert.deepEqual(registry.sweep(), [], 'nothing left to sweep');
    // Now A is the newcomer, and is refused; reported again (another holder).
    const back = send(A).outcome;
    assert.ok(!back.accepted && back.collision?.first === true);
    assert.equal(back.collision.holder.source, '127.0.0.1:4002');
  });

  test('a run with the same addresses is the holder restarted: it takes the node at once', () => {
    const { registry, send, addresses, advance } = twoRuns();
    const { bytes: before } = send(A);
    advance(10);
    const restart = send(B, { addresses: ['192.0.2.10'], load: 5 }).outcome;
    assert.ok(restart.accepted && restart.change === 'none');
    assert.deepEqual(addresses(), ['web-1 192.0.2.10']);
    assert.equal(registry.snapshot().nodes[0]?.load, 5);
    const oldRun = registry.receive(before, '127.0.0.1:4001');
    assert.ok(!oldRun.accepted && oldRun.reason === 'replay', 'the old run is over');
  });

  test('a leave removes the node at once; replayed, it is refused; a refused run cannot remove the holder', () => {
    const { registry, send, addresses, advance } = twoRuns();
    send(A);
    advance(100);
    const intruder = send(B, { kind: 'leave' }).outcome;
    assert.ok(!intruder.accepted && intruder.reason === 'collision');
    assert.deepEqual(addresses(), ['web-1 192.0.2.10'], 'B’s leave is not A’s');
    advance(100);
    const { bytes, outcome } = send(A, { kind: 'leave' });
    assert.ok(outcome.accepted && outcome.change === 'left');
    assert.deepEqual(outcome.node.addresses, ['192.0.2.10']);
    assert.deepEqual(addresses(), []);
    const replayed = registry.receive(bytes, '192.0.2.66:999');
    assert.ok(!replayed.accepted && replayed.reason === 'replay');
    // A status of the run that left, replayed from before its leave: refused as well.
    assert.ok(!send(A, { sequence: 1 }).outcome.accepted);
    assert.deepEqual(addresses(), []);
    // The other run now joins.
    advance(100);
    const joined = send(B).outcome;
    assert.ok(joined.accepted && joined.change === 'joined');
  });

  test('a leave of a node not held changes nothing', () => {
    const { registry, send } = twoRuns();
    const outcome = send(A, { kind: 'leave' }).outcome;
    assert.ok(outcome.accepted && outcome.change === 'none');
    assert.equal(registry.snapshot().nodes.length, 0);
  });

  test('one node id in two services is two nodes: no collision, no replay', () => {
    const { send, addresses } = twoRuns();
    assert.ok(send(A, { service: 'www.example.org' }).outcome.accepted);
    assert.ok(send(B, { service: 'api.example.org' }).outcome.accepted);
    assert.ok(send(A, { service: 'www.example.org' }).outcome.accepted);
    assert.deepEqual(addresses(), ['web-1 192.0.2.20', 'web-1 192.0.2.10']);
  });
});
