/**
 * Issue 10's steering-quality goal on the seeded simulation (bench/steering-quality.ts,
 * BENCHMARKS.md): with a measurement agent (or DNS-LB) per prefix, at least 95% of 10,000
 * clients get their own lowest-latency site, more than by geography or the site-side
 * hand-off. Three seeds.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { simulate } from '../../bench/steering-quality.js';

test('agents per prefix send at least 95% of clients to their fastest site (3 seeds)', () => {
  for (const seed of [1, 2, 3]) {
    const r = simulate(seed);
    assert.ok(r.agents >= 95, `seed ${seed}: agents ${r.agents}%`);
    assert.ok(r.agents > r.geography && r.geography > r.handoff, JSON.stringify(r));
  }
});
