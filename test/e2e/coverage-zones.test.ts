/**
 * End to end, filling gaps of answers.test.ts: master-file syntax the shared data set does not
 * use (TTL and class carried over without $TTL, RFC 3597 generic form for known types and
 * classes, hex split over lines, $INCLUDE without an origin and a $ORIGIN inside it), and the
 * RCODE of a CNAME chain that ends in a name that does not exist (RFC 6604), served with
 * `serve --zone` and checked with kdig and the Node client.
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { kdig } from '../helpers/dig.js';
import { query } from '../helpers/dns-client.js';
import { startServer, tmpdirWith, type ServerProcess } from '../helpers/server-process.js';
import { rdataTexts, TOOLS_MISSING } from './fixtures/server.js';

/**
 * gen.test: no $TTL before the first records, so the TTL given on the SOA is carried over
 * (RFC 1035 5.1: omitted TTL and class default to the last ones stated); from `$TTL 200` on
 * that applies (RFC 2308). Negative TTL = min(SOA TTL 100, MINIMUM 60) = 60.
 */
const GEN_ZONE = `$ORIGIN gen.test.
@ 100 IN SOA ns1 hostmaster 1 7200 3600 1209600 60
@ NS ns1 ; TTL and class omitted: the last ones stated
ns1 A 192.0.2.53
$TTL 200
b A 192.0.2.2
c 50 A 192.0.2.3
d A 192.0.2.4
gen1 IN TYPE1 \\# 4 c0000203
gen2 IN A \\# 4 C0000204
gen3 IN TYPE65000 \\# 0
gen4 CLASS1 TYPE16 \\# 4 03616263
gen5 IN TYPE65001 \\# 6 ( 0102
     0304 05 06 ) ; hex in pieces, across lines
dangling IN CNAME nowhere
chain IN CNAME dangling
$INCLUDE inc/plain.zone
after A 192.0.2.9
`;

/** Included without an origin argument: the current origin applies; its $ORIGIN stays inside. */
const PLAIN_INCLUDE = `plain A 192.0.2.8
$ORIGIN other.gen.test.
inner A 192.0.2.7
`;

const SOA_NEG = 'gen.test. 60 IN SOA ns1.gen.test. hostmaster.gen.test. 1 7200 3600 1209600 60';

let dir: string;
let server: ServerProcess;

before(async () => {
  dir = await tmpdirWith({ 'gen.test.zone': GEN_ZONE, 'inc/plain.zone': PLAIN_INCLUDE });
  server = await startServer([
    'serve',
    '--zone',
    `gen.test=${join(dir, 'gen.test.zone')}`,
    '--workers',
    '1',
  ]);
});
after(async () => {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
});

const at = (): string[] => ['@127.0.0.1', '-p', String(server.port), '+norec'];

describe('master-file syntax beyond the shared data set', { skip: TOOLS_MISSING }, () => {
  const rows = [
    {
      q: 'gen.test SOA',
      why: 'the TTL given on the SOA',
      want: ['gen.test. 100 IN SOA ns1.gen.test. hostmaster.gen.test. 1 7200 3600 1209600 60'],
    },
    {
      q: 'gen.test NS',
      why: 'TTL and class carried over from the previous record',
      want: ['gen.test. 100 IN NS ns1.gen.test.'],
    },
    {
      q: 'ns1.gen.test A',
      why: 'still the last stated TTL',
      want: ['ns1.gen.test. 100 IN A 192.0.2.53'],
    },
    {
      q: 'b.gen.test A',
      why: '$TTL applies from where it is',
      want: ['b.gen.test. 200 IN A 192.0.2.2'],
    },
    { q: 'c.gen.test A', why: 'an explicit TTL wins', want: ['c.gen.test. 50 IN A 192.0.2.3'] },
    {
      q: 'd.gen.test A',
      why: 'after an explicit TTL, $TTL again (RFC 2308)',
      want: ['d.gen.test. 200 IN A 192.0.2.4'],
    },
    {
      q: 'gen1.gen.test A',
      why: 'RFC 3597 TYPE1 in generic form is an A record',
      want: ['gen1.gen.test. 200 IN A 192.0.2.3'],
    },
    {
      q: 'gen2.gen.test A',
      why: 'RFC 3597 generic RDATA with a known mnemonic',
      want: ['gen2.gen.test. 200 IN A 192.0.2.4'],
    },
    {
      q: 'gen3.gen.test TYPE65000',
      why: 'RFC 3597 empty RDATA',
      want: ['gen3.gen.test. 200 IN TYPE65000 \\# 0'],
    },
    {
      q: 'gen4.gen.test TXT',
      why: 'RFC 3597 CLASS1 TYPE16 is IN TXT',
      want: ['gen4.gen.test. 200 IN TXT "abc"'],
    },
    {
      q: 'gen5.gen.test TYPE65001',
      why: 'RFC 3597 hex in pieces inside parentheses',
      want: ['gen5.gen.test. 200 IN TYPE65001 \\# 6 010203040506'],
    },
    {
      q: 'plain.gen.test A',
      why: '$INCLUDE without an origin uses the current one',
      want: ['plain.gen.test. 200 IN A 192.0.2.8'],
    },
    {
      q: 'inner.other.gen.test A',
      why: '$ORIGIN inside the included file',
      want: ['inner.other.gen.test. 200 IN A 192.0.2.7'],
    },
    {
      q: 'after.gen.test A',
      why: 'the including file keeps its origin (RFC 1035 5.1)',
      want: ['after.gen.test. 200 IN A 192.0.2.9'],
    },
  ];
  for (const row of rows) {
    test(`${row.q}: ${row.why}`, async () => {
      const [name, type] = row.q.split(' ') as [string, string];
      const r = await kdig([...at(), name, type]);
      assert.equal(r.status, 'NOERROR', `${row.q}\n${r.stdout}`);
      assert.ok(r.flags.includes('aa'), `${row.q}: AA in ${r.flags.join(' ')}`);
      assert.deepEqual(r.answer, row.want, `${row.q}: answer`);
    });
  }

  test('after.other.gen.test does not exist: the include did not change the origin', async () => {
    const r = await kdig([...at(), 'after.other.gen.test', 'A']);
    assert.equal(r.status, 'NXDOMAIN', r.stdout);
    assert.deepEqual(r.authority, [SOA_NEG]);
  });
});

describe('CNAME chains that end in a name that does not exist (RFC 6604)', () => {
  const rows = [
    {
      name: 'dangling.gen.test',
      chain: [['dangling.gen.test', 'nowhere.gen.test']],
    },
    {
      name: 'chain.gen.test',
      chain: [
        ['chain.gen.test', 'dangling.gen.test'],
        ['dangling.gen.test', 'nowhere.gen.test'],
      ],
    },
  ];
  for (const row of rows) {
    test(`${row.name} A: NXDOMAIN, the chain in the answer, the SOA in authority`, async () => {
      for (const transport of ['udp', 'tcp'] as const) {
        const where = `${row.name} over ${transport}`;
        const reply = await query(server.address, { name: row.name, type: 'A' }, { transport });
        assert.equal(reply.rcode, 'NXDOMAIN', where);
        assert.equal(reply.flags.aa, true, `${where}: AA`);
        assert.deepEqual(
          reply.answers.map((a) => [a.type, a.name, 'data' in a ? a.data : undefined]),
          row.chain.map(([owner, target]) => ['CNAME', owner, target]),
          `${where}: answer`,
        );
        assert.deepEqual(
          reply.authorities.map((a) => [a.type, a.name, 'ttl' in a ? a.ttl : undefined]),
          [['SOA', 'gen.test', 60]],
          `${where}: authority`,
        );
      }
    });
  }

  test('kdig agrees', { skip: TOOLS_MISSING }, async () => {
    const r = await kdig([...at(), 'chain.gen.test', 'AAAA']);
    assert.equal(r.status, 'NXDOMAIN', r.stdout);
    assert.deepEqual(r.answer, [
      'chain.gen.test. 200 IN CNAME dangling.gen.test.',
      'dangling.gen.test. 200 IN CNAME nowhere.gen.test.',
    ]);
    assert.deepEqual(r.authority, [SOA_NEG]);
  });

  test('the CNAME itself when asked for, and NOERROR', async () => {
    const reply = await query(server.address, { name: 'dangling.gen.test', type: 'CNAME' });
    assert.equal(reply.rcode, 'NOERROR');
    assert.deepEqual(rdataTexts(reply.answers), ['nowhere.gen.test']);
  });
});
