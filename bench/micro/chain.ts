// Microbenchmark of the answer path: ns per decision for each policy alone and for a
// realistic chain, and per steered query through the whole responder (no sockets).
//   node --import tsx bench/micro/chain.ts
import dnsPacket from 'dns-packet';
import { loadAll } from '../../src/app.js';
import { Responder } from '../../src/answer/responder.js';
import { parseConfig } from '../../src/config/load.js';
import { decide } from '../../src/steering/chain.js';
import { LruPersistenceStore } from '../../src/steering/persistence-store.js';
import { Value } from '@sinclair/typebox/value';
import { policies } from '../../src/steering/policies/index.js';
import type {
  ClientInfo,
  Member,
  MemberState,
  SelectionContext,
} from '../../src/steering/types.js';
import { healthStateView } from '../../src/health/view.js';
import type { TrackerSettings, TrackerState } from '../../src/health/tracker.js';
import { GSLB_CONFIG } from './gslb-config.js';

const ITERATIONS = 200_000;

function time(label: string, fn: (i: number) => void): void {
  for (let i = 0; i < 20_000; i++) fn(i);
  const start = process.hrtime.bigint();
  for (let i = 0; i < ITERATIONS; i++) fn(i);
  const ns = Number(process.hrtime.bigint() - start) / ITERATIONS;
  console.log(`${label.padEnd(34)} ${ns.toFixed(0).padStart(6)} ns`);
}

const { loaded, services, config } = await loadAll(() =>
  Promise.resolve(parseConfig(GSLB_CONFIG, 'bench.yaml')),
);
const steered = [...services.byKey.values()][0]!;
const members: readonly Member[] = steered.service.pools[0]!.members;
const state: MemberState = {
  up: true,
  load: 30,
  connections: 10,
  admin: undefined,
  ttlHint: 10,
  responseMs: 5,
};
const clients: ClientInfo[] = Array.from({ length: 4096 }, (_, i) => {
  const address = Uint8Array.from([198, 51, (i >> 8) & 255, i & 255]);
  return {
    resolver: address,
    location: address,
    locationPrefix: 32,
    fromEcs: false,
    resolverText: `198.51.${(i >> 8) & 255}.${i & 255}`,
  };
});
const context = (i: number): SelectionContext => ({
  service: steered.service.name,
  client: clients[i & 4095]!,
  state: { member: () => state },
  random: Math.random,
  now: 1e12,
  explain: false,
});

const sampleSettings: Record<string, unknown> = {
  handoff: { weights: [4, 2, 1], matrix: { m1: { m2: 10, m3: 20 }, m2: { m1: 5, m3: 9 } } },
  proximity: { locations: [{ cidr: '198.51.0.0/16', coordinates: [48, 2] }] },
};
const deps = {
  service: 'bench',
  members,
  topology: {
    sites: new Map(),
    ldnsGroups: new Map(),
    rules: [],
    geo: {
      locate: () => ({
        country: 'US',
        continent: 'NA' as const,
        region: 'ARIN' as const,
        prefix: 16,
      }),
    },
  },
  persistence: () => new LruPersistenceStore(1_000_000),
};
console.log(`per decision, ${members.length} members, ${ITERATIONS} iterations:`);
for (const [name, definition] of policies) {
  const settings = Value.Default(definition.config, structuredClone(sampleSettings[name] ?? {}));
  const policy = definition.create(settings, deps);
  time(`policy ${name}`, (i) => policy.apply(members, context(i)));
}
time('chain up,admin,weighted,persistence', (i) => decide(steered.service, context(i), 4));

const responder = new Responder(loaded.zones, {
  udpPayloadMax: config.dns.udpPayloadMax,
  steering: {
    names: services.byKey,
    state: () => services.staticState,
    random: Math.random,
    now: Date.now,
  },
});
const query = Buffer.from(
  dnsPacket.encode({ type: 'query', id: 1, questions: [{ name: 'www.example.test', type: 'A' }] }),
);
const addresses = Array.from({ length: 4096 }, (_, i) => `198.51.${(i >> 8) & 255}.${i & 255}`);
time('responder: steered query', (i) => responder.handle(query, 'udp', addresses[i & 4095]!));

// The same, with every member's state read through the health view (as when members are
// health-checked: steerdns-gslb in run.sh), every target up.
const upTarget: TrackerState = {
  health: 'up',
  since: 0,
  successes: 10,
  failures: 0,
  checks: 10,
  last: { ok: true, latencyMs: 0.2 },
  lastAt: 0,
  averageMs: 0.2,
  resets: 0,
  abnormal: 0,
};
const trackerSettings: TrackerSettings = { rise: 2, fall: 2, intervalMs: 1000, initial: 'unknown' };
const healthView = healthStateView(
  new Map(members.map((m, i) => [m.key, `tcp:127.0.0.${11 + (i % 3)}:18080`])),
  { state: () => upTarget, settings: () => trackerSettings },
  services.staticState,
);
const checkedResponder = new Responder(loaded.zones, {
  udpPayloadMax: config.dns.udpPayloadMax,
  steering: {
    names: services.byKey,
    state: () => healthView,
    random: Math.random,
    now: Date.now,
  },
});
time('responder: steered, health view', (i) =>
  checkedResponder.handle(query, 'udp', addresses[i & 4095]!),
);
// what dnsperf sends in run.sh: one client address, so persistence always hits
time('responder: health view, 1 client', () => checkedResponder.handle(query, 'udp', '127.0.0.1'));
const staticQuery = Buffer.from(
  dnsPacket.encode({ type: 'query', id: 1, questions: [{ name: 'api.example.test', type: 'A' }] }),
);
time('responder: static query', (i) => responder.handle(staticQuery, 'udp', addresses[i & 4095]!));
