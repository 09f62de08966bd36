/**
 * examples/client-centric/ (docs/client-centric.md): every role's configuration loads,
 * plays the role it says, and the three TTL tiers are the seed's. (run.sh, which starts
 * the chain with unbound, needs root and fixed loopback addresses: it is run by hand.)
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadAll } from '../../src/app.js';
import { readConfig } from '../../src/config/load.js';

const load = async (name: string) =>
  (await loadAll(() => readConfig(`examples/client-centric/${name}.yaml`))).config;

test('examples/client-centric: DNS-A, DNS-B and both DNS-LBs load with their roles and tiers', async () => {
  const dnsa = await load('dnsa');
  assert.deepEqual(dnsa.referral?.owner?.names, ['www.example.com']);
  const dnsb = await load('dnsb');
  assert.equal(dnsb.referral?.backbone?.referralTtl, 3600, 'medium tier: one hour');
  for (const label of ['lb1', 'lb2']) {
    const lb = await load(label);
    assert.equal(lb.referral?.balancer?.label, label);
    const service = lb.services.find((s) => s.name === `${label}.www.example.com.`);
    assert.equal(service?.ttl, 300, `${label}: short tier five minutes`);
    const check = lb.health.checks[0]!;
    assert.ok(
      (check.tracker.intervalMs * check.tracker.fall) / 1000 >= 300,
      `${label}: the health hint leaves the 300 s TTL`,
    );
  }
});
