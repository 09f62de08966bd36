/**
 * End to end (issue 12, metrics): real servers, real queries, GET /metrics parsed strictly.
 * The counters match the queries sent exactly, with one process and with two workers (the
 * primary sums its workers' reports), through a SIGHUP reload and a worker that is killed;
 * the member gauges follow a real HTTP backend the test stops.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { query, type QuerySpec } from '../helpers/dns-client.js';
import { parseExposition, sumOf, type ParsedFamily } from '../helpers/prometheus.js';
import { startServer, tmpdirWith, type ServerProcess } from '../helpers/server-process.js';
import { listenOnOnePort } from '../helpers/sockets.js';

const ZONE = `
zones:
  - origin: example.org
    records: |
      @ 3600 IN SOA ns1 hostmaster 2026120201 7200 3600 1209600 300
      @ 3600 IN NS ns1
      ns1 3600 IN A 192.0.2.53
      static 3600 IN A 192.0.2.80
`;

const SERVICE = `
services:
  - name: www.example.org
    ttl: 5
    answers: 1
    pools:
      - name: web
        members:
          - { name: a, address: 192.0.2.1 }
          - { name: b, address: 192.0.2.2 }
    policies: [round-robin]
`;

type Families = Map<string, ParsedFamily>;

/** The configuration file of the servers `serve` started, by server. */
const configFiles = new Map<ServerProcess, string>();

/** Starts a server on `config`; stopped (and its directory removed) after the test. */
async function serve(t: TestContext, config: string): Promise<ServerProcess> {
  const dir = await tmpdirWith({ 'steerdns.yaml': config });
  const server = await startServer(['serve', '--config', join(dir, 'steerdns.yaml')], {
    addListen: false,
  });
  configFiles.set(server, join(dir, 'steerdns.yaml'));
  t.after(async () => {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });
  return server;
}

/** GET /metrics, parsed strictly (the parse throws on any line out of the format). */
async function scrape(server: ServerProcess): Promise<Families> {
  const response = await fetch(`http://${server.api!.host}:${server.api!.port}/metrics`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return parseExposition(await response.text());
}

/** Scrapes until `ready` holds (every wait has a deadline); returns that scrape. */
async function scrapeUntil(
  server: ServerProcess,
  what: string,
  ready: (families: Families) => boolean,
  timeoutMs = 15_000,
): Promise<Families> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const families = await scrape(server);
    if (ready(families)) return families;
    assert.ok(Date.now() < deadline, `within ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Sends `count` queries `spec`, `parallel` at a time; resolves the replies. */
async function send(
  server: ServerProcess,
  spec: QuerySpec,
  count: number,
  transport: 'udp' | 'tcp' = 'udp',
  parallel = 8,
): Promise<Awaited<ReturnType<typeof query>>[]> {
  const replies: Awaited<ReturnType<typeof query>>[] = [];
  for (let sent = 0; sent < count; sent += parallel) {
    const batch = Array.from({ length: Math.min(parallel, count - sent) }, () =>
      query(server.address, spec, { transport, timeoutMs: 5000 }),
    );
    replies.push(...(await Promise.all(batch)));
  }
  return replies;
}

const requests = (f: Families, match: Record<string, string>): number =>
  sumOf(f, 'steerdns_dns_requests_total', match);
const responses = (f: Families, match: Record<string, string>): number =>
  sumOf(f, 'steerdns_dns_responses_total', match);
const decisions = (f: Families, member: string): number =>
  sumOf(f, 'steerdns_steering_decisions_total', { service: 'www.example.org.', member });

/** Closes an HTTP server and its connections. */
function closeServer(server: http.Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => {
    server.close(() => {
      resolve();
    });
  });
}

/** Every histogram's buckets grow with `le` and end at its count. */
function assertHistogramsConsistent(families: Families): void {
  for (const family of families.values()) {
    if (family.type !== 'histogram') continue;
    const series = new Map<string, number[]>();
    for (const sample of family.samples.filter((s) => s.name.endsWith('_bucket'))) {
      const rest = Object.entries(sample.labels).filter(([name]) => name !== 'le');
      const key = JSON.stringify(Object.fromEntries(rest));
      series.set(key, [...(series.get(key) ?? []), sample.value]);
    }
    for (const [key, buckets] of series) {
      for (let i = 1; i < buckets.length; i++)
        assert.ok(buckets[i]! >= buckets[i - 1]!, `${family.name}${key} buckets decrease`);
      const count = family.samples.find(
        (s) => s.name === `${family.name}_count` && JSON.stringify(s.labels) === key,
      );
      assert.equal(count?.value, buckets.at(-1), `${family.name}${key} _count is the +Inf bucket`);
    }
  }
}

/** The counts a test expects of one round of traffic (see sendRound). */
const ROUND = { udp: 1000, tcp: 50, nxdomain: 20, refused: 10, steered: 200 };

/** Sends one round; resolves how many answers named each member. */
async function sendRound(server: ServerProcess): Promise<{ a: number; b: number }> {
  await send(server, { name: 'static.example.org', type: 'A' }, ROUND.udp);
  await send(server, { name: 'static.example.org', type: 'AAAA' }, ROUND.tcp, 'tcp');
  const nx = await send(server, { name: 'nope.example.org', type: 'A' }, ROUND.nxdomain);
  assert.ok(nx.every((reply) => reply.rcode === 'NXDOMAIN'));
  const refused = await send(server, { name: 'www.example.com', type: 'A' }, ROUND.refused);
  assert.ok(refused.every((reply) => reply.rcode === 'REFUSED'));
  const steered = await send(server, { name: 'www.example.org', type: 'A' }, ROUND.steered);
  const answered = (address: string): number =>
    steered.filter((reply) => reply.answers.some((a) => a.type === 'A' && a.data === address))
      .length;
  return { a: answered('192.0.2.1'), b: answered('192.0.2.2') };
}

/** Asserts the counters are `rounds` rounds of traffic, exactly, and the member counts. */
function assertRounds(f: Families, rounds: number, members: { a: number; b: number }): void {
  const zone = 'example.org.';
  assert.equal(requests(f, { zone, proto: 'udp', family: '1', type: 'A' }), rounds * 1220);
  assert.equal(requests(f, { zone, proto: 'tcp', family: '1', type: 'AAAA' }), rounds * 50);
  assert.equal(requests(f, { zone: '.', proto: 'udp', type: 'A' }), rounds * ROUND.refused);
  assert.equal(responses(f, { zone, rcode: 'NXDOMAIN' }), rounds * ROUND.nxdomain);
  assert.equal(responses(f, { zone: '.', rcode: 'REFUSED' }), rounds * ROUND.refused);
  assert.equal(responses(f, { zone, rcode: 'NOERROR' }), rounds * (1000 + 50 + 200));
  const timed = (match: Record<string, string>): number =>
    sumOf(
      f,
      'steerdns_dns_request_duration_seconds',
      match,
      'steerdns_dns_request_duration_seconds_count',
    );
  assert.equal(timed({ zone, type: 'AAAA' }), rounds * ROUND.tcp, 'every TCP query is timed');
  // One UDP query in four is timed, at random, and counts for the untimed ones of its zone and
  // type before it: the untimed ones after a cell's last timed query are not in the histogram
  // yet. Two UDP cells (example.org A, . A), at most two processes; 60 in a row untimed has a
  // chance of 0.75^60 (3e-8).
  const all = rounds * (ROUND.udp + ROUND.tcp + ROUND.nxdomain + ROUND.refused + ROUND.steered);
  const histogram = timed({});
  assert.ok(
    histogram <= all && histogram > all - 2 * 2 * 60,
    `${histogram} of ${all} in the histogram`,
  );
  assert.equal(decisions(f, 'a'), members.a);
  assert.equal(decisions(f, 'b'), members.b);
}

const total = (f: Families): number => requests(f, {});

for (const workers of [1, 2]) {
  test(`workers: ${workers}: every query sent is counted once, by zone, protocol, type and rcode`, async (t) => {
    const server = await serve(
      t,
      `listen: ['127.0.0.1:0']\nworkers: ${workers}\napi: { listen: '127.0.0.1:0' }\n${ZONE}${SERVICE}`,
    );
    const members = await sendRound(server);
    assert.equal(members.a + members.b, ROUND.steered);
    const sent = ROUND.udp + ROUND.tcp + ROUND.nxdomain + ROUND.refused + ROUND.steered;
    // With workers, a scrape asks each for its counters: the sum is exact at once; the wait
    // only covers a worker slow to answer on a loaded machine.
    const f = await scrapeUntil(server, `${sent} requests counted`, (x) => total(x) >= sent);
    assertRounds(f, 1, members);
    assert.equal(total(await scrape(server)), sent, 'nothing more is counted');
    assertHistogramsConsistent(f);
    assert.equal(sumOf(f, 'steerdns_zone_serial', { zone: 'example.org.' }), 2026120201);
    assert.equal(sumOf(f, 'steerdns_build_info', { version: '0.1.0' }), 1);
    assert.ok(f.has('process_cpu_user_seconds_total'), 'process metrics are exposed');
  });
}

test('workers: 2: a SIGHUP reload and a killed worker keep every counter', async (t) => {
  const server = await serve(
    t,
    `listen: ['127.0.0.1:0']\nworkers: 2\napi: { listen: '127.0.0.1:0' }\n${ZONE}${SERVICE}`,
  );
  const first = await sendRound(server);
  const sent = 1000 + 50 + 20 + 10 + 200;
  await scrapeUntil(server, `${sent} requests counted`, (f) => total(f) >= sent);
  // The reload changes an answer: the workers answer from the new zone once they applied it.
  const file = configFiles.get(server)!;
  await writeFile(file, (await readFile(file, 'utf8')).replace('192.0.2.80', '192.0.2.81'));
  server.signal('SIGHUP');
  await scrapeUntil(
    server,
    'the reload counted',
    (f) => sumOf(f, 'steerdns_reloads_total', { result: 'success' }) === 1,
  );
  const reloadedWorkers = (): number =>
    new Set(
      server
        .entries()
        .filter((e) => e['msg'] === 'reloaded' && e['pid'] !== server.pid)
        .map((e) => e['pid']),
    ).size;
  const deadline = Date.now() + 30_000;
  while (reloadedWorkers() < 2) {
    assert.ok(Date.now() < deadline, 'both workers said reloaded within 30 s');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const reloaded = await scrape(server);
  assert.equal(total(reloaded), sent, 'a reload keeps the counters');
  // The primary has every worker's counters now (the scrape asked); a worker killed keeps
  // them in the sums, and the one forked instead counts from zero on top.
  const workerPids = server
    .entries()
    .filter((e) => e['msg'] === 'ready' && e['dns'] !== undefined && e['pid'] !== server.pid)
    .map((e) => Number(e['pid']));
  assert.equal(workerPids.length, 2, 'two workers said ready');
  process.kill(workerPids[0]!, 'SIGKILL');
  await server.waitForLog((e) => e?.['msg'] === 'worker died; restarting it', 10_000);
  await server.waitForLog(
    (e) =>
      e?.['msg'] === 'ready' && e['dns'] !== undefined && !workerPids.includes(Number(e['pid'])),
    60_000,
  );
  assert.equal(total(await scrape(server)), sent, 'a killed worker keeps its counts in the sums');
  const second = await sendRound(server);
  const f = await scrapeUntil(server, `${2 * sent} requests counted`, (x) => total(x) >= 2 * sent);
  assertRounds(f, 2, { a: first.a + second.a, b: first.b + second.b });
  // Every worker answers from the reloaded zone (the restarted one from the snapshot).
  const after = await send(server, { name: 'static.example.org', type: 'A' }, 8);
  assert.ok(
    after.every((reply) => reply.answers.some((a) => a.type === 'A' && a.data === '192.0.2.81')),
  );
});

test('member gauges follow a health check backend that stops; checks are counted', async (t) => {
  const backends = ['127.0.0.31', '127.0.0.32'].map(
    (address) =>
      [
        http.createServer((_req, res) => {
          res.writeHead(200).end('ok');
        }),
        address,
      ] as const,
  );
  const port = await listenOnOnePort(backends);
  t.after(async () => {
    for (const [backend] of backends) await closeServer(backend);
  });
  const server = await serve(
    t,
    `listen: ['127.0.0.1:0']
workers: 1
api: { listen: '127.0.0.1:0' }
${ZONE}
services:
  - name: www.example.org
    ttl: 5
    pools:
      - name: web
        members:
          - { name: a, address: 127.0.0.31 }
          - { name: b, address: 127.0.0.32 }
    health: { type: http, port: ${port}, path: /, interval: 300ms, timeout: 250ms, fall: 2, rise: 1 }
    policies: [up, round-robin]
`,
  );
  const up = (f: Families, member: string): number =>
    sumOf(f, 'steerdns_member_up', { pool: 'web', member });
  const health = (f: Families, member: string, state: string): number =>
    sumOf(f, 'steerdns_member_health', { pool: 'web', member, state });
  await scrapeUntil(
    server,
    'both members up',
    (f) => health(f, 'a', 'up') + health(f, 'b', 'up') === 2,
  );
  const b = backends[1]![0];
  await closeServer(b);
  const down = await scrapeUntil(server, 'member b down', (f) => up(f, 'b') === 0);
  assert.equal(health(down, 'b', 'down'), 1);
  assert.equal(up(down, 'a'), 1);
  assert.equal(sumOf(down, 'steerdns_member_admin_state', { member: 'b', state: 'enabled' }), 1);
  assert.ok(sumOf(down, 'steerdns_health_checks_total', { result: 'failure' }) >= 2);
  assert.ok(sumOf(down, 'steerdns_health_checks_total', { result: 'success' }) >= 2);
  assertHistogramsConsistent(down);
});

test('metrics.enabled false: nothing is served at /metrics and answers go on', async (t) => {
  const server = await serve(
    t,
    `listen: ['127.0.0.1:0']\nworkers: 1\nmetrics: { enabled: false }\napi: { listen: '127.0.0.1:0' }\n${ZONE}`,
  );
  await send(server, { name: 'static.example.org', type: 'A' }, 10);
  const response = await fetch(`http://${server.api!.host}:${server.api!.port}/metrics`);
  assert.equal(response.status, 404);
  await response.body?.cancel();
});
