import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseAddress } from '../../lib/ip.js';
import type { MemberState } from '../types.js';
import {
  client,
  context,
  members,
  names,
  policyDeps,
  stateView,
} from '../../../test/helpers/steering.js';
import { addressModulo, stripe } from './stripe.js';

const servers = members('s1', 's2', 's3', 's4');
const downs = (...down: string[]): Record<string, Partial<MemberState>> =>
  Object.fromEntries(down.map((name) => [name, { up: false }]));

/** The address as a BigInt: an independent oracle for the modulus. */
const big = (text: string): bigint =>
  [...parseAddress(text)!].reduce((n, byte) => n * 256n + BigInt(byte), 0n);

test('addressModulo is the address as an integer modulo n, for IPv4 and IPv6', () => {
  const addresses = [
    '0.0.0.0',
    '192.0.2.77',
    '255.255.255.255',
    '::',
    '2001:db8::53',
    'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
  ];
  for (const address of addresses) {
    for (const n of [1, 2, 3, 7, 10, 255, 1_000_003]) {
      const want = Number(big(address) % BigInt(n));
      assert.equal(addressModulo(parseAddress(address)!, n), want, `${address} mod ${String(n)}`);
    }
  }
});

test('stripe picks the member the seed 001 modulus walk gives', () => {
  const cases: {
    row: string;
    resolver: string;
    states: Record<string, Partial<MemberState>>;
    want: string;
  }[] = [
    // seed 001: [s1 up, s2 down, s3 up, s4 up], N = 3
    { row: 'seed 001: X = 2', resolver: '192.0.2.77', states: downs('s2'), want: 's3' },
    { row: 'seed 001: X = 3', resolver: '198.51.100.10', states: downs('s2'), want: 's4' },
    { row: 'seed 001: X = 1', resolver: '203.0.113.200', states: downs('s2'), want: 's1' },
    // all up, N = 4: 192.0.2.77 mod 4 = 1, X = 2
    { row: 'all up', resolver: '192.0.2.77', states: {}, want: 's2' },
    {
      row: 'not checked counts as up',
      resolver: '192.0.2.77',
      states: { s1: { up: true } },
      want: 's2',
    },
    // N = 1: whatever the address, the only member up
    { row: 'one up', resolver: '203.0.113.9', states: downs('s1', 's2', 's4'), want: 's3' },
    // the walk wraps around the list: N = 2, 192.0.2.77 mod 2 = 1, X = 2 -> s4
    {
      row: 'wraps past the down ones',
      resolver: '192.0.2.77',
      states: downs('s2', 's3'),
      want: 's4',
    },
    // IPv6 resolver: 2001:db8::53 mod 3 = 1, X = 2 -> s3; mod 4 = 3, X = 4 -> s4
    { row: 'IPv6 resolver', resolver: '2001:db8::53', states: downs('s2'), want: 's3' },
    { row: 'IPv6 resolver, all up', resolver: '2001:db8::53', states: {}, want: 's4' },
  ];
  for (const { row, resolver, states, want } of cases) {
    const policy = stripe.create({ key: 'resolver' }, policyDeps(servers));
    const ctx = context({ client: client(resolver), state: stateView(states) });
    assert.deepEqual(names(policy.apply(servers, ctx).candidates), [want], `${row} (${resolver})`);
  }
});

test('stripe gives every resolver the same member, query after query', () => {
  const policy = stripe.create({ key: 'resolver' }, policyDeps(servers));
  const ctx = context({ client: client('198.51.100.10'), state: stateView(downs('s2')) });
  const got = new Set(
    Array.from({ length: 20 }, () => policy.apply(servers, ctx).candidates[0]!.name),
  );
  assert.deepEqual([...got], ['s4'], 'stable');
});

test('stripe falls back to round robin over all members when none is up', () => {
  const policy = stripe.create({ key: 'resolver' }, policyDeps(servers));
  const ctx = context({
    client: client('192.0.2.77'),
    state: stateView(downs('s1', 's2', 's3', 's4')),
  });
  const got = Array.from({ length: 6 }, () =>
    names(policy.apply(servers, ctx).candidates).join(','),
  );
  assert.deepEqual(got, ['s1', 's2', 's3', 's4', 's1', 's2'], 'round robin regardless of state');
  const notes = policy.apply(servers, { ...ctx, explain: true }).notes;
  assert.deepEqual(notes, ['no member up: round robin'], 'explained');
});

test('stripe keys on the resolver, or on the ECS subnet with key client (and then sets the scope)', () => {
  const cases: {
    row: string;
    key: 'resolver' | 'client';
    resolver: string;
    ecs?: string;
    want: string;
    scope: number;
  }[] = [
    // resolver 192.0.2.77 -> s2 (all up); ECS 198.51.100.0 mod 4 = 0 -> s1
    {
      row: 'resolver key ignores ECS',
      key: 'resolver',
      resolver: '192.0.2.77',
      ecs: '198.51.100.0/24',
      want: 's2',
      scope: 0,
    },
    {
      row: 'client key uses ECS',
      key: 'client',
      resolver: '192.0.2.77',
      ecs: '198.51.100.0/24',
      want: 's1',
      scope: 24,
    },
    {
      row: 'client key, ECS /20',
      key: 'client',
      resolver: '192.0.2.77',
      ecs: '198.51.96.0/20',
      want: 's1',
      scope: 20,
    },
    {
      row: 'client key without ECS: the resolver, no scope',
      key: 'client',
      resolver: '192.0.2.77',
      want: 's2',
      scope: 0,
    },
  ];
  for (const { row, key, resolver, ecs, want, scope } of cases) {
    const policy = stripe.create({ key }, policyDeps(servers));
    const result = policy.apply(servers, context({ client: client(resolver, ecs) }));
    assert.deepEqual(
      { got: names(result.candidates), scope: result.scope ?? 0 },
      { got: [want], scope },
      row,
    );
  }
});

test('stripe answers nothing for no candidates and explains N and X', () => {
  const policy = stripe.create({ key: 'resolver' }, policyDeps(servers));
  assert.deepEqual(policy.apply([], context()).candidates, [], 'empty');
  const ctx = context({
    client: client('192.0.2.77'),
    state: stateView(downs('s2')),
    explain: true,
  });
  assert.deepEqual(policy.apply(servers, ctx).notes, ['N=3, X=2: p/s3'], 'explain');
});
