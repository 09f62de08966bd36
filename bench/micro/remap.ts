// How many clients change member when 1 of 10 equal members leaves: consistent-hash
// (rendezvous hashing) against stripe (address modulo the members up, seed 001).
//   node --import tsx bench/micro/remap.ts [CLIENTS]
// CLIENTS (default 100,000) distinct random IPv4 resolver addresses (fixed seed), no ECS.
// Each client is decided with all 10 members, then with m10 gone. "Gone" is shown both ways
// the chain can express it: removed from the candidates (what `up` before the policy does)
// and still a candidate but marked down (stripe checks state itself). Only the clients
// that had m10 (about 10%) have to move.
import process from 'node:process';
import { Value } from '@sinclair/typebox/value';
import { loadAll } from '../../src/app.js';
import { parseConfig } from '../../src/config/load.js';
import { LruPersistenceStore } from '../../src/steering/persistence-store.js';
import { policies } from '../../src/steering/policies/index.js';
import type {
  ClientInfo,
  Member,
  MemberState,
  Policy,
  PolicyDeps,
} from '../../src/steering/types.js';

const clientCount = Number(process.argv[2] ?? 100_000);
const CONFIG = `
listen: [127.0.0.1:5353]
zones:
  - origin: example.test
    ttl: 3600
    records: |
      @    IN SOA ns1 hostmaster 1 7200 3600 1209600 300
      @    IN NS  ns1
      ns1  IN A   192.0.2.53
services:
  - name: www.example.test
    pools:
      - name: web
        members:
${Array.from({ length: 10 }, (_, i) => `          - { name: m${i + 1}, address: 192.0.2.${i + 1} }`).join('\n')}
    policies: [up, consistent-hash]
`;
const { services } = await loadAll(() => Promise.resolve(parseConfig(CONFIG, 'remap.yaml')));
const members: readonly Member[] = [...services.byKey.values()][0]!.service.pools[0]!.members;
const leaving = members[members.length - 1]!;
const remaining = members.filter((m) => m !== leaving);

const deps: PolicyDeps = {
  service: 'remap',
  members,
  // neither policy uses topology or persistence
  topology: {
    sites: new Map(),
    ldnsGroups: new Map(),
    rules: [],
    geo: { locate: () => ({ country: 'US', continent: 'NA', region: 'ARIN', prefix: 16 }) },
  },
  persistence: () => new LruPersistenceStore(1),
};
const make = (name: string): Policy => {
  const definition = policies.get(name)!;
  return definition.create(Value.Default(definition.config, {}), deps);
};

// distinct random IPv4 addresses, from a fixed-seed xorshift32
let seed = 0x2545f491;
const next = (): number => {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return seed >>> 0;
};
const seen = new Set<number>();
const clients: ClientInfo[] = [];
while (clients.length < clientCount) {
  const n = next();
  if (seen.has(n)) continue;
  seen.add(n);
  const address = Uint8Array.from([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
  clients.push({
    resolver: address,
    location: address,
    locationPrefix: 32,
    fromEcs: false,
    resolverText: address.join('.'),
  });
}

const upState: MemberState = {
  up: true,
  load: undefined,
  connections: undefined,
  admin: undefined,
  ttlHint: undefined,
  responseMs: undefined,
};
const downState: MemberState = { ...upState, up: false };
const allUp = { member: () => upState };
const leavingDown = { member: (key: string) => (key === leaving.key ? downState : upState) };

const choose = (
  policy: Policy,
  candidates: readonly Member[],
  client: ClientInfo,
  state: { member: (key: string) => MemberState },
): string =>
  policy.apply(candidates, {
    service: 'www.example.test.',
    client,
    state,
    random: Math.random,
    now: Date.now(),
    explain: false,
  }).candidates[0]!.id;

console.log(
  `${clientCount.toLocaleString('en-US')} clients, ${members.length} equal members, ${leaving.id} leaves`,
);
for (const name of ['consistent-hash', 'stripe']) {
  const policy = make(name);
  for (const how of ['removed', 'marked down'] as const) {
    if (name === 'consistent-hash' && how === 'marked down') continue; // it reads no state
    let moved = 0;
    let hadLeaving = 0;
    for (const client of clients) {
      const before = choose(policy, members, client, allUp);
      const after =
        how === 'removed'
          ? choose(policy, remaining, client, allUp)
          : choose(policy, members, client, leavingDown);
      if (before === leaving.id) hadLeaving++;
      if (before !== after) moved++;
    }
    const pct = (x: number): string => `${((x / clientCount) * 100).toFixed(1)}%`;
    console.log(
      `${name.padEnd(16)} (${how.padEnd(11)}) moved ${pct(moved).padStart(6)} of clients ` +
        `(${moved.toLocaleString('en-US')}); ${pct(hadLeaving)} had ${leaving.id} and had to move`,
    );
  }
}
