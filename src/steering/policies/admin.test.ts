import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AdminState } from '../types.js';
import { context, member, policyDeps, stateView } from '../../../test/helpers/steering.js';
import { admin } from './admin.js';

const policy = admin.create({}, policyDeps());

test('admin drops members disabled or draining, in config or as reported by the member', () => {
  const cases: { configured: AdminState; reported: AdminState | undefined; kept: boolean }[] = [
    { configured: 'enabled', reported: undefined, kept: true },
    { configured: 'enabled', reported: 'enabled', kept: true },
    { configured: 'enabled', reported: 'draining', kept: false },
    { configured: 'enabled', reported: 'disabled', kept: false },
    { configured: 'draining', reported: undefined, kept: false },
    // the member saying it is enabled does not undo the operator's drain or disable
    { configured: 'draining', reported: 'enabled', kept: false },
    { configured: 'disabled', reported: undefined, kept: false },
    { configured: 'disabled', reported: 'enabled', kept: false },
    { configured: 'disabled', reported: 'draining', kept: false },
  ];
  for (const { configured, reported, kept } of cases) {
    const list = [member({ name: 'a', admin: configured }, 0), member('b', 1)];
    const state = stateView({ a: { admin: reported } });
    const got = policy.apply(list, context({ state })).candidates.map((m) => m.name);
    assert.deepEqual(
      got,
      kept ? ['a', 'b'] : ['b'],
      `configured ${configured}, reported ${String(reported)}`,
    );
  }
});

test('admin ignores health: a down member that is enabled is kept (up drops it)', () => {
  const state = stateView({ a: { up: false } });
  const got = policy.apply([member('a')], context({ state })).candidates.map((m) => m.name);
  assert.deepEqual(got, ['a'], 'down but enabled');
});

test('admin names the state of each member it drops when explaining', () => {
  const list = [member({ name: 'a', admin: 'disabled' }, 0), member('b', 1), member('c', 2)];
  const state = stateView({ c: { admin: 'draining' } });
  const cases = [
    { explain: true, want: ['p/a is disabled', 'p/c is draining'] },
    { explain: false, want: [] },
  ];
  for (const { explain, want } of cases)
    assert.deepEqual(
      policy.apply(list, context({ state, explain })).notes ?? [],
      want,
      `explain ${String(explain)}`,
    );
});
