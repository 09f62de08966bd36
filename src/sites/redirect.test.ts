import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MemberState, StateView } from '../steering/types.js';
import type { SteeredName } from './measure.js';
import { redirectTarget, type RedirectSource } from './redirect.js';
import type { SitesLayer } from './state-view.js';

const NAME: SteeredName = {
  name: 'www.example.org.',
  vips: ['A', 'B', 'C'].map((site, i) => ({
    key: site,
    site,
    address: `192.0.2.${i + 1}`,
    port: 8080,
    capacity: 100,
  })),
};

function source(live: Record<string, Partial<MemberState>>, totals: [string, number][]) {
  const state: StateView = {
    member: (key): MemberState => ({
      up: true,
      load: undefined,
      connections: 10,
      admin: undefined,
      ttlHint: undefined,
      responseMs: 10,
      ...live[key],
    }),
  };
  const layer: SitesLayer = {
    site: 'A',
    ttl: 60,
    useDnsRespond: true,
    tables: [{ name: NAME.name, orders: [], totals }],
  };
  const s: RedirectSource = {
    site: 'A',
    names: () => [NAME],
    state: () => state,
    layer: () => layer,
  };
  return s;
}

const totals: [string, number][] = [
  ['A', 8],
  ['B', 4],
  ['C', 6],
];

test('a site with room sends the client to its own VIP', () => {
  assert.equal(redirectTarget(source({}, totals), NAME)?.site, 'A');
});

test('at max connections, or down, the client goes to the best other site that is up', () => {
  assert.equal(redirectTarget(source({ A: { connections: 100 } }, totals), NAME)?.site, 'C');
  assert.equal(redirectTarget(source({ A: { up: false } }, totals), NAME)?.site, 'C');
  const cDown = source({ A: { connections: 150 }, C: { up: false } }, totals);
  assert.equal(redirectTarget(cDown, NAME)?.site, 'B', 'C is down: the next by total');
});

test('no other site up: no target (the listener answers 503)', () => {
  const alone = source({ A: { up: false }, B: { up: false }, C: { up: false } }, totals);
  assert.equal(redirectTarget(alone, NAME), undefined);
});
