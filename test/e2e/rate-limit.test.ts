/**
 * End to end (issue 13): response rate limiting and DNS cookies on a real server process.
 * The limit is scaled down (20 responses a second per /24, a window of 1 s, slip 2, nothing
 * exempt) so that a few hundred packets prove it:
 * - a UDP flood from 127.0.1.x is limited to about the rate, half of the rest answered with
 *   TC (slip), while 127.0.2.x, asking at a modest rate at the same time, gets every answer;
 * - TCP from the flooded prefix is answered; a valid server cookie exempts a client;
 * - cookies.requireValid: BADCOOKIE (23) over UDP for a bad server cookie, answers over TCP
 *   and for a client cookie alone; a reload to requireValid: false answers it normally;
 * - a malformed COOKIE option is FORMERR; kdig's +cookie gets a server cookie and resends it;
 * - the counters are in GET /status.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import type { Socket as UdpSocket } from 'node:dgram';
import { rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { frame } from '../helpers/dns-client.js';
import {
  decodeReply,
  encodeQuery,
  type DecodedReply,
  type RawOption,
} from '../helpers/dns-wire.js';
import { startServer, tmpdirWith, type ServerProcess } from '../helpers/server-process.js';
import { resolverAt } from '../helpers/sockets.js';

const RATE = 20;
const FLOOD = 200;
const SECRET = '000102030405060708090a0b0c0d0e0f';

const config = (requireValid: boolean): string => `
listen: ['127.0.0.1:0']
workers: 1
api: { listen: '127.0.0.1:0' }
dns:
  rateLimit: { responsesPerSecond: ${RATE}, window: 1, slip: 2, exempt: [] }
  cookies: { secretFile: cookie.key, requireValid: ${requireValid} }
zones:
  - origin: example.org
    ttl: 3600
    records: |
      @ IN SOA ns1 hostmaster 1 7200 3600 1209600 300
      @ IN NS ns1
      ns1 IN A 192.0.2.53
      www IN A 192.0.2.80
`;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const run = promisify(execFile);

let server: ServerProcess;
let dir: string;
let port: number;

before(async () => {
  dir = await tmpdirWith({ 'steerdns.yaml': config(true), 'cookie.key': `${SECRET}\n` });
  server = await startServer(['serve', '--config', join(dir, 'steerdns.yaml')], {
    addListen: false,
  });
  port = server.dnsAt('127.0.0.1').port;
});

after(async () => {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
});

/** A COOKIE option (code 10) with these bytes. */
const cookieOption = (hex: string): RawOption => ({ code: 10, data: Buffer.from(hex, 'hex') });

/** The query for www.example.org A with id `id`, with these EDNS options. */
const wwwQuery = (id: number, options: readonly RawOption[] = []): Buffer =>
  encodeQuery({ name: 'www.example.org', type: 'A', id, edns: { options } });

/** The reply's COOKIE option as hex, or undefined. */
const replyCookie = (reply: DecodedReply): string | undefined => {
  const option = reply.opt?.options.find((o) => o.code === 10);
  return option && Buffer.from(option.data).toString('hex');
};

/**
 * Sends `count` queries from `socket` (spaced `gapMs` apart, 0: all at once) and collects
 * the replies until none has come for 500 ms after the last was sent.
 */
async function exchange(
  socket: UdpSocket,
  count: number,
  gapMs: number,
  options: readonly RawOption[] = [],
): Promise<DecodedReply[]> {
  const replies = new Map<number, DecodedReply>();
  // When the last reply (or the last query) was seen.
  const seen = { last: 0 };
  const onMessage = (msg: Buffer): void => {
    const reply = decodeReply(msg);
    replies.set(reply.id, reply);
    seen.last = Date.now();
  };
  socket.on('message', onMessage);
  try {
    for (let i = 0; i < count; i++) {
      socket.send(wwwQuery(i + 1, options), port, '127.0.0.1');
      if (gapMs > 0) await sleep(gapMs);
    }
    seen.last = Date.now();
    const deadline = Date.now() + 10_000;
    while (Date.now() - seen.last < 500) {
      assert.ok(Date.now() < deadline, 'replies kept coming for 10 s');
      await sleep(50);
    }
  } finally {
    socket.off('message', onMessage);
  }
  return [...replies.values()];
}

/** Answers with records and TC replies without, of `replies`. */
const tally = (replies: readonly DecodedReply[]) => ({
  answered: replies.filter((r) => !r.flags.tc && r.answers.length > 0).length,
  truncated: replies.filter((r) => r.flags.tc && r.answers.length === 0).length,
});

/** One query over TCP from `localAddress`; the decoded reply (deadline 5 s). */
function tcpQuery(localAddress: string, bytes: Buffer): Promise<DecodedReply> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, localAddress });
    let data = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no TCP reply from 127.0.0.1:${port} to ${localAddress} within 5 s`));
    }, 5000);
    socket.on('error', reject);
    socket.on('connect', () => socket.write(frame(bytes)));
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      if (data.length >= 2 && data.length >= 2 + data.readUInt16BE(0)) {
        clearTimeout(timer);
        socket.destroy();
        resolve(decodeReply(data.subarray(2, 2 + data.readUInt16BE(0))));
      }
    });
  });
}

/** One UDP query from a fresh socket bound to `address`; the reply (deadline 5 s). */
async function udpQuery(address: string, bytes: Buffer): Promise<DecodedReply> {
  const socket = await resolverAt(address);
  try {
    const reply = new Promise<DecodedReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`no UDP reply to ${address} within 5 s`));
      }, 5000);
      socket.once('message', (msg: Buffer) => {
        clearTimeout(timer);
        resolve(decodeReply(msg));
      });
    });
    socket.send(bytes, port, '127.0.0.1');
    return await reply;
  } finally {
    socket.close();
  }
}

test('a UDP flood from one /24 is limited to the rate; another /24 gets every answer', async () => {
  const flooder = await resolverAt('127.0.1.1');
  const modest = await resolverAt('127.0.2.1');
  try {
    const started = Date.now();
    const [flood, calm] = await Promise.all([
      exchange(flooder, FLOOD, 0),
      exchange(modest, 10, 50),
    ]);
    const seconds = (Date.now() - started) / 1000;
    const { answered, truncated } = tally(flood);
    // The bucket holds RATE (window 1 s) and refills at RATE a second while the flood lasts
    // (all sent at once; the server may take a while to read them on a loaded machine).
    assert.ok(answered >= RATE / 2, `flood: ${answered} answered, expected about ${RATE}`);
    assert.ok(
      answered <= RATE * (1 + seconds) + 5,
      `flood: ${answered} of ${FLOOD} answered in ${seconds.toFixed(1)} s, rate ${RATE}/s`,
    );
    // slip 2: every other limited response is TC, the rest is dropped.
    const limited = FLOOD - answered;
    assert.ok(
      truncated >= limited * 0.35 && truncated <= limited * 0.65,
      `flood: ${truncated} TC of ${limited} limited, expected about half`,
    );
    assert.equal(flood.length, answered + truncated, 'every reply is an answer or a TC');
    assert.equal(tally(calm).answered, 10, 'the other /24 got every answer');
  } finally {
    flooder.close();
    modest.close();
  }
  const tcp = await tcpQuery('127.0.1.2', wwwQuery(7));
  assert.equal(tcp.rcode, 'NOERROR');
  assert.equal(tcp.answers.length, 1, 'TCP from the flooded prefix is answered');
});

test('a valid server cookie exempts a client from the limit', async () => {
  const client = 'aabbccddeeff0011';
  // Learn a server cookie over TCP (never limited) from the address that will use it.
  const learned = replyCookie(await tcpQuery('127.0.5.1', wwwQuery(1, [cookieOption(client)])));
  assert.ok(
    typeof learned === 'string' && learned.startsWith(`${client}01000000`),
    `server cookie: ${learned}`,
  );
  const withCookie = await resolverAt('127.0.5.1');
  const without = await resolverAt('127.0.5.2');
  try {
    const [valid, none] = await Promise.all([
      exchange(withCookie, 60, 0, [cookieOption(learned)]),
      exchange(without, 60, 0),
    ]);
    assert.equal(tally(valid).answered, 60, 'every query with a valid cookie answered');
    assert.ok(
      valid.every((r) => replyCookie(r) === learned),
      'the young cookie is echoed',
    );
    assert.ok(
      tally(none).answered <= 2 * RATE,
      `same /24 without a cookie: ${tally(none).answered}`,
    );
  } finally {
    withCookie.close();
    without.close();
  }
});

test('requireValid: BADCOOKIE over UDP for a bad server cookie, answers otherwise', async () => {
  const client = '0102030405060708';
  const forged = `${client}010000006b0f686f0011223344556677`;
  const bad = await udpQuery('127.0.3.1', wwwQuery(1, [cookieOption(forged)]));
  assert.equal(bad.rcodeValue, 23, `rcode ${bad.rcode}`);
  assert.equal(bad.answers.length, 0);
  const fresh = replyCookie(bad);
  assert.ok(
    typeof fresh === 'string' && fresh.startsWith(`${client}01000000`) && fresh !== forged,
    `fresh cookie ${fresh}`,
  );
  // The fresh cookie is valid: answered.
  const retried = await udpQuery('127.0.3.1', wwwQuery(2, [cookieOption(fresh)]));
  assert.equal(retried.rcode, 'NOERROR');
  assert.equal(retried.answers.length, 1);
  const overTcp = await tcpQuery('127.0.3.1', wwwQuery(3, [cookieOption(forged)]));
  assert.equal(overTcp.rcode, 'NOERROR', 'TCP is never refused for its cookie');
  const clientOnly = await udpQuery('127.0.3.1', wwwQuery(4, [cookieOption(client)]));
  assert.equal(clientOnly.rcode, 'NOERROR');
  assert.equal(clientOnly.answers.length, 1, 'a client cookie alone is answered');
  assert.equal(replyCookie(clientOnly)?.length, 48);
});

test('a malformed COOKIE option is FORMERR (RFC 7873 5.2.2)', async () => {
  for (const bytes of [7, 9, 12, 15, 41]) {
    const reply = await udpQuery('127.0.6.1', wwwQuery(bytes, [cookieOption('ab'.repeat(bytes))]));
    assert.equal(reply.rcode, 'FORMERR', `a cookie of ${bytes} bytes`);
  }
});

test('kdig +cookie gets a server cookie and resends it', async () => {
  const kdig = (...args: string[]) =>
    run('kdig', ['-b', '127.0.4.1', '@127.0.0.1', '-p', String(port), '+timeout=5', ...args]);
  const first = await kdig('+cookie', 'www.example.org', 'A');
  assert.match(first.stdout, /status: NOERROR/);
  const cookie = /;; COOKIE: ([0-9A-F]{48})/i.exec(first.stdout)?.[1];
  assert.ok(cookie, `kdig printed no 24-byte cookie:\n${first.stdout}`);
  const again = await kdig(`+cookie=${cookie}`, 'www.example.org', 'A');
  assert.match(again.stdout, /status: NOERROR/);
  assert.match(again.stdout, /192\.0\.2\.80/);
  assert.ok(again.stdout.includes(cookie), `kdig's cookie was not echoed:\n${again.stdout}`);
  const forged = `${cookie.slice(0, 16)}01000000${'0'.repeat(24)}`;
  const refused = await kdig(`+cookie=${forged}`, '+nobadcookie', 'www.example.org', 'A');
  assert.match(refused.stdout, /status: BADCOOKIE/);
});

test('the counters are in GET /status', async () => {
  const response = await fetch(`http://${server.api!.host}:${server.api!.port}/status`);
  const body = (await response.json()) as { dns?: Record<string, number> };
  const dns = body.dns;
  assert.ok(dns, 'no dns counters in /status');
  assert.ok(dns['rateLimitDropped']! > 0, JSON.stringify(dns));
  assert.ok(dns['rateLimitSlipped']! > 0, JSON.stringify(dns));
  assert.ok(dns['cookieExempt']! >= 60, JSON.stringify(dns));
  assert.ok(dns['badCookieReplies']! >= 1, JSON.stringify(dns));
});

test('a reload applies new settings: requireValid off answers a bad cookie normally', async () => {
  const reloads = (): number => server.entries().filter((e) => e['msg'] === 'reloaded').length;
  const before = reloads();
  await writeFile(join(dir, 'steerdns.yaml'), config(false));
  server.signal('SIGHUP');
  const deadline = Date.now() + 20_000;
  while (reloads() === before) {
    assert.ok(Date.now() < deadline, 'no "reloaded" line within 20 s of SIGHUP');
    await sleep(50);
  }
  const client = '0807060504030201';
  const forged = `${client}010000006b0f686f0011223344556677`;
  const reply = await udpQuery('127.0.7.1', wwwQuery(1, [cookieOption(forged)]));
  assert.equal(reply.rcode, 'NOERROR');
  assert.equal(reply.answers.length, 1);
  const fresh = replyCookie(reply);
  assert.ok(
    typeof fresh === 'string' && fresh.startsWith(`${client}01000000`) && fresh !== forged,
    `fresh cookie ${fresh}`,
  );
});
