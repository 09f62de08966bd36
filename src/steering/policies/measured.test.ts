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
  const figures = (agent: string) => ({
    agent,
    address: '198.51.100.10',
    commonBits,
    ageMs,
    figure: (address: string) => ms[address],
  });
  const view: MeasuredView = {
    nearest: () => figures('pop1'),
    // Only pop9 is heard by name (the table's agent).
    named: (agent) => (agent === 'pop9' ? figures('pop9') : undefined),
  };
  return { member: () => UNKNOWN, measured: view };
}

test('measured orders by the nearest agent figures; unmeasured last; stale or none: unchanged', () => {
  const policy = measured.create({ maxAge: 60, agents: [] }, policyDeps(list));
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
  const policy = measured.create({ maxAge: 60, agents: [] }, policyDeps(list));
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

test('measured: a configured "client prefix -> agent" table names the agent first', () => {
  const table = (agent: string) =>
    measured.create({ maxAge: 60, agents: [{ cidr: '198.51.100.0/24', agent }] }, policyDeps(list));
  const state = withAgent({ '192.0.2.3': 5 }, 0);
  const inTable = client('192.0.2.200', '198.51.100.0/24');
  const listed = table('pop9').apply(list, context({ state, client: inTable, explain: true }));
  assert.deepEqual(names(listed.candidates), ['c', 'a', 'b']);
  assert.match(listed.notes?.join(' ') ?? '', /agent pop9/);
  const unheard = table('pop7').apply(list, context({ state, client: inTable, explain: true }));
  assert.deepEqual(
    names(unheard.candidates),
    ['a', 'b', 'c'],
    'a listed agent not heard: as before',
  );
  assert.deepEqual(unheard.notes, ['agent pop7 (for 198.51.100.0/24) not heard: next rule']);
  const outside = table('pop9').apply(
    list,
    context({ state, client: client('192.0.2.200', '203.0.113.0/24'), explain: true }),
  );
  assert.match(outside.notes?.join(' ') ?? '', /agent pop1/, 'no match: the nearest agent');
});
