import assert from 'node:assert/strict';
import { test } from 'node:test';
import { context, members, policyDeps, stateView } from '../../test/helpers/steering.js';
import { handoff } from '../steering/policies/handoff.js';
import { sitesStateView, type SitesLayer } from './state-view.js';

const candidates = members(...['A', 'B', 'C'].map((name) => ({ name, site: name })));
const SERVICE = context().service;

const layer = (useDnsRespond: boolean): SitesLayer => ({
  site: 'C',
  ttl: 45,
  useDnsRespond,
  tables: [
    {
      name: SERVICE,
      orders: [],
      totals: [
        ['A', 3],
        ['B', 1],
        ['C', 0],
      ],
    },
  ],
});

/** Who `picks` answers go to, and the TTL caps they carry. */
function answers(state: ReturnType<typeof sitesStateView>, picks: number) {
  const policy = handoff.create({ weights: [4, 2, 1] }, policyDeps(candidates));
  const seen: Record<string, number> = {};
  const ttls = new Set<number | undefined>();
  for (let i = 0; i < picks; i++) {
    const result = policy.apply(candidates, context({ state }));
    const name = result.candidates[0]?.name ?? 'none';
    seen[name] = (seen[name] ?? 0) + 1;
    ttls.add(result.maxTtl);
  }
  return { seen, ttls: [...ttls] };
}

test('the live table replaces the matrix; its TTL caps the answer; 0 gets nothing', () => {
  const { seen, ttls } = answers(sitesStateView(layer(true), stateView()), 40);
  assert.deepEqual(seen, { A: 30, B: 10 });
  assert.deepEqual(ttls, [45]);
});

test('useDnsRespond off: this site first, whatever the table says', () => {
  const { seen } = answers(sitesStateView(layer(false), stateView()), 10);
  assert.deepEqual(seen, { C: 10 });
});

test('no layer: the configured matrix, and without one nothing', () => {
  assert.deepEqual(answers(sitesStateView(undefined, stateView()), 5).seen, { none: 5 });
});

test('a table where no candidate has weight: the candidates share evenly', () => {
  const zero: SitesLayer = {
    ...layer(true),
    tables: [{ name: SERVICE, orders: [], totals: [['A', 0]] }],
  };
  assert.deepEqual(answers(sitesStateView(zero, stateView()), 30).seen, { A: 10, B: 10, C: 10 });
});
