/**
 * Seed 002's whole chain through a real recursive resolver: two unbound instances (two
 * ISPs, each querying from its own source address) -> our DNS-A (stub zone, delegation of
 * www.example.com) -> our DNS-B (CNAME + referral to the DNS-LB registered for that
 * resolver) -> the DNS-LB -> its site. Each DNS-LB lists the site fastest from it first (the
 * response-time policy is not on main yet: `first`), so each ISP gets its own site. Also: the TTL
 * tiers as unbound hands them out, and a re-registration moving a resolver. Needs root
 * (port 53 on loopback addresses of its own, see unbound.ts).
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

let dir: string;
const servers: ServerProcess[] = [];
const resolvers: Unbound[] = [];
const http: Server[] = [];
let dnsb: ServerProcess;
let lb2: ServerProcess;
let dnsa: ServerProcess;

/** An HTTP server answering every request after `delayMs`: a site as one DNS-LB sees it. */
async function site(delayMs: number): Promise<string> {
  const server = createServer((_req, res) => {
    setTimeout(() => res.end('ok'), delayMs);
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

const mapListener = (s: ServerProcess): string => {
  const line = s.entries().find((e) => e['msg'] === 'listening');
  return (line?.['referral'] as { backbone: string }).backbone;
};

function balancerYaml(
  label: string,
  address: string,
  resolver: string,
  [fast, slow]: readonly [string, string],
  [checkFast, checkSlow]: readonly [string, string],
  backbone: string,
): string {
  return `
listen: ['${address}:53']
workers: 1
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
          - { name: fast, address: ${fast}, healthTarget: '${checkFast}' }
          - { name: slow, address: ${slow}, healthTarget: '${checkSlow}' }
    health: { type: http, interval: 500ms, timeout: 400ms }
    # Until the response-time policy is on main: each DNS-LB lists its fastest site first.
    policies: [first]
referral:
  keyFile: map.key
  balancer:
    label: ${label}
    address: ${address}
    resolvers: [${resolver}]
    backbones: ['${backbone}']
    interval: 60s
`;
}

/** Asks the DNS-LB itself until it answers `want` (its checks have measured both sites). */
async function waitFastest(lb: ServerProcess, name: string, want: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  let last: DigResult | undefined;
  while (Date.now() < deadline) {
    last = await dig(['@' + lb.address.host, '-p', String(lb.port), '+norec', name, 'A']);
    if (last.answer.some((line) => line.endsWith(` A ${want}`))) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(`${name} never answered ${want} within 15 s: ${last?.answer.join(' | ')}`);
}

before(async () => {
  if (!root) return;
  dir = await tmpdirWith({ 'map.key': randomBytes(32).toString('hex') });
  const [fast, slow] = [await site(0), await site(150)];
  dnsb = await serve(
    'dnsb',
    `
listen: ['${at(5)}:53']
workers: 1
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
  await serve(
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
`,
  );
  dnsa = servers.at(-1)!;
  const lb1 = await serve(
    'lb1',
    balancerYaml('lb1', at(21), at(11), [SITE_A, SITE_B], [fast, slow], backbone),
  );
  lb2 = await serve(
    'lb2',
    balancerYaml('lb2', at(22), at(12), [SITE_B, SITE_A], [fast, slow], backbone),
  );
  await waitFastest(lb1, 'lb1.www.example.com', SITE_A);
  await waitFastest(lb2, 'lb2.www.example.com', SITE_B);
  for (const label of ['lb1', 'lb2'])
    await dnsb.waitForLog((e) => e?.['msg'] === `DNS-LB ${label} registered`, 10_000);
  const stubs = { 'example.com': `127.0.0.1@${dnsa.port}` };
  resolvers.push(await startUnbound({ dir, name: 'isp1', listen: at(1), outgoing: at(11), stubs }));
  resolvers.push(await startUnbound({ dir, name: 'isp2', listen: at(2), outgoing: at(12), stubs }));
});

after(async () => {
  for (const r of resolvers) await r.stop();
  for (const s of servers) await s.stop();
  for (const h of http) h.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const viaResolver = (resolver: string, name: string, type = 'A') =>
  dig(['@' + resolver, '+tries=1', '+time=5', name, type]);

test(
  'each ISP is referred to its own DNS-LB and gets the site that DNS-LB chose',
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
