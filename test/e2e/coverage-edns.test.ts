/**
 * End to end, filling gaps of edns.test.ts:
 * - a configured UDP payload cap below the default 1232 (`dns.udpPayloadMax: 600`) is what
 *   the OPT advertises and what truncation is decided on;
 * - EDNS Client Subnet (RFC 7871) reaches the answer layer as the client's location: a
 *   steered name answers by the subnet in the option (by the resolver's address without one),
 *   and the option is echoed with the scope prefix that the answer layer sets (0 for static
 *   data in the same zone).
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { dig, kdig } from '../helpers/dig.js';
import { query, type EcsSpec } from '../helpers/dns-client.js';
import { startServer, tmpdirWith, type ServerProcess } from '../helpers/server-process.js';
import { rdataTexts, startDataSet, TOOLS_MISSING, type DataSetServer } from './fixtures/server.js';

describe('dns.udpPayloadMax: 600, below the default cap', () => {
  const CAP = 600;
  let server: DataSetServer;
  before(async () => {
    server = await startDataSet({ dns: [`udpPayloadMax: ${CAP}`] });
  });
  after(async () => {
    await server.stop();
  });

  test('advertised payload = min(client, 600), never below 512', async () => {
    const rows = [
      { asked: 4096, want: CAP },
      { asked: 1232, want: CAP },
      { asked: 601, want: CAP },
      { asked: 600, want: 600 },
      { asked: 550, want: 550 },
      { asked: 200, want: 512 },
    ];
    for (const { asked, want } of rows) {
      for (const address of [server.v4, server.v6]) {
        const where = `payload ${asked} over ${address.host}`;
        const reply = await query(address, {
          name: 'www.example.org',
          type: 'A',
          edns: { udpPayload: asked },
        });
        assert.equal(reply.rcode, 'NOERROR', where);
        assert.equal(reply.optCount, 1, `${where}: one OPT`);
        assert.equal(reply.opt?.udpPayload, want, where);
      }
    }
  });

  test('an answer between 600 and 1232 octets is truncated even for a 4096 client', async () => {
    for (const asked of [4096, 1232, 600]) {
      const where = `mid.example.net TXT, payload ${asked}`;
      const reply = await query(server.v4, {
        name: 'mid.example.net',
        type: 'TXT',
        edns: { udpPayload: asked },
      });
      assert.equal(reply.flags.tc, true, `${where}: TC`);
      assert.ok(reply.raw.length <= CAP, `${where}: ${reply.raw.length} octets over UDP`);
      assert.equal(reply.answers.length, 0, `${where}: no partial RRset`);
      const full = await query(
        server.v4,
        { name: 'mid.example.net', type: 'TXT', edns: { udpPayload: asked } },
        { transport: 'tcp' },
      );
      assert.equal(full.flags.tc, false, `${where} over TCP: TC`);
      assert.equal(full.answers.length, 1, `${where} over TCP: the RRset`);
      assert.ok(full.raw.length > CAP, `${where} over TCP: ${full.raw.length} octets`);
    }
    // A small answer still fits.
    const small = await query(server.v4, {
      name: 'www.example.org',
      type: 'A',
      edns: { udpPayload: 4096 },
    });
    assert.equal(small.flags.tc, false, 'www.example.org A: TC');
    assert.equal(small.answers.length, 2, 'www.example.org A: answers');
  });

  test(
    'dig +bufsize=4096 sees udp: 600 and retries over TCP',
    { skip: TOOLS_MISSING },
    async () => {
      const r = await dig([...server.at(), '+bufsize=4096', 'mid.example.net', 'TXT']);
      assert.match(r.stdout, /Truncated, retrying in TCP mode/, r.stdout);
      assert.equal(r.status, 'NOERROR', r.stdout);
      assert.equal(r.answer.length, 1, 'the TXT RRset over TCP');
      assert.match(r.edns[0] ?? '', /udp: 600$/, r.edns.join('\n'));
    },
  );
});

/**
 * A zone with one static name and one steered name whose topology rules send clients by
 * subnet: 198.51.100.0/24 to one, 203.0.113.0/24 and 2001:db8:77::/48 to two, loopback to
 * three.
 */
function geoConfig(): string {
  return `listen:
  - 127.0.0.1:0
  - '[::1]:0'
workers: 1
zones:
  - origin: geo.test
    ttl: 300
    records: |
      @ IN SOA ns1 hostmaster 1 7200 3600 1209600 300
      @ IN NS ns1
      ns1 IN A 192.0.2.53
      static IN A 192.0.2.99
sites:
  one: {}
  two: {}
  three: {}
topology:
  - match: { cidr: [198.51.100.0/24] }
    prefer: { one: 100 }
  - match: { cidr: [203.0.113.0/24, '2001:db8:77::/48'] }
    prefer: { two: 100 }
  - match: { cidr: [127.0.0.0/8, '::1/128'] }
    prefer: { three: 100 }
services:
  - name: www.geo.test
    ttl: 60
    pools:
      - name: sites
        members:
          - { name: m1, address: 192.0.2.1, site: one }
          - { name: m2, address: 192.0.2.2, site: two }
          - { name: m3, address: 192.0.2.3, site: three }
    policies: [up, admin, topology, first]
`;
}

describe('EDNS Client Subnet reaches the answer layer', () => {
  let dir: string;
  let server: ServerProcess;
  before(async () => {
    dir = await tmpdirWith({ 'steerdns.yaml': geoConfig() });
    server = await startServer(['serve', '--config', join(dir, 'steerdns.yaml')], {
      addListen: false,
    });
  });
  after(async () => {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const rows: {
    why: string;
    host: string;
    name: string;
    ecs?: EcsSpec;
    want: string;
    scope?: number;
  }[] = [
    {
      why: 'no ECS: the resolver address (127.0.0.1) is the location, no option echoed',
      host: '127.0.0.1',
      name: 'www.geo.test',
      want: '192.0.2.3',
    },
    {
      why: 'no ECS over IPv6: ::1 is the location',
      host: '::1',
      name: 'www.geo.test',
      want: '192.0.2.3',
    },
    {
      why: 'ECS /24 overrides the resolver address; scope of the /24 rule',
      host: '127.0.0.1',
      name: 'www.geo.test',
      ecs: { family: 1, sourcePrefix: 24, address: '198.51.100.0' },
      want: '192.0.2.1',
      scope: 24,
    },
    {
      why: 'ECS /32 inside the /24 rule: scope 24, the rule, not the source',
      host: '127.0.0.1',
      name: 'www.geo.test',
      ecs: { family: 1, sourcePrefix: 32, address: '198.51.100.77' },
      want: '192.0.2.1',
      scope: 24,
    },
    {
      why: 'another subnet, another member',
      host: '::1',
      name: 'www.geo.test',
      ecs: { family: 1, sourcePrefix: 24, address: '203.0.113.0' },
      want: '192.0.2.2',
      scope: 24,
    },
    {
      why: 'an IPv6 subnet over IPv4: scope of the /48 rule',
      host: '127.0.0.1',
      name: 'www.geo.test',
      ecs: { family: 2, sourcePrefix: 56, address: '2001:db8:77:ab00::' },
      want: '192.0.2.2',
      scope: 48,
    },
    {
      why: 'static data in the same zone: scope 0',
      host: '127.0.0.1',
      name: 'static.geo.test',
      ecs: { family: 1, sourcePrefix: 24, address: '198.51.100.0' },
      want: '192.0.2.99',
      scope: 0,
    },
  ];
  for (const row of rows) {
    test(row.why, async () => {
      for (const transport of ['udp', 'tcp'] as const) {
        const where = `${row.name} from ${row.host} over ${transport}`;
        const reply = await query(
          server.dnsAt(row.host),
          { name: row.name, type: 'A', edns: row.ecs ? { ecs: row.ecs } : {} },
          { transport },
        );
        assert.equal(reply.rcode, 'NOERROR', where);
        assert.deepEqual(rdataTexts(reply.answers), [row.want], `${where}: answer`);
        if (!row.ecs) {
          assert.equal(reply.opt?.ecs, undefined, `${where}: ECS echoed without one asked`);
          continue;
        }
        const echoed = reply.opt?.ecs;
        assert.ok(echoed, `${where}: no ECS option in the reply`);
        assert.deepEqual(
          [echoed.family, echoed.sourcePrefix, echoed.scopePrefix],
          [row.ecs.family, row.ecs.sourcePrefix, row.scope],
          `${where}: family, source and scope`,
        );
      }
    });
  }

  test(
    'kdig and dig +subnet see the steered answer and the scope',
    { skip: TOOLS_MISSING },
    async () => {
      const at = (host: string): string[] => [
        `@${host}`,
        '-p',
        String(server.dnsAt(host).port),
        '+norec',
      ];
      const rows = [
        {
          tool: kdig,
          host: '127.0.0.1',
          subnet: '198.51.100.0/24',
          want: 'CLIENT-SUBNET: 198.51.100.0/24/24',
          answer: 'www.geo.test. 60 IN A 192.0.2.1',
        },
        {
          tool: dig,
          host: '::1',
          subnet: '203.0.113.0/24',
          want: 'CLIENT-SUBNET: 203.0.113.0/24/24',
          answer: 'www.geo.test. 60 IN A 192.0.2.2',
        },
        {
          tool: kdig,
          host: '::1',
          subnet: '2001:db8:77:1::/64',
          want: 'CLIENT-SUBNET: 2001:db8:77:1::/64/48',
          answer: 'www.geo.test. 60 IN A 192.0.2.2',
        },
      ];
      for (const row of rows) {
        const where = `${row.tool === dig ? 'dig' : 'kdig'} +subnet=${row.subnet} @${row.host}`;
        const r = await row.tool([...at(row.host), `+subnet=${row.subnet}`, 'www.geo.test', 'A']);
        assert.equal(r.status, 'NOERROR', `${where}\n${r.stdout}`);
        assert.ok(r.edns.includes(row.want), `${where}: ${r.edns.join(' | ')}`);
        assert.deepEqual(r.answer, [row.answer], `${where}: answer`);
      }
    },
  );

  test('a malformed subnet is FORMERR on the steered name too', async () => {
    const reply = await query(server.dnsAt('127.0.0.1'), {
      name: 'www.geo.test',
      type: 'A',
      edns: { ecs: { family: 1, sourcePrefix: 20, address: '198.51.100.0', unmasked: true } },
    });
    assert.equal(reply.rcode, 'FORMERR');
    assert.equal(reply.answers.length, 0, 'no answer');
  });
});
