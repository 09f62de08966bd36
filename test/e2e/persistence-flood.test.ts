/**
 * End to end (issue 13): one resolver floods a persistence service with fresh ECS subnets
 * (any client chooses its ECS) while another resolver asks an unrelated name every 10 ms.
 * The other resolver keeps its latency and loses nothing, and the flooding source creates
 * at most `maxNewPerSourcePerSecond` (default 100) entries a second: a reply whose ECS scope
 * is the subnet's /24 is an entry written, scope 0 an answer not remembered.
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { after, before, test } from 'node:test';
import { decodeReply, encodeQuery } from '../helpers/dns-wire.js';
import { startServer, tmpdirWith, type ServerProcess } from '../helpers/server-process.js';
import { resolverAt } from '../helpers/sockets.js';

const CAP = 100; // the default of maxNewPerSourcePerSecond
const FLOOD = 3_000;
const FLOOD_MS = 3_000;
const TICK_MS = 10;
/**
 * The unrelated resolver's p99 bound. The target is 10 ms on a quiet machine. This
 * suite shares 2 cores with other test files (load averages of 8-12 seen while writing it):
 * with the fix, p99 was 8-40 ms, and 100-140 ms in the worst quarter of runs, the same as
 * during a flood of a static name at the same rate (no persistence at all). So the bound
 * only catches a server stalled by the flood. At this light scale (3,000 queries, 20,000
 * entries) the code before the fix did not stall either; what fails without the fix is the
 * cap (every flooded subnet remembered). The O(n) eviction is shown by BENCHMARKS.md §5.4.
 */
const P99_BOUND_MS = 250;

const CONFIG = `
listen: ['127.0.0.1:0']
workers: 1
log: { level: info }
zones:
  - origin: example.org
    ttl: 3600
    records: |
      @ IN SOA ns1 hostmaster 1 7200 3600 1209600 300
      @ IN NS ns1
      ns1 IN A 192.0.2.53
      probe IN A 192.0.2.80
services:
  - name: sticky.example.org
    pools:
      - name: web
        members:
          - { name: a, address: 192.0.2.1 }
          - { name: b, address: 192.0.2.2 }
    policies: [up, admin, round-robin, { policy: persistence, key: subnet, ttl: 600, maxEntries: 20000 }]
`;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The i-th fresh client subnet: 10.x.y.0/24. */
const subnet = (i: number): string => `10.${(i >> 8) & 255}.${i & 255}.0`;

let server: ServerProcess;
let dir: string;
let port: number;

before(async () => {
  dir = await tmpdirWith({ 'steerdns.yaml': CONFIG });
  server = await startServer(['serve', '--config', join(dir, 'steerdns.yaml')], {
    addListen: false,
  });
  port = server.dnsAt('127.0.0.1').port;
});

after(async () => {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
});

test(
  'a fresh-subnet flood from one source: capped, and another resolver keeps its latency',
  {
    timeout: 60_000,
  },
  async () => {
    const flooder = await resolverAt('127.0.0.2');
    const prober = await resolverAt('127.0.0.3');
    try {
      // The flood's replies are kept raw and decoded afterwards: decoding 7,500 a second here
      // would delay the prober's own measurements.
      const floodReplies: Buffer[] = [];
      flooder.on('message', (message) => floodReplies.push(message));
      const sent = new Map<number, number>(); // probe id -> send time
      const unanswered = (): number => sent.size;
      const rtts: number[] = [];
      prober.on('message', (message) => {
        const id = message.readUInt16BE(0);
        const at = sent.get(id);
        if (at === undefined) return;
        sent.delete(id);
        rtts.push(performance.now() - at);
      });

      // Both resolvers work before the flood: the server is warm and answers the probe.
      const probeQuery = (id: number): Buffer =>
        encodeQuery({ name: 'probe.example.org', type: 'A', id });
      let probeId = 1;
      const probe = (): void => {
        const id = probeId++;
        sent.set(id, performance.now());
        prober.send(probeQuery(id), port, '127.0.0.1');
      };
      for (let i = 0; i < 20; i++) {
        probe();
        await sleep(TICK_MS);
      }
      const warmDeadline = Date.now() + 3000;
      while (sent.size > 0 && Date.now() < warmDeadline) await sleep(TICK_MS);
      assert.equal(sent.size, 0, 'the probe was answered before the flood');
      rtts.length = 0;

      let next = 0;
      const start = performance.now();
      while (next < FLOOD) {
        // Paced by the clock: what is due by the end of this tick (about 75 queries).
        const elapsed = performance.now() - start + TICK_MS;
        const due = Math.min(FLOOD, Math.ceil((elapsed / FLOOD_MS) * FLOOD));
        for (; next < due; next++) {
          const query = encodeQuery({
            name: 'sticky.example.org',
            type: 'A',
            id: next & 0xffff,
            edns: { ecs: { family: 1, sourcePrefix: 24, address: subnet(next) } },
          });
          flooder.send(query, port, '127.0.0.1');
        }
        probe();
        await sleep(TICK_MS);
      }
      const floodMs = performance.now() - start;
      // The last probes and flood replies: wait until the probe is answered (or 3 s).
      const drainDeadline = Date.now() + 3000;
      while ((unanswered() > 0 || floodReplies.length < FLOOD) && Date.now() < drainDeadline)
        await sleep(TICK_MS);

      const probes = probeId - 21;
      assert.equal(
        sent.size,
        0,
        `${sent.size} of ${probes} probe queries got no answer within 3 s`,
      );
      const sorted = [...rtts].sort((a, b) => a - b);
      const p99 = sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)]!;
      const p50 = sorted[Math.floor(sorted.length / 2)]!;
      const summary = `${probes} probes during a ${FLOOD}-query flood of ${floodMs.toFixed(0)} ms: p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${sorted.at(-1)!.toFixed(1)} ms`;
      console.log(summary);
      assert.ok(p99 < P99_BOUND_MS, `${summary}; want p99 < ${P99_BOUND_MS} ms`);

      let remembered = 0;
      let notRemembered = 0;
      for (const raw of floodReplies) {
        const scope = decodeReply(raw).opt?.ecs?.scopePrefix;
        if (scope === 24) remembered++;
        else if (scope === 0) notRemembered++;
      }
      // Each one-second window admits CAP new entries; the flood spans at most
      // ceil(floodMs / 1000) + 1 windows (a partial one at each end).
      const allowed = CAP * (Math.ceil(floodMs / 1000) + 1);
      const tally = `${floodReplies.length} flood replies: ${remembered} remembered (scope /24), ${notRemembered} not (scope 0)`;
      console.log(tally);
      assert.ok(remembered <= allowed, `${tally}; want at most ${allowed} remembered`);
      assert.ok(remembered >= CAP, `${tally}; the first ${CAP} of a second are remembered`);
      assert.ok(notRemembered > 0, tally);
      assert.ok(server.isAlive(), 'the server is still running');
    } finally {
      flooder.close();
      prober.close();
    }
  },
);
