import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Value } from '@sinclair/typebox/value';
import { createMonitor } from '../../../test/contract/monitor.contract.js';
import { staticMonitor } from './static.js';

const target = { id: 's', address: '192.0.2.1', port: undefined };

test('static reports its configured state and latency', async () => {
  const cases: { row: string; settings: object; want: object }[] = [
    { row: 'default: up, 0 ms', settings: {}, want: { ok: true, latencyMs: 0 } },
    { row: 'up', settings: { state: 'up' }, want: { ok: true, latencyMs: 0 } },
    {
      row: 'down',
      settings: { state: 'down' },
      want: { ok: false, latencyMs: 0, reason: 'static down' },
    },
    { row: 'latency', settings: { latencyMs: 900 }, want: { ok: true, latencyMs: 900 } },
    {
      row: 'down with latency',
      settings: { state: 'down', latencyMs: 5 },
      want: { ok: false, latencyMs: 5, reason: 'static down' },
    },
  ];
  for (const { row, settings, want } of cases) {
    const monitor = createMonitor(staticMonitor, settings);
    assert.deepEqual(await monitor.check(target, new AbortController().signal), want, row);
  }
});

test('static answers timeout to an aborted signal', async () => {
  const monitor = createMonitor(staticMonitor, {});
  assert.deepEqual(await monitor.check(target, AbortSignal.abort()), {
    ok: false,
    latencyMs: 0,
    reason: 'timeout',
  });
});

test('static settings: defaults filled, bad values rejected', () => {
  assert.deepEqual(Value.Default(staticMonitor.config, {}), { state: 'up', latencyMs: 0 });
  const rejected: { row: string; settings: object }[] = [
    { row: 'unknown state', settings: { state: 'maybe' } },
    { row: 'negative latency', settings: { state: 'up', latencyMs: -1 } },
    { row: 'unknown key', settings: { state: 'up', latencyMs: 0, weight: 1 } },
  ];
  for (const { row, settings } of rejected)
    assert.equal(Value.Check(staticMonitor.config, settings), false, row);
});
