/**
 * Seed 002's variant "rankings to the DNS-Bs" ([0016], [0046]) with real processes: a
 * DNS-LB downloads a page from two real origins, ranks them with its own chain, and sends
 * the ranking with its registration (at once when it changes); the DNS-B, with `direct`,
 * answers the ranked addresses itself, best first, to the resolvers of that DNS-LB.
 * Swapping the origins' delays swaps the order; a site the owner has offline leaves the
 * DNS-B's answer; a forged ranking is dropped and counted. Loopback only, no root.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dig, type DigResult } from '../helpers/dig.js';
import {
  endpoint,
  startServer,
  tmpdirWith,
  type ServerProcess,
} from '../helpers/server-process.js';
import { encodeMapMessage } from '../../src/referral/message.js';
import { MessageClock } from '../../src/referral/replay.js';
import { sendMapMessage } from '../../src/referral/transport.js';

const key = randomBytes(32);
const SITE_A = '192.0.2.1';
const SITE_B = '192.0.2.2';
const RESOLVER = '127.0.0.31';

let dir: string;
let dnsb: ServerProcess;
const http: Server[] = [];
const servers: ServerProcess[] = [];
const delays = { a: 0, b: 150 };

/** An origin answering a 4 KiB page after the current delay of `site`. */
async function origin(site: 'a' | 'b'): Promise<string> {
  const server = createServer((_req, res) => {
    const timer = setTimeout(() => res.end('y'.repeat(4096)), delays[site]);
    res.once('close', () => {
      clearTimeout(timer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  http.push(server);
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function serve(name: string, yaml: string): Promise<ServerProcess> {
  await writeFile(join(dir, `${name}.yaml`), yaml);
  const s = await startServer(['serve', '--config', join(dir, `${name}.yaml`)], {
    addListen: false,
  });
  servers.push(s);
  return s;
}

const mapListener = (s: ServerProcess): { host: string; port: number } => {
  const line = s.entries().find((e) => e['msg'] === 'listening');
  return endpoint((line?.['referral'] as { backbone: string }).backbone);
};

const ask = (from: string, type = 'A'): Promise<DigResult> =>
  dig(['@127.0.0.1', '-p', String(dnsb.port), '-b', from, '+norec', 'www.example.com', type]);

/** Asks the DNS-B until it answers exactly `want` (addresses, in order); 20 s deadline. */
async function waitAnswer(what: string, want: readonly string[]): Promise<DigResult> {
  const deadline = Date.now() + 20_000;
  let last: DigResult | undefined;
  const expected = want.map((a) => `www.example.com. 60 IN A ${a}`);
  while (Date.now() < deadline) {
    last = await ask(RESOLVER);
    if (JSON.stringify(last.answer) === JSON.stringify(expected)) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(
    `${what}: never answered ${want.join(', ')} within 20 s: ${last?.answer.join(' | ')}`,
  );
}

before(async () => {
  dir = await tmpdirWith({ 'map.key': key.toString('hex') });
  const [checkA, checkB] = [await origin('a'), await origin('b')];
  dnsb = await serve(
    'dnsb',
    `
listen: ['127.0.0.1:0']
workers: 1
api: { listen: '127.0.0.1:0' }
zones:
  - origin: www.example.com
    records: |
      $TTL 86400
      @ SOA b1.backbone.example.com. hostmaster.example.com. 1 3600 600 86400 300
      @ NS b1.backbone.example.com.
referral:
  keyFile: map.key
  backbone:
    listen: '127.0.0.1:0'
    names: [www.example.com]
    unmapped: answer
    direct: true
    directTtl: 60s
`,
  );
  const map = mapListener(dnsb);
  await serve(
    'lb1',
    `
listen: ['127.0.0.1:0']
workers: 1
zones:
  - origin: lb1.www.example.com
    records: |
      $TTL 3600
      @ SOA ns hostmaster 1 3600 600 86400 300
      @ NS ns
      ns A 127.0.0.21
services:
  - name: lb1.www.example.com
    ttl: 300
    answers: 2
    pools:
      - name: sites
        members:
          - { name: a, address: ${SITE_A}, healthTarget: '${checkA}' }
          - { name: b, address: ${SITE_B}, healthTarget: '${checkB}' }
    health: { type: http, download: true, interval: 500ms, timeout: 400ms, averaging: 500ms }
    policies: [up, response-time]
referral:
  keyFile: map.key
  balancer:
    label: lb1
    address: 127.0.0.21
    resolvers: [${RESOLVER}]
    backbones: ['${map.host}:${map.port}']
    interval: 60s
    rank: [www.example.com]
`,
  );
});

after(async () => {
  // Stopped also when the setup failed half way: only what started.
  for (const s of servers.reverse()) await s.stop();
  for (const h of http) h.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('the DNS-B answers the DNS-LB ranking itself: both sites, the faster first', async () => {
  const answer = await waitAnswer('the first ranking', [SITE_A, SITE_B]);
  assert.ok(answer.flags.includes('aa'), `authoritative: ${answer.flags.join(' ')}`);
  assert.deepEqual(answer.authority, [], 'no referral');
  // No CNAME for any type: the zone answers the others (NODATA with its SOA).
  const mx = await ask(RESOLVER, 'MX');
  assert.deepEqual(mx.answer, []);
  assert.match(mx.authority.join('\n'), / SOA /);
  // A resolver no DNS-LB registered: the zone's own answer (`unmapped: answer`).
  assert.deepEqual((await ask('127.0.0.99')).answer, []);
});

test('swapping the delays the DNS-LB measures reorders the DNS-B answer', async () => {
  await waitAnswer('before the swap', [SITE_A, SITE_B]);
  [delays.a, delays.b] = [150, 0];
  await waitAnswer('after the swap', [SITE_B, SITE_A]);
  await dnsb.waitForLog((e) => e?.['msg'] === 'DNS-LB lb1 sent its rankings', 1000);
});

test('a site the owner has offline leaves the DNS-B answer', async () => {
  const clock = new MessageClock('dnsa');
  const list = (online: boolean) =>
    encodeMapMessage(
      {
        kind: 'sites',
        ...clock.next(),
        name: 'www.example.com',
        sites: [
          { address: SITE_A, online: true },
          { address: SITE_B, online },
        ],
      },
      key,
    );
  const map = mapListener(dnsb);
  assert.equal(await sendMapMessage(map.host, map.port, list(false)), true);
  await waitAnswer('with b offline', [SITE_A]);
  assert.equal(await sendMapMessage(map.host, map.port, list(true)), true);
  await waitAnswer('with b online again', [SITE_B, SITE_A]);
});

test('a ranking signed with another key is dropped and counted in GET /status', async () => {
  const forged = encodeMapMessage(
    {
      kind: 'register',
      ...new MessageClock('lb1').next(),
      balancer: '127.0.0.21',
      resolvers: [RESOLVER],
      notify: undefined,
      intervalMs: 60_000,
      rankings: [{ name: 'www.example.com', sites: ['198.51.100.66'] }],
    },
    randomBytes(32),
  );
  const map = mapListener(dnsb);
  assert.equal(await sendMapMessage(map.host, map.port, forged), false);
  const body = (await (
    await fetch(`http://${dnsb.api!.host}:${dnsb.api!.port}/status`)
  ).json()) as {
    referral: { backbone: { dropped: Record<string, number> } };
  };
  assert.equal(body.referral.backbone.dropped['bad-mac'], 1);
  const answer = await ask(RESOLVER);
  assert.ok(!answer.answer.join('\n').includes('198.51.100.66'), answer.answer.join(' | '));
});
