/**
 * docs/metrics.md and examples/grafana/steerdns.json agree with what /metrics serves: every
 * steerdns_ family the node registers is documented, every documented one is registered,
 * and the dashboard's queries name only metrics that exist.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { loadAll } from '../../src/app.js';
import { noProtectionStats } from '../../src/answer/protection.js';
import { noQueryTotals } from '../../src/answer/query-counters.js';
import { parseConfig } from '../../src/config/load.js';
import { ControlNode } from '../../src/control/node.js';
import { createNodeMetrics } from '../../src/metrics/node-metrics.js';
import { parseExposition } from '../helpers/prometheus.js';

const CONFIG = `
listen: ['127.0.0.1:0']
workers: 1
zones:
  - origin: example.org
    records: |
      @ 3600 IN SOA ns1 hostmaster 1 7200 3600 1209600 300
      @ 3600 IN NS ns1
`;

const names = (text: string): Set<string> =>
  new Set([...text.matchAll(/\bsteerdns_[a-z_]+[a-z]/g)].map((m) => m[0]));

test('every metric family is documented in docs/metrics.md, and only those', async () => {
  const loaded = await loadAll(() => Promise.resolve(parseConfig(CONFIG, 'metrics.yaml')));
  const node = new ControlNode(loaded.config, loaded.loaded.zones);
  const metrics = createNodeMetrics({
    snapshot: () => node.snapshot(),
    queries: noQueryTotals,
    refresh: () => Promise.resolve(),
    persistence: () => [],
    protection: noProtectionStats,
    version: '0.0.0',
  });
  const families = [...parseExposition(await metrics.text()).keys()].filter((name) =>
    name.startsWith('steerdns_'),
  );
  const documented = names(readFileSync('docs/metrics.md', 'utf8'));
  assert.deepEqual([...documented].sort(), families.sort());
});

test('the Grafana dashboard queries only metrics that exist', () => {
  const dashboard = readFileSync('examples/grafana/steerdns.json', 'utf8');
  const parsed = JSON.parse(dashboard) as { title: string; panels: unknown[] };
  assert.equal(parsed.title, 'steerdns');
  const documented = names(readFileSync('docs/metrics.md', 'utf8'));
  for (const name of names(dashboard)) {
    const family = name.replace(/_(bucket|sum|count)$/, '');
    assert.ok(documented.has(family), `${name} is not a documented metric`);
  }
});
