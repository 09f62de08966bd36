import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RRType } from '../dns/constants.js';
import { nameFromText, wireKey } from '../dns/name.js';
import { rdataToText } from '../dns/rdata-text.js';
import { parseMasterFile } from './master-file.js';
import { buildZone, firstRdata, rrsetOf } from './zone.js';

const HEAD = `$ORIGIN example.org.
$TTL 3600
@ IN SOA ns1 hostmaster 1 7200 3600 1209600 300
  IN NS ns1
ns1 IN A 192.0.2.53
`;

/** Parses and builds `body` after a valid head (lines 1-5): problems as `line: reason`. */
function build(body: string) {
  const origin = nameFromText('example.org.');
  const parsed = parseMasterFile(HEAD + body, { file: 'example.org.zone', origin });
  const built = buildZone(origin, parsed.records);
  const where = (p: { position: { line: number } | undefined; reason: string }) =>
    `${p.position?.line ?? '?'}: ${p.reason}`;
  return {
    parseErrors: parsed.errors.map((e) => e.message),
    errors: built.errors.map(where),
    warnings: built.warnings.map(where),
    zone: built.zone,
  };
}

test('a delegation whose in-zone NS targets have no glue address is warned of, with its line', () => {
  const rows: { body: string; warnings: string[] }[] = [
    { body: 'sub IN NS ns.sub\nns.sub IN A 192.0.2.9\n', warnings: [] },
    { body: 'sub IN NS ns.sub\nns.sub IN AAAA 2001:db8::9\n', warnings: [] },
    // Outside the delegated zone: no glue needed.
    { body: 'sub IN NS ns.example.net.\nsub IN NS ns1\n', warnings: [] },
    {
      body: 'sub IN NS ns.sub\nsub IN NS ns2.sub\nns2.sub IN A 192.0.2.9\n',
      warnings: [
        '6: the delegation sub.example.org. has NS ns.sub.example.org., inside it, without a glue address (A or AAAA)',
      ],
    },
    {
      body: 'a.b IN NS b.a.b\nb.a.b IN TXT "no address"\n',
      warnings: [
        '6: the delegation a.b.example.org. has NS b.a.b.example.org., inside it, without a glue address (A or AAAA)',
        '7: b.a.b.example.org. is below a delegation; only glue addresses are used',
      ],
    },
  ];
  for (const { body, warnings } of rows) {
    const built = build(body);
    assert.deepEqual(built.errors, [], body);
    assert.deepEqual(built.warnings.sort(), warnings.sort(), body);
  }
});

test('DNAME: loaded in either form, checked, and data below it is warned of (RFC 6672)', () => {
  const generic = build('d IN TYPE39 \\# 13 076578616d706c65036e657400\n');
  assert.deepEqual([...generic.parseErrors, ...generic.errors, ...generic.warnings], []);
  const dname = rrsetOf(generic.zone!.nodes.get(wireKey(nameFromText('d.example.org.'))), 39);
  assert.equal(
    rdataToText(RRType.DNAME, Buffer.from(firstRdata(dname!), 'latin1')),
    'example.net.',
  );
  assert.equal(generic.zone!.hasDname, true);
  assert.equal(build('www IN A 192.0.2.1\n').zone!.hasDname, false);
  const rows: { body: string; parseErrors?: string[]; errors?: string[]; warnings?: string[] }[] = [
    { body: 'd IN DNAME example.net.\n' },
    // At the apex it redirects every name below: ns1 (an address, so no line) is hidden.
    {
      body: '@ IN DNAME example.net.\n',
      warnings: ['?: ns1.example.org. is below the DNAME at example.org.; it is never answered'],
    },
    {
      body: 'd IN TYPE39 \\# 3 010203\n',
      parseErrors: [
        'example.org.zone:6: DNAME: \\# data does not fit the type: target is not an uncompressed domain name',
      ],
    },
    {
      body: 'd IN DNAME example.net.\nd IN DNAME example.com.\n',
      errors: ['7: more than one DNAME at d.example.org.'],
    },
    {
      body: 'd IN DNAME example.net.\nd IN CNAME www\n',
      errors: ['7: CNAME and other data at d.example.org.'],
    },
    {
      body: 'd IN DNAME example.net.\nx.d IN TXT "hidden"\ny.x.d IN A 192.0.2.7\n',
      warnings: [
        '7: x.d.example.org. is below the DNAME at d.example.org.; it is never answered',
        '?: y.x.d.example.org. is below the DNAME at d.example.org.; it is never answered',
      ],
    },
  ];
  for (const row of rows) {
    const built = build(row.body);
    assert.deepEqual(built.parseErrors, row.parseErrors ?? [], row.body);
    assert.deepEqual(built.errors, row.errors ?? [], row.body);
    assert.deepEqual(built.warnings.sort(), (row.warnings ?? []).sort(), row.body);
  }
});
