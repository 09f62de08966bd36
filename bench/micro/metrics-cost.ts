// Microbenchmark (issue 12): what counting a query costs on the answer path, in process (no
// sockets): ns per responder.handle() without counters and with them (metrics on), for a
// cached static answer and a steered one, interleaved in rounds so that a noisy machine
// treats both alike. The difference is what metrics add to every query.
//   node --import tsx bench/micro/metrics-cost.ts [ROUNDS]
import dnsPacket from 'dns-packet';
import { loadAll } from '../../src/app.js';
import { QueryCounters } from '../../src/answer/query-counters.js';
import { Responder } from '../../src/answer/responder.js';
import { parseConfig } from '../../src/config/load.js';
import { GSLB_CONFIG } from './gslb-config.js';

const ITERATIONS = 300_000;
const ROUNDS = Number(process.argv[2] ?? 7);

const { loaded, services, config } = await loadAll(() =>
  Promise.resolve(parseConfig(GSLB_CONFIG, 'bench.yaml')),
);
const responder = (counters: QueryCounters | undefined): Responder =>
  new Responder(loaded.zones, {
    udpPayloadMax: config.dns.udpPayloadMax,
    counters,
    steering: {
      names: services.byKey,
      state: () => services.staticState,
      random: Math.random,
      now: Date.now,
    },
  });
const off = responder(undefined);
const on = responder(new QueryCounters());
const ask = (name: string): Buffer =>
  Buffer.from(dnsPacket.encode({ type: 'query', id: 1, questions: [{ name, type: 'A' }] }));
const cases = { static: ask('api.example.test'), steered: ask('www.example.test') };

function time(r: Responder, query: Buffer): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < ITERATIONS; i++) r.handle(query, 'udp', '127.0.0.1');
  return Number(process.hrtime.bigint() - start) / ITERATIONS;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (const [name, query] of Object.entries(cases)) {
  for (const r of [off, on]) time(r, query); // warm-up
  const offs: number[] = [];
  const ons: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    offs.push(time(off, query));
    ons.push(time(on, query));
  }
  const [a, b] = [median(offs), median(ons)];
  console.log(
    `${name.padEnd(8)} off ${a.toFixed(0)} ns, on ${b.toFixed(0)} ns: +${(b - a).toFixed(0)} ns a query (rounds off ${offs.map((x) => x.toFixed(0)).join(' ')}; on ${ons.map((x) => x.toFixed(0)).join(' ')})`,
  );
}
