/**
 * Seed 002's whole chain through a real recursive resolver: unbound instances (ISPs, each
 * querying from its own source address) -> our DNS-A (stub zone, delegation of
 * www.example.com; the owner of the sites) -> our DNS-B (CNAME + referral to the DNS-LB
 * registered for that resolver) -> the DNS-LB -> the site it measured best. Each DNS-LB
 * downloads a page from both sites every interval (the `http` monitor with `download`) and
 * answers by `[up, cost cheapest, response-time]`; the two DNS-LBs see opposite delays, so
 * each ISP gets its own fastest site, and swapping the delays swaps the answers. The owner's
 * site list reaches the DNS-LBs through the DNS-B: a site the owner has offline is not
 * answered. Also: the TTL tiers as unbound hands them out, a re-registration moving a
 * resolver, the map protocol's counters in GET /status. Needs root (port 53 on loopback
 * addresses of its own, see unbound.ts).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dig, type DigResult } from '../helpers/dig.js';
import { startServer, tmpdirWith, type ServerProcess } from '../helpers/server-process.js';
import { runPrefix, startUnbound, type Unbound } from './unbound.js';

const root = process.getuid?.() === 0;
const net = runPrefix();
const at = (n: number): string => `${net}.${n}`;
const SITE_A = '192.0.2.1';
const SITE_B = '192.0.2.2';
/** A page of 8 KiB: what each DNS-LB downloads from a site. */
const PAGE = 'x'.repeat(8192);

let dir: string;
const servers: ServerProcess[] = [];
const resolvers: Unbound[] = [];
const http: Server[] = [];
let dnsb: ServerProcess;
let lb1: ServerProcess;
let lb2: ServerProcess;
let dnsa: ServerProcess;

/** An origin as the DNS-LBs reach it: answers every request after its current delay. */
interface Origin {
  readonly at: string;
  delayMs: number;
}

/** The owner's view of a site: the status its check gets (200 online, 503 offline). */
interface OwnerCheck {
  readonly at: string;
  status: number;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  http.push(server);
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function origin(delayMs: number): Promise<Origin> {
  const state = { delayMs };
  const server = createServer((_req, res) => {
    const timer = setTimeout(() => res.end(PAGE), state.delayMs);
    res.once('close', () => {
      clearTimeout(timer);
    });
  });
  const address = await listen(server);
  return Object.defineProperties({ at: address } as Origin, {
    delayMs: { get: () => state.delayMs, set: (v: number) => (state.delayMs = v) },
  });
}

async function ownerCheck(): Promise<OwnerCheck> {
  const check = { at: '', status: 200 };
  const server = createServer((_req, res) => res.writeHead(check.status).end());
  return Object.assign(check, { at: await listen(server) });
}

let origin1: Origin;
let origin2: Origin;
const ownerChecks = new Map<string, OwnerCheck>();

async function serve(name: string, yaml: string): Promise<ServerProcess> {
  await writeFile(join(dir, `${name}.yaml`), yaml);
  const s = await startServer(['serve', '--config', join(dir, `${name}.yaml`)], {
    addListen: false,
  });
  servers.push(s);
  return s;
}

const mapListener = (s: ServerProcess): string => {
  const line = s.entries().find((e) => e['msg'] === 'listening');
  return (line?.['referral'] as { backbone: string }).backbone;
};

/**
 * A DNS-LB: its zone `<label>.www.example.com`, a service at its apex whose members are the
 * two sites, each checked at `checks` (what this DNS-LB measures for it). Checks every 3 s
 * with fall 100: the health hint (300 s) leaves the short TTL tier at 300 s.
 */
function balancerYaml(
  label: string,
  address: string,
  resolvers: readonly string[],
  [checkA, checkB]: readonly [string, string],
  backbone: string,
): string {
  return `
listen: ['${address}:53']
workers: 1
api: { listen: '127.0.0.1:0' }
zones:
  - origin: ${label}.www.example.com
    records: |
      $TTL 3600
      @ SOA ns hostmaster 1 3600 600 86400 300
      @ NS ns
      ns A ${address}
services:
  - name: ${label}.www.example.com
    ttl: 300
    answers: 1
    pools:
      - name: sites
        members:
          - { name: a, address: ${SITE_A}, healthTarget: '${checkA}', cost: 1 }
          - { name: b, address: ${SITE_B}, healthTarget: '${checkB}', cost: 1 }
    health: { type: http, download: true, interval: 3s, timeout: 2s, fall: 100, averaging: 1s }
    policies: [up, { policy: cost, keep: cheapest }, response-time]
referral:
  keyFile: map.key
  balancer:
    label: ${label}
    address: ${address}
    resolvers: [${resolvers.join(', ')}]
    backbones: ['${backbone}']
    interval: 60s
    listen: '127.0.0.1:0'
`;
}

/** Asks until `ask` answers `want` (deadline 20 s: a check interval or two, with margin). */
async function waitAnswer(
  what: string,
  ask: () => Promise<DigResult>,
  want: string,
  deadlineMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  let last: DigResult | undefined;
  while (Date.now() < deadline) {
    last = await ask();
    if (last.answer.some((line) => line.endsWith(` A ${want}`))) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(
    `${what} never answered ${want} within ${deadlineMs} ms: ${last?.answer.join(' | ')}`,
  );
}

const direct = (lb: ServerProcess, name: string) => () =>
  dig(['@' + lb.address.host, '-p', String(lb.port), '+norec', name, 'A']);

const viaResolver = (resolver: string, name: string, type = 'A') =>
  dig(['@' + resolver, '+tries=1', '+time=5', name, type]);

const isp3 = () => viaResolver(at(3), 'www.example.com');

before(async () => {
  if (!root) return;
  dir = await tmpdirWith({ 'map.key': randomBytes(32).toString('hex') });
  [origin1, origin2] = [await origin(0), await origin(150)];
  ownerChecks.set(SITE_A, await ownerCheck());
  ownerChecks.set(SITE_B, await ownerCheck());
  dnsb = await serve(
    'dnsb',
    `
listen: ['${at(5)}:53']
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
  backbone: { listen: '127.0.0.1:0', names: [www.example.com], unmapped: answer }
`,
  );
  const backbone = mapListener(dnsb);
  // lb1 sees origin1 behind site A, lb2 sees it behind site B: opposite latencies.
  lb1 = await serve(
    'lb1',
    balancerYaml('lb1', at(21), [at(11), at(14)], [origin1.at, origin2.at], backbone),
  );
  lb2 = await serve(
    'lb2',
    balancerYaml('lb2', at(22), [at(12)], [origin2.at, origin1.at], backbone),
  );
  await waitAnswer('lb1', direct(lb1, 'lb1.www.example.com'), SITE_A);
  await waitAnswer('lb2', direct(lb2, 'lb2.www.example.com'), SITE_B);
  for (const label of ['lb1', 'lb2'])
    await dnsb.waitForLog((e) => e?.['msg'] === `DNS-LB ${label} registered`, 10_000);
  // The DNS-A: the delegation, and the owner of the sites (its checks say online/offline).
  dnsa = await serve(
    'dnsa',
    `
listen: ['127.0.0.1:0']
workers: 1
zones:
  - origin: example.com
    records: |
      $TTL 86400
      @ SOA ns hostmaster 1 3600 600 86400 300
      @ NS ns
      ns A 127.0.0.1
      www NS b1.backbone
      b1.backbone A ${at(5)}
services:
  - name: sites.example.com
    ttl: 30
    pools:
      - name: sites
        members:
          - { name: a, address: ${SITE_A}, healthTarget: '${ownerChecks.get(SITE_A)!.at}' }
          - { name: b, address: ${SITE_B}, healthTarget: '${ownerChecks.get(SITE_B)!.at}' }
    health: { type: http, interval: 300ms, timeout: 250ms, rise: 1, fall: 1 }
referral:
  keyFile: map.key
  owner: { names: [www.example.com], service: sites.example.com, backbones: ['${backbone}'] }
`,
  );
  const stubs = { 'example.com': `127.0.0.1@${dnsa.port}` };
  resolvers.push(await startUnbound({ dir, name: 'isp1', listen: at(1), outgoing: at(11), stubs }));
  resolvers.push(await startUnbound({ dir, name: 'isp2', listen: at(2), outgoing: at(12), stubs }));
  // A third ISP of lb1 whose resolver keeps nothing longer than a second: it walks the
  // chain again every second, so the tests see changes without waiting for the TTLs.
  resolvers.push(
    await startUnbound({
      dir,
      name: 'isp3',
      listen: at(3),
      outgoing: at(14),
      stubs,
      server: ['cache-max-ttl: 1', 'cache-max-negative-ttl: 1'],
    }),
  );
});

after(async () => {
  for (const r of resolvers) await r.stop();
  for (const s of servers) await s.stop();
  for (const h of http) h.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test(
  'each ISP is referred to its own DNS-LB and gets the site that DNS-LB measured fastest',
  { skip: !root && 'needs root (port 53)' },
  async () => {
    const one = await viaResolver(at(1), 'www.example.com');
    const two = await viaResolver(at(2), 'www.example.com');
    assert.equal(one.status, 'NOERROR', resolvers[0]!.stderr());
    assert.match(
      one.answer.join('\n'),
      /www\.example\.com\. \d+ IN CNAME lb1\.www\.example\.com\./,
    );
    assert.match(
      one.answer.join('\n'),
      new RegExp(`lb1\\.www\\.example\\.com\\. \\d+ IN A ${SITE_A}`),
    );
    assert.match(
      two.answer.join('\n'),
      /www\.example\.com\. \d+ IN CNAME lb2\.www\.example\.com\./,
    );
    assert.match(
      two.answer.join('\n'),
      new RegExp(`lb2\\.www\\.example\\.com\\. \\d+ IN A ${SITE_B}`),
    );
  },
);

test(
  'the TTLs unbound hands out are the three tiers: 1 day, 1 hour, 5 minutes',
  { skip: !root && 'needs root (port 53)' },
  async () => {
    const answer = (await viaResolver(at(1), 'www.example.com')).answer;
    const ttl = (re: RegExp): number => Number(answer.find((l) => re.test(l))?.split(' ')[1]);
    const cname = ttl(/ CNAME /);
    const address = ttl(/ IN A /);
    assert.ok(cname > 3500 && cname <= 3600, `CNAME TTL ${cname} (medium tier 3600)`);
    assert.ok(address > 200 && address <= 300, `address TTL ${address} (short tier 300)`);
    // The long tier is the DNS-A's delegation. (A resolver holding the CNAME follows it for
    // NS queries too: the DNS-B answers a CNAME at its apex, see docs/client-centric.md.)
    const delegation = await dig([
      '@127.0.0.1',
      '-p',
      String(dnsa.port),
      '+norec',
      'www.example.com',
      'A',
    ]);
    const nsTtl = Number(delegation.authority[0]?.split(' ')[1]);
    assert.equal(nsTtl, 86_400, `delegation NS TTL: ${delegation.authority.join(' | ')}`);
  },
);

test(
  'swapping the delays the DNS-LBs measure swaps their answers, through the resolver too',
  { skip: !root && 'needs root (port 53)' },
  async () => {
    await waitAnswer('isp3 (lb1) before the swap', isp3, SITE_A);
    [origin1.delayMs, origin2.delayMs] = [150, 0];
    await waitAnswer('isp3 (lb1) after the swap', isp3, SITE_B);
    await waitAnswer('lb2 after the swap', direct(lb2, 'lb2.www.example.com'), SITE_A);
    const status = await fetch(`http://${lb1.api!.host}:${lb1.api!.port}/status`);
    const members = ((await status.json()) as { members: { member: string; averageMs: number }[] })
      .members;
    const ms = Object.fromEntries(members.map((m) => [m.member, m.averageMs]));
    assert.ok(ms['sites/b']! < ms['sites/a']!, `lb1 measures b faster now: ${JSON.stringify(ms)}`);
  },
);

test(
  'a site the owner has offline leaves the answers through the chain, and comes back',
  { skip: !root && 'needs root (port 53)' },
  async () => {
    const now = (await isp3()).answer.find((l) => l.includes(' IN A '))?.split(' ')[4];
    assert.ok(now === SITE_A || now === SITE_B, `isp3 answers a site: ${now}`);
    const other = now === SITE_A ? SITE_B : SITE_A;
    ownerChecks.get(now)!.status = 503;
    await waitAnswer(`isp3 with ${now} offline at the owner`, isp3, other, 10_000);
    await lb1.waitForLog(
      (e) =>
        typeof e?.['msg'] === 'string' &&
        e['msg'].startsWith('site list of www.example.com received') &&
        JSON.stringify(e['offline']) === JSON.stringify([now]),
      5000,
    );
    ownerChecks.get(now)!.status = 200;
    await waitAnswer(`isp3 with ${now} online again`, isp3, now, 10_000);
    // The map protocol's counters: the DNS-B took the registrations and the owner's lists,
    // the DNS-LB the lists forwarded to it; nothing was dropped.
    const referralOf = async (s: ServerProcess) => {
      const body = (await (await fetch(`http://${s.api!.host}:${s.api!.port}/status`)).json()) as {
        referral: Record<string, { accepted: number; dropped: object }>;
      };
      return body.referral;
    };
    const b = (await referralOf(dnsb))['backbone']!;
    const l = (await referralOf(lb1))['balancer']!;
    assert.ok(b.accepted >= 4, `DNS-B accepted ${b.accepted} (2 registrations, 2+ site lists)`);
    assert.ok(l.accepted >= 2, `lb1 accepted ${l.accepted} site lists`);
    assert.deepEqual([b.dropped, l.dropped], [{}, {}]);
  },
);

test(
  'a DNS-LB whose resolver changes registers again; the next referral follows',
  { skip: !root && 'needs root (port 53)' },
  async () => {
    const file = join(dir, 'lb2.yaml');
    await writeFile(
      file,
      (await readFile(file, 'utf8')).replace(`resolvers: [${at(12)}]`, `resolvers: [${at(13)}]`),
    );
    const registered = dnsb.entries().filter((e) => e['msg'] === 'DNS-LB lb2 registered').length;
    lb2.signal('SIGHUP');
    const deadline = Date.now() + 10_000;
    while (
      dnsb.entries().filter((e) => e['msg'] === 'DNS-LB lb2 registered').length === registered
    ) {
      assert.ok(Date.now() < deadline, 'the DNS-B heard lb2 register again within 10 s');
      await new Promise((r) => setTimeout(r, 50));
    }
    const moved = await dig(['@' + at(5), '-b', at(13), '+norec', 'www.example.com', 'A']);
    assert.deepEqual(moved.answer, ['www.example.com. 3600 IN CNAME lb2.www.example.com.']);
    // The old resolver is no longer mapped: with `unmapped: answer` the zone answers (NODATA).
    const old = await dig(['@' + at(5), '-b', at(12), '+norec', 'www.example.com', 'A']);
    assert.deepEqual(old.answer, []);
  },
);
