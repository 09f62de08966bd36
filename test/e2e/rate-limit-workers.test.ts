/**
 * End to end (issue 13): with workers, each worker meters its own answers and reports its
 * counters to the primary every second, which shows their sum in GET /status (the primary
 * answers no query itself).
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { encodeQuery } from '../helpers/dns-wire.js';
import { startServer, tmpdirWith, type ServerProcess } from '../helpers/server-process.js';
import { resolverAt } from '../helpers/sockets.js';

const RATE = 20;
const FLOOD = 200;

const config = `
listen: ['127.0.0.1:0']
workers: 2
api: { listen: '127.0.0.1:0' }
dns:
  rateLimit: { responsesPerSecond: ${RATE}, window: 1, slip: 2, exempt: [] }
zones:
  - origin: example.org
    records: |
      @ 3600 IN SOA ns1 hostmaster 1 7200 3600 1209600 300
      @ 3600 IN NS ns1
      ns1 3600 IN A 192.0.2.53
      www 3600 IN A 192.0.2.80
`;

let server: ServerProcess;
let dir: string;

before(async () => {
  dir = await tmpdirWith({ 'steerdns.yaml': config });
  server = await startServer(['serve', '--config', join(dir, 'steerdns.yaml')], {
    addListen: false,
  });
});

after(async () => {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
});

interface Counters {
  rateLimitDropped: number;
  rateLimitSlipped: number;
}

const countersNow = async (): Promise<Counters | undefined> => {
  const response = await fetch(`http://${server.api!.host}:${server.api!.port}/status`);
  return ((await response.json()) as { dns?: Counters }).dns;
};

test("the primary's GET /status sums the workers' rate-limit counters", async () => {
  const port = server.dnsAt('127.0.0.1').port;
  const flood = await resolverAt('127.0.1.1');
  try {
    for (let i = 0; i < FLOOD; i++)
      flood.send(encodeQuery({ name: 'www.example.org', type: 'A', id: i + 1 }), port, '127.0.0.1');
  } finally {
    // Sent; the replies do not matter here.
    await new Promise((resolve) => setTimeout(resolve, 200));
    flood.close();
  }
  // Two workers let through at most about 2 x (rate + a window's burst) of the 200: the rest is
  // limited, and reported within a second or two.
  const deadline = Date.now() + 10_000;
  let counters: Counters | undefined;
  for (;;) {
    counters = await countersNow();
    const limited = (counters?.rateLimitDropped ?? 0) + (counters?.rateLimitSlipped ?? 0);
    if (limited >= FLOOD / 4) break;
    assert.ok(
      Date.now() < deadline,
      `limited only ${limited} in /status: ${JSON.stringify(counters)}`,
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const limited = counters!.rateLimitDropped + counters!.rateLimitSlipped;
  assert.ok(limited <= FLOOD, `more limited (${limited}) than sent (${FLOOD})`);
});
