import assert from 'node:assert/strict';
import { test } from 'node:test';
import dnsPacket from 'dns-packet';
import { fixtureZones } from '../../test/fixtures/zones.js';
import { Responder } from './responder.js';

const responder = new Responder(fixtureZones(), {
  transferAllowed: (_zone, address) => address === '127.0.0.1',
});

interface Ask {
  name: string;
  type?: string;
  edns?: { udpPayloadSize?: number; ecs?: { family: number; source: number; ip: string } };
  transport?: 'udp' | 'tcp';
  from?: string;
}

function ask({ name, type = 'A', edns, transport = 'udp', from = '192.0.2.200' }: Ask) {
  const query = dnsPacket.encode({
    type: 'query',
    id: 99,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ name, type: type as dnsPacket.RecordType, class: 'IN' }],
    additionals: edns
      ? [
          {
            type: 'OPT',
            name: '.',
            udpPayloadSize: edns.udpPayloadSize ?? 1232,
            extendedRcode: 0,
            ednsVersion: 0,
            flags: 0,
            flag_do: false,
            options: edns.ecs
              ? [
                  {
                    code: 8 as const,
                    family: edns.ecs.family,
                    sourcePrefixLength: edns.ecs.source,
                    scopePrefixLength: 0,
                    ip: edns.ecs.ip,
                  },
                ]
              : [],
          },
        ]
      : [],
  });
  const reply = responder.handle(query, transport, from);
  assert.ok(Buffer.isBuffer(reply), 'one reply');
  const decoded = dnsPacket.decode(reply);
  return { reply, decoded, query };
}

/** dns-packet decodes the rcode but its types do not say so. */
const rcodeOf = (d: dnsPacket.DecodedPacket): string => (d as { rcode?: string }).rcode ?? '';
const data = (answers: readonly dnsPacket.Answer[] | undefined): string[] =>
  (answers ?? [])
    .filter((a) => a.type !== 'OPT')
    .map((a) => `${a.name} ${a.type} ${JSON.stringify('data' in a ? a.data : '')}`);
const types = (answers: readonly dnsPacket.Answer[] | undefined): string[] =>
  (answers ?? []).filter((a) => a.type !== 'OPT').map((a) => `${a.name}/${a.type}`);

test('answers behave like Knot and NSD', () => {
  const cases: {
    name: string;
    type?: string;
    rcode: string;
    aa: boolean;
    answer: string[];
    authority: string[];
    additional?: string[];
  }[] = [
    {
      name: 'www.example.org',
      rcode: 'NOERROR',
      aa: true,
      answer: ['www.example.org/A', 'www.example.org/A'],
      authority: [],
    },
    {
      name: 'www.example.org',
      type: 'MX',
      rcode: 'NOERROR',
      aa: true,
      answer: [],
      authority: ['example.org/SOA'],
    },
    {
      name: 'nope.example.org',
      rcode: 'NXDOMAIN',
      aa: true,
      answer: [],
      authority: ['example.org/SOA'],
    },
    {
      name: 'ent.example.org',
      type: 'TXT',
      rcode: 'NOERROR',
      aa: true,
      answer: [],
      authority: ['example.org/SOA'],
    },
    {
      name: 'x.apps.example.org',
      rcode: 'NOERROR',
      aa: true,
      answer: ['x.apps.example.org/A'],
      authority: [],
    },
    {
      name: 'a.b.apps.example.org',
      type: 'TXT',
      rcode: 'NOERROR',
      aa: true,
      answer: ['a.b.apps.example.org/TXT'],
      authority: [],
    },
    {
      name: 'x.apps.example.org',
      type: 'MX',
      rcode: 'NOERROR',
      aa: true,
      answer: [],
      authority: ['example.org/SOA'],
    },
    {
      name: 'one.apps.example.org',
      type: 'TXT',
      rcode: 'NOERROR',
      aa: true,
      answer: [],
      authority: ['example.org/SOA'],
    },
    {
      name: 'api.example.org',
      rcode: 'NOERROR',
      aa: true,
      answer: ['api.example.org/CNAME', 'www.example.org/A', 'www.example.org/A'],
      authority: [],
    },
    {
      name: 'alias.example.org',
      type: 'AAAA',
      rcode: 'NOERROR',
      aa: true,
      answer: ['alias.example.org/CNAME', 'api.example.org/CNAME', 'www.example.org/AAAA'],
      authority: [],
    },
    {
      name: 'api.example.org',
      type: 'CNAME',
      rcode: 'NOERROR',
      aa: true,
      answer: ['api.example.org/CNAME'],
      authority: [],
    },
    {
      name: 'dangling.example.org',
      rcode: 'NXDOMAIN',
      aa: true,
      answer: ['dangling.example.org/CNAME'],
      authority: ['example.org/SOA'],
    },
    {
      name: 'loop1.example.org',
      rcode: 'NOERROR',
      aa: true,
      answer: ['loop1.example.org/CNAME', 'loop2.example.org/CNAME'],
      authority: [],
    },
    {
      name: 'away.example.org',
      rcode: 'NOERROR',
      aa: true,
      answer: ['away.example.org/CNAME'],
      authority: [],
    },
    {
      name: 'cross.example.org',
      rcode: 'NOERROR',
      aa: true,
      answer: ['cross.example.org/CNAME', 'ns2.example.net/A'],
      authority: [],
    },
    {
      name: 'host.sub.example.org',
      rcode: 'NOERROR',
      aa: false,
      answer: [],
      authority: ['sub.example.org/NS', 'sub.example.org/NS'],
      additional: ['ns.sub.example.org/A'],
    },
    {
      name: 'sub.example.org',
      type: 'DS',
      rcode: 'NOERROR',
      aa: true,
      answer: ['sub.example.org/DS'],
      authority: [],
    },
    {
      name: 'example.org',
      type: 'MX',
      rcode: 'NOERROR',
      aa: true,
      answer: ['example.org/MX'],
      authority: [],
      additional: ['mail.example.org/A'],
    },
    {
      name: 'example.org',
      type: 'NS',
      rcode: 'NOERROR',
      aa: true,
      answer: ['example.org/NS', 'example.org/NS'],
      authority: [],
      additional: ['ns1.example.org/A', 'ns1.example.org/AAAA', 'ns2.example.net/A'],
    },
    {
      name: '_sip._udp.example.org',
      type: 'SRV',
      rcode: 'NOERROR',
      aa: true,
      answer: ['_sip._udp.example.org/SRV'],
      authority: [],
      additional: ['sip.example.org/A'],
    },
    { name: 'www.example.com', rcode: 'REFUSED', aa: false, answer: [], authority: [] },
    {
      name: 'example.org',
      type: 'ANY',
      rcode: 'NOERROR',
      aa: true,
      answer: ['example.org/NS', 'example.org/NS'],
      authority: [],
    },
  ];
  for (const c of cases) {
    const { decoded } = ask({ name: c.name, type: c.type ?? 'A' });
    const label = `${c.name} ${c.type ?? 'A'}`;
    assert.equal(rcodeOf(decoded), c.rcode, `${label}: rcode`);
    assert.equal(decoded.flag_aa, c.aa, `${label}: AA`);
    assert.deepEqual(types(decoded.answers), c.answer, `${label}: answer`);
    assert.deepEqual(types(decoded.authorities), c.authority, `${label}: authority`);
    if (c.additional)
      assert.deepEqual(types(decoded.additionals), c.additional, `${label}: additional`);
  }
});

test('negative answers carry the SOA with TTL min(SOA TTL, MINIMUM)', () => {
  const { decoded } = ask({ name: 'nope.example.org' });
  assert.equal((decoded.authorities?.[0] as dnsPacket.SoaAnswer | undefined)?.ttl, 300);
  const net = ask({ name: 'nope.example.net' }).decoded;
  assert.equal((net.authorities?.[0] as dnsPacket.SoaAnswer | undefined)?.ttl, 60);
});

test('the question is echoed byte for byte, mixed case included', () => {
  const { reply, query } = ask({ name: 'WwW.ExAmPle.ORG' });
  const qlen = query.length - 12;
  assert.deepEqual(reply.subarray(12, 12 + qlen), query.subarray(12));
  assert.equal(reply.readUInt16BE(0), 99);
  assert.ok(data(dnsPacket.decode(reply).answers).includes('WwW.ExAmPle.ORG A "192.0.2.1"'));
});

test('EDNS: OPT in the reply, payload capped, ECS echoed with scope 0', () => {
  const { decoded } = ask({
    name: 'www.example.org',
    edns: { udpPayloadSize: 4096, ecs: { family: 1, source: 24, ip: '198.51.100.0' } },
  });
  const opt = decoded.additionals?.find((a) => a.type === 'OPT');
  assert.ok(opt);
  assert.equal(opt.udpPayloadSize, 1232);
  const ecs = opt.options.find((o) => o.code === 8) as
    { sourcePrefixLength: number; scopePrefixLength: number; ip: string } | undefined;
  assert.deepEqual(ecs && [ecs.sourcePrefixLength, ecs.scopePrefixLength, ecs.ip], [
    24,
    0,
    '198.51.100.0',
  ]);
});

test('a reply too big for 512 octets is truncated; over TCP it is whole', () => {
  const udp = ask({ name: 'big.example.org', type: 'TXT' }).decoded;
  assert.equal(udp.flag_tc, true);
  assert.equal(udp.answers?.length ?? 0, 0);
  const edns = ask({
    name: 'big.example.org',
    type: 'TXT',
    edns: { udpPayloadSize: 1232 },
  }).decoded;
  assert.equal(edns.flag_tc, false);
  assert.equal(edns.answers?.length, 2);
  const tcp = ask({ name: 'big.example.org', type: 'TXT', transport: 'tcp' }).decoded;
  assert.equal(tcp.flag_tc, false);
  assert.equal(tcp.answers?.length, 2);
});

test('AXFR: refused without the ACL, a full transfer over TCP with it', () => {
  assert.equal(
    rcodeOf(ask({ name: 'example.org', type: 'AXFR', transport: 'tcp' }).decoded),
    'REFUSED',
  );
  const query = dnsPacket.encode({
    type: 'query',
    id: 5,
    questions: [{ name: 'example.org', type: 'AXFR', class: 'IN' }],
  });
  const reply = responder.handle(query, 'tcp', '127.0.0.1');
  assert.ok(reply !== undefined && !Buffer.isBuffer(reply), 'several messages');
  const messages = [...reply];
  const records = messages.flatMap((m) => dnsPacket.decode(m).answers ?? []);
  assert.equal(records[0]?.type, 'SOA');
  assert.equal(records.at(-1)?.type, 'SOA');
  assert.ok(
    records.some((r) => r.name === 'ns.sub.example.org' && r.type === 'A'),
    'glue is transferred',
  );
  const udp = dnsPacket.decode(responder.handle(query, 'udp', '127.0.0.1') as Buffer);
  assert.equal(udp.flag_tc, true, 'UDP AXFR is sent to TCP');
});

test('malformed and unusual queries', () => {
  const header = Buffer.from([0, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  const formerr = dnsPacket.decode(responder.handle(header, 'udp', '192.0.2.1') as Buffer);
  assert.equal(rcodeOf(formerr), 'FORMERR');
  assert.equal(responder.handle(Buffer.from([1, 2, 3]), 'udp', '192.0.2.1'), undefined);
  const response = Buffer.from(
    dnsPacket.encode({ type: 'response', id: 1, questions: [{ name: 'example.org', type: 'A' }] }),
  );
  assert.equal(responder.handle(response, 'udp', '192.0.2.1'), undefined);
  const notify = dnsPacket.encode({
    type: 'query',
    id: 3,
    flags: 4 << 11,
    questions: [{ name: 'example.org', type: 'SOA' }],
  });
  assert.equal(
    rcodeOf(dnsPacket.decode(responder.handle(notify, 'udp', '192.0.2.1') as Buffer)),
    'NOTIMP',
  );
  const chaos = dnsPacket.encode({
    type: 'query',
    id: 4,
    questions: [{ name: 'version.bind', type: 'TXT', class: 'CH' }],
  });
  assert.equal(
    rcodeOf(dnsPacket.decode(responder.handle(chaos, 'udp', '192.0.2.1') as Buffer)),
    'REFUSED',
  );
});

test('the UDP payload we advertise is min(client, ours), never below 512', () => {
  const cases = [
    { client: 4096, want: 1232 },
    { client: 600, want: 600 },
    { client: 100, want: 512 },
  ];
  for (const { client, want } of cases) {
    const { decoded } = ask({ name: 'www.example.org', edns: { udpPayloadSize: client } });
    const opt = decoded.additionals?.find((a) => a.type === 'OPT');
    assert.equal(opt?.udpPayloadSize, want, `client ${client}`);
  }
});

test('the answer cache admits a name on its second miss; a name asked once is not kept', () => {
  const fresh = new Responder(fixtureZones());
  const query = (name: string, type: dnsPacket.RecordType = 'A') =>
    dnsPacket.encode({ type: 'query', id: 1, questions: [{ name, type }] });
  const answers = (raw: Buffer | Iterable<Buffer> | undefined) =>
    dnsPacket
      .decode(raw as Buffer)
      .answers?.map((a) => `${a.type} ${String((a as { data: unknown }).data)}`);
  const first = answers(fresh.handle(query('www.example.org'), 'udp', '192.0.2.1'));
  assert.equal(fresh.stats.cacheHits, 0);
  // Second miss: admitted. Third: served from the cache, and the same answer.
  assert.deepEqual(answers(fresh.handle(query('www.example.org'), 'udp', '192.0.2.1')), first);
  assert.equal(fresh.stats.cacheHits, 0);
  assert.deepEqual(answers(fresh.handle(query('WWW.Example.ORG'), 'udp', '192.0.2.1')), first);
  assert.equal(fresh.stats.cacheHits, 1);
  // The name is known now: another type is cached at once, beside the first.
  fresh.handle(query('www.example.org', 'AAAA'), 'udp', '192.0.2.1');
  fresh.handle(query('www.example.org', 'AAAA'), 'udp', '192.0.2.1');
  fresh.handle(query('www.example.org'), 'udp', '192.0.2.1');
  assert.equal(fresh.stats.cacheHits, 3);
});
