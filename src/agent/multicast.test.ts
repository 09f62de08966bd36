import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  addressAndZone,
  familyOf,
  interfaceFor,
  isMulticastGroup,
  multicastProblem,
  splitZone,
  zoneProblem,
} from './multicast.js';

test('multicast groups: 224.0.0.0/4 and ff00::/8, with or without a zone', () => {
  for (const group of [
    '224.0.0.1',
    '239.255.53.1',
    '239.255.255.255',
    'ff02::1',
    'ff15::5380',
    'FF0E::1',
    'ff12::5380%eth0',
  ]) {
    assert.ok(isMulticastGroup(group), group);
  }
  for (const other of [
    '223.255.255.255',
    '240.0.0.1',
    '127.0.0.1',
    '2001:db8::1',
    'fe80::1%eth0',
    'fe80::1',
    '::',
    'eth0',
    '',
  ]) {
    assert.ok(!isMulticastGroup(other), other);
  }
});

test('zones: split off the listen text and the address', () => {
  assert.deepEqual(splitZone('[ff02::5380%eth0]:5380'), {
    text: '[ff02::5380]:5380',
    zone: 'eth0',
  });
  assert.deepEqual(splitZone('[ff02::5380%veth-a.10]:1'), {
    text: '[ff02::5380]:1',
    zone: 'veth-a.10',
  });
  assert.deepEqual(splitZone('[ff02::5380]:5380'), { text: '[ff02::5380]:5380' });
  assert.deepEqual(splitZone('239.255.53.1:5380'), { text: '239.255.53.1:5380' });
  // Zones Linux cannot have (16+ characters, spaces, slashes) are left for the parser to refuse.
  assert.deepEqual(splitZone('[ff02::1%a-very-long-name0]:1'), {
    text: '[ff02::1%a-very-long-name0]:1',
  });
  assert.deepEqual(splitZone('[ff02::1%a/b]:1'), { text: '[ff02::1%a/b]:1' });
  assert.deepEqual(addressAndZone('ff02::1%eth0'), { address: 'ff02::1', zone: 'eth0' });
  assert.deepEqual(addressAndZone('10.0.0.1'), { address: '10.0.0.1' });
  assert.equal(familyOf('ff02::1%eth0'), 6);
  assert.equal(familyOf('239.1.2.3'), 4);
  assert.equal(familyOf('239.1.2.3%eth0'), 4, 'the zone is for multicastProblem to refuse');
  assert.equal(familyOf('eth0'), 0);
});

test('multicast problems: zones only on IPv6 groups, link-local groups need one', () => {
  for (const fine of [
    '239.255.53.1',
    '192.0.2.53',
    '2001:db8::53',
    'ff02::5380%eth0',
    'ff12::1%lo',
    'ff15::5380',
    'ff0e::1',
    'ff05::1%eth0',
  ]) {
    assert.equal(multicastProblem(fine), undefined, fine);
  }
  assert.match(
    multicastProblem('ff02::5380')!,
    /link-local group ff02::5380 needs its interface: \[ff02::5380%eth0\]/,
  );
  assert.match(multicastProblem('ff11::1')!, /needs its interface/, 'interface-local scope');
  assert.match(multicastProblem('fe80::1%eth0')!, /only for an IPv6 multicast group, not fe80::1/);
  assert.match(multicastProblem('2001:db8::1%eth0')!, /only for an IPv6 multicast group/);
  assert.match(multicastProblem('239.1.2.3%eth0')!, /only for an IPv6 multicast group/);
});

test('the interface handed to Node: IPv4 address for IPv4 groups, ::%zone for IPv6', () => {
  assert.equal(interfaceFor('239.255.53.1', '10.0.0.1'), '10.0.0.1');
  assert.equal(interfaceFor('239.255.53.1', undefined), undefined);
  assert.equal(interfaceFor('ff02::5380%eth0', '10.0.0.1'), '::%eth0');
  assert.equal(interfaceFor('ff15::5380', '10.0.0.1'), undefined);
});

test('a zone must name an interface of this host', () => {
  const interfaces = () => ['lo', 'eth0'];
  assert.equal(zoneProblem('ff02::1%eth0', interfaces), undefined);
  assert.equal(zoneProblem('239.255.53.1', interfaces), undefined);
  assert.equal(zoneProblem('ff02::1%eth1', interfaces), 'no interface eth1 on this host');
  assert.equal(zoneProblem('ff02::1%lo'), undefined, 'this host has lo');
});
