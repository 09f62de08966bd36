/**
 * End to end, over real sockets against a real server process: DS at a child zone's apex
 * comes from the parent zone when both are served (RFC 4035 3.1.4.1); a static CNAME, MX
 * or SRV that leads to a steered name gets the steered answer for the asking client;
 * CNAME chains across our zones keep the rcode of the last name (RFC 1034 4.3.2, RFC 6604);
 * DNAME, in either form, is substituted (RFC 6672); a delegation without glue is warned of.
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Answer } from 'dns-packet';
import { query, type DecodedReply, type EcsSpec } from '../helpers/dns-client.js';
import { startServer, tmpdirWith, type ServerProcess } from '../helpers/server-process.js';

const DS_DATA = '12345 8 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef';
const LONG = `${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}.example.net.`;

/** example.org's master file; the test names line 9 (the delegation without glue). */
const ORG_ZONE = `$ORIGIN example.org.
$TTL 3600
@        IN SOA ns1 hostmaster 1 7200 3600 1209600 300
         IN NS  ns1
         IN MX  10 geo
ns1      IN A 192.0.2.53
www      IN A 192.0.2.80
kid      IN NS ns.kid
lame     IN NS ns.lame
ns.kid   IN A 192.0.2.98
kid      IN DS ${DS_DATA}
nods     IN NS ns.nods
ns.nods  IN A 192.0.2.97
app      IN CNAME geo
app2     IN CNAME app
tonx     IN CNAME nx
tofail   IN CNAME fail
_http._tcp IN SRV 0 0 80 geo
cross    IN CNAME www.example.net.
crossnx  IN CNAME nope.example.net.
d        120 IN DNAME example.net.
dgen     120 IN TYPE39 \\# 13 076578616d706c65036e657400
long     IN DNAME ${LONG}
`;

const soa = (ns: string): string => `@ IN SOA ${ns} hostmaster 1 7200 3600 1209600 60`;

const CONFIG = `
zones:
  - origin: example.org
    file: example.org.zone
  - origin: kid.example.org
    ttl: 600
    records: |
      ${soa('ns')}
      @ IN NS ns
      ns IN A 192.0.2.98
      www IN A 192.0.2.10
  - origin: nods.example.org
    ttl: 600
    records: |
      ${soa('ns')}
      @ IN NS ns
      ns IN A 192.0.2.97
  - origin: example.net
    ttl: 600
    records: |
      ${soa('ns1.example.org.')}
      @ IN NS ns1.example.org.
      www IN A 192.0.2.54
  - origin: child.example.com
    ttl: 600
    records: |
      ${soa('ns')}
      @ IN NS ns
      ns IN A 192.0.2.96
sites:
  one: {}
  two: {}
topology:
  - match: { cidr: [198.51.100.0/24] }
    prefer: { one: 100 }
  - match: { cidr: [203.0.113.0/24] }
    prefer: { two: 100 }
services:
  - name: geo.example.org
    ttl: 60
    pools:
      - name: sites
        members:
          - { name: m1, address: 192.0.2.1, site: one }
          - { name: m2, address: 192.0.2.2, site: two }
    policies: [up, topology, first]
  - name: nx.example.org
    pools:
      - name: main
        members:
          - { name: a, address: 192.0.2.3, state: { up: false } }
    policies: [up, first]
    allDown: { action: rcode, rcode: NXDOMAIN, ttl: 5 }
  - name: fail.example.org
    pools:
      - name: main
        members:
          - { name: a, address: 192.0.2.4, state: { up: false } }
    policies: [up, first]
    allDown: servfail
`;

const ONE: EcsSpec = { family: 1, sourcePrefix: 24, address: '198.51.100.0' };
const TWO: EcsSpec = { family: 1, sourcePrefix: 24, address: '203.0.113.0' };

/** One record as `name TYPE data`, data as dns-packet decodes it. */
const show = (records: readonly Answer[]): string[] =>
  records.map((r) => {
    const data: unknown = 'data' in r ? r.data : '';
    return `${r.name} ${r.type} ${typeof data === 'string' ? data : JSON.stringify(data)}`;
  });

/** A record's TTL (an OPT record has none). */
const ttlOf = (record: Answer | undefined): number | undefined =>
  record && 'ttl' in record ? record.ttl : undefined;

let dir = '';
let server: ServerProcess | undefined;

async function ask(name: string, type: string, ecs?: EcsSpec): Promise<DecodedReply> {
  return query(server!.address, { name, type, edns: ecs ? { ecs } : {} }, { timeoutMs: 3000 });
}

before(async () => {
  dir = await tmpdirWith({ 'steerdns.yaml': CONFIG, 'example.org.zone': ORG_ZONE });
  server = await startServer(['serve', '--config', join(dir, 'steerdns.yaml')], {
    addListen: false,
  });
});

after(async () => {
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('DS at a child apex (RFC 4035 3.1.4.1)', () => {
  test('comes from the parent when both zones are served', async () => {
    const ds = await ask('kid.example.org', 'DS');
    assert.equal(ds.rcode, 'NOERROR');
    assert.equal(ds.flags.aa, true);
    assert.deepEqual(
      ds.answers.map((r) => `${r.name} ${r.type}`),
      ['kid.example.org DS'],
    );
    // The parent has no DS for nods: the parent's NODATA, with the parent's SOA.
    const nods = await ask('nods.example.org', 'DS');
    assert.equal(nods.rcode, 'NOERROR');
    assert.equal(nods.flags.aa, true);
    assert.deepEqual(nods.answers, []);
    assert.deepEqual(
      nods.authorities.map((r) => `${r.name} ${r.type}`),
      ['example.org SOA'],
    );
    // Other types at the child apex are still the child's.
    const ns = await ask('kid.example.org', 'NS');
    assert.deepEqual(show(ns.answers), ['kid.example.org NS ns.kid.example.org']);
    assert.equal(ns.flags.aa, true);
  });

  test('comes from the child when its parent is not served', async () => {
    const ds = await ask('child.example.com', 'DS');
    assert.equal(ds.rcode, 'NOERROR');
    assert.equal(ds.flags.aa, true);
    assert.deepEqual(ds.answers, []);
    assert.deepEqual(
      ds.authorities.map((r) => `${r.name} ${r.type}`),
      ['child.example.com SOA'],
    );
  });
});

describe('a static name that leads to a steered name', () => {
  test('a CNAME chain goes on with the steered answer for this client, every time', async () => {
    // Alternating clients, three times each: a cached static answer would repeat one.
    for (let round = 0; round < 3; round++) {
      for (const [ecs, address] of [
        [ONE, '192.0.2.1'],
        [TWO, '192.0.2.2'],
      ] as const) {
        const direct = await ask('geo.example.org', 'A', ecs);
        const chased = await ask('app2.example.org', 'A', ecs);
        assert.equal(chased.rcode, 'NOERROR');
        assert.equal(chased.flags.aa, true);
        assert.deepEqual(show(chased.answers), [
          'app2.example.org CNAME app.example.org',
          'app.example.org CNAME geo.example.org',
          `geo.example.org A ${address}`,
        ]);
        // As if the client had asked the steered name: same records, same TTL and scope.
        assert.deepEqual(show(direct.answers), [`geo.example.org A ${address}`]);
        assert.equal(ttlOf(chased.answers[2]), ttlOf(direct.answers[0]));
        assert.equal(chased.opt?.ecs?.scopePrefix, direct.opt?.ecs?.scopePrefix);
        assert.ok((chased.opt?.ecs?.scopePrefix ?? 0) > 0, 'an ECS scope');
      }
    }
  });

  test('the steered name decides the rest: NODATA, its all-down rcode, SERVFAIL', async () => {
    // An IPv4-only service asked AAAA: the CNAME, then the service's NODATA.
    const aaaa = await ask('app.example.org', 'AAAA', ONE);
    assert.equal(aaaa.rcode, 'NOERROR');
    assert.deepEqual(show(aaaa.answers), ['app.example.org CNAME geo.example.org']);
    assert.deepEqual(
      aaaa.authorities.map((r) => `${r.name} ${r.type}`),
      ['example.org SOA'],
    );
    // RFC 6604: the rcode is the last name's, here the all-down NXDOMAIN.
    const nx = await ask('tonx.example.org', 'A');
    assert.equal(nx.rcode, 'NXDOMAIN');
    assert.equal(nx.flags.aa, true);
    assert.deepEqual(show(nx.answers), ['tonx.example.org CNAME nx.example.org']);
    const fail = await ask('tofail.example.org', 'A');
    assert.equal(fail.rcode, 'SERVFAIL');
    // Types the service leaves to the zone: the chain ends in the zone's NODATA.
    const txt = await ask('app.example.org', 'TXT');
    assert.equal(txt.rcode, 'NOERROR');
    assert.deepEqual(show(txt.answers), ['app.example.org CNAME geo.example.org']);
  });

  test('MX and SRV targets that are steered get the steered addresses as additional data', async () => {
    for (const [ecs, address] of [
      [ONE, '192.0.2.1'],
      [TWO, '192.0.2.2'],
    ] as const) {
      const mx = await ask('example.org', 'MX', ecs);
      assert.deepEqual(show(mx.answers), [
        'example.org MX {"preference":10,"exchange":"geo.example.org"}',
      ]);
      assert.deepEqual(show(mx.additionals), [`geo.example.org A ${address}`]);
      const srv = await ask('_http._tcp.example.org', 'SRV', ecs);
      assert.equal(srv.answers.length, 1);
      assert.deepEqual(show(srv.additionals), [`geo.example.org A ${address}`]);
    }
  });
});

describe('CNAME chains across our zones (RFC 1034 4.3.2 step 3a, RFC 6604)', () => {
  test('restart in the other zone; its rcode and SOA', async () => {
    const cross = await ask('cross.example.org', 'A');
    assert.equal(cross.rcode, 'NOERROR');
    assert.deepEqual(show(cross.answers), [
      'cross.example.org CNAME www.example.net',
      'www.example.net A 192.0.2.54',
    ]);
    const nx = await ask('crossnx.example.org', 'A');
    assert.equal(nx.rcode, 'NXDOMAIN');
    assert.equal(nx.flags.aa, true);
    assert.deepEqual(show(nx.answers), ['crossnx.example.org CNAME nope.example.net']);
    assert.deepEqual(
      nx.authorities.map((r) => `${r.name} ${r.type}`),
      ['example.net SOA'],
    );
  });
});

describe('DNAME (RFC 6672)', () => {
  test('the DNAME, a synthesized CNAME with its TTL, and the target, in either form', async () => {
    for (const owner of ['d', 'dgen']) {
      const reply = await ask(`www.${owner}.example.org`, 'A');
      assert.equal(reply.rcode, 'NOERROR', owner);
      assert.equal(reply.flags.aa, true, owner);
      assert.deepEqual(
        show(reply.answers),
        [
          `${owner}.example.org DNAME example.net`,
          `www.${owner}.example.org CNAME www.example.net`,
          'www.example.net A 192.0.2.54',
        ],
        owner,
      );
      // The DNAME's TTL, not the zone's 3600 (RFC 6672 3.1).
      assert.deepEqual(reply.answers.slice(0, 2).map(ttlOf), [120, 120], `${owner}: TTLs`);
    }
    const owner = await ask('d.example.org', 'DNAME');
    assert.deepEqual(show(owner.answers), ['d.example.org DNAME example.net']);
  });

  test('YXDOMAIN when the synthesized name would be too long', async () => {
    const reply = await ask(`${'x'.repeat(63)}.${'y'.repeat(10)}.long.example.org`, 'A');
    assert.equal(reply.rcode, 'YXDOMAIN');
    assert.deepEqual(show(reply.answers), [`long.example.org DNAME ${LONG.slice(0, -1)}`]);
  });
});

test('a delegation whose NS is inside it without glue is warned of, with file:line', async () => {
  await server!.waitForLog(
    (entry) =>
      entry?.['level'] === 40 &&
      String(entry['msg']).endsWith(
        'example.org.zone:9: the delegation lame.example.org. has NS ns.lame.example.org., inside it, without a glue address (A or AAAA)',
      ),
    5000,
  );
});
