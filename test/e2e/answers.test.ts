/**
 * End to end: zones from master files and inline YAML, answered by the real server as Knot
 * and NSD answer, checked with dig (over 127.0.0.1), kdig (over ::1) and the Node client.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { dig, kdig, collapseWhitespace, type DigResult } from '../helpers/dig.js';
import { encodeQuery, query, sendRaw } from '../helpers/dns-client.js';
import { rdataTexts, startDataSet, TOOLS_MISSING, type DataSetServer } from './fixtures/server.js';

let server: DataSetServer;

before(async () => {
  server = await startDataSet();
});
after(async () => {
  await server.stop();
});

const sorted = (lines: readonly string[]): string[] => [...lines].sort();

/** Runs dig over IPv4 and kdig over IPv6 with the same question. */
async function bothTools(question: string, extra: readonly string[] = []): Promise<DigResult[]> {
  const [name, type] = question.split(' ') as [string, string];
  return Promise.all([
    dig([...server.at('127.0.0.1'), ...extra, name, type]),
    kdig([...server.at('::1'), ...extra, name, type]),
  ]);
}

const TOOL_NAMES = ['dig@127.0.0.1', 'kdig@::1'];

describe('zones from RFC 1035 master files and inline YAML', { skip: TOOLS_MISSING }, () => {
  // Each row: a question and the answer section as the tools print it.
  const rows: { q: string; want: string[]; kdigWant?: string[] }[] = [
    {
      q: 'example.org SOA', // parentheses and comments inside the SOA
      want: [
        'example.org. 3600 IN SOA ns1.example.org. hostmaster.example.org. 2026112301 7200 3600 1209600 300',
      ],
    },
    {
      q: 'example.org NS', // blank owner = previous owner, relative and absolute targets
      want: [
        'example.org. 3600 IN NS ns1.example.org.',
        'example.org. 3600 IN NS ns2.example.net.',
      ],
    },
    { q: 'example.org TXT', want: ['example.org. 3600 IN TXT "v=spf1 mx -all"'] },
    { q: 'example.org CAA', want: ['example.org. 3600 IN CAA 0 issue "letsencrypt.org"'] },
    {
      q: 'www.example.org A', // "300 IN" and "IN 300": TTL and class in either order
      want: ['www.example.org. 300 IN A 192.0.2.1', 'www.example.org. 300 IN A 192.0.2.2'],
    },
    { q: 'www.example.org AAAA', want: ['www.example.org. 3600 IN AAAA 2001:db8::1'] },
    {
      q: 'quoted.example.org TXT', // quoted strings with escapes, a ';' inside quotes
      want: [
        'quoted.example.org. 3600 IN TXT "semi;colon" "say \\"hi\\"" "back\\\\slash" "ABC" "two  spaces"',
      ],
    },
    { q: 'multi.example.org TXT', want: ['multi.example.org. 3600 IN TXT "first" "second"'] },
    {
      q: '_sip._udp.example.org SRV',
      want: ['_sip._udp.example.org. 3600 IN SRV 10 60 5060 sip.example.org.'],
    },
    {
      q: 'naptr.example.org NAPTR',
      want: ['naptr.example.org. 3600 IN NAPTR 100 10 "S" "SIP+D2U" "" _sip._udp.example.org.'],
    },
    { q: 'ptr.example.org PTR', want: ['ptr.example.org. 3600 IN PTR www.example.org.'] },
    {
      q: 'opaque.example.org TYPE65534',
      want: ['opaque.example.org. 3600 IN TYPE65534 \\# 3 ABCDEF'],
    },
    {
      q: 'deleg.example.org DS', // dig splits long hex, kdig does not
      want: [
        'deleg.example.org. 3600 IN DS 12345 8 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF01234567 89ABCDEF',
      ],
      kdigWant: [
        'deleg.example.org. 3600 IN DS 12345 8 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF',
      ],
    },
    { q: 'mail.example.org A', want: ['mail.example.org. 3600 IN A 192.0.2.25'] },
    // $INCLUDE with its own origin, and the origin restored after it.
    { q: 'host.lab.example.org A', want: ['host.lab.example.org. 3600 IN A 192.0.2.70'] },
    { q: 'lab.example.org TXT', want: ['lab.example.org. 3600 IN TXT "lab"'] },
    { q: 'after-include.example.org A', want: ['after-include.example.org. 3600 IN A 192.0.2.72'] },
    // Inline records: a block string with the zone's `ttl`, and a list of lines.
    { q: 'www.example.net A', want: ['www.example.net. 900 IN A 192.0.2.2'] },
    { q: 'mail2.example.net A', want: ['mail2.example.net. 900 IN A 192.0.2.26'] },
    {
      q: '1.2.0.192.in-addr.arpa PTR',
      want: ['1.2.0.192.in-addr.arpa. 3600 IN PTR www.example.org.'],
    },
    {
      q: '25.2.0.192.in-addr.arpa PTR',
      want: ['25.2.0.192.in-addr.arpa. 3600 IN PTR mail.example.org.'],
    },
    // The most specific zone answers: sub.example.org is a zone of its own.
    { q: 'www.sub.example.org A', want: ['www.sub.example.org. 600 IN A 192.0.2.101'] },
    // Negative rows: data that is not there.
    { q: 'example.org A', want: [] },
    { q: 'opaque.example.org TXT', want: [] },
  ];

  for (const row of rows) {
    test(row.q, async () => {
      const results = await bothTools(row.q);
      results.forEach((r, i) => {
        const want = i === 1 && row.kdigWant ? row.kdigWant : row.want;
        const where = `${TOOL_NAMES[i]} ${row.q}`;
        assert.equal(r.status, 'NOERROR', `${where}: status\n${r.stdout}`);
        assert.ok(r.flags.includes('aa'), `${where}: AA in ${r.flags.join(' ')}`);
        assert.deepEqual(sorted(r.answer), sorted(want), `${where}: answer`);
      });
    });
  }
});

/** The negative answer of example.org: SOA TTL 3600, MINIMUM 300, so TTL 300. */
const ORG_NEG =
  'example.org. 300 IN SOA ns1.example.org. hostmaster.example.org. 2026112301 7200 3600 1209600 300';
/** The negative answer of sub.example.org: SOA TTL 60, MINIMUM 600, so TTL 60. */
const SUB_NEG =
  'sub.example.org. 60 IN SOA ns1.sub.example.org. hostmaster.sub.example.org. 7 7200 3600 1209600 600';
const WWW_A = ['www.example.org. 300 IN A 192.0.2.1', 'www.example.org. 300 IN A 192.0.2.2'];
const DELEG_NS = [
  'deleg.example.org. 3600 IN NS ns.deleg.example.org.',
  'deleg.example.org. 3600 IN NS ns.elsewhere.example.net.',
];
const DELEG_GLUE = [
  'ns.deleg.example.org. 3600 IN A 192.0.2.99',
  'ns.deleg.example.org. 3600 IN AAAA 2001:db8::99',
];

interface AnswerRow {
  readonly q: string;
  readonly why: string;
  readonly rcode: string;
  readonly aa: boolean;
  readonly answer?: string[];
  readonly authority?: string[];
  readonly additional?: string[];
}

describe('answers as Knot and NSD give them', { skip: TOOLS_MISSING }, () => {
  const rows: AnswerRow[] = [
    {
      q: 'www.example.org A',
      why: 'authoritative data',
      rcode: 'NOERROR',
      aa: true,
      answer: WWW_A,
    },
    {
      q: 'example.org NS',
      why: 'additional addresses for NS targets (also from another of our zones)',
      rcode: 'NOERROR',
      aa: true,
      answer: [
        'example.org. 3600 IN NS ns1.example.org.',
        'example.org. 3600 IN NS ns2.example.net.',
      ],
      additional: [
        'ns1.example.org. 3600 IN A 192.0.2.53',
        'ns1.example.org. 3600 IN AAAA 2001:db8::53',
        'ns2.example.net. 900 IN A 192.0.2.54',
      ],
    },
    {
      q: 'example.org MX',
      why: 'additional addresses for MX targets',
      rcode: 'NOERROR',
      aa: true,
      answer: [
        'example.org. 3600 IN MX 10 mail.example.org.',
        'example.org. 3600 IN MX 20 mail2.example.net.',
      ],
      additional: [
        'mail.example.org. 3600 IN A 192.0.2.25',
        'mail2.example.net. 900 IN A 192.0.2.26',
      ],
    },
    {
      q: '_sip._udp.example.org SRV',
      why: 'additional addresses for SRV targets',
      rcode: 'NOERROR',
      aa: true,
      answer: ['_sip._udp.example.org. 3600 IN SRV 10 60 5060 sip.example.org.'],
      additional: [
        'sip.example.org. 3600 IN A 192.0.2.60',
        'sip.example.org. 3600 IN AAAA 2001:db8::60',
      ],
    },
    {
      q: 'nx.example.org A',
      why: 'NXDOMAIN with the SOA',
      rcode: 'NXDOMAIN',
      aa: true,
      authority: [ORG_NEG],
    },
    {
      q: 'www.example.org TXT',
      why: 'NODATA with the SOA',
      rcode: 'NOERROR',
      aa: true,
      authority: [ORG_NEG],
    },
    {
      q: 'www.example.org MX',
      why: 'NODATA, another type',
      rcode: 'NOERROR',
      aa: true,
      authority: [ORG_NEG],
    },
    {
      q: 'ent.example.org A',
      why: 'empty non-terminal is NODATA',
      rcode: 'NOERROR',
      aa: true,
      authority: [ORG_NEG],
    },
    {
      q: 'ent.example.org TXT',
      why: 'empty non-terminal, any type',
      rcode: 'NOERROR',
      aa: true,
      authority: [ORG_NEG],
    },
    {
      q: 'x.ent.example.org A',
      why: 'below an empty non-terminal',
      rcode: 'NXDOMAIN',
      aa: true,
      authority: [ORG_NEG],
    },
    {
      q: 'x.apps.example.org A',
      why: 'wildcard synthesis with the query name as owner',
      rcode: 'NOERROR',
      aa: true,
      answer: ['x.apps.example.org. 3600 IN A 192.0.2.80'],
    },
    {
      q: 'a.b.apps.example.org A',
      why: 'wildcard covers several labels',
      rcode: 'NOERROR',
      aa: true,
      answer: ['a.b.apps.example.org. 3600 IN A 192.0.2.80'],
    },
    {
      q: 'x.apps.example.org TXT',
      why: 'wildcard, second type',
      rcode: 'NOERROR',
      aa: true,
      answer: ['x.apps.example.org. 3600 IN TXT "wild"'],
    },
    {
      q: 'x.apps.example.org AAAA',
      why: 'wildcard NODATA',
      rcode: 'NOERROR',
      aa: true,
      authority: [ORG_NEG],
    },
    {
      q: 'one.apps.example.org A',
      why: 'an existing name is answered from its own data',
      rcode: 'NOERROR',
      aa: true,
      answer: ['one.apps.example.org. 3600 IN A 192.0.2.81'],
    },
    {
      q: 'one.apps.example.org TXT',
      why: 'an existing name blocks the wildcard (NODATA, not "wild")',
      rcode: 'NOERROR',
      aa: true,
      authority: [ORG_NEG],
    },
    {
      q: 'x.one.apps.example.org A',
      why: 'closest encloser one.apps has no wildcard',
      rcode: 'NXDOMAIN',
      aa: true,
      authority: [ORG_NEG],
    },
    {
      q: 'apps.example.org A',
      why: 'wildcard parent is an ENT',
      rcode: 'NOERROR',
      aa: true,
      authority: [ORG_NEG],
    },
    {
      q: '*.apps.example.org A',
      why: 'the wildcard itself',
      rcode: 'NOERROR',
      aa: true,
      answer: ['*.apps.example.org. 3600 IN A 192.0.2.80'],
    },
    {
      q: 'api.example.org A',
      why: 'CNAME followed',
      rcode: 'NOERROR',
      aa: true,
      answer: ['api.example.org. 3600 IN CNAME www.example.org.', ...WWW_A],
    },
    {
      q: 'alias.example.org AAAA',
      why: 'CNAME chain of two',
      rcode: 'NOERROR',
      aa: true,
      answer: [
        'alias.example.org. 3600 IN CNAME api.example.org.',
        'api.example.org. 3600 IN CNAME www.example.org.',
        'www.example.org. 3600 IN AAAA 2001:db8::1',
      ],
    },
    {
      q: 'api.example.org CNAME',
      why: 'CNAME asked for',
      rcode: 'NOERROR',
      aa: true,
      answer: ['api.example.org. 3600 IN CNAME www.example.org.'],
    },
    {
      q: 'api.example.org TXT',
      why: 'CNAME to a name without the type: NODATA after the chain',
      rcode: 'NOERROR',
      aa: true,
      answer: ['api.example.org. 3600 IN CNAME www.example.org.'],
      authority: [ORG_NEG],
    },
    {
      q: 'cross.example.org A',
      why: 'CNAME into a second zone',
      rcode: 'NOERROR',
      aa: true,
      answer: [
        'cross.example.org. 3600 IN CNAME www.example.net.',
        'www.example.net. 900 IN A 192.0.2.2',
      ],
    },
    {
      q: 'outside.example.org A',
      why: 'CNAME out of our zones is not followed',
      rcode: 'NOERROR',
      aa: true,
      answer: ['outside.example.org. 3600 IN CNAME www.example.com.'],
    },
    {
      q: 'q.alias-wild.example.org A',
      why: 'wildcard CNAME followed',
      rcode: 'NOERROR',
      aa: true,
      answer: ['q.alias-wild.example.org. 3600 IN CNAME www.example.org.', ...WWW_A],
    },
    {
      q: 'loop1.example.org A',
      why: 'CNAME loop ends',
      rcode: 'NOERROR',
      aa: true,
      answer: [
        'loop1.example.org. 3600 IN CNAME loop2.example.org.',
        'loop2.example.org. 3600 IN CNAME loop1.example.org.',
      ],
    },
    {
      q: 'x.deleg.example.org A',
      why: 'referral below a cut',
      rcode: 'NOERROR',
      aa: false,
      authority: DELEG_NS,
      additional: DELEG_GLUE,
    },
    {
      q: 'deleg.example.org A',
      why: 'referral at the cut',
      rcode: 'NOERROR',
      aa: false,
      authority: DELEG_NS,
      additional: DELEG_GLUE,
    },
    {
      q: 'deleg.example.org NS',
      why: 'NS at the cut is a referral',
      rcode: 'NOERROR',
      aa: false,
      authority: DELEG_NS,
      additional: DELEG_GLUE,
    },
    {
      q: 'ns.deleg.example.org A',
      why: 'glue is not authoritative',
      rcode: 'NOERROR',
      aa: false,
      authority: DELEG_NS,
      additional: DELEG_GLUE,
    },
    {
      q: 'deleg.example.org DS',
      why: 'DS is the parent side of the cut',
      rcode: 'NOERROR',
      aa: true,
      answer: [
        'deleg.example.org. 3600 IN DS 12345 8 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF01234567 89ABCDEF',
      ],
    },
    {
      q: 'sub.example.org NS',
      why: 'the child zone answers at its apex, not the parent referral',
      rcode: 'NOERROR',
      aa: true,
      answer: ['sub.example.org. 600 IN NS ns1.sub.example.org.'],
      additional: ['ns1.sub.example.org. 600 IN A 192.0.2.100'],
    },
    {
      q: 'nx.sub.example.org A',
      why: 'NXDOMAIN in the child, SOA TTL below MINIMUM',
      rcode: 'NXDOMAIN',
      aa: true,
      authority: [SUB_NEG],
    },
    {
      q: 'www.sub.example.org TXT',
      why: 'NODATA in the child',
      rcode: 'NOERROR',
      aa: true,
      authority: [SUB_NEG],
    },
    { q: 'www.example.com A', why: 'outside our zones', rcode: 'REFUSED', aa: false },
    {
      q: 'xexample.org A',
      why: 'suffix that is not a label boundary',
      rcode: 'REFUSED',
      aa: false,
    },
    { q: 'org SOA', why: 'parent of our zone', rcode: 'REFUSED', aa: false },
    { q: '. NS', why: 'the root', rcode: 'REFUSED', aa: false },
  ];

  for (const row of rows) {
    test(`${row.q}: ${row.why}`, async () => {
      const results = await bothTools(row.q);
      results.forEach((r, i) => {
        const where = `${TOOL_NAMES[i]} ${row.q} (${row.why})`;
        assert.equal(r.status, row.rcode, `${where}: status\n${r.stdout}`);
        assert.equal(r.flags.includes('aa'), row.aa, `${where}: AA in "${r.flags.join(' ')}"`);
        const want = i === 1 ? (row.answer ?? []).map(unsplitHex) : (row.answer ?? []);
        assert.deepEqual(sorted(r.answer), sorted(want), `${where}: answer`);
        assert.deepEqual(sorted(r.authority), sorted(row.authority ?? []), `${where}: authority`);
        assert.deepEqual(
          sorted(r.additional),
          sorted(row.additional ?? []),
          `${where}: additional`,
        );
      });
    });
  }
});

/** kdig prints DS digests in one piece; dig splits them. */
const unsplitHex = (line: string): string =>
  line.replace(
    / DS (\d+ \d+ \d+) (.*)$/,
    (_, a: string, hex: string) => ` DS ${a} ${hex.replace(/ /g, '')}`,
  );

describe('answers over the Node client', () => {
  test('A and AAAA data over IPv4 and IPv6, UDP and TCP', async () => {
    const rows = [
      { host: '127.0.0.1', transport: 'udp', type: 'A', want: ['192.0.2.1', '192.0.2.2'] },
      { host: '127.0.0.1', transport: 'tcp', type: 'AAAA', want: ['2001:db8::1'] },
      { host: '::1', transport: 'udp', type: 'AAAA', want: ['2001:db8::1'] },
      { host: '::1', transport: 'tcp', type: 'A', want: ['192.0.2.1', '192.0.2.2'] },
    ] as const;
    for (const row of rows) {
      const where = `${row.host} ${row.transport} ${row.type}`;
      const reply = await query(
        server.on(row.host),
        { name: 'www.example.org', type: row.type },
        { transport: row.transport },
      );
      assert.equal(reply.rcode, 'NOERROR', where);
      assert.equal(reply.flags.aa, true, `${where}: AA`);
      assert.deepEqual(sorted(rdataTexts(reply.answers)), [...row.want], where);
    }
  });

  test('the question is echoed byte for byte, whatever the outcome', async () => {
    const rows = [
      { name: 'WwW.ExAmPlE.oRg', type: 'A', rcode: 0 },
      { name: 'nX.eXample.ORG', type: 'AAAA', rcode: 3 },
      { name: 'X.DeLeG.example.org', type: 'A', rcode: 0 },
      { name: 'Zz.ApPs.Example.Org', type: 'TXT', rcode: 0 },
      { name: 'WWW.EXAMPLE.COM', type: 'A', rcode: 5 },
      { name: 'eXaMpLe.OrG', type: 'TYPE65534', rcode: 0 },
    ];
    for (const row of rows) {
      for (const transport of ['udp', 'tcp'] as const) {
        const where = `${row.name} ${row.type} ${transport}`;
        const bytes = encodeQuery({ name: row.name, type: row.type, edns: false });
        const raw = await sendRaw(server.v4, bytes, { transport });
        assert.ok(raw, `${where}: no reply`);
        const questionEnd = bytes.length;
        assert.equal(raw.readUInt16BE(4), 1, `${where}: QDCOUNT`);
        assert.equal(raw[3]! & 0xf, row.rcode, `${where}: RCODE`);
        assert.equal(
          raw.subarray(12, questionEnd).toString('hex'),
          bytes.subarray(12).toString('hex'),
          `${where}: question bytes`,
        );
        assert.equal(raw.readUInt16BE(0), bytes.readUInt16BE(0), `${where}: ID`);
      }
    }
  });

  test('ANY is answered with one RRset (RFC 8482)', async () => {
    for (const name of [
      'www.example.org',
      'example.org',
      'ns1.example.org',
      'x.apps.example.org',
    ]) {
      const reply = await query(server.v4, { name, type: 'ANY' });
      assert.equal(reply.rcode, 'NOERROR', name);
      assert.equal(reply.flags.aa, true, `${name}: AA`);
      const rrsets = new Set(reply.answers.map((a) => `${a.name.toLowerCase()}/${a.type}`));
      assert.equal(rrsets.size, 1, `${name}: one RRset, got ${[...rrsets].join(', ')}`);
    }
    const nx = await query(server.v4, { name: 'nx.example.org', type: 'ANY' });
    assert.equal(nx.rcode, 'NXDOMAIN', 'nx ANY');
  });

  test('ANY with dig: one RRset', { skip: TOOLS_MISSING }, async () => {
    const r = await dig([...server.at(), 'www.example.org', 'ANY']);
    const types = new Set(r.answer.map((l) => l.split(' ')[3]));
    assert.equal(r.status, 'NOERROR');
    assert.equal(types.size, 1, `one type in ${r.answer.join(' | ')}`);
  });

  test('OPT in replies, with the default payload cap of 1232', async () => {
    const rows = [
      { asked: 4096, want: 1232 },
      { asked: 1232, want: 1232 },
      { asked: 800, want: 800 },
      { asked: 0, want: 512 },
    ];
    for (const { asked, want } of rows) {
      const reply = await query(server.v6, {
        name: 'www.example.org',
        type: 'A',
        edns: { udpPayload: asked },
      });
      assert.equal(reply.optCount, 1, `asked ${asked}: one OPT`);
      assert.equal(reply.opt?.udpPayload, want, `asked ${asked}`);
    }
    const plain = await query(server.v6, { name: 'www.example.org', type: 'A', edns: false });
    assert.equal(plain.optCount, 0, 'no OPT without EDNS in the query');
  });
});

/** The records of example.org as dig prints them, for the AXFR test. */
const EXAMPLE_ORG_RECORDS = [
  'example.org. 3600 IN SOA ns1.example.org. hostmaster.example.org. 2026112301 7200 3600 1209600 300',
  'example.org. 3600 IN NS ns1.example.org.',
  'example.org. 3600 IN NS ns2.example.net.',
  'example.org. 3600 IN MX 10 mail.example.org.',
  'example.org. 3600 IN MX 20 mail2.example.net.',
  'example.org. 3600 IN TXT "v=spf1 mx -all"',
  'example.org. 3600 IN CAA 0 issue "letsencrypt.org"',
  'ns1.example.org. 3600 IN A 192.0.2.53',
  'ns1.example.org. 3600 IN AAAA 2001:db8::53',
  'mail.example.org. 3600 IN A 192.0.2.25',
  ...WWW_A,
  'www.example.org. 3600 IN AAAA 2001:db8::1',
  'api.example.org. 3600 IN CNAME www.example.org.',
  'alias.example.org. 3600 IN CNAME api.example.org.',
  'cross.example.org. 3600 IN CNAME www.example.net.',
  'outside.example.org. 3600 IN CNAME www.example.com.',
  'loop1.example.org. 3600 IN CNAME loop2.example.org.',
  'loop2.example.org. 3600 IN CNAME loop1.example.org.',
  'quoted.example.org. 3600 IN TXT "semi;colon" "say \\"hi\\"" "back\\\\slash" "ABC" "two  spaces"',
  'multi.example.org. 3600 IN TXT "first" "second"',
  '_sip._udp.example.org. 3600 IN SRV 10 60 5060 sip.example.org.',
  'sip.example.org. 3600 IN A 192.0.2.60',
  'sip.example.org. 3600 IN AAAA 2001:db8::60',
  'naptr.example.org. 3600 IN NAPTR 100 10 "S" "SIP+D2U" "" _sip._udp.example.org.',
  'ptr.example.org. 3600 IN PTR www.example.org.',
  'opaque.example.org. 3600 IN TYPE65534 \\# 3 ABCDEF',
  '*.apps.example.org. 3600 IN A 192.0.2.80',
  '*.apps.example.org. 3600 IN TXT "wild"',
  'one.apps.example.org. 3600 IN A 192.0.2.81',
  '*.alias-wild.example.org. 3600 IN CNAME www.example.org.',
  'deep.ent.example.org. 3600 IN TXT "below an empty non-terminal"',
  ...DELEG_NS,
  'deleg.example.org. 3600 IN DS 12345 8 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF',
  ...DELEG_GLUE,
  'sub.example.org. 3600 IN NS ns1.sub.example.org.',
  'ns1.sub.example.org. 3600 IN A 192.0.2.100',
  'host.lab.example.org. 3600 IN A 192.0.2.70',
  'lab.example.org. 3600 IN TXT "lab"',
  'after-include.example.org. 3600 IN A 192.0.2.72',
];

/** The record lines of dig or kdig AXFR output (no sections there), whitespace collapsed. */
function transferLines(stdout: string): string[] {
  return stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith(';'))
    .map(collapseWhitespace);
}

describe('AXFR', { skip: TOOLS_MISSING }, () => {
  const SOA = EXAMPLE_ORG_RECORDS[0]!;

  test('dig AXFR over IPv4 (allowed): SOA first and last, every record once', async () => {
    const r = await dig([`@127.0.0.1`, '-p', String(server.v4.port), 'AXFR', 'example.org']);
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /\(TCP\)/, 'served over TCP');
    const lines = transferLines(r.stdout).map(unsplitHex);
    assert.equal(lines[0], SOA, 'first record');
    assert.equal(lines.at(-1), SOA, 'last record');
    assert.deepEqual(sorted(lines.slice(1, -1)), sorted(EXAMPLE_ORG_RECORDS.slice(1)), 'records');
  });

  test('kdig AXFR over IPv6 (allowed by ::1)', async () => {
    const r = await kdig([`@::1`, '-p', String(server.v6.port), 'AXFR', 'example.org']);
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    const lines = transferLines(r.stdout);
    assert.equal(lines[0], SOA, 'first record');
    assert.equal(lines.at(-1), SOA, 'last record');
    assert.deepEqual(sorted(lines.slice(1, -1)), sorted(EXAMPLE_ORG_RECORDS.slice(1)), 'records');
  });

  test('the transfer ACL decides (a CIDR, other clients refused)', async () => {
    const rows = [
      { zone: 'sub.example.org', host: '127.0.0.1', allowed: true, why: '127.0.0.0/8 allows it' },
      { zone: 'sub.example.org', host: '::1', allowed: false, why: '::1 is not in 127.0.0.0/8' },
      { zone: 'example.net', host: '127.0.0.1', allowed: false, why: 'only 192.0.2.0/24' },
      { zone: '2.0.192.in-addr.arpa', host: '127.0.0.1', allowed: false, why: 'no transfer list' },
      { zone: 'www.example.org', host: '127.0.0.1', allowed: false, why: 'not a zone apex' },
      { zone: 'example.com', host: '127.0.0.1', allowed: false, why: 'not our zone' },
    ];
    for (const row of rows) {
      const where = `AXFR ${row.zone} from ${row.host} (${row.why})`;
      const reply = await query(
        server.on(row.host),
        { name: row.zone, type: 'AXFR', edns: false },
        { transport: 'tcp' },
      );
      if (row.allowed) {
        assert.equal(reply.rcode, 'NOERROR', where);
        assert.equal(reply.answers[0]?.type, 'SOA', `${where}: first`);
        assert.equal(reply.answers.at(-1)?.type, 'SOA', `${where}: last`);
        assert.equal(reply.answers.length, 5, `${where}: count`);
      } else {
        assert.equal(reply.rcode, 'REFUSED', where);
        assert.equal(reply.answers.length, 0, `${where}: no records`);
      }
    }
    const refused = await dig([`@127.0.0.1`, '-p', String(server.v4.port), 'AXFR', 'example.net']);
    assert.match(refused.stdout, /Transfer failed/, `dig AXFR example.net: ${refused.stdout}`);
  });

  test('AXFR over UDP sends no records, even to an allowed client', async () => {
    const reply = await query(server.v4, { name: 'example.org', type: 'AXFR', edns: false });
    assert.equal(reply.answers.length, 0, 'records over UDP');
    assert.ok(
      reply.flags.tc || reply.rcode !== 'NOERROR',
      `neither TC nor an error: ${reply.rcode}`,
    );
  });
});
