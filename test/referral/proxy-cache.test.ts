/**
 * Seed 002's variant "the DNS-LB as an HTTP proxy cache" with real processes: a DNS-LB
 * measures two real origins (each counting the requests it serves), answers its own
 * address for lb1.www.example.com, and serves HTTP through undici's RFC 9111 cache from
 * the site its chain puts first. A cacheable object reaches the best origin once and then
 * comes from the cache (Age); when the best site changes (the faster origin gets slower,
 * then goes down), new misses go to the new best site; with no site left, a coded 502.
 * Loopback only, no root.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dig } from '../helpers/dig.js';
import {
  endpoint,
  startServer,
  tmpdirWith,
  type ServerProcess,
} from '../helpers/server-process.js';

const SITE_A = '192.0.2.1';
const SITE_B = '192.0.2.2';
const LB_ADDRESS = '127.0.0.21';

/** A real origin: a 4 KiB page at `/` (the DNS-LB's check), cacheable objects elsewhere. */
interface Origin {
  readonly server: Server;
  readonly target: string;
  /** Requests per path, the checks' `/` left out. */
  readonly served: Map<string, number>;
  delayMs: number;
  /** What the last proxied request carried. */
  lastHeaders: IncomingHttpHeaders | undefined;
}

async function origin(name: string, delayMs: number): Promise<Origin> {
  const made: Omit<Origin, 'server' | 'target'> = {
    served: new Map(),
    delayMs,
    lastHeaders: undefined,
  };
  const server = createServer((req, res) => {
    const path = req.url ?? '/';
    if (path !== '/') {
      made.served.set(path, (made.served.get(path) ?? 0) + 1);
      made.lastHeaders = req.headers;
    }
    const timer = setTimeout(() => {
      if (path === '/') res.end('y'.repeat(4096));
      else {
        res.writeHead(200, { 'cache-control': 'max-age=600', 'content-type': 'text/plain' });
        res.end(`${path} from ${name}`);
      }
    }, made.delayMs);
    res.once('close', () => {
      clearTimeout(timer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const target = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  const started = Object.assign(made, { server, target });
  origins.push(started);
  return started;
}

let dir: string;
let lb: ServerProcess;
let proxy: { host: string; port: number };
const origins: Origin[] = [];
let a: Origin;
let b: Origin;
const servers: ServerProcess[] = [];

interface Fetched {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** One GET through the proxy, as a browser that resolved www.example.com sends it. */
function get(path: string): Promise<Fetched> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: proxy.host,
        port: proxy.port,
        path,
        // Hop-by-hop fields, one named by Connection: none may reach the site.
        headers: {
          host: 'www.example.com',
          connection: 'keep-alive, x-hop',
          'x-hop': 'this hop only',
          'proxy-connection': 'keep-alive',
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
          });
        });
        res.on('error', reject);
      },
    );
    req.setTimeout(15_000, () => req.destroy(new Error(`GET ${path}: no answer in 15 s`)));
    req.on('error', reject);
    req.end();
  });
}

let misses = 0;
/** Fetches new objects (each a miss) until one comes from `site`; 30 s deadline. */
async function waitMissesGoTo(what: string, site: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  let last: Fetched | undefined;
  while (Date.now() < deadline) {
    last = await get(`/miss-${++misses}`);
    if (last.status === 200 && last.body.endsWith(`from ${site}`)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(`${what}: no miss went to ${site} within 30 s; last: ${last?.status} ${last?.body}`);
}

before(async () => {
  dir = await tmpdirWith({ 'map.key': randomBytes(32).toString('hex') });
  [a, b] = [await origin('a', 0), await origin('b', 200)];
  const yaml = `
listen: ['127.0.0.1:0']
workers: 1
api: { listen: '127.0.0.1:0' }
zones:
  - origin: lb1.www.example.com
    records: |
      $TTL 3600
      @ SOA ns hostmaster 1 3600 600 86400 300
      @ NS ns
      ns A ${LB_ADDRESS}
services:
  - name: lb1.www.example.com
    ttl: 300
    answers: 2
    pools:
      - name: sites
        members:
          - { name: a, address: ${SITE_A}, healthTarget: '${a.target}' }
          - { name: b, address: ${SITE_B}, healthTarget: '${b.target}' }
    health: { type: http, download: true, interval: 500ms, timeout: 450ms, fall: 2, averaging: 500ms }
    policies: [up, response-time]
referral:
  keyFile: map.key
  balancer:
    label: lb1
    address: ${LB_ADDRESS}
    resolvers: [127.0.0.31]
    # No DNS-B in this test: registrations are refused, which the DNS-LB only logs.
    backbones: ['127.0.0.1:9']
    interval: 60s
    proxy:
      listen: '127.0.0.1:0'
      names: [www.example.com]
      origins: { '${SITE_A}': '${a.target}', '${SITE_B}': '${b.target}' }
      timeout: 5s
`;
  await writeFile(join(dir, 'lb1.yaml'), yaml);
  lb = await startServer(['serve', '--config', join(dir, 'lb1.yaml')], { addListen: false });
  servers.push(lb);
  const line = lb.entries().find((e) => e['msg'] === 'listening');
  proxy = endpoint((line?.['referral'] as { proxy: string }).proxy);
  // Both sites measured, a faster: the chain's first is a from here on.
  await waitMissesGoTo('at start', 'a');
});

after(async () => {
  for (const s of servers.reverse()) await s.stop();
  // Only the origins that started (the setup may have failed half way).
  for (const o of origins) o.server.closeAllConnections();
  for (const o of origins) o.server.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('the DNS-LB answers its own address for the proxied name', async () => {
  const ask = (type: string) =>
    dig(['@127.0.0.1', '-p', String(lb.port), '+norec', 'lb1.www.example.com', type]);
  assert.deepEqual((await ask('A')).answer, [`lb1.www.example.com. 300 IN A ${LB_ADDRESS}`]);
  assert.deepEqual((await ask('AAAA')).answer, [], 'no site address leaks in AAAA');
});

test('a cacheable object reaches the best origin once, then comes from the cache', async () => {
  const first = await get('/object');
  assert.equal(first.status, 200);
  assert.equal(first.body, '/object from a');
  assert.equal(first.headers.age, undefined, 'the first is no cache hit');
  const second = await get('/object');
  assert.equal(second.body, '/object from a');
  assert.ok(
    second.headers.age !== undefined,
    `the second has an Age: ${JSON.stringify(second.headers)}`,
  );
  assert.equal(a.served.get('/object'), 1, 'origin a served it once');
  assert.equal(b.served.get('/object'), undefined, 'origin b never');
  // What the site saw: its public name, the client in X-Forwarded-For, no hop-by-hop field.
  await get(`/miss-${++misses}`);
  const seen = a.lastHeaders;
  assert.ok(seen, 'origin a saw the miss');
  assert.equal(seen.host, 'www.example.com');
  assert.equal(seen['x-forwarded-for'], '127.0.0.1');
  assert.equal(seen['proxy-connection'], undefined);
  assert.equal(seen['x-hop'], undefined);
});

test('when the best site changes, new misses go to the new site', async () => {
  [a.delayMs, b.delayMs] = [300, 0];
  await waitMissesGoTo('a slower than b', 'b');
  for (let i = 0; i < 3; i++) {
    const fetched = await get(`/miss-${++misses}`);
    assert.equal(fetched.body, `/miss-${misses} from b`, 'every new miss from b');
  }
  // The cache is keyed by the balanced name: what a served is still served, from the cache.
  const cached = await get('/object');
  assert.equal(cached.body, '/object from a');
  assert.ok(cached.headers.age !== undefined);
  assert.equal(b.served.get('/object'), undefined);
  // b goes down: its checks fail, and misses go back to a (still slower than b was, but
  // far from its check timeout, so that a loaded machine does not take a down too).
  a.delayMs = 150;
  b.server.closeAllConnections();
  await new Promise<void>((resolve) =>
    b.server.close(() => {
      resolve();
    }),
  );
  await waitMissesGoTo('b down', 'a');
});

test('with no site answering, the proxy answers 502 with a coded error', async () => {
  a.server.closeAllConnections();
  await new Promise<void>((resolve) =>
    a.server.close(() => {
      resolve();
    }),
  );
  const fetched = await get(`/miss-${++misses}`);
  assert.equal(fetched.status, 502, fetched.body);
  const code = (JSON.parse(fetched.body) as { error: { code: string } }).error.code;
  assert.match(code, /^STEERDNS_ERR_PROXY_(NO_SITE|UPSTREAM)$/);
  const status = await fetch(`http://${lb.api!.host}:${lb.api!.port}/status`);
  const counts = (
    (await status.json()) as {
      referral: { proxy: { hits: number; errors: Record<string, number> } };
    }
  ).referral.proxy;
  assert.ok(counts.hits >= 2, JSON.stringify(counts));
  assert.ok((counts.errors[code] ?? 0) >= 1, JSON.stringify(counts));
});
