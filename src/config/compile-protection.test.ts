import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ConfigError } from '../lib/errors.js';
import { parseConfig } from './load.js';

const ZONES = 'zones:\n  - origin: example.org\n    records: ["@ 60 SOA ns h 1 2 3 4 5"]\n';
const dir = mkdtempSync(join(tmpdir(), 'steerdns-protection-'));
after(() => {
  rmSync(dir, { recursive: true, force: true });
});
writeFileSync(join(dir, 'good.key'), '00112233445566778899AABBCCDDEEFF\n');
writeFileSync(join(dir, 'short.key'), '0011223344\n');
const file = join(dir, 'steerdns.yaml');

test('protection: the defaults (rate limiting and cookies on, loopback exempt)', () => {
  const { protection } = parseConfig(ZONES, file);
  assert.deepEqual(protection.rateLimit, {
    responsesPerSecond: 100,
    windowSeconds: 2,
    slip: 2,
    ipv4Prefix: 24,
    ipv6Prefix: 56,
    // Loopback, and the node's own listen address (the default 127.0.0.1:5353).
    exempt: ['127.0.0.0/8', '::1/128', '127.0.0.1/32'],
    tableSize: 65_536,
  });
  const cookies = protection.cookies;
  assert.ok(cookies);
  assert.match(cookies.secret, /^[0-9a-f]{32}$/);
  assert.equal(cookies.requireValid, false);
  // One random secret per process: a reload keeps the cookies clients hold.
  assert.equal(parseConfig(ZONES, file).protection.cookies?.secret, cookies.secret);
});

test('protection: settings as written, secrets read from files', () => {
  const { protection } = parseConfig(
    `dns:
  rateLimit: { responsesPerSecond: 5, window: 3, slip: 0, ipv4Prefix: 32, ipv6Prefix: 64, exempt: [], tableSize: 2048 }
  cookies: { secretFile: good.key, previousSecretFile: good.key, requireValid: true }
${ZONES}`,
    file,
  );
  assert.deepEqual(protection.rateLimit, {
    responsesPerSecond: 5,
    windowSeconds: 3,
    slip: 0,
    ipv4Prefix: 32,
    ipv6Prefix: 64,
    exempt: ['127.0.0.1/32'],
    tableSize: 2048,
  });
  assert.deepEqual(protection.cookies, {
    secret: '00112233445566778899aabbccddeeff',
    previousSecret: '00112233445566778899aabbccddeeff',
    requireValid: true,
  });
});

test('protection: enabled: false turns each off', () => {
  const { protection } = parseConfig(
    `dns:\n  rateLimit: { enabled: false }\n  cookies: { enabled: false }\n${ZONES}`,
    file,
  );
  assert.deepEqual(protection, {});
});

const BAD = [
  {
    text: 'rateLimit: { exempt: [10.0.0.0/33] }',
    want: /:3: dns\.rateLimit\.exempt: not an address/,
  },
  { text: 'rateLimit: { slip: 11 }', want: /:2: dns\.rateLimit\.slip/ },
  { text: 'rateLimit: { responsesPerSecond: 0 }', want: /:2: dns\.rateLimit\.responsesPerSecond/ },
  { text: 'rateLimit: { ipv6Prefix: 128 }', want: /:2: dns\.rateLimit\.ipv6Prefix/ },
  {
    text: 'cookies: { secretFile: short.key }',
    want: /:2: dns\.cookies\.secretFile: .*32 hex digits/,
  },
  {
    text: 'cookies: { secretFile: missing.key }',
    want: /:2: dns\.cookies\.secretFile: cannot read/,
  },
  { text: 'cookies: { sekret: x }', want: /:2: dns\.cookies/ },
];

test('protection: bad settings are file:line problems', () => {
  for (const row of BAD) {
    const text = `dns:\n  ${row.text.replace('exempt: [', 'exempt:\n    [')}\n${ZONES}`;
    assert.throws(
      () => parseConfig(text, file),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError, row.text);
        const lines = error.problems.map((p) => `${p.file}:${p.line}: ${p.reason}`).join('\n');
        assert.match(lines, row.want, `${row.text}\n${lines}`);
        return true;
      },
    );
  }
});

test("protection: the node's own listen addresses are never limited (its self-query comes from them)", () => {
  const compiled = parseConfig(
    `listen: ['192.0.2.11:53', '0.0.0.0:5353', '[2001:db8::11]:53']\ndns:\n  rateLimit: { exempt: [] }\n${ZONES}`,
    'own.yaml',
  );
  assert.deepEqual(compiled.protection.rateLimit?.exempt, ['192.0.2.11/32', '2001:db8::11/128']);
});
