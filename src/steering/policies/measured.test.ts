import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MeasuredView, StateView } from '../types.js';
import {
  client,
  context,
  members,
  names,
  policyDeps,
  UNKNOWN,
} from '../../../test/helpers/steering.js';
import { measured } from './measured.js';

const list = members('a', 'b', 'c'); // 192.0.2.1, .2, .3

/** A state with one agent whose figures are `ms` (by address) and `ageMs` old. */
function withAgent(ms: Record<string, number>, ageMs: number, commonBits = 24): StateView {
  const view: MeasuredView = {
    nearest: () => ({
      agent: 'pop1',
      address: '198.51.100.10',
      commonBits,
      ageMs,
      figure: (address) => ms[address],
    }),
  };
  return { member: () => UNKNOWN, measured: view };
}

test('measured orders by the nearest agent figures; unmeasured last; stale or none: unchanged', () => {
  const policy = measured.create({ maxAge: 60 }, policyDeps(list));
  const cases: { row: string; state: StateView | undefined; want: string[]; scope?: number }[] = [
    {
      row: 'fastest first',
      state: withAgent({ '192.0.2.1': 90, '192.0.2.2': 10, '192.0.2.3': 40 }, 1000),
      want: ['b', 'c', 'a'],
      scope: 24,
    },
    {
      row: 'a site it could not measure goes last',
      state: withAgent({ '192.0.2.3': 40 }, 1000),
      want: ['c', 'a', 'b'],
      scope: 24,
    },
    {
      row: 'figures older than maxAge: as before',
      state: withAgent({ '192.0.2.3': 1 }, 61_000),
      want: ['a', 'b', 'c'],
    },
    { row: 'no agent heard: as before', state: undefined, want: ['a', 'b', 'c'] },
    {
      row: 'scope: at most the client prefix',
      state: withAgent({ '192.0.2.2': 1 }, 0, 28),
      want: ['b', 'a', 'c'],
      scope: 24,
    },
  ];
  for (const { row, state, want, scope } of cases) {
    const ctx = context({
      ...(state ? { state } : {}),
      client: client('192.0.2.200', '198.51.100.0/24'),
      explain: true,
    });
    const result = policy.apply(list, ctx);
    assert.deepEqual(names(result.candidates), want, row);
    assert.equal(result.scope, scope, `${row}: scope`);
  }
});

test('measured explains the agent used, or why none', () => {
  const policy = measured.create({ maxAge: 60 }, policyDeps(list));
  const fresh = policy.apply(
    list,
    context({ state: withAgent({ '192.0.2.1': 5 }, 0), explain: true }),
  );
  assert.deepEqual((fresh.notes ?? []).slice(0, 2), [
    'agent pop1 (198.51.100.10, 24 bits in common)',
    'p/a 5.0 ms',
  ]);
  const stale = policy.apply(list, context({ state: withAgent({}, 120_000), explain: true }));
  assert.deepEqual(stale.notes, ['agent pop1: figures 120 s old, over 60 s: next rule']);
});
