/**
 * End to end, seed 003 live: three real steerdns site processes (A, B, C) on loopback,
 * each health-checking the three VIPs (real HTTP backends that answer after 5, 100 and
 * 250 ms), exchanging what they measured over DSSP, and answering DNS and HTTP redirects
 * by the hand-off table. Each site learns its peers' DSSP ports from files this test
 * writes once each has logged its `listening` line (docs/sites.md).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, request, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { query } from '../helpers/dns-client.js';
import {
  REPO_ROOT,
  startServer,
  tmpdirWith,
  type ServerProcess,
} from '../helpers/server-process.js';
import { encodeFrame } from '../../src/sites/frame.js';
import { MessageClock } from '../../src/lib/replay-window.js';

const SITES = ['A', 'B', 'C'] as const;
type Site = (typeof SITES)[number];
const VIP: Record<Site, string> = { A: '127.0.0.11', B: '127.0.0.12', C: '127.0.0.13' };
const DELAY_MS: Record<Site, number> = { A: 5, B: 100, C: 250 };
const KEY = randomBytes(32);
const NAME = 'www.example.org';

const backends = new Map<Site, Server>();
const ports = new Map<Site, number>();
const servers = new Map<Site, ServerProcess>();
let dir = '';

function siteConfig(site: Site): string {
  const check = '{ type: http, path: /health, interval: 1s, timeout: 900ms, rise: 1, fall: 2 }';
  const members = SITES.map(
    (s) =>
      `          - { name: ${s}, address: ${VIP[s]}, site: ${s}, healthTarget: '${VIP[s]}:${ports.get(s)}', health: ${check} }`,
  ).join('\n');
  const peers = SITES.filter((s) => s !== site)
    .map((s) => `    - { name: ${s}, addressFile: ${s}.addr }`)
    .join('\n');
  return `
workers: 1
api: { listen: 127.0.0.1:0 }
health: { startupGrace: 5s }
zones:
  - origin: example.org
    ttl: 3600
    records: |
      @    IN SOA ns1 hostmaster 1 7200 3600 1209600 300
      @    IN NS  ns1
      ns1  IN A   192.0.2.53
services:
  - name: ${NAME}
    ttl: 30
    answers: 1
    pools:
      - name: sites
        members:
${members}
    policies: [up, admin, { policy: handoff, weights: [4, 2, 1, 0] }]
distributedSites:
  site: ${site}
  names: [${NAME}]
  listen: 127.0.0.1:0
  keyFile: dssp.key
  weights: [4, 2, 1, 0]
  httpRedirect: { listen: 127.0.0.1:0 }
  peers:
${peers}
`;
}

/** The `sites` listeners of a server's `listening` line. */
function sitesBound(server: ServerProcess): { dssp: string; redirect: string } {
  const line = server.entries().find((e) => e['msg'] === 'listening' && e['sites']);
  const sites = line?.['sites'] as { dssp?: string; redirect?: string } | undefined;
  assert.ok(sites?.dssp && sites.redirect, 'the listening line has the sites listeners');
  return { dssp: sites.dssp, redirect: sites.redirect };
}

const hostPort = (text: string): { host: string; port: number } => {
  const [host, port] = text.split(':');
  return { host: host!, port: Number(port) };
};

interface SitesStatus {
  sent: { updates: number; events: number };
  received: { accepted: number; dropped: Record<string, number> };
  peers: { name: string; lastKind?: string; fresh: boolean }[];
  tables: { name: string; totals: [string, number][] }[];
  measured: unknown[];
}

async function status(site: Site): Promise<SitesStatus> {
  const api = servers.get(site)!.api!;
  const response = await fetch(`http://${api.host}:${api.port}/status`);
  return ((await response.json()) as { sites: SitesStatus }).sites;
}

const totalsText = async (site: Site): Promise<string> =>
  JSON.stringify((await status(site)).tables[0]?.totals);

/** Polls until `check` holds; rejects after `ms` saying what it waited for and the last value. */
async function until(what: string, check: () => Promise<string | true>, ms: number) {
  const deadline = Date.now() + ms;
  let last: string | true = '';
  while (Date.now() < deadline) {
    last = await check();
    if (last === true) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`waited ${ms} ms for ${what}; last: ${last}`);
}

async function everySiteHas(totals: Record<string, number>, ms: number): Promise<void> {
  const want = JSON.stringify(Object.entries(totals));
  for (const site of SITES.filter((s) => servers.has(s)))
    await until(
      `site ${site}: totals ${want}`,
      async () => {
        const got = await totalsText(site);
        return got === want || got;
      },
      ms,
    );
}

/** Who `count` DNS answers of `site` went to, by site. */
async function answers(site: Site, count: number): Promise<Record<string, number>> {
  const bySite: Record<string, number> = {};
  const server = servers.get(site)!;
  for (let i = 0; i < count; i += 1) {
    const reply = await query(server.address, { name: NAME, type: 'A' });
    const address = String((reply.answers[0] as { data?: unknown } | undefined)?.data);
    const answered = SITES.find((s) => VIP[s] === address) ?? address;
    bySite[answered] = (bySite[answered] ?? 0) + 1;
  }
  return bySite;
}

/** The redirect listener's answer to GET /page for the name. */
function redirectAt(site: Site): Promise<{ status: number; location: string | undefined }> {
  const { host, port } = hostPort(sitesBound(servers.get(site)!).redirect);
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path: '/page', headers: { host: NAME } }, (response) => {
      response.resume();
      resolve({ status: response.statusCode ?? 0, location: response.headers.location });
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error('redirect listener: no answer in 5 s')));
    req.end();
  });
}

/** Sends raw bytes to a site's DSSP listener; resolves its one-byte answer (or none). */
function sendDssp(site: Site, bytes: Buffer): Promise<number | undefined> {
  const { host, port } = hostPort(sitesBound(servers.get(site)!).dssp);
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port }, () => socket.end(bytes));
    socket.once('data', (chunk: Buffer) => {
      resolve(chunk[0]);
      socket.destroy();
    });
    socket.once('close', () => {
      resolve(undefined);
    });
    socket.once('error', reject);
    socket.setTimeout(5000, () => socket.destroy());
  });
}

before(async () => {
  for (const site of SITES) {
    const server = createServer((_, response) => {
      setTimeout(() => response.writeHead(200).end('ok\n'), DELAY_MS[site]);
    });
    await new Promise<void>((resolve) => server.listen(0, VIP[site], resolve));
    backends.set(site, server);
    ports.set(site, (server.address() as AddressInfo).port);
  }
  dir = await tmpdirWith({
    'dssp.key': KEY.toString('hex'),
    ...Object.fromEntries(SITES.map((s) => [`${s}.yaml`, siteConfig(s)])),
  });
  // A site starts before its peers' address files exist: it retries until they do.
  for (const site of SITES) {
    const server = await startServer(['serve', '--config', join(dir, `${site}.yaml`)]);
    servers.set(site, server);
    await writeFile(join(dir, `${site}.addr`), sitesBound(server).dssp);
  }
});

after(async () => {
  for (const server of servers.values()) await server.stop();
  for (const server of backends.values()) {
    server.closeAllConnections();
    await new Promise<void>((resolve) =>
      server.close(() => {
        resolve();
      }),
    );
  }
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('every site computes the same hand-off table and answers DNS by it', async () => {
  // A ranks B, C; B ranks A, C; C ranks A, B (by the backends' delays): 4, 2 per rank.
  await everySiteHas({ A: 8, B: 6, C: 4 }, 30_000);
  // Over 36 answers: 16, 12, 8. The node explains a few sampled queries a second on the
  // live state (the decisions log), and each moves the rotation by one: a margin of 3.
  for (const site of SITES) {
    const got = await answers(site, 36);
    const text = `answers of site ${site}: ${JSON.stringify(got)}`;
    for (const [answered, want] of Object.entries({ A: 16, B: 12, C: 8 }))
      assert.ok(Math.abs((got[answered] ?? 0) - want) <= 3, text);
  }
  const here = await redirectAt('A');
  assert.equal(here.status, 302);
  assert.equal(here.location, `http://${VIP.A}:${ports.get('A')}/page`, 'A has room: its VIP');
});

test("killing C's backend changes every site's answers at once (triggered, not periodic)", async (t) => {
  const c = backends.get('C')!;
  const killedAt = Date.now();
  c.closeAllConnections();
  await new Promise<void>((resolve) =>
    c.close(() => {
      resolve();
    }),
  );
  backends.delete('C');
  // The interval is the default 1 minute: within 15 s only the triggered events can do it.
  await everySiteHas({ A: 4, B: 4, C: 0 }, 15_000);
  // Checks every 1 s with fall 2: about 2 s to see it down, then the events.
  t.diagnostic(`every site had the new totals ${Date.now() - killedAt} ms after the kill`);
  // Every site sent events: A and B (peer C unreachable), C (its own VIP down).
  for (const site of SITES) {
    const sent = (await status(site)).sent;
    assert.ok(sent.events >= 1, `site ${site} sent ${JSON.stringify(sent)}`);
  }
  // The rotation carries its state over from the old totals, and sampled explanations move
  // it: over 16 answers, each of A and B gets 8 give or take 2; C none.
  for (const site of SITES) {
    const got = await answers(site, 16);
    assert.deepEqual(Object.keys(got).sort(), ['A', 'B'], `answers of site ${site}`);
    assert.ok(Math.abs(got['A']! - 8) <= 2, `answers of site ${site}: ${JSON.stringify(got)}`);
  }
  const away = await redirectAt('C');
  assert.equal(away.status, 302);
  assert.equal(away.location, `http://${VIP.A}:${ports.get('A')}/page`, 'C is down: to A');
});

test('forged, replayed and truncated DSSP frames are dropped, counted and change nothing', async () => {
  const before = await status('B');
  const measured = (await status('A')).measured;
  const clock = new MessageClock('A');
  const report = {
    ...clock.next(),
    kind: 'update',
    intervalMs: 60_000,
    names: measured,
    memory: { freeBytes: 0, totalBytes: 0 },
  };
  const forged = encodeFrame('1', randomBytes(32), report);
  const genuine = encodeFrame('1', KEY, report);
  assert.equal(await sendDssp('B', forged), 1, 'a forged frame is rejected');
  assert.equal(await sendDssp('B', genuine), 0, 'a genuine frame is taken');
  assert.equal(await sendDssp('B', genuine), 1, 'the same frame again is rejected');
  assert.equal(await sendDssp('B', genuine.subarray(0, 20)), 1, 'a truncated frame is rejected');
  const after = await status('B');
  const dropped = (reason: string): number =>
    (after.received.dropped[reason] ?? 0) - (before.received.dropped[reason] ?? 0);
  assert.equal(dropped('bad-mac'), 1);
  assert.equal(dropped('replay'), 1);
  assert.equal(dropped('truncated'), 1);
  assert.equal(await totalsText('B'), JSON.stringify(Object.entries({ A: 4, B: 4, C: 0 })));
  // The log is read from the process's stdout: wait for the last line to arrive.
  const b = servers.get('B')!;
  await b.waitForLog(
    (e) => e?.['msg'] === 'DSSP frame dropped' && e['reason'] === 'truncated',
    5000,
  );
  const logged = b
    .entries()
    .filter((e) => e['msg'] === 'DSSP frame dropped')
    .map((e) => e['reason']);
  assert.deepEqual(logged.slice(-3), ['bad-mac', 'replay', 'truncated']);
});

test('steerdns status --server shows the site: peers, counters, totals and rows', async () => {
  const api = servers.get('B')!.api!;
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', 'src/main.ts', 'status', '--server', `${api.host}:${api.port}`],
    { cwd: REPO_ROOT, timeout: 30_000 },
  );
  assert.match(stdout, /^site B \(DSSP 127\.0\.0\.1:\d+\): sent \d+ updates, \d+ events;/m);
  assert.match(stdout, /dropped bad-mac 1, replay 1, truncated 1/);
  assert.match(stdout, /^PEER +LAST REPORT +KIND +FRESH +OUR LAST SEND$/m);
  assert.match(stdout, /^A +\d+\.\d s ago +(update|event) +yes +accepted$/m);
  assert.match(stdout, /^www\.example\.org\. totals: A 4, B 4, C 0$/m);
  assert.match(stdout, /^ {2}rows: B: A; A: B$/m);
});
