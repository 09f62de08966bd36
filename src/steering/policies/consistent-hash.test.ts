import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ClientInfo, Member } from '../types.js';
import {
  client,
  context,
  ids,
  members,
  names,
  policyDeps,
  seededRandom,
} from '../../../test/helpers/steering.js';
import { consistentHash } from './consistent-hash.js';

const ten = members(...Array.from({ length: 10 }, (_, i) => `m${String(i)}`));
const defaults = { ipv4Prefix: 24, ipv6Prefix: 56 };

/** `n` random IPv4 resolvers from a seeded source. */
function randomClients(n: number, seed: number): ClientInfo[] {
  const random = seededRandom(seed);
  const byte = (): number => Math.floor(random() * 256);
  return Array.from({ length: n }, () =>
    client(`${String(byte())}.${String(byte())}.${String(byte())}.${String(byte())}`),
  );
}

const top = (list: readonly Member[], who: ClientInfo, settings = defaults): string =>
  consistentHash.create(settings, policyDeps(list)).apply(list, context({ client: who }))
    .candidates[0]!.id;

test('consistent-hash gives a client the same member whatever the query or list order', () => {
  const policy = consistentHash.create(defaults, policyDeps(ten));
  const cases: { row: string; a: ClientInfo; b: ClientInfo; list?: Member[] }[] = [
    { row: 'same resolver again', a: client('192.0.2.77'), b: client('192.0.2.77') },
    { row: 'same /24', a: client('192.0.2.1'), b: client('192.0.2.254') },
    {
      row: 'same ECS /24, other resolvers',
      a: client('198.51.100.1', '203.0.113.0/24'),
      b: client('192.0.2.9', '203.0.113.0/24'),
    },
    {
      row: 'ECS host bits beyond /24 ignored',
      a: client('192.0.2.1', '203.0.113.5/32'),
      b: client('192.0.2.1', '203.0.113.200/32'),
    },
    { row: 'same IPv6 /56', a: client('2001:db8:1:100::1'), b: client('2001:db8:1:1ff::abcd') },
    {
      row: 'reversed list',
      a: client('192.0.2.77'),
      b: client('192.0.2.77'),
      list: [...ten].reverse(),
    },
  ];
  for (const { row, a, b, list = ten } of cases) {
    const first = ids(policy.apply(ten, context({ client: a })).candidates);
    const second = ids(policy.apply(list, context({ client: b })).candidates);
    assert.deepEqual(second, first, row);
  }
});

test('consistent-hash spreads clients; the prefix decides what counts as one client', () => {
  const cases = [
    { row: '/24: one member for a whole /24', ipv4Prefix: 24, distinct: (n: number) => n === 1 },
    { row: '/32: hosts of a /24 spread', ipv4Prefix: 32, distinct: (n: number) => n >= 9 },
    { row: '/0: every client the same', ipv4Prefix: 0, distinct: (n: number) => n === 1 },
  ];
  for (const { row, ipv4Prefix, distinct } of cases) {
    const seen = new Set<string>();
    for (let host = 0; host < 256; host++)
      seen.add(top(ten, client(`192.0.2.${String(host)}`), { ipv4Prefix, ipv6Prefix: 56 }));
    assert.ok(distinct(seen.size), `${row}: ${String(seen.size)} members used`);
  }
});

test('consistent-hash: when one of 10 members leaves, only its clients move (about 10%)', () => {
  const clients = randomClients(100_000, 2026);
  const policy = consistentHash.create(defaults, policyDeps(ten));
  const pick = (list: readonly Member[], who: ClientInfo): string =>
    policy.apply(list, context({ client: who })).candidates[0]!.id;
  for (const leaver of [ten[0]!, ten[6]!]) {
    const rest = ten.filter((m) => m !== leaver);
    let moved = 0;
    let movedOthers = 0;
    for (const who of clients) {
      const before = pick(ten, who);
      if (pick(rest, who) === before) continue;
      moved++;
      if (before !== leaver.id) movedOthers++;
    }
    const row = `${leaver.id} leaves`;
    assert.equal(movedOthers, 0, `${row}: clients of other members moved`);
    assert.ok(
      moved / clients.length <= 0.12,
      `${row}: ${(moved / 1000).toFixed(2)}% moved, want <= 12%`,
    );
    assert.ok(
      moved / clients.length >= 0.08,
      `${row}: ${(moved / 1000).toFixed(2)}% moved, want about 10%`,
    );
  }
});

test('consistent-hash: the rest of the ranking is the answer without the first member', () => {
  const policy = consistentHash.create(defaults, policyDeps(ten));
  for (const who of randomClients(200, 5)) {
    const ranking = policy.apply(ten, context({ client: who })).candidates;
    const without = policy.apply(
      ten.filter((m) => m !== ranking[0]),
      context({ client: who }),
    ).candidates;
    assert.deepEqual(ids(without), ids(ranking.slice(1)), `client ${who.location.join('.')}`);
  }
});

test('consistent-hash shares follow the member weights (100,000 clients, within a point)', () => {
  const cases: { row: string; weights: number[]; want: number[] }[] = [
    { row: 'equal', weights: [1, 1, 1, 1], want: [25, 25, 25, 25] },
    { row: '1:1:2', weights: [1, 1, 2], want: [25, 25, 50] },
    { row: '1:2:3:4', weights: [1, 2, 3, 4], want: [10, 20, 30, 40] },
    { row: 'weight 0 gets nobody', weights: [0, 1, 3], want: [0, 25, 75] },
  ];
  const clients = randomClients(100_000, 77);
  for (const { row, weights, want } of cases) {
    const list = members(...weights.map((weight, i) => ({ name: `w${String(i)}`, weight })));
    const policy = consistentHash.create(defaults, policyDeps(list));
    const seen = new Map<string, number>();
    for (const who of clients) {
      const id = policy.apply(list, context({ client: who })).candidates[0]!.id;
      seen.set(id, (seen.get(id) ?? 0) + 1);
    }
    list.forEach((m, i) => {
      const got = (seen.get(m.id) ?? 0) / 1000;
      assert.ok(
        Math.abs(got - want[i]!) <= 1,
        `${row}: ${m.name} got ${got.toFixed(2)}%, want ${String(want[i])}%`,
      );
    });
  }
});

test('consistent-hash drops members of weight 0 from the list', () => {
  const list = members({ name: 'a', weight: 0 }, { name: 'b' }, { name: 'c', weight: 0 });
  const policy = consistentHash.create(defaults, policyDeps(list));
  const cases = [
    { row: 'one weighted', list, want: ['b'] },
    { row: 'none weighted', list: [list[0]!, list[2]!], want: [] },
  ];
  for (const { row, list: input, want } of cases)
    assert.deepEqual(names(policy.apply(input, context()).candidates), want, row);
});

test('consistent-hash returns the ECS scope it used: the smaller of the ECS and configured prefixes', () => {
  const cases: {
    row: string;
    who: ClientInfo;
    ipv4Prefix?: number;
    ipv6Prefix?: number;
    scope: number | undefined;
  }[] = [
    { row: 'no ECS: no scope', who: client('192.0.2.77'), scope: undefined },
    { row: 'ECS /24, prefix 24', who: client('192.0.2.77', '198.51.100.0/24'), scope: 24 },
    { row: 'ECS /16 is coarser', who: client('192.0.2.77', '198.51.0.0/16'), scope: 16 },
    { row: 'ECS /32 cut to 24', who: client('192.0.2.77', '198.51.100.7/32'), scope: 24 },
    { row: 'ECS /0', who: client('192.0.2.77', '0.0.0.0/0'), scope: 0 },
    { row: 'prefix 20', who: client('192.0.2.77', '198.51.100.0/24'), ipv4Prefix: 20, scope: 20 },
    {
      row: 'IPv6 ECS /48 is coarser than 56',
      who: client('2001:db8::53', '2001:db8:1::/48'),
      scope: 48,
    },
    { row: 'IPv6 ECS /64 cut to 56', who: client('2001:db8::53', '2001:db8:1:2::/64'), scope: 56 },
    {
      row: 'IPv6 prefix 64',
      who: client('2001:db8::53', '2001:db8:1:2::/64'),
      ipv6Prefix: 64,
      scope: 64,
    },
    { row: 'IPv4 resolver, IPv6 ECS', who: client('192.0.2.77', '2001:db8:1::/48'), scope: 48 },
  ];
  for (const { row, who, ipv4Prefix = 24, ipv6Prefix = 56, scope } of cases) {
    const policy = consistentHash.create({ ipv4Prefix, ipv6Prefix }, policyDeps(ten));
    assert.equal(policy.apply(ten, context({ client: who })).scope, scope, row);
  }
});
