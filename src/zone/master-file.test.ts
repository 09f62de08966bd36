import assert from 'node:assert/strict';
import { FileTooLargeError, MAX_ZONE_FILE_BYTES } from '../lib/text-file.js';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { RRClass, RRType, rrTypeName } from '../dns/constants.js';
import { nameFromText, nameToText } from '../dns/name.js';
import { rdataToText } from '../dns/rdata-text.js';
import {
  ZoneFileError,
  parseMasterFile,
  parseMasterFileOrThrow,
  parseMasterFileSteps,
  type ParseOptions,
  type ParseResult,
  type ZoneRecord,
} from './master-file.js';

const ORIGIN = nameFromText('example.org.');
const FILE = 'db.example.org';

type Extra = Omit<ParseOptions, 'file' | 'origin'>;

const parse = (text: string, extra: Extra = {}): ParseResult =>
  parseMasterFile(text, { file: FILE, origin: ORIGIN, ...extra });

/** One record as `owner ttl TYPE rdata`, everything in canonical presentation form. */
const show = (r: ZoneRecord): string =>
  `${nameToText(r.name)} ${r.ttl} ${rrTypeName(r.type)} ${rdataToText(r.type, r.rdata)}`;

/** An injected `$INCLUDE` reader over a map of file name -> text. */
const files =
  (map: Record<string, string>) =>
  (path: string): string => {
    const text = map[path];
    if (text === undefined) throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
    return text;
  };

test('parseMasterFile reads every master-file feature into records', () => {
  const cases: { name: string; text: string; extra?: Extra; want: string[] }[] = [
    {
      name: 'absolute, relative and @ owners',
      text: 'www.example.org. 60 IN A 192.0.2.1\nmail 60 IN A 192.0.2.2\n@ 60 IN A 192.0.2.3\n',
      want: [
        'www.example.org. 60 A 192.0.2.1',
        'mail.example.org. 60 A 192.0.2.2',
        'example.org. 60 A 192.0.2.3',
      ],
    },
    {
      name: 'names outside the origin are kept',
      text: 'other.example.net. 60 IN A 192.0.2.1\n',
      want: ['other.example.net. 60 A 192.0.2.1'],
    },
    {
      name: '$ORIGIN absolute and relative; @ and rdata names follow it',
      text:
        '$ORIGIN example.net.\n@ 60 IN NS ns1\n$ORIGIN sub\nwww 60 IN CNAME @\n' +
        '$origin example.com.\nx 60 in mx 10 mail\n',
      want: [
        'example.net. 60 NS ns1.example.net.',
        'www.sub.example.net. 60 CNAME sub.example.net.',
        'x.example.com. 60 MX 10 mail.example.com.',
      ],
    },
    {
      name: 'a blank owner (space or tab) is the previous owner',
      text: 'www 60 IN A 192.0.2.1\n  60 IN A 192.0.2.2\n\t60 IN AAAA 2001:db8::1\n',
      want: [
        'www.example.org. 60 A 192.0.2.1',
        'www.example.org. 60 A 192.0.2.2',
        'www.example.org. 60 AAAA 2001:db8::1',
      ],
    },
    {
      name: 'a blank owner after $ORIGIN keeps the previous owner',
      text: 'www 60 IN A 192.0.2.1\n$ORIGIN example.net.\n  60 IN A 192.0.2.2\n',
      want: ['www.example.org. 60 A 192.0.2.1', 'www.example.org. 60 A 192.0.2.2'],
    },
    {
      name: 'parentheses across lines with comments inside',
      text:
        '@ 60 IN SOA ns1 hostmaster ( ; primary, contact\n' +
        '    2026112301 ; serial\n    1h   ; refresh\n\n    ; a comment-only line\n' +
        '    15m 2w\n    300 )\n',
      want: [
        'example.org. 60 SOA ns1.example.org. hostmaster.example.org. 2026112301 3600 900 1209600 300',
      ],
    },
    {
      name: 'parentheses around the whole record and nested parentheses',
      text: '( www\n 60 IN A\n 192.0.2.1 )\nmx 60 IN MX ((10)\n mail)\n',
      want: ['www.example.org. 60 A 192.0.2.1', 'mx.example.org. 60 MX 10 mail.example.org.'],
    },
    {
      name: 'comments, blank and whitespace-only lines are skipped',
      text: '; header\n\n   \n\t; indented comment\nwww 60 IN A 192.0.2.1 ; trailing\n;last',
      want: ['www.example.org. 60 A 192.0.2.1'],
    },
    {
      name: 'quoted ; ( ) and escaped quotes stay in TXT strings',
      text: 'txt 60 IN TXT "v=spf1; -all" "(x)" "say \\"hi\\"" ; real comment\n',
      want: ['txt.example.org. 60 TXT "v=spf1; -all" "(x)" "say \\"hi\\""'],
    },
    {
      name: 'TXT strings across lines in parentheses',
      text: 'txt 60 IN TXT ( "part one"\n "part two" ) \n',
      want: ['txt.example.org. 60 TXT "part one" "part two"'],
    },
    {
      name: 'escaped space, dot and \\DDD in owner names',
      text: 'a\\ b 60 IN A 192.0.2.1\na\\.b 60 IN A 192.0.2.2\n\\065\\032z 60 IN A 192.0.2.3\n',
      want: [
        'a\\032b.example.org. 60 A 192.0.2.1',
        'a\\.b.example.org. 60 A 192.0.2.2',
        'A\\032z.example.org. 60 A 192.0.2.3',
      ],
    },
    {
      name: 'a quoted owner "@" is the label @, also right after an unquoted @',
      text: '@ 60 IN A 192.0.2.1\n"@" 60 IN A 192.0.2.2\n@ 60 IN A 192.0.2.3\n"a b" 60 IN A 192.0.2.4\n',
      want: [
        'example.org. 60 A 192.0.2.1',
        '\\@.example.org. 60 A 192.0.2.2',
        'example.org. 60 A 192.0.2.3',
        'a\\032b.example.org. 60 A 192.0.2.4',
      ],
    },
    {
      name: 'escaped ; and $ in owner names are not comments or directives',
      text: 'a\\;b 60 IN A 192.0.2.1\n\\$x 60 IN A 192.0.2.2\n',
      want: ['a\\;b.example.org. 60 A 192.0.2.1', '\\$x.example.org. 60 A 192.0.2.2'],
    },
    {
      name: 'TTL and class in either order, each optional',
      text:
        'a 60 IN A 192.0.2.1\nb IN 61 A 192.0.2.2\nc 62 A 192.0.2.3\nd IN A 192.0.2.4\n' +
        'e A 192.0.2.5\nf CLASS1 63 A 192.0.2.6\ng in 1M a 192.0.2.7\n',
      want: [
        'a.example.org. 60 A 192.0.2.1',
        'b.example.org. 61 A 192.0.2.2',
        'c.example.org. 62 A 192.0.2.3',
        'd.example.org. 62 A 192.0.2.4',
        'e.example.org. 62 A 192.0.2.5',
        'f.example.org. 63 A 192.0.2.6',
        'g.example.org. 60 A 192.0.2.7',
      ],
    },
    {
      name: '$TTL with units applies to records without a TTL',
      text: '$TTL 1h30m\na IN A 192.0.2.1\nb 5 IN A 192.0.2.2\n$ttl 2D\nc IN A 192.0.2.3\n',
      want: [
        'a.example.org. 5400 A 192.0.2.1',
        'b.example.org. 5 A 192.0.2.2',
        'c.example.org. 172800 A 192.0.2.3',
      ],
    },
    {
      name: 'defaultTtl applies when there is no $TTL; $TTL wins over it',
      text: 'a IN A 192.0.2.1\nb 7 IN A 192.0.2.2\nc IN A 192.0.2.3\n$TTL 9\nd IN A 192.0.2.4\n',
      extra: { defaultTtl: 300 },
      want: [
        'a.example.org. 300 A 192.0.2.1',
        'b.example.org. 7 A 192.0.2.2',
        'c.example.org. 300 A 192.0.2.3',
        'd.example.org. 9 A 192.0.2.4',
      ],
    },
    {
      name: 'without $TTL or defaultTtl the last explicit TTL carries on (RFC 1035)',
      text: 'a 100 IN A 192.0.2.1\nb IN A 192.0.2.2\nc 200 IN A 192.0.2.3\nd IN A 192.0.2.4\n',
      want: [
        'a.example.org. 100 A 192.0.2.1',
        'b.example.org. 100 A 192.0.2.2',
        'c.example.org. 200 A 192.0.2.3',
        'd.example.org. 200 A 192.0.2.4',
      ],
    },
    {
      name: 'TTL 0 and the largest TTL',
      text: 'a 0 IN A 192.0.2.1\nb 2147483647 IN A 192.0.2.2\n',
      want: ['a.example.org. 0 A 192.0.2.1', 'b.example.org. 2147483647 A 192.0.2.2'],
    },
    {
      name: 'CRLF line ends and a byte-order mark',
      text: '\uFEFF$TTL 60\r\nwww IN A 192.0.2.1\r\n  IN TXT "x;y"\r\nmx IN MX ( 10\r\n mail )\r\n',
      want: [
        'www.example.org. 60 A 192.0.2.1',
        'www.example.org. 60 TXT "x;y"',
        'mx.example.org. 60 MX 10 mail.example.org.',
      ],
    },
    {
      name: 'no newline at the end of the file',
      text: 'www 60 IN A 192.0.2.1',
      want: ['www.example.org. 60 A 192.0.2.1'],
    },
    {
      name: 'lower-case types, TYPEnnn and the generic \\# form',
      text:
        'a 60 in a 192.0.2.1\nb 60 IN TYPE1 192.0.2.2\nc 60 IN A \\# 4 C0000203\n' +
        'd 60 IN TYPE65280 \\# 3 ab cd ef\ne 60 IN TYPE65280 \\# 0\n',
      want: [
        'a.example.org. 60 A 192.0.2.1',
        'b.example.org. 60 A 192.0.2.2',
        'c.example.org. 60 A 192.0.2.3',
        'd.example.org. 60 TYPE65280 \\# 3 ABCDEF',
        'e.example.org. 60 TYPE65280 \\# 0',
      ],
    },
    {
      name: 'every type with a presentation form',
      text: [
        '$TTL 60',
        '@ SOA ns1 hostmaster 1 2 3 4 5',
        '@ NS ns1',
        '@ MX 10 mail',
        '@ TXT "hello" world',
        '@ CAA 0 issue "letsencrypt.org"',
        'ns1 A 192.0.2.53',
        'ns1 AAAA 2001:DB8::53',
        'www CNAME @',
        '1.2 PTR www',
        'host HINFO "PC" "Linux"',
        '_sip._udp SRV 10 60 5060 sip',
        'e164 NAPTR 100 10 "u" "E2U+sip" "!^.*$!sip:info@example.org!" .',
        'sub DS 12345 8 2 ABCDEF01',
      ].join('\n'),
      want: [
        'example.org. 60 SOA ns1.example.org. hostmaster.example.org. 1 2 3 4 5',
        'example.org. 60 NS ns1.example.org.',
        'example.org. 60 MX 10 mail.example.org.',
        'example.org. 60 TXT "hello" "world"',
        'example.org. 60 CAA 0 issue "letsencrypt.org"',
        'ns1.example.org. 60 A 192.0.2.53',
        'ns1.example.org. 60 AAAA 2001:db8::53',
        'www.example.org. 60 CNAME example.org.',
        '1.2.example.org. 60 PTR www.example.org.',
        'host.example.org. 60 HINFO "PC" "Linux"',
        '_sip._udp.example.org. 60 SRV 10 60 5060 sip.example.org.',
        'e164.example.org. 60 NAPTR 100 10 "u" "E2U+sip" "!^.*$!sip:info@example.org!" .',
        'sub.example.org. 60 DS 12345 8 2 ABCDEF01',
      ],
    },
    {
      name: '$INCLUDE reads the file with the current origin; its $ORIGIN stays inside',
      text: '$TTL 60\n$INCLUDE hosts.inc\nafter IN A 192.0.2.9\n',
      extra: {
        readInclude: files({
          'hosts.inc': 'in1 IN A 192.0.2.1\n$ORIGIN example.net.\nin2 IN A 192.0.2.2\n',
        }),
      },
      want: [
        'in1.example.org. 60 A 192.0.2.1',
        'in2.example.net. 60 A 192.0.2.2',
        'after.example.org. 60 A 192.0.2.9',
      ],
    },
    {
      name: '$INCLUDE with an origin; relative to the current origin; restored afterwards',
      text: '$TTL 60\n$INCLUDE "sub zone.inc" sub\n@ IN A 192.0.2.9\n$INCLUDE abs.inc example.net.\n',
      extra: {
        readInclude: files({
          'sub zone.inc': '@ IN A 192.0.2.1\nwww IN CNAME @\n',
          'abs.inc': 'x IN A 192.0.2.2\n',
        }),
      },
      want: [
        'sub.example.org. 60 A 192.0.2.1',
        'www.sub.example.org. 60 CNAME sub.example.org.',
        'example.org. 60 A 192.0.2.9',
        'x.example.net. 60 A 192.0.2.2',
      ],
    },
    {
      name: 'the previous owner stays in its file: a blank owner after $INCLUDE is the outer one',
      text: 'outer 60 IN A 192.0.2.1\n$INCLUDE a.inc\n  60 IN A 192.0.2.3\n',
      extra: { readInclude: files({ 'a.inc': 'inner 60 IN A 192.0.2.2\n' }) },
      want: [
        'outer.example.org. 60 A 192.0.2.1',
        'inner.example.org. 60 A 192.0.2.2',
        'outer.example.org. 60 A 192.0.2.3',
      ],
    },
    {
      name: '$TTL set in an included file carries on after it',
      text: '$INCLUDE ttl.inc\nb IN A 192.0.2.2\n',
      extra: { readInclude: files({ 'ttl.inc': '$TTL 77\na IN A 192.0.2.1\n' }) },
      want: ['a.example.org. 77 A 192.0.2.1', 'b.example.org. 77 A 192.0.2.2'],
    },
    {
      name: 'the same file may be included twice, one after the other',
      text: '$INCLUDE a.inc one\n$INCLUDE a.inc two\n',
      extra: { readInclude: files({ 'a.inc': '@ 60 IN A 192.0.2.1\n' }) },
      want: ['one.example.org. 60 A 192.0.2.1', 'two.example.org. 60 A 192.0.2.1'],
    },
  ];
  for (const row of cases) {
    const { records, errors } = parse(row.text, row.extra);
    assert.deepEqual(
      { records: records.map(show), errors: errors.map((e) => e.message) },
      { records: row.want, errors: [] },
      row.name,
    );
  }
});

test('records carry the file and the line where they start', () => {
  const text =
    '$TTL 60\n\nwww IN A 192.0.2.1\n@ IN SOA ( ns1\n  hm 1 2 3 4 5 )\n$INCLUDE sub/a.inc\n  IN A 192.0.2.2\n';
  const calls: string[] = [];
  const readInclude = (path: string, fromFile: string): string => {
    calls.push(`${path} from ${fromFile}`);
    return path === 'sub/a.inc' ? '\nin IN A 192.0.2.3\n$INCLUDE b.inc\n' : 'deep IN A 192.0.2.4\n';
  };
  const { records, errors } = parse(text, { readInclude });
  assert.deepEqual(errors, []);
  const got = records.map((r) => `${nameToText(r.name)} ${r.position.file}:${r.position.line}`);
  assert.deepEqual(got, [
    `www.example.org. ${FILE}:3`,
    `example.org. ${FILE}:4`,
    `in.example.org. sub/a.inc:2`,
    `deep.example.org. sub/b.inc:1`,
    `example.org. ${FILE}:7`,
  ]);
  assert.deepEqual(calls, [`sub/a.inc from ${FILE}`, 'b.inc from sub/a.inc']);
  for (const r of records) assert.equal(r.class, RRClass.IN, nameToText(r.name));
});

test('$INCLUDE reads real files relative to the including file', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'steerdns-master-'));
  t.after(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  mkdirSync(join(dir, 'sub'));
  const absolute = join(dir, 'absolute.inc');
  writeFileSync(
    join(dir, 'sub', 'hosts.inc'),
    '$ORIGIN hosts\nweb 60 IN A 192.0.2.1\n$INCLUDE more.inc\n',
  );
  writeFileSync(join(dir, 'sub', 'more.inc'), 'db 60 IN A 192.0.2.2\n');
  writeFileSync(absolute, '@ 60 IN TXT "absolute"\n');
  const main = join(dir, 'db.example.org');
  const text = `$INCLUDE sub/hosts.inc\nafter 60 IN A 192.0.2.3\n$INCLUDE ${absolute} abs\n`;
  writeFileSync(main, text);
  const { records, errors } = parseMasterFile(text, { file: main, origin: ORIGIN });
  assert.deepEqual(errors, []);
  assert.deepEqual(
    records.map((r) => `${show(r)} @${r.position.file.slice(dir.length)}:${r.position.line}`),
    [
      'web.hosts.example.org. 60 A 192.0.2.1 @/sub/hosts.inc:2',
      'db.hosts.example.org. 60 A 192.0.2.2 @/sub/more.inc:1',
      'after.example.org. 60 A 192.0.2.3 @/db.example.org:2',
      'abs.example.org. 60 TXT "absolute" @/absolute.inc:1',
    ],
  );

  const missing = parseMasterFile('$INCLUDE nope.inc\n', { file: main, origin: ORIGIN });
  assert.equal(missing.errors.length, 1);
  assert.match(
    missing.errors[0]!.message,
    /db\.example\.org:1: \$INCLUDE cannot read ".*nope\.inc": ENOENT$/,
  );

  writeFileSync(join(dir, 'sub', 'more.inc'), '$INCLUDE ../db.example.org\n');
  const loop = parseMasterFile(text, { file: main, origin: ORIGIN });
  assert.deepEqual(
    loop.errors.map((e) => `${e.file.slice(dir.length)}:${e.line}`),
    ['/sub/more.inc:1'],
  );
  assert.match(loop.errors[0]!.reason, /^\$INCLUDE loop: /);
  assert.equal(loop.records.length, 3, 'the records around the loop are still read');
});

test('bad entries are reported at the line where they start and parsing goes on', () => {
  const cases: {
    name: string;
    text: string;
    line: number;
    reason: string;
    extra?: Extra;
    file?: string;
  }[] = [
    { name: 'unknown type', text: 'a 60 IN FOO 1', line: 1, reason: 'unknown type "FOO"' },
    { name: 'quoted type', text: 'a 60 IN "A" 192.0.2.1', line: 1, reason: 'unknown type "A"' },
    { name: 'meta type', text: 'a 60 IN OPT \\# 0', line: 1, reason: 'OPT: a meta type' },
    {
      name: 'class ANY',
      text: 'a 60 ANY A 192.0.2.1',
      line: 1,
      reason: 'class "ANY" is not supported',
    },
    { name: 'missing type', text: 'a 60 IN', line: 1, reason: 'missing type' },
    {
      name: 'class CH',
      text: 'a 60 CH TXT "x"',
      line: 1,
      reason: 'class "CH" is not supported; only IN',
    },
    {
      name: 'class HS',
      text: 'a HS 60 A 192.0.2.1',
      line: 1,
      reason: 'class "HS" is not supported',
    },
    { name: 'CLASS3', text: 'a 60 CLASS3 A 192.0.2.1', line: 1, reason: 'class "CLASS3"' },
    { name: 'two classes', text: 'a IN 60 IN A 192.0.2.1', line: 1, reason: 'a second class "IN"' },
    { name: 'two TTLs', text: 'a 60 IN 70 A 192.0.2.1', line: 1, reason: 'a second TTL "70"' },
    {
      name: 'TTL too big',
      text: 'a 2147483648 IN A 192.0.2.1',
      line: 1,
      reason: 'bad TTL "2147483648"',
    },
    { name: 'TTL bad unit', text: 'a 1x IN A 192.0.2.1', line: 1, reason: 'bad TTL "1x"' },
    {
      name: 'TTL unit without number',
      text: 'a 1h30 IN A 192.0.2.1',
      line: 1,
      reason: 'bad TTL "1h30"',
    },
    {
      name: 'rdata where the type should be',
      text: 'a 192.0.2.1',
      line: 1,
      reason: 'bad TTL "192.0.2.1"',
    },
    { name: 'bad $TTL', text: '$TTL forever', line: 1, reason: 'bad $TTL "forever"' },
    {
      name: '$TTL without value',
      text: '$TTL',
      line: 1,
      reason: '$TTL takes one TTL, got 0 fields',
    },
    {
      name: '$ORIGIN with two names',
      text: '$ORIGIN a. b.',
      line: 1,
      reason: '$ORIGIN takes one name, got 2',
    },
    { name: 'bad $ORIGIN', text: '$ORIGIN a..b.', line: 1, reason: 'bad $ORIGIN name "a..b."' },
    {
      name: '$INCLUDE without a file',
      text: '$INCLUDE',
      line: 1,
      reason: '$INCLUDE takes a file name',
    },
    { name: 'unknown directive', text: '$FOO bar', line: 1, reason: 'unknown directive "$FOO"' },
    {
      name: '$GENERATE',
      text: '$GENERATE 1-2 h$ A 192.0.2.$',
      line: 1,
      reason: '$GENERATE is not supported',
    },
    {
      name: 'missing owner on the first line',
      text: '  60 IN A 192.0.2.1',
      line: 1,
      reason: 'no owner name',
    },
    {
      name: 'no TTL anywhere',
      text: 'a IN A 192.0.2.1',
      line: 1,
      reason: 'no TTL given and no $TTL',
    },
    {
      name: 'bad owner name',
      text: 'a..b 60 IN A 192.0.2.1',
      line: 1,
      reason: 'bad owner name "a..b"',
    },
    {
      name: 'a blank owner after a bad owner is skipped without another error',
      text: 'a..b 60 IN A 192.0.2.1\n  60 IN A 192.0.2.2',
      line: 1,
      reason: 'empty label',
    },
    {
      name: 'owner label over 63',
      text: `${'x'.repeat(64)} 60 IN A 192.0.2.1`,
      line: 1,
      reason: 'label longer than 63',
    },
    {
      name: 'bad rdata',
      text: 'a 60 IN A 256.1.1.1',
      line: 1,
      reason: 'A: expected an IPv4 address, got "256.1.1.1"',
    },
    {
      name: 'bad rdata on a later line',
      text: '$TTL 60\n\n; c\nb IN MX 10',
      line: 4,
      reason: 'MX: expected 2 fields',
    },
    {
      name: 'a multi-line entry is reported at its first line',
      text: '$TTL 60\n@ IN SOA ns1 hm (\n 1 2 3\n 4 1x )',
      line: 2,
      reason: 'expected minimum as seconds or a duration',
    },
    {
      name: ') without (',
      text: 'a 60 IN A 192.0.2.1 )',
      line: 1,
      reason: 'unbalanced parenthesis: ")" without "("',
    },
    {
      name: 'unterminated quote',
      text: '$TTL 60\na IN TXT "no end ; here',
      line: 2,
      reason: 'unterminated quoted string',
    },
    {
      name: '$INCLUDE of itself',
      text: `$INCLUDE ${FILE}`,
      line: 1,
      reason: `$INCLUDE loop: ${FILE} -> ${FILE}`,
      extra: { readInclude: () => 'x 60 IN A 192.0.2.1' },
    },
    {
      name: '$INCLUDE loop through a second file, reported in that file',
      text: 'top 60 IN A 192.0.2.1\n$INCLUDE b.inc',
      line: 2,
      file: 'b.inc',
      reason: `$INCLUDE loop: ${FILE} -> b.inc -> ${FILE}`,
      extra: {
        readInclude: files({
          'b.inc': 'b 60 IN A 192.0.2.2\n$INCLUDE db.example.org\n',
          [FILE]: '',
        }),
      },
    },
    {
      name: 'an error inside an included file names that file',
      text: '$INCLUDE bad.inc',
      line: 3,
      file: 'bad.inc',
      reason: 'unknown type "BAD"',
      extra: { readInclude: files({ 'bad.inc': '\n\nx 60 IN BAD' }) },
    },
    {
      name: '$INCLUDE of a file over the size limit: reported where the limit falls in it',
      text: 'top 60 IN A 192.0.2.1\n$INCLUDE huge.inc',
      line: 7,
      file: 'huge.inc',
      reason: `line 7 crosses the limit (included from ${FILE}:2)`,
      extra: {
        readInclude: () => {
          throw new FileTooLargeError(600 << 20, MAX_ZONE_FILE_BYTES, 7);
        },
      },
    },
    {
      name: '$INCLUDE of a file the reader cannot read',
      text: '$INCLUDE missing.inc',
      line: 1,
      reason: '$INCLUDE cannot read "missing.inc": ENOENT',
      extra: { readInclude: files({}) },
    },
    {
      name: '$INCLUDE nested too deep: 0.inc to 7.inc are eight levels, 8.inc one too many',
      text: '$INCLUDE 0.inc',
      line: 1,
      file: '7.inc',
      reason: '$INCLUDE nested more than 8 files deep at "8.inc"',
      extra: {
        readInclude: (path: string) => `$INCLUDE ${String(Number.parseInt(path, 10) + 1)}.inc\n`,
      },
    },
  ];
  for (const row of cases) {
    const text = `${row.text}\nafter 60 IN A 192.0.2.99\n`;
    const { records, errors } = parse(text, row.extra);
    const file = row.file ?? FILE;
    const got = errors.map((e) => ({
      file: e.file,
      line: e.line,
      matches: e.reason.includes(row.reason),
    }));
    assert.deepEqual(
      { errors: got, last: records.map(show).at(-1) },
      {
        errors: [{ file, line: row.line, matches: true }],
        last: 'after.example.org. 60 A 192.0.2.99',
      },
      `${row.name}: got ${errors.map((e) => e.message).join(' | ')}`,
    );
    const error = errors[0]!;
    assert.ok(error instanceof ZoneFileError, row.name);
    assert.equal(error.code, 'STEERDNS_ERR_ZONE_PARSE', row.name);
    assert.equal(error.message, `${file}:${row.line}: ${error.reason}`, row.name);
  }
});

test('an unclosed ( swallows the rest of the file and is reported where it opened', () => {
  const { records, errors } = parse(
    'a 60 IN A 192.0.2.1\nb 60 IN MX ( 10\nmail\nc 60 IN A 192.0.2.3\n',
  );
  assert.deepEqual(records.map(show), ['a.example.org. 60 A 192.0.2.1']);
  assert.deepEqual(
    errors.map((e) => e.message),
    [`${FILE}:2: unbalanced parenthesis: "(" without ")"`],
  );
});

test('every bad entry is reported, up to maxErrors', () => {
  const lines = Array.from(
    { length: 150 },
    (_, i) => `bad${i} 60 IN A 1.2.3\ngood${i} 60 IN A 192.0.2.1`,
  );
  const text = lines.join('\n');
  const cases: { maxErrors: number | undefined; errors: number; lastLine: number }[] = [
    { maxErrors: undefined, errors: 100, lastLine: 199 },
    { maxErrors: 3, errors: 3, lastLine: 5 },
    { maxErrors: 1000, errors: 150, lastLine: 299 },
    { maxErrors: 0, errors: 1, lastLine: 1 },
  ];
  for (const row of cases) {
    const extra = row.maxErrors === undefined ? {} : { maxErrors: row.maxErrors };
    const { records, errors } = parse(text, extra);
    assert.deepEqual(
      { errors: errors.length, lastLine: errors.at(-1)?.line, records: records.length },
      {
        errors: row.errors,
        lastLine: row.lastLine,
        records: row.errors === 150 ? 150 : row.errors - 1,
      },
      `maxErrors=${String(row.maxErrors)}`,
    );
  }
});

test('parseMasterFileOrThrow returns the records or throws the first error', () => {
  const good = parseMasterFileOrThrow('a 60 IN A 192.0.2.1\n', { file: FILE, origin: ORIGIN });
  assert.deepEqual(good.records.map(show), ['a.example.org. 60 A 192.0.2.1']);
  assert.throws(
    () =>
      parseMasterFileOrThrow('a 60 IN A 192.0.2.1\nb 60 IN A x\nc 60 IN FOO\n', {
        file: FILE,
        origin: ORIGIN,
      }),
    (error: unknown) =>
      error instanceof ZoneFileError &&
      error.line === 2 &&
      error.message === `${FILE}:2: A: expected an IPv4 address, got "x"`,
  );
});

// ---- property: what nameToText and rdataToText print reads back to the same wire data --------

const u8 = fc.nat({ max: 0xff });
const u16 = fc.nat({ max: 0xffff });
const u32 = fc.nat({ max: 0xffffffff });
const word = (n: number, bytes: 1 | 2 | 4): Buffer => {
  const b = Buffer.alloc(bytes);
  b.writeUIntBE(n, 0, bytes);
  return b;
};
const relativeWire = fc
  .array(fc.uint8Array({ minLength: 1, maxLength: 63 }), { maxLength: 4 })
  .map((labels) =>
    Buffer.concat([
      ...labels.flatMap((l) => [Buffer.from([l.length]), Buffer.from(l)]),
      Buffer.from([0]),
    ]),
  );
const wireName = relativeWire.filter((w) => w.length <= 255);
const charString = fc
  .uint8Array({ maxLength: 255 })
  .map((s) => Buffer.concat([Buffer.from([s.length]), s]));

/** Random RDATA built as wire bytes, independently of the text parser under test. */
const rdata: fc.Arbitrary<[number, Buffer]> = fc.oneof(
  fc
    .uint8Array({ minLength: 4, maxLength: 4 })
    .map((b): [number, Buffer] => [RRType.A, Buffer.from(b)]),
  fc
    .uint8Array({ minLength: 16, maxLength: 16 })
    .map((b): [number, Buffer] => [RRType.AAAA, Buffer.from(b)]),
  fc.tuple(fc.constantFrom(RRType.NS, RRType.CNAME, RRType.PTR), wireName),
  fc
    .tuple(u16, wireName)
    .map(([p, n]): [number, Buffer] => [RRType.MX, Buffer.concat([word(p, 2), n])]),
  fc
    .tuple(u16, u16, u16, wireName)
    .map(([a, b, c, n]): [number, Buffer] => [
      RRType.SRV,
      Buffer.concat([word(a, 2), word(b, 2), word(c, 2), n]),
    ]),
  fc
    .tuple(wireName, wireName, fc.array(u32, { minLength: 5, maxLength: 5 }))
    .map(([m, r, n]): [number, Buffer] => [
      RRType.SOA,
      Buffer.concat([m, r, ...n.map((v) => word(v, 4))]),
    ]),
  fc
    .array(charString, { minLength: 1, maxLength: 4 })
    .map((s): [number, Buffer] => [RRType.TXT, Buffer.concat(s)]),
  fc.tuple(charString, charString).map((s): [number, Buffer] => [RRType.HINFO, Buffer.concat(s)]),
  fc
    .tuple(u16, u16, charString, charString, charString, wireName)
    .map(([o, p, a, b, c, n]): [number, Buffer] => [
      RRType.NAPTR,
      Buffer.concat([word(o, 2), word(p, 2), a, b, c, n]),
    ]),
  fc
    .tuple(u16, u8, u8, fc.uint8Array({ minLength: 1, maxLength: 64 }))
    .map(([k, a, d, digest]): [number, Buffer] => [
      RRType.DS,
      Buffer.concat([word(k, 2), word(a, 1), word(d, 1), digest]),
    ]),
  fc
    .tuple(u8, fc.stringMatching(/^[a-zA-Z0-9]{1,15}$/), fc.uint8Array({ maxLength: 300 }))
    .map(([flags, tag, value]): [number, Buffer] => [
      RRType.CAA,
      Buffer.concat([word(flags, 1), Buffer.from([tag.length]), Buffer.from(tag), value]),
    ]),
  fc
    .tuple(
      fc.integer({ min: 256, max: 0xffff }).filter((t) => t !== RRType.CAA),
      fc.uint8Array({ maxLength: 100 }),
    )
    .map(([t, data]): [number, Buffer] => [t, Buffer.from(data)]),
);

interface Generated {
  owner: Buffer;
  /** How the owner is written: absolute, relative to the origin, or a blank (same owner). */
  form: 'absolute' | 'relative' | 'blank';
  ttl: number;
  order: 'ttl-class' | 'class-ttl' | 'ttl' | 'parens';
  type: number;
  rdata: Buffer;
}

const record: fc.Arbitrary<Generated> = fc
  .record({
    relative: relativeWire,
    inOrigin: fc.boolean(),
    blank: fc.boolean(),
    ttl: fc.nat({ max: 0x7fffffff }),
    order: fc.constantFrom(
      'ttl-class' as const,
      'class-ttl' as const,
      'ttl' as const,
      'parens' as const,
    ),
    data: rdata,
  })
  .filter(
    ({ relative, inOrigin }) =>
      (inOrigin ? relative.length - 1 + ORIGIN.length : relative.length) <= 255,
  )
  .map(({ relative, inOrigin, blank, ttl, order, data: [type, rdata] }) => ({
    owner: inOrigin ? Buffer.concat([relative.subarray(0, -1), ORIGIN]) : relative,
    form: blank ? 'blank' : inOrigin ? 'relative' : 'absolute',
    ttl,
    order,
    type,
    rdata,
  }));

/** Writes one generated record as a master-file entry. */
function format(r: Generated, relative: Buffer | undefined): string {
  let owner = nameToText(r.owner);
  if (r.form === 'blank') owner = '\t';
  else if (r.form === 'relative' && relative)
    owner = relative.length === 1 ? '@' : nameToText(relative).slice(0, -1);
  const type = rrTypeName(r.type);
  const data = rdataToText(r.type, r.rdata);
  switch (r.order) {
    case 'ttl-class':
      return `${owner} ${r.ttl} IN ${type} ${data}`;
    case 'class-ttl':
      return `${owner} IN ${r.ttl} ${type} ${data}`;
    case 'ttl':
      return `${owner}\t${r.ttl}\t${type}\t${data}`;
    case 'parens':
      return `${owner} ( ${r.ttl} ; ttl\n IN ${type}\n ${data} ) ; end`;
  }
}

test('records printed with nameToText and rdataToText parse back to the same wire data', () => {
  fc.assert(
    fc.property(fc.array(record, { minLength: 1, maxLength: 8 }), (generated) => {
      // A blank owner repeats the previous one; the first record always names its owner.
      const list = generated.map((r, i) =>
        r.form === 'blank' && i === 0 ? { ...r, form: 'absolute' as const } : r,
      );
      for (let i = 1; i < list.length; i++) {
        if (list[i]!.form === 'blank') list[i] = { ...list[i]!, owner: list[i - 1]!.owner };
      }
      const text = list
        .map((r) => {
          const inOrigin =
            r.owner.length >= ORIGIN.length &&
            r.owner.subarray(r.owner.length - ORIGIN.length).equals(ORIGIN);
          const relative = inOrigin
            ? Buffer.concat([r.owner.subarray(0, r.owner.length - ORIGIN.length), Buffer.from([0])])
            : undefined;
          return format(r, relative);
        })
        .join('\r\n');
      const { records, errors } = parse(text);
      const want = list.map((r) => ({ name: r.owner, type: r.type, ttl: r.ttl, rdata: r.rdata }));
      const got = records.map((r) => ({ name: r.name, type: r.type, ttl: r.ttl, rdata: r.rdata }));
      assert.deepEqual(
        { got, errors: errors.map((e) => e.message) },
        { got: want, errors: [] },
        text,
      );
    }),
    { numRuns: 1000 },
  );
});

test('consecutive records with the same owner share one name buffer', () => {
  const { records } = parse('$TTL 1\nwww A 192.0.2.1\n    AAAA ::1\nwww TXT x\nmail A 192.0.2.2\n');
  assert.equal(records[0]!.name, records[1]!.name);
  assert.equal(records[0]!.name, records[2]!.name);
  assert.notEqual(records[0]!.name, records[3]!.name);
});

test('onRecord receives each good record instead of the result', () => {
  const seen: string[] = [];
  const result = parse('$TTL 1\na A 192.0.2.1\nb A x\nc A 192.0.2.3\n', {
    onRecord: (r) => seen.push(show(r)),
  });
  assert.deepEqual(seen, ['a.example.org. 1 A 192.0.2.1', 'c.example.org. 1 A 192.0.2.3']);
  assert.deepEqual(result.records, []);
  assert.deepEqual(
    result.errors.map((e) => e.line),
    [3],
  );
});

test('an included file starts without a previous owner and leaves the includer its own', () => {
  const readInclude = files({ 'a.inc': '  A 192.0.2.9\nx A 192.0.2.2\n' });
  const { records, errors } = parse('$TTL 1\nw A 192.0.2.1\n$INCLUDE a.inc\n  TXT after\n', {
    readInclude,
  });
  assert.deepEqual(
    errors.map((e) => e.message),
    ['a.inc:1: no owner name: the first record starts with a blank and there is no previous owner'],
  );
  assert.deepEqual(records.map(show), [
    'w.example.org. 1 A 192.0.2.1',
    'x.example.org. 1 A 192.0.2.2',
    'w.example.org. 1 TXT "after"',
  ]);
});

/** Nine files, each including the next one six times: 6^8 files, 16.7M records expanded. */
const fanOut = (path: string): string => {
  const level = Number.parseInt(path.slice(1), 10);
  if (level === 8) return 'x 60 IN A 192.0.2.1\n';
  return `$INCLUDE f${level + 1}.inc\n`.repeat(6);
};

test('$INCLUDE fan-out stops at the first bound it crosses, with one error and no more reading', () => {
  const cases: {
    name: string;
    text: string;
    extra: Extra;
    want: { message: string; reads: number; records: number };
  }[] = [
    {
      name: 'more includes than maxIncludes',
      text: '$INCLUDE f1.inc\nafter 60 IN A 192.0.2.9\n',
      extra: { maxIncludes: 1000 },
      // The 1001st include is refused where it is written, in a file at the seventh level.
      want: {
        message: 'f7.inc:2: more than 1000 $INCLUDE files in this zone, at "f8.inc"',
        reads: 1000,
        records: 829,
      },
    },
    {
      name: 'more records than maxRecords',
      text: '$INCLUDE f1.inc\nafter 60 IN A 192.0.2.9\n',
      extra: { maxRecords: 100 },
      want: {
        message: 'f8.inc:1: more than 100 records in this zone and the files it includes',
        reads: 126,
        records: 100,
      },
    },
    {
      name: 'the main file counts too',
      text: 'a 60 IN A 192.0.2.1\nb 60 IN A 192.0.2.2\nc 60 IN A 192.0.2.3\n',
      extra: { maxRecords: 2 },
      want: {
        message: `${FILE}:3: more than 2 records in this zone and the files it includes`,
        reads: 0,
        records: 2,
      },
    },
  ];
  for (const row of cases) {
    let reads = 0;
    const readInclude = (path: string): string => {
      reads++;
      return fanOut(path);
    };
    const { records, errors } = parse(row.text, { ...row.extra, readInclude });
    assert.deepEqual(
      { message: errors.map((e) => e.message).join(' | '), reads, records: records.length },
      row.want,
      row.name,
    );
  }
});

test('the default bounds stop the nine-file fan-out after 1000 includes', () => {
  const { errors } = parse('$INCLUDE f1.inc\n', { readInclude: fanOut });
  assert.deepEqual(
    errors.map((e) => e.reason),
    ['more than 1000 $INCLUDE files in this zone, at "f8.inc"'],
  );
});

test('parseMasterFileSteps gives what parseMasterFile gives, and yields every few dozen entries', () => {
  const lines = [
    '$TTL 60',
    '$INCLUDE a.inc sub',
    ...Array.from({ length: 500 }, (_, i) => `n${i} IN A 192.0.2.${i % 250}`),
    'bad IN A 1.2.3',
  ];
  const text = `${lines.join('\n')}\n`;
  const readInclude = files({ 'a.inc': 'x IN TXT "in a"\ny IN A 192.0.2.1\n' });
  const options = { file: FILE, origin: ORIGIN, readInclude };
  const steps = parseMasterFileSteps(text, options);
  let yields = 0;
  let step = steps.next();
  for (; step.done !== true; step = steps.next()) yields++;
  const whole = parseMasterFile(text, options);
  assert.deepEqual(step.value.records.map(show), whole.records.map(show));
  assert.deepEqual(
    step.value.errors.map((e) => e.message),
    whole.errors.map((e) => e.message),
  );
  assert.equal(whole.records.length, 502);
  assert.equal(whole.errors.length, 1);
  // 505 entries in all, one pause point every 64.
  assert.equal(yields, 7);
});
