/**
 * The DNS-B's geo default (`unmapped: geo`, seed 002: "a resolver with no mapping gets ...
 * the nearest by prefix or by the geo data"): an unmapped resolver is referred to the
 * DNS-LB of a registered resolver in the same country, else continent, else registry
 * region, located with the bundled country database the geo policies use; none: the zone
 * answers. The table is the one the answer path reads; the addresses are only looked up.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openGeo } from '../../src/geo/geo.js';
import { nameFromText, wireKey } from '../../src/dns/name.js';
import { parseAddress } from '../../src/lib/ip.js';
import {
  ReferralTable,
  type BalancerEntry,
  type BackboneSettings,
} from '../../src/referral/table.js';

const geo = openGeo();
const locate = (address: Uint8Array) => geo.locate(address);

const entry = (label: string, resolver: string, heardAt = 1): BalancerEntry => ({
  label,
  balancer: `192.0.2.${label.length + heardAt}`,
  resolvers: [resolver],
  notify: undefined,
  intervalMs: 60_000,
  heardAt,
});

const settings = (unmapped: BackboneSettings['unmapped']): BackboneSettings => ({
  names: ['www.example.com.'],
  referralTtl: 3600,
  unmapped,
  nearestMinPrefix: 16,
  direct: false,
  directTtl: 300,
});

// Registered: a resolver in the US (8.8.8.8), one in Germany (194.0.0.1), one in Japan.
const entries = [entry('lbus', '8.8.8.8'), entry('lbde', '194.0.0.1'), entry('lbjp', '133.0.0.1')];
const table = new ReferralTable(settings('geo'), entries, new Set(), locate);
const chosen = (resolver: string) => table.balancerFor(parseAddress(resolver)!)?.label;

test('the database places the test addresses as the cases below assume', () => {
  const at = (a: string) => geo.locate(parseAddress(a)!);
  assert.equal(at('4.2.2.2').country, 'US');
  assert.equal(at('195.0.0.1').country, 'BE');
  assert.equal(at('195.0.0.1').continent, 'EU');
  assert.deepEqual([at('62.0.0.1').country, at('62.0.0.1').continent], ['IL', 'AS']);
  assert.equal(at('62.0.0.1').region, 'RIPE');
  assert.equal(at('200.0.0.1').continent, 'SA');
});

test('an unmapped resolver goes to the DNS-LB of the same country', () => {
  // 4.2.2.2 shares 4 bits with 8.8.8.8: below nearestMinPrefix, so `nearest` finds none.
  assert.equal(chosen('4.2.2.2'), 'lbus');
  const nearest = new ReferralTable(settings('nearest'), entries, new Set(), locate);
  assert.equal(nearest.balancerFor(parseAddress('4.2.2.2')!), undefined);
});

test('else the same continent, before the same registry region', () => {
  // Belgium: no Belgian DNS-LB, the German one (Europe).
  assert.equal(chosen('195.0.0.1'), 'lbde');
  // Israel is in Asia and in the RIPE region: the continent wins (Japan, not Germany).
  assert.equal(chosen('62.0.0.1'), 'lbjp');
  // The region alone, when no continent matches: a table with the German DNS-LB only.
  const onlyDe = new ReferralTable(settings('geo'), [entries[1]!], new Set(), locate);
  assert.equal(onlyDe.balancerFor(parseAddress('62.0.0.1')!)?.label, 'lbde');
});

test('nothing in common, or no place at all: the zone answers', () => {
  assert.equal(chosen('200.0.0.1'), undefined, 'Colombia: no DNS-LB in SA or LACNIC');
  assert.equal(chosen('127.0.0.1'), undefined, 'loopback is nowhere');
  const key = wireKey(nameFromText('www.example.com.'));
  assert.equal(table.refer(key, 1, '200.0.0.1'), undefined);
});

test('a registered resolver keeps its own DNS-LB, and the answer is the referral', () => {
  assert.equal(chosen('194.0.0.1'), 'lbde');
  const key = wireKey(nameFromText('www.example.com.'));
  const reply = table.refer(key, 1, '4.2.2.2');
  assert.ok(reply && 'cut' in reply, 'a referral');
  assert.deepEqual(reply.cut, nameFromText('lbus.www.example.com.'));
  // Asked again: the kept choice, the same answer.
  assert.deepEqual((table.refer(key, 1, '4.2.2.2') as typeof reply).cut, reply.cut);
});

test('between DNS-LBs of one country, the longer common prefix', () => {
  const two = new ReferralTable(
    settings('geo'),
    [entry('lbwest', '8.8.8.8', 1), entry('lbeast', '4.2.2.2', 2)],
    new Set(),
    locate,
  );
  // 4.2.2.3 shares 31 bits with 4.2.2.2.
  assert.equal(two.balancerFor(parseAddress('4.2.2.3')!)?.label, 'lbeast');
  assert.equal(two.balancerFor(parseAddress('8.8.4.4')!)?.label, 'lbwest');
});
