import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fixtureZones } from '../../test/fixtures/zones.js';
import { nameFromText, wireKey } from '../dns/name.js';
import { RRType } from '../dns/constants.js';
import { rrsetOf } from './zone.js';

const key = (text: string): string => wireKey(nameFromText(text));

test('findZone picks the most specific zone, or none', () => {
  const zones = fixtureZones();
  assert.equal(zones.findZone(key('www.example.org.'))?.key, key('example.org.'));
  assert.equal(zones.findZone(key('ns2.example.net.'))?.key, key('example.net.'));
  assert.equal(zones.findZone(key('example.com.')), undefined);
  assert.equal(zones.findZone(key('.')), undefined);
});

test('outline keeps each apex and the named nodes, with their data and delegation', () => {
  const zones = fixtureZones();
  const outline = zones.outline([
    key('www.example.org.'),
    key('host.sub.example.org.'), // below a delegation, not a node: nothing to keep
    key('ns.sub.example.org.'),
    key('missing.example.net.'),
  ]);
  const org = outline.zones.get(key('example.org.'))!;
  assert.deepEqual(
    [...org.nodes.keys()].sort(),
    [key('example.org.'), key('ns.sub.example.org.'), key('www.example.org.')].sort(),
  );
  assert.equal(rrsetOf(org.nodes.get(key('www.example.org.')), RRType.A)?.rdata.length, 2);
  assert.equal(org.nodes.get(key('ns.sub.example.org.'))?.cut?.key, key('sub.example.org.'));
  assert.equal(org.soa, zones.zones.get(key('example.org.'))!.soa);
  assert.equal(org.size, zones.zones.get(key('example.org.'))!.size);
  const net = outline.zones.get(key('example.net.'))!;
  assert.deepEqual([...net.nodes.keys()], [key('example.net.')]);
  assert.equal(outline.findZone(key('a.b.example.net.'))?.key, key('example.net.'));
  // The original is untouched.
  assert.ok(zones.zones.get(key('example.org.'))!.nodes.has(key('mail.example.org.')));
});
