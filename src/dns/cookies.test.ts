import assert from 'node:assert/strict';
import test from 'node:test';
import { parseAddress } from '../lib/ip.js';
import { CookieVerdict, ServerCookies, type CookieSettings } from './cookies.js';
import { ParsedQuery } from './query.js';

/** The secrets and addresses of RFC 9018 Appendix A. */
const SECRET = 'e5e973e5a6b2a43f48e7dc849e37bfcf';
const OLD_SECRET = 'dd3bdf9344b678b185a6f5cb60fca715';
const NEW_SECRET = '445536bcd2513298075a5d379663c962';

/** Checks the COOKIE option `hex` from `client` at `now` (seconds). */
function check(settings: Partial<CookieSettings>, hex: string, client: string, now: number) {
  const cookies = new ServerCookies({
    secret: SECRET,
    previousSecret: undefined,
    requireValid: false,
    ...settings,
  });
  const q = new ParsedQuery();
  const option = Buffer.from(hex, 'hex');
  option.copy(q.cookie);
  q.cookieLength = option.length;
  const verdict = cookies.check(q, parseAddress(client)!, now);
  return { verdict, reply: q.replyCookie.subarray(0, q.replyCookieLength).toString('hex') };
}

test('cookies: RFC 9018 A.1, a client cookie alone learns a new server cookie', () => {
  assert.deepEqual(check({}, '2464c4abcf10c957', '198.51.100.100', 1559731985), {
    verdict: CookieVerdict.CLIENT_ONLY,
    reply: '2464c4abcf10c957010000005cf79f111f8130c3eee29480',
  });
});

test('cookies: a valid cookie younger than half an hour is echoed as it is', () => {
  const cookie = '2464c4abcf10c957010000005cf79f111f8130c3eee29480';
  assert.deepEqual(check({}, cookie, '198.51.100.100', 1559731985 + 1799), {
    verdict: CookieVerdict.VALID,
    reply: cookie,
  });
});

test('cookies: RFC 9018 A.2, a valid cookie 40 minutes old is renewed', () => {
  const cookie = '2464c4abcf10c957010000005cf79f111f8130c3eee29480';
  assert.deepEqual(check({}, cookie, '198.51.100.100', 1559734385), {
    verdict: CookieVerdict.VALID,
    reply: '2464c4abcf10c957010000005cf7a871d4a564a1442aca77',
  });
});

test('cookies: RFC 9018 A.3, reserved bytes as the client sent them are hashed', () => {
  const cookie = 'fc93fc62807ddb8601abcdef5cf78f71a314227b6679ebf5';
  // Issued at 0x5cf78f71 = 1559727985: valid within the hour...
  assert.equal(check({}, cookie, '203.0.113.203', 1559727985 + 60).verdict, CookieVerdict.VALID);
  // ... and at the example's time (1 h 52 min later) expired: a fresh cookie, as A.3 shows.
  assert.deepEqual(check({}, cookie, '203.0.113.203', 1559734700), {
    verdict: CookieVerdict.BAD,
    reply: 'fc93fc62807ddb86010000005cf7a9acf73a7810aca2381e',
  });
});

test('cookies: RFC 9018 A.4, an IPv6 client with a cookie of the previous secret', () => {
  const cookie = '22681ab97d52c298010000005cf7c57926556bd0934c72f8';
  const rotated = { secret: NEW_SECRET, previousSecret: OLD_SECRET };
  assert.deepEqual(check(rotated, cookie, '2001:db8:220:1:59de:d0f4:8769:82b8', 1559741961), {
    verdict: CookieVerdict.VALID,
    reply: '22681ab97d52c298010000005cf7c609a6bb79d16625507a',
  });
  // Without the previous secret, the same cookie is not ours.
  assert.equal(
    check({ secret: NEW_SECRET }, cookie, '2001:db8:220:1:59de:d0f4:8769:82b8', 1559741961).verdict,
    CookieVerdict.BAD,
  );
});

test('cookies: what is not valid (each gets a fresh cookie)', () => {
  const cookie = '2464c4abcf10c957010000005cf79f111f8130c3eee29480';
  const issued = 1559731985;
  const rows = [
    { why: 'another address', hex: cookie, client: '198.51.100.101', now: issued },
    { why: 'an hour and a second old', hex: cookie, client: '198.51.100.100', now: issued + 3601 },
    { why: 'over 5 minutes ahead', hex: cookie, client: '198.51.100.100', now: issued - 301 },
    {
      why: 'a hash bit flipped',
      hex: cookie.slice(0, -1) + '1',
      client: '198.51.100.100',
      now: issued,
    },
    {
      why: 'another client cookie',
      hex: '2464c4abcf10c958' + cookie.slice(16),
      client: '198.51.100.100',
      now: issued,
    },
    {
      why: 'version 2',
      hex: cookie.slice(0, 16) + '02' + cookie.slice(18),
      client: '198.51.100.100',
      now: issued,
    },
    {
      why: 'an 8-byte server cookie',
      hex: cookie.slice(0, 32),
      client: '198.51.100.100',
      now: issued,
    },
    {
      why: 'a 32-byte server cookie',
      hex: cookie + '00'.repeat(16),
      client: '198.51.100.100',
      now: issued,
    },
  ];
  for (const row of rows) {
    const { verdict, reply } = check({}, row.hex, row.client, row.now);
    assert.equal(verdict, CookieVerdict.BAD, row.why);
    assert.equal(reply.length, 48, row.why);
    assert.equal(reply.slice(0, 16), row.hex.slice(0, 16), `${row.why}: client cookie echoed`);
    assert.equal(reply.slice(16, 24), '01000000', row.why);
  }
  // The limits themselves are valid: exactly an hour old, exactly 5 minutes ahead.
  assert.equal(check({}, cookie, '198.51.100.100', issued + 3600).verdict, CookieVerdict.VALID);
  assert.equal(check({}, cookie, '198.51.100.100', issued - 300).verdict, CookieVerdict.VALID);
});

test('cookies: no COOKIE option, no reply cookie', () => {
  assert.deepEqual(check({}, '', '198.51.100.100', 1559731985), {
    verdict: CookieVerdict.NONE,
    reply: '',
  });
});
