import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ConfigError, formatProblem } from '../lib/errors.js';
import { parseConfig } from './load.js';

const dir = mkdtempSync(join(tmpdir(), 'steerdns-sites-config-'));
writeFileSync(join(dir, 'dssp.key'), 'ab'.repeat(32));
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

const base = `zones:
  - origin: example.org
    records: |
      @ IN SOA ns1 hostmaster 1 7200 3600 1209600 300
      @ IN NS ns1
      ns1 IN A 192.0.2.53
services:
  - name: www.example.org
    pools:
      - name: sites
        members:
          - { name: a, address: 192.0.2.1, site: A }
          - { name: b, address: 192.0.2.2, site: B }
    policies: [up, { policy: handoff, weights: [4, 2, 1, 0] }]
`;

const FILE = join(dir, 'c.yaml');
const compile = (section: string) => parseConfig(`${base}${section}`, FILE);
const problemsOf = (section: string): string[] => {
  try {
    compile(section);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map(formatProblem);
    throw error;
  }
  return [];
};

test('a distributedSites section compiles with the seed defaults', () => {
  const sites = compile(`distributedSites:
  site: A
  names: [www.example.org]
  keyFile: dssp.key
  peers:
    - { name: B, address: 192.0.2.2:5400 }
`).distributedSites!;
  assert.equal(sites.site, 'A');
  assert.deepEqual(sites.names, ['www.example.org.']);
  assert.deepEqual(sites.listen, { host: '127.0.0.1', port: 0 });
  assert.equal(sites.ttl, 60, 'DNS TTL: 1 minute');
  assert.equal(sites.useDnsRespond, true);
  assert.equal(sites.httpRedirect, undefined, 'no listener without an address');
  assert.deepEqual(sites.weights.slice(0, 5), [6, 4, 2, 1, 1], 'OHW 6, 4, 2, then 1');
  assert.equal(sites.weights.length, 16);
  assert.equal(sites.maxPeers, 8);
  assert.deepEqual(sites.peers, [
    { name: 'B', address: { host: '192.0.2.2', port: 5400 }, intervalMs: 60_000 },
  ]);
  assert.equal(sites.keys[0]?.id, '1');
});

test('per peer the interval may be off; Table III weights 4, 2, 1, 0 are taken', () => {
  const sites = compile(`distributedSites:
  site: A
  names: [www.example.org]
  keyFile: dssp.key
  interval: 5m
  weights: [4, 2, 1, 0]
  httpRedirect: { listen: 127.0.0.1:0 }
  peers:
    - { name: B, addressFile: b.addr, interval: off }
`).distributedSites!;
  assert.deepEqual(sites.weights, [4, 2, 1, 0]);
  assert.equal(sites.peers[0]?.intervalMs, null);
  assert.equal(sites.peers[0].addressFile, join(dir, 'b.addr'));
  assert.deepEqual(sites.httpRedirect, { listen: { host: '127.0.0.1', port: 0 } });
});

test('a bad section is rejected with file, line and reason', () => {
  const cases: [string, string, RegExp][] = [
    [
      'interval below a minute',
      `distributedSites:
  site: A
  names: [www.example.org]
  keyFile: dssp.key
  interval: 10s
  peers: [{ name: B, address: 192.0.2.2:5400 }]
`,
      /c\.yaml:19: distributedSites\.interval: expected at least 60000ms/,
    ],
    [
      'interval above 120 minutes',
      `distributedSites:
  site: A
  names: [www.example.org]
  keyFile: dssp.key
  peers: [{ name: B, address: 192.0.2.2:5400, interval: 121m }]
`,
      /c\.yaml:19: distributedSites\.peers\.0\.interval: at most 120 minutes/,
    ],
    [
      'a missing key file',
      `distributedSites:
  site: A
  names: [www.example.org]
  keyFile: nope.key
  peers: [{ name: B, address: 192.0.2.2:5400 }]
`,
      /c\.yaml:18: distributedSites\.keyFile: key file .*nope\.key: cannot read it/,
    ],
    [
      'no member of this site',
      `distributedSites:
  site: Z
  names: [www.example.org]
  keyFile: dssp.key
  peers: [{ name: B, address: 192.0.2.2:5400 }]
`,
      /c\.yaml:17: distributedSites\.names\.0: service "www\.example\.org" has no member with site: Z/,
    ],
    [
      'a peer twice, and no address',
      `distributedSites:
  site: A
  names: [www.example.org]
  keyFile: dssp.key
  peers:
    - { name: B, address: 192.0.2.2:5400 }
    - { name: B }
`,
      /c\.yaml:21: distributedSites\.peers\.1\.name: site "B" is given twice/,
    ],
    [
      'more peers than maxPeers',
      `distributedSites:
  site: A
  names: [www.example.org]
  keyFile: dssp.key
  maxPeers: 1
  peers:
    - { name: B, address: 192.0.2.2:5400 }
    - { name: C, address: 192.0.2.3:5400 }
`,
      /c\.yaml:21: distributedSites\.peers: 2 peers, more than maxPeers \(1\)/,
    ],
    [
      'a weight above 64',
      `distributedSites:
  site: A
  names: [www.example.org]
  keyFile: dssp.key
  weights: [65]
  peers: [{ name: B, address: 192.0.2.2:5400 }]
`,
      /c\.yaml:19: .*weights/,
    ],
  ];
  for (const [row, section, want] of cases) {
    const problems = problemsOf(section);
    assert.ok(
      problems.some((p) => want.test(p)),
      `${row}: ${want} in\n${problems.join('\n')}`,
    );
  }
});
