import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { query } from './dns-client.js';
import { endpoint, listeningOf, startServer, tmpdirWith } from './server-process.js';

// The helpers' stub server stands in for src/main.ts, which these tests do not need.
const STUB = { entry: 'test/helpers/stub-dns-server.ts' };

test('tmpdirWith writes files, creating folders', async () => {
  const dir = await tmpdirWith({ 'a.zone': 'x', 'sub/b.yaml': 'y' });
  try {
    assert.equal(await readFile(join(dir, 'a.zone'), 'utf8'), 'x');
    assert.equal(await readFile(join(dir, 'sub/b.yaml'), 'utf8'), 'y');
  } finally {
    await rm(dir, { recursive: true });
  }
});

test('endpoint splits ADDR:PORT and [IPv6]:PORT', () => {
  assert.deepEqual(endpoint('127.0.0.1:53'), { host: '127.0.0.1', port: 53 });
  assert.deepEqual(endpoint('[::1]:5353'), { host: '::1', port: 5353 });
  assert.throws(() => endpoint('::1:53'), /not an ADDR:PORT: "::1:53"/);
});

test('listeningOf reads the listening line and nothing else', () => {
  const dns = { udp: ['127.0.0.1:5300'], tcp: ['127.0.0.1:5300'] };
  assert.deepEqual(listeningOf({ msg: 'listening', dns, api: '127.0.0.1:8080', agents: [] }), {
    dns,
    api: '127.0.0.1:8080',
    agents: [],
  });
  assert.deepEqual(listeningOf({ msg: 'listening', dns }), { dns, api: undefined, agents: [] });
  assert.equal(listeningOf({ msg: 'ready', dns }), undefined);
  assert.equal(listeningOf({ msg: 'listening', dns: { udp: ['x'] } }), undefined);
  assert.equal(listeningOf({ msg: 'listening', dns, agents: [5380] }), undefined);
  assert.equal(listeningOf(undefined), undefined);
});

test('startServer waits for the listening line, collects logs, signals and stops', async () => {
  const server = await startServer(['serve', '--zone', 'example.org=/dev/null'], STUB);
  try {
    assert.ok(server.isAlive());
    // The stub was given port 0; the helper knows the port from the stub's own line.
    assert.notEqual(server.port, 0);
    const bound = `127.0.0.1:${server.port}`;
    assert.deepEqual(server.bound, {
      dns: { udp: [bound], tcp: [bound] },
      api: undefined,
      agents: [],
    });
    assert.deepEqual(server.address, { host: '127.0.0.1', port: server.port });
    assert.deepEqual(server.dnsAt('127.0.0.1'), server.address);
    assert.throws(() => server.dnsAt('::1'), /no DNS listener on ::1: 127\.0\.0\.1:\d+/);
    const reply = await query(server.address, { name: 'www.example.org', type: 'A' });
    assert.equal(reply.rcode, 'NOERROR');
    assert.equal(server.entries()[0]?.['msg'], 'listening');
    server.signal('SIGHUP');
    await server.waitForLog((entry) => entry?.['msg'] === 'reloaded', 5000);
    await assert.rejects(
      server.waitForLog(() => false, 50),
      /no matching log line/,
    );
  } finally {
    assert.deepEqual(await server.stop(), { code: 0, signal: null });
  }
  assert.equal(server.isAlive(), false);
  assert.deepEqual(await server.stop(), { code: 0, signal: null }, 'stop is idempotent');
});

test('startServer honours an explicit --listen', async () => {
  const server = await startServer(['--listen', '[::1]:0'], STUB);
  try {
    assert.equal(server.address.host, '::1');
    assert.deepEqual(server.bound.dns.udp, [`[::1]:${server.port}`]);
  } finally {
    await server.stop();
  }
});

test('startServer says what it waited for when the listening line does not come', async () => {
  // A process that logs something else and keeps running: the error names the line it
  // waited for and shows the output so far.
  const dir = await tmpdirWith({
    'quiet.mjs': 'console.log("hello"); setTimeout(() => {}, 60000);',
  });
  try {
    await assert.rejects(
      // Long enough for node to start and print on a busy machine (500 ms was not, once).
      startServer([], { entry: join(dir, 'quiet.mjs'), readyTimeoutMs: 4000 }),
      /no "listening" line \(msg "listening" with dns\.udp and dns\.tcp\) within 4000 ms\n[^]*stdout \(last lines\):\nhello$/,
    );
  } finally {
    await rm(dir, { recursive: true });
  }
});

test('startServer rejects with stderr when the process exits first', async () => {
  await assert.rejects(
    startServer(['serve'], { entry: 'test/helpers/does-not-exist.ts' }),
    /exited \(code 1.*before its "listening" line\n[^]*does-not-exist/,
  );
});
