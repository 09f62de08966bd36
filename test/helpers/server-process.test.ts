import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { query } from './dns-client.js';
import { freePort, startServer, tmpdirWith } from './server-process.js';

// The helpers' stub server stands in for src/main.ts, which these tests do not need.
const STUB = { entry: 'test/helpers/stub-dns-server.ts' };

test('freePort returns a port free for both UDP and TCP', async () => {
  for (const hosts of [['127.0.0.1'], ['127.0.0.1', '::1']]) {
    const port = await freePort(hosts);
    for (const host of hosts) {
      const udp = createSocket(host.includes(':') ? 'udp6' : 'udp4');
      await new Promise<void>((resolve, reject) => {
        udp.once('error', reject);
        udp.bind(port, host, resolve);
      });
      const tcp = createServer();
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen(port, host, resolve);
      });
      await new Promise<void>((resolve) => udp.close(resolve));
      await new Promise<void>((resolve) => {
        tcp.close(() => {
          resolve();
        });
      });
    }
  }
});

test('tmpdirWith writes files, creating folders', async () => {
  const dir = await tmpdirWith({ 'a.zone': 'x', 'sub/b.yaml': 'y' });
  try {
    assert.equal(await readFile(join(dir, 'a.zone'), 'utf8'), 'x');
    assert.equal(await readFile(join(dir, 'sub/b.yaml'), 'utf8'), 'y');
  } finally {
    await rm(dir, { recursive: true });
  }
});

test('startServer waits for DNS, collects logs, signals and stops', async () => {
  const server = await startServer(['serve', '--zone', 'example.org=/dev/null'], STUB);
  try {
    assert.ok(server.isAlive());
    const reply = await query(server.address, { name: 'www.example.org', type: 'A' });
    assert.equal(reply.rcode, 'NOERROR');
    assert.ok(server.logs().some((l) => l.includes('"listening"')));
    assert.deepEqual(server.entries()[0], { level: 30, msg: 'listening', port: server.port });
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

test('startServer substitutes {port} and honours an explicit --listen', async () => {
  const port = await freePort();
  const server = await startServer(['--listen', '127.0.0.1:{port}'], { ...STUB, port });
  try {
    assert.equal(server.port, port);
    assert.equal(server.entries()[0]?.['port'], port);
  } finally {
    await server.stop();
  }
});

test('startServer rejects with stderr when the process exits first', async () => {
  await assert.rejects(
    startServer(['serve'], { entry: 'test/helpers/does-not-exist.ts' }),
    /exited \(code 1.*\n[^]*does-not-exist/,
  );
});
