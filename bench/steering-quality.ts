// Steering quality of client-centric balancing (seed 002, issue 10): a seeded simulation of
// 10,000 clients in 50 prefixes and 6 sites, each client answered by the real policy chain
// (src/steering `decide`) of three strategies, counted against its own lowest-latency site:
//   (a) geography alone: `proximity`, the client placed at its prefix's POP;
//   (b) the site-side hand-off of seed 003: `handoff`, weights [4, 2, 1], the matrix the
//       sites measure of each other (one split for every client);
//   (c) measurement agents per prefix (MService / a DNS-LB per POP): `measured`, one agent
//       at each POP measuring every site from there (with its own probe noise).
//
//   node --import tsx bench/steering-quality.ts [--seed 1] [--json FILE]
//
// The latency model (ms, round trip): propagation over the great-circle distance at
// 100 km/ms with a 1.5 route inflation; a site's own processing time (0-30, one per site);
// a per-(prefix, site) path term geography cannot see (bad peering: 30% of pairs add
// 20-120, the others 0-10); and per-(client, site) last-mile noise of +-3. An agent sees
// its prefix's paths with its own +-3 noise. The client's best site is its argmin.
import { writeFileSync } from 'node:fs';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { Value } from '@sinclair/typebox/value';
import { measuredView, type AgentMeasurement } from '../src/referral/measurements.js';
import { decide } from '../src/steering/chain.js';
import { policies } from '../src/steering/policies/index.js';
import { distanceKm } from '../src/steering/policies/proximity.js';
import type { Service } from '../src/steering/service.js';
import type {
  ClientInfo,
  Member,
  MemberState,
  SelectionContext,
  StateView,
} from '../src/steering/types.js';
import { parseAddress } from '../src/lib/ip.js';

const SITES: readonly { name: string; at: [number, number] }[] = [
  { name: 'A', at: [39.0, -77.5] }, // us-east
  { name: 'B', at: [37.4, -122.1] }, // us-west
  { name: 'C', at: [53.3, -6.3] }, // eu-west
  { name: 'D', at: [50.1, 8.7] }, // eu-central
  { name: 'E', at: [35.7, 139.7] }, // ap-northeast
  { name: 'F', at: [-23.5, -46.6] }, // sa-east
];
const PREFIXES = 50;
const CLIENTS = 10_000;

/** mulberry32: a small seeded PRNG, uniform in [0, 1). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const propagation = (a: readonly [number, number], b: readonly [number, number]): number =>
  (distanceKm(a, b) * 1.5) / 100;

/** What one run found: share of clients at their lowest-latency site, per strategy. */
export interface QualityResult {
  readonly seed: number;
  readonly clients: number;
  readonly prefixes: number;
  readonly sites: number;
  /** Percent of clients answered their own lowest-latency site. */
  readonly geography: number;
  readonly handoff: number;
  readonly agents: number;
  /** Mean extra latency over the client's best site, ms. */
  readonly extraMs: {
    readonly geography: number;
    readonly handoff: number;
    readonly agents: number;
  };
}

const UNKNOWN: MemberState = {
  up: undefined,
  load: undefined,
  connections: undefined,
  admin: undefined,
  ttlHint: undefined,
  responseMs: undefined,
};

function members(): Member[] {
  return SITES.map((s, i) => {
    const address = `192.0.2.${i + 1}`;
    return {
      id: `sites/${s.name}`,
      key: `www.example.com. sites/${s.name}`,
      name: s.name,
      pool: 'sites',
      index: i,
      ordinal: i,
      ipv4: [address],
      ipv6: [],
      ipv4Bytes: [Buffer.from(parseAddress(address)!)],
      ipv6Bytes: [],
      target: undefined,
      site: s.name,
      region: undefined,
      country: undefined,
      coordinates: s.at,
      weight: 1,
      capacity: undefined,
      cost: undefined,
      admin: 'enabled',
      announce: 'optional',
    };
  });
}

function service(list: Member[], policy: string, settings: object): Service {
  const definition = policies.get(policy)!;
  const deps = {
    service: 'www.example.com.',
    members: list,
    topology: {
      rules: [],
      geo: { lookup: () => undefined } as never,
      sites: new Map(),
      ldnsGroups: new Map(),
    },
    persistence: () => {
      throw new Error('no persistence in the simulation');
    },
  };
  const chain = [definition.create(Value.Default(definition.config, settings), deps)];
  return {
    name: 'www.example.com.',
    type: 'address',
    ttl: 300,
    answers: 1,
    pools: [{ name: 'sites', members: list, ipv4Members: list, ipv6Members: [] }],
    chain,
    allDown: { action: 'fail-open' },
  };
}

const prefixAddress = (p: number, host: number): string =>
  `2001:db8:${p.toString(16)}::${host.toString(16)}`;

/** Runs the simulation with one seed. */
export function simulate(seed = 1): QualityResult {
  const random = prng(seed);
  const uniform = (lo: number, hi: number): number => lo + (hi - lo) * random();
  const siteLoad = SITES.map(() => uniform(0, 30));
  const pops = Array.from({ length: PREFIXES }, (): [number, number] => [
    uniform(-40, 60),
    uniform(-130, 150),
  ]);
  const path = pops.map(() =>
    SITES.map(() => (random() < 0.3 ? uniform(20, 120) : uniform(0, 10))),
  );
  const latency = (p: number, at: readonly [number, number], s: number, noise: number): number =>
    propagation(at, SITES[s]!.at) + siteLoad[s]! + path[p]![s]! + noise;

  const list = members();
  const now = 1_000_000;
  // (c) one agent per prefix, at its POP, with its own probe noise.
  const agents: AgentMeasurement[] = pops.map((at, p) => ({
    agent: `pop${p}`,
    address: prefixAddress(p, 0xa),
    intervalMs: 300_000,
    receivedAt: now,
    sites: SITES.map((_, s) => ({
      address: `192.0.2.${s + 1}`,
      ok: true,
      ms: latency(p, at, s, uniform(-3, 3)),
      resets: 0,
      abnormal: 0,
    })),
  }));
  // (b) the sites measure each other: matrix[tester][tested].
  const matrix = Object.fromEntries(
    SITES.map((tester, i) => [
      tester.name,
      Object.fromEntries(
        SITES.flatMap((tested, j) =>
          j === i
            ? []
            : [[tested.name, propagation(tester.at, tested.at) + siteLoad[j]! + uniform(0, 10)]],
        ),
      ),
    ]),
  );
  const strategies = {
    geography: service(list, 'proximity', {
      locations: pops.map((at, p) => ({ cidr: `${prefixAddress(p, 0)}/48`, coordinates: at })),
    }),
    handoff: service(list, 'handoff', { weights: [4, 2, 1], matrix }),
    agents: service(list, 'measured', { maxAge: 900 }),
  };
  const state: StateView = { member: () => UNKNOWN, measured: measuredView(agents)! };
  const hits = { geography: 0, handoff: 0, agents: 0 };
  const extra = { geography: 0, handoff: 0, agents: 0 };
  for (let c = 0; c < CLIENTS; c++) {
    const p = c % PREFIXES;
    // A client near its POP (within about 1 degree), with its own last mile.
    const at: [number, number] = [pops[p]![0] + uniform(-1, 1), pops[p]![1] + uniform(-1, 1)];
    const times = SITES.map((_, s) => latency(p, at, s, uniform(-3, 3)));
    const best = times.indexOf(Math.min(...times));
    const bytes = parseAddress(prefixAddress(p, 0x100 + Math.floor(c / PREFIXES)))!;
    const client: ClientInfo = {
      resolver: bytes,
      location: bytes,
      locationPrefix: 128,
      fromEcs: false,
      resolverText: prefixAddress(p, 0x100 + Math.floor(c / PREFIXES)),
    };
    for (const [name, steered] of Object.entries(strategies) as [keyof typeof hits, Service][]) {
      const ctx: SelectionContext = {
        service: steered.name,
        client,
        state,
        random,
        now,
        explain: false,
      };
      const chosen = decide(steered, ctx, 4).members[0]!.index;
      if (chosen === best) hits[name]++;
      extra[name] += times[chosen]! - times[best]!;
    }
  }
  const pct = (n: number): number => Math.round((1000 * n) / CLIENTS) / 10;
  const mean = (n: number): number => Math.round((10 * n) / CLIENTS) / 10;
  return {
    seed,
    clients: CLIENTS,
    prefixes: PREFIXES,
    sites: SITES.length,
    geography: pct(hits.geography),
    handoff: pct(hits.handoff),
    agents: pct(hits.agents),
    extraMs: {
      geography: mean(extra.geography),
      handoff: mean(extra.handoff),
      agents: mean(extra.agents),
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const at = (flag: string): string | undefined => {
    const i = process.argv.indexOf(flag);
    return i < 0 ? undefined : process.argv[i + 1];
  };
  const result = simulate(Number(at('--seed') ?? 1));
  const json = at('--json');
  if (json !== undefined) writeFileSync(json, `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify(result));
}
