import assert from 'node:assert/strict';
import { test } from 'node:test';
import { zoneFrom } from '../../test/fixtures/zones.js';
import { Rcode, RRType, rrTypeName } from '../dns/constants.js';
import { nameFromText, nameToText, wireKey } from '../dns/name.js';
import { rdataToText } from '../dns/rdata-text.js';
import { lookup, type LookupResult, type PlacedRRset } from './lookup.js';
import { rdataOf } from './zone.js';
import { ZoneSet } from './zone-set.js';

const PARENT = `$ORIGIN example.org.
$TTL 3600
@        IN SOA ns1 hostmaster 1 7200 3600 1209600 300
         IN NS  ns1
ns1      IN A 192.0.2.53
www      IN A 192.0.2.1
kid      IN NS ns.kid
ns.kid   IN A 192.0.2.98
kid      IN DS 12345 8 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
nods     IN NS ns.nods
ns.nods  IN A 192.0.2.97
far      IN NS ns.far
ns.far   IN A 192.0.2.96
cross    IN CNAME www.example.net.
crossnx  IN CNAME nope.example.net.
away     IN CNAME www.example.com.
tokid    IN CNAME www.kid
tofar    IN CNAME host.far
svc      IN CNAME gslb
chain    IN CNAME svc
mx       IN MX 10 gslb
mx       IN MX 20 www
d        120 IN DNAME example.net.
self     IN DNAME example.org.
grow     IN DNAME x.grow
long     IN DNAME ${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}.example.net.
`;

const KID = `$ORIGIN kid.example.org.
$TTL 600
@   IN SOA ns hostmaster 1 7200 3600 1209600 60
    IN NS  ns
ns  IN A 192.0.2.98
www IN A 192.0.2.10
`;

const NODS = `$ORIGIN nods.example.org.
$TTL 600
@   IN SOA ns hostmaster 1 7200 3600 1209600 60
    IN NS  ns
ns  IN A 192.0.2.97
`;

const NET = `$ORIGIN example.net.
$TTL 600
@   IN SOA ns1.example.org. hostmaster.example.org. 7 7200 3600 1209600 60
    IN NS  ns1.example.org.
www IN A 192.0.2.54
`;

const LONELY = `$ORIGIN lonely.test.
$TTL 600
@   IN SOA ns hostmaster 1 7200 3600 1209600 30
    IN NS  ns
ns  IN A 192.0.2.95
`;

const zones = new ZoneSet([
  zoneFrom('example.org.', PARENT),
  zoneFrom('kid.example.org.', KID),
  zoneFrom('nods.example.org.', NODS),
  zoneFrom('example.net.', NET),
  zoneFrom('lonely.test.', LONELY),
]);

const GSLB = wireKey(nameFromText('gslb.example.org.'));
const steered = (key: string, qtype: number): boolean =>
  key === GSLB && (qtype === RRType.A || qtype === RRType.AAAA);

const rcodeName = (rcode: number): string =>
  Object.entries(Rcode).find(([, value]) => value === rcode)?.[0] ?? String(rcode);

const show = (section: readonly PlacedRRset[]): string[] =>
  section.flatMap(({ owner, rrset, ttl }) =>
    rdataOf(rrset).map(
      (rdata) =>
        `${nameToText(owner)} ${ttl} ${rrTypeName(rrset.type)} ${rdataToText(rrset.type, Buffer.from(rdata, 'latin1'))}`,
    ),
  );

function ask(name: string, type: string, withSteering = false): LookupResult {
  const qname = nameFromText(name);
  const qtype = RRType[type as keyof typeof RRType];
  return lookup(zones, qname, wireKey(qname), qtype, withSteering ? steered : undefined);
}

interface Row {
  readonly q: string;
  readonly rcode?: string;
  readonly aa?: boolean;
  readonly answer: readonly string[];
  readonly authority?: readonly string[];
}

function check(rows: readonly Row[], withSteering = false): void {
  for (const row of rows) {
    const [name, type] = row.q.split(' ') as [string, string];
    const result = ask(name, type, withSteering);
    assert.equal(rcodeName(result.rcode), row.rcode ?? 'NOERROR', `${row.q}: rcode`);
    assert.equal(result.authoritative, row.aa ?? true, `${row.q}: AA`);
    assert.deepEqual(show(result.answer), row.answer, `${row.q}: answer`);
    assert.deepEqual(show(result.authority), row.authority ?? [], `${row.q}: authority`);
  }
}

const ORG_SOA =
  'example.org. 300 SOA ns1.example.org. hostmaster.example.org. 1 7200 3600 1209600 300';
const NET_SOA =
  'example.net. 60 SOA ns1.example.org. hostmaster.example.org. 7 7200 3600 1209600 60';

test('DS at a child apex comes from the parent when both are served (RFC 4035 3.1.4.1)', () => {
  check([
    {
      q: 'kid.example.org. DS',
      answer: [
        'kid.example.org. 3600 DS 12345 8 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF',
      ],
    },
    // Case does not matter; owners are written as in the zone.
    {
      q: 'KID.Example.ORG. DS',
      answer: [
        'kid.example.org. 3600 DS 12345 8 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF',
      ],
    },
    // The parent's NODATA, with the parent's SOA: the child has no say in its DS.
    { q: 'nods.example.org. DS', answer: [], authority: [ORG_SOA] },
    // Other types at the child apex are the child's.
    { q: 'kid.example.org. NS', answer: ['kid.example.org. 600 NS ns.kid.example.org.'] },
    {
      q: 'kid.example.org. SOA',
      answer: [
        'kid.example.org. 600 SOA ns.kid.example.org. hostmaster.kid.example.org. 1 7200 3600 1209600 60',
      ],
    },
    // DS below the child apex: the child answers.
    {
      q: 'www.kid.example.org. DS',
      answer: [],
      authority: [
        'kid.example.org. 60 SOA ns.kid.example.org. hostmaster.kid.example.org. 1 7200 3600 1209600 60',
      ],
    },
    // Only the child is served: it answers NODATA itself.
    {
      q: 'lonely.test. DS',
      answer: [],
      authority: [
        'lonely.test. 30 SOA ns.lonely.test. hostmaster.lonely.test. 1 7200 3600 1209600 30',
      ],
    },
  ]);
});

test('CNAME chains restart in our other zones, with the rcode of the last name (RFC 1034 4.3.2, RFC 6604)', () => {
  check([
    {
      q: 'cross.example.org. A',
      answer: [
        'cross.example.org. 3600 CNAME www.example.net.',
        'www.example.net. 600 A 192.0.2.54',
      ],
    },
    {
      q: 'crossnx.example.org. A',
      rcode: 'NXDOMAIN',
      answer: ['crossnx.example.org. 3600 CNAME nope.example.net.'],
      authority: [NET_SOA],
    },
    { q: 'away.example.org. A', answer: ['away.example.org. 3600 CNAME www.example.com.'] },
    // Into a child zone we serve: its data, not the parent's referral.
    {
      q: 'tokid.example.org. A',
      answer: [
        'tokid.example.org. 3600 CNAME www.kid.example.org.',
        'www.kid.example.org. 600 A 192.0.2.10',
      ],
    },
    // Into a delegation we do not serve: the CNAME and the referral.
    {
      q: 'tofar.example.org. A',
      answer: ['tofar.example.org. 3600 CNAME host.far.example.org.'],
      authority: ['far.example.org. 3600 NS ns.far.example.org.'],
    },
  ]);
});

test('DNAME: the DNAME, a CNAME synthesized with its TTL, and the lookup goes on (RFC 6672)', () => {
  const long = `${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}.example.net.`;
  check([
    {
      q: 'www.d.example.org. A',
      answer: [
        'd.example.org. 120 DNAME example.net.',
        'www.d.example.org. 120 CNAME www.example.net.',
        'www.example.net. 600 A 192.0.2.54',
      ],
    },
    {
      q: 'nope.d.example.org. A',
      rcode: 'NXDOMAIN',
      answer: [
        'd.example.org. 120 DNAME example.net.',
        'nope.d.example.org. 120 CNAME nope.example.net.',
      ],
      authority: [NET_SOA],
    },
    // Several labels below the owner, and data that would be below it: substituted.
    {
      q: 'a.b.d.example.org. TXT',
      rcode: 'NXDOMAIN',
      answer: [
        'd.example.org. 120 DNAME example.net.',
        'a.b.d.example.org. 120 CNAME a.b.example.net.',
      ],
      authority: [NET_SOA],
    },
    // A CNAME question gets the synthesized CNAME and stops there.
    {
      q: 'www.d.example.org. CNAME',
      answer: [
        'd.example.org. 120 DNAME example.net.',
        'www.d.example.org. 120 CNAME www.example.net.',
      ],
    },
    // The owner itself is not substituted.
    { q: 'd.example.org. DNAME', answer: ['d.example.org. 120 DNAME example.net.'] },
    { q: 'd.example.org. A', answer: [], authority: [ORG_SOA] },
    // Into our own zone.
    {
      q: 'www.self.example.org. A',
      answer: [
        'self.example.org. 3600 DNAME example.org.',
        'www.self.example.org. 3600 CNAME www.example.org.',
        'www.example.org. 3600 A 192.0.2.1',
      ],
    },
    // Too long a result: YXDOMAIN with the DNAME only (RFC 6672 2.2).
    {
      q: `${'x'.repeat(63)}.${'y'.repeat(10)}.long.example.org. A`,
      rcode: 'YXDOMAIN',
      answer: [`long.example.org. 3600 DNAME ${long}`],
    },
  ]);
});

test('a DNAME whose target is below its owner ends after a bounded chain', () => {
  const result = ask('a.grow.example.org.', 'A');
  assert.equal(rcodeName(result.rcode), 'NOERROR');
  assert.ok(
    result.answer.length > 2 && result.answer.length <= 40,
    `${result.answer.length} records`,
  );
});

test('a chain stops at a steered name; MX targets that are steered are left to the caller', () => {
  check(
    [
      { q: 'svc.example.org. A', answer: ['svc.example.org. 3600 CNAME gslb.example.org.'] },
      {
        q: 'chain.example.org. AAAA',
        answer: [
          'chain.example.org. 3600 CNAME svc.example.org.',
          'svc.example.org. 3600 CNAME gslb.example.org.',
        ],
      },
    ],
    true,
  );
  assert.equal(nameToText(ask('chain.example.org.', 'A', true).chased!), 'gslb.example.org.');
  // A type the service leaves to the zone: the chain goes on (here, no such name).
  const txt = ask('svc.example.org.', 'TXT', true);
  assert.equal(txt.chased, undefined);
  assert.equal(rcodeName(txt.rcode), 'NXDOMAIN');
  // Without steering, nothing is chased.
  assert.equal(ask('svc.example.org.', 'A').chased, undefined);
  const mx = ask('mx.example.org.', 'MX', true);
  assert.deepEqual(
    mx.steeredTargets?.map((name) => nameToText(name)),
    ['gslb.example.org.'],
  );
  assert.deepEqual(show(mx.additional), ['www.example.org. 3600 A 192.0.2.1']);
  assert.equal(ask('mx.example.org.', 'MX').steeredTargets, undefined);
});
