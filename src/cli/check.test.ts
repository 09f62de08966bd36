import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { nameToText } from '../dns/name.js';
import { assumedOrigin, runCheck } from './check.js';

const RECORDS =
  '@ IN SOA ns1 hostmaster 1 7200 3600 1209600 300\n@ IN NS ns1\nns1 IN A 192.0.2.53\n';

describe('assumedOrigin', () => {
  const rows: {
    why: string;
    file: string;
    text: string;
    origin?: string;
    want: [string, string] | RegExp;
  }[] = [
    {
      why: '$ORIGIN on the first line',
      file: 'db.main',
      text: `$ORIGIN example.org.\n${RECORDS}`,
      want: ['example.org.', '$ORIGIN on line 1'],
    },
    {
      why: '$ORIGIN after comments, blank lines and $TTL',
      file: 'zone.txt',
      text: `; the example zone\n\n$TTL 3600\n   ; more\n$ORIGIN Example.ORG. ; with a comment\n${RECORDS}`,
      want: ['Example.ORG.', '$ORIGIN on line 5'],
    },
    {
      why: '--origin wins over $ORIGIN',
      file: 'db.main',
      text: `$ORIGIN example.org.\n${RECORDS}`,
      origin: 'example.net',
      want: ['example.net.', '--origin'],
    },
    {
      why: 'no $ORIGIN: the file name without .zone',
      file: '/etc/zones/example.org.zone',
      text: RECORDS,
      want: ['example.org.', 'the file name'],
    },
    {
      why: 'a $ORIGIN after the first record does not name the zone',
      file: 'example.org.db',
      text: `${RECORDS}$ORIGIN sub.example.org.\nwww IN A 192.0.2.1\n`,
      want: ['example.org.', 'the file name'],
    },
    {
      why: 'a relative $ORIGIN is relative to the file name',
      file: 'example.org.zone',
      text: `$ORIGIN sub\n${RECORDS}`,
      want: ['sub.example.org.', '$ORIGIN on line 1'],
    },
    {
      why: 'a $ORIGIN that is not a domain name',
      file: 'example.org.zone',
      text: `$ORIGIN bad..example.org.\n${RECORDS}`,
      want: /empty label|label/i,
    },
  ];
  for (const row of rows) {
    test(row.why, () => {
      if (row.want instanceof RegExp) {
        assert.throws(() => assumedOrigin(row.file, row.text, row.origin), row.want);
        return;
      }
      const { apex, from } = assumedOrigin(row.file, row.text, row.origin);
      assert.deepEqual([nameToText(apex), from], row.want);
    });
  }
});

describe('steerdns check FILE.zone says which origin it assumed', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'steerdns-check-'));
    const files: Record<string, string> = {
      'named.zone': `$ORIGIN example.org.\n$TTL 300\n${RECORDS}www IN A 192.0.2.1\n`,
      'example.net.zone': `$TTL 300\n${RECORDS}`,
      // Without its $ORIGIN this file would be read as zone "mixed." and fail: no SOA there.
      'mixed.zone': `$ORIGIN example.com.\n$TTL 300\n${RECORDS}`,
      'bad-origin.zone': `$ORIGIN bad..example.org.\n${RECORDS}`,
      'broken.zone': `$ORIGIN example.org.\n$TTL 300\n${RECORDS}www IN A 192.0.2.999\n`,
    };
    for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const rows: { why: string; args: string[]; code: number; out: RegExp[]; errors: RegExp[] }[] = [
    {
      why: 'the origin from $ORIGIN',
      args: ['named.zone'],
      code: 0,
      out: [/named\.zone: zone example\.org\. \(origin from \$ORIGIN on line 1\), 4 records: ok$/],
      errors: [],
    },
    {
      why: 'the origin from the file name',
      args: ['example.net.zone'],
      code: 0,
      out: [
        /example\.net\.zone: zone example\.net\. \(origin from the file name\), 3 records: ok$/,
      ],
      errors: [],
    },
    {
      why: 'the origin from --origin',
      args: ['example.net.zone', '--origin', 'example.org'],
      code: 0,
      out: [/zone example\.org\. \(origin from --origin\), 3 records: ok$/],
      errors: [],
    },
    {
      why: 'several files, each with its own origin',
      args: ['named.zone', 'mixed.zone'],
      code: 0,
      out: [
        /zone example\.org\. \(origin from \$ORIGIN/,
        /zone example\.com\. \(origin from \$ORIGIN/,
      ],
      errors: [],
    },
    {
      why: 'a $ORIGIN that is not a name: a problem with the file named',
      args: ['bad-origin.zone'],
      code: 1,
      out: [],
      errors: [/bad-origin\.zone: cannot tell the zone's origin: empty label/],
    },
    {
      why: 'a bad record in a zone with $ORIGIN: its line',
      args: ['broken.zone'],
      code: 1,
      out: [],
      errors: [/broken\.zone:6: .*192\.0\.2\.999/],
    },
  ];
  for (const row of rows) {
    test(row.why, async () => {
      const args = row.args.map((a) => (a.endsWith('.zone') ? join(dir, a) : a));
      const outcome = await runCheck(args);
      assert.equal(outcome.exitCode, row.code, outcome.errors.join('\n'));
      assert.equal(outcome.out.length, row.out.length, outcome.out.join('\n'));
      row.out.forEach((want, i) => {
        assert.match(outcome.out[i]!, want);
      });
      assert.equal(outcome.errors.length, row.errors.length, outcome.errors.join('\n'));
      row.errors.forEach((want, i) => {
        assert.match(outcome.errors[i]!, want);
      });
    });
  }
});
