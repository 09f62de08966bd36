import assert from 'node:assert/strict';
import { test } from 'node:test';
import { initialState, record, ttlHint, type Health, type TrackerSettings } from './tracker.js';

const settings: TrackerSettings = { rise: 2, fall: 3, intervalMs: 500, initial: 'unknown' };
const ok = { ok: true, latencyMs: 10 };
const bad = { ok: false, latencyMs: 5, reason: 'refused' };

function run(results: boolean[], initial: Health = 'unknown'): Health[] {
  let state = initialState({ ...settings, initial }, 0);
  return results.map(
    (r, i) => (state = record(state, r ? ok : bad, (i + 1) * 500, { ...settings, initial })).health,
  );
}

test('the state machine: first result decides, then rise and fall thresholds', () => {
  const cases: { row: string; initial?: Health; results: boolean[]; want: Health[] }[] = [
    { row: 'first ok is up', results: [true], want: ['up'] },
    { row: 'first failure is down', results: [false], want: ['down'] },
    {
      row: 'fall 3 needs three failures',
      results: [true, false, false, false],
      want: ['up', 'up', 'up', 'down'],
    },
    {
      row: 'a success resets the failure count',
      results: [true, false, false, true, false, false],
      want: ['up', 'up', 'up', 'up', 'up', 'up'],
    },
    {
      row: 'rise 2 needs two successes',
      results: [false, true, true],
      want: ['down', 'down', 'up'],
    },
    {
      row: 'flapping never comes up',
      results: [false, true, false, true, false, true],
      want: ['down', 'down', 'down', 'down', 'down', 'down'],
    },
    {
      row: 'initial up needs fall failures',
      initial: 'up',
      results: [false, false, false],
      want: ['up', 'up', 'down'],
    },
    {
      row: 'initial down needs rise successes',
      initial: 'down',
      results: [true, true],
      want: ['down', 'up'],
    },
  ];
  for (const { row, initial, results, want } of cases)
    assert.deepEqual(run(results, initial), want, row);
});

test('the TTL hint is the time the state needs to change', () => {
  let state = initialState(settings, 0);
  assert.equal(ttlHint(state, settings), 1, 'unknown: one interval, at least a second');
  state = record(state, ok, 500, settings);
  assert.equal(ttlHint(state, settings), 2, 'up, fall 3 x 500 ms = 1.5 s -> 2');
  state = record(state, bad, 1000, settings);
  assert.equal(ttlHint(state, settings), 1, 'up with one failure: 2 x 500 ms');
  state = record(record(state, bad, 1500, settings), bad, 2000, settings);
  assert.equal(state.health, 'down');
  assert.equal(ttlHint(state, settings), 1, 'down, rise 2 x 500 ms');
});

test('the response time average is weighted by elapsed time', () => {
  let state = record(initialState(settings, 0), { ok: true, latencyMs: 100 }, 1000, settings);
  assert.equal(state.averageMs, 100);
  state = record(state, { ok: true, latencyMs: 200 }, 1100, settings);
  assert.ok(
    state.averageMs! > 100 && state.averageMs! < 102,
    `soon after: small step (${state.averageMs})`,
  );
  state = record(state, { ok: true, latencyMs: 200 }, 61_100, settings);
  assert.ok(state.averageMs! > 199, `long after: nearly the new value (${state.averageMs})`);
  const failed = record(state, bad, 61_200, settings);
  assert.equal(failed.averageMs, state.averageMs, 'failures do not move the average');
  assert.equal(failed.since, state.since, 'no transition, same since');
});

test('resets and abnormal terminations are counted, other failures not', () => {
  const results = [
    { ok: false, latencyMs: 1, reason: 'econnreset', fault: 'reset' as const },
    { ok: true, latencyMs: 1 },
    { ok: false, latencyMs: 1, reason: 'incomplete body', fault: 'abnormal' as const },
    { ok: false, latencyMs: 1, reason: 'econnreset', fault: 'reset' as const },
    bad,
  ];
  let state = initialState(settings, 0);
  results.forEach((result, i) => (state = record(state, result, i * 100, settings)));
  assert.deepEqual({ resets: state.resets, abnormal: state.abnormal }, { resets: 2, abnormal: 1 });
});
