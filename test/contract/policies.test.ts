import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { policies } from '../../src/steering/policies/index.js';
import { runPolicyContract } from './policy.contract.js';

/** The seed 003 response-time matrix, matrix[tester][tested] in ms. */
const SEED_003_MATRIX = {
  A: { B: 2925, C: 1364, D: 197, E: 3702, F: 1759 },
  B: { A: 3155, C: 207, D: 2490, E: 1106, F: 1409 },
  C: { A: 1073, B: 1314, D: 1997, E: 1743, F: 683 },
  D: { A: 3439, B: 378, C: 3869, E: 2344, F: 2235 },
  E: { A: 113, B: 813, C: 995, D: 1190, F: 419 },
  F: { A: 641, B: 1827, C: 3883, D: 339, E: 468 },
};

/** Settings to run the contract with, beyond `{}`; every policy name must appear here. */
const SAMPLES: Readonly<Record<string, readonly object[]>> = {
  up: [],
  admin: [],
  overload: [{ margin: 0 }, { margin: 50, metric: 'connections' }, { margin: 1000 }],
  capacity: [{ threshold: 1 }, { threshold: 80 }, { threshold: 100, mode: 'proportional' }],
  'round-robin': [],
  weighted: [],
  'random-weighted': [],
  'least-load': [{ mode: 'proportional' }],
  'least-connections': [{ mode: 'proportional' }],
  stripe: [{ key: 'resolver' }, { key: 'client' }],
  'consistent-hash': [
    { ipv4Prefix: 0, ipv6Prefix: 0 },
    { ipv4Prefix: 32, ipv6Prefix: 128 },
    { ipv4Prefix: 20 },
  ],
  handoff: [
    { weights: [4, 2, 1], matrix: SEED_003_MATRIX },
    { weights: [0], matrix: SEED_003_MATRIX },
    { weights: [6, 4, 2, 1], matrix: { A: { B: 10 }, Z: { A: 5, B: 5 } } },
    { weights: [1], matrix: {} },
  ],
  'response-time': [{ mode: 'order' }, { mode: 'split' }],
  first: [],
  topology: [{ strict: true }, { strict: false }],
  geo: [{ strict: true }, { strict: false }],
  cost: [{ keep: 'all' }, { keep: 'cheapest' }, { keep: 'cheapest', margin: 2 }],
  measured: [
    { maxAge: 1 },
    { maxAge: 86_400, agents: [{ cidr: '198.51.100.0/24', agent: 'pop1' }] },
  ],
  proximity: [
    {
      locations: [
        { cidr: '198.51.100.0/24', coordinates: [48.9, 2.4] },
        { cidr: '2001:db8::/32', coordinates: [34.7, 135.5] },
        { cidr: '0.0.0.0/0', coordinates: [0, 0] },
      ],
    },
  ],
  persistence: [
    { key: 'subnet', ipv4Mask: 24, ipv6Mask: 56 },
    { ttl: 1, ttlByHour: [{ from: 0, to: 24, ttl: 60 }], maxEntries: 1 },
  ],
};

test('every registered policy has contract samples, and every sample a policy', () => {
  assert.deepEqual([...policies.keys()].sort(), Object.keys(SAMPLES).sort(), 'registry vs samples');
});

/** The fixed headings of a policy page, in order (STYLE.md 9.8). */
const HEADINGS = ['Name', 'Description', 'Config', 'Examples', 'Health/TTL effects'];

test('every registered policy has a page with the fixed headings, listed in the index', () => {
  const docs = new URL('../../docs/policies/', import.meta.url);
  const index = readFileSync(new URL('README.md', docs), 'utf8');
  for (const name of policies.keys()) {
    const page = readFileSync(new URL(`${name}.md`, docs), 'utf8');
    const headings = [...page.matchAll(/^## (.+)$/gm)].map((m) => m[1]);
    assert.deepEqual(
      { title: page.split('\n')[0], headings, listed: index.includes(`](${name}.md)`) },
      { title: `# ${name}`, headings: HEADINGS, listed: true },
      `docs/policies/${name}.md`,
    );
  }
});

for (const [name, definition] of policies) runPolicyContract(definition, SAMPLES[name] ?? []);
