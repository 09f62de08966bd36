import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { connect, createServer } from 'node:net';
import { test } from 'node:test';
import {
  closedTcpPort,
  listenOnOnePort,
  listeningSocketsOf,
  procAddress,
  silentUdp,
} from './sockets.js';

test('procAddress reads /proc/net addresses', () => {
  assert.equal(procAddress('0100007F:14E9'), '127.0.0.1:5353');
  assert.equal(procAddress('00000000000000000000000001000000:0035'), '[::1]:53');
  assert.equal(procAddress('B80D0120000000000000000001000000:0035'), '[2001:db8::1]:53');
  assert.equal(procAddress('00000000:0000'), '0.0.0.0:0');
});

test('listeningSocketsOf lists this process’s UDP and listening TCP sockets', async () => {
  const udp = createSocket({ type: 'udp6', ipv6Only: true });
  await new Promise<void>((resolve) => udp.bind(0, '::1', resolve));
  const tcp = createServer();
  await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
  const udpEntry = `udp [::1]:${udp.address().port}`;
  const tcpEntry = `tcp 127.0.0.1:${(tcp.address() as { port: number }).port}`;
  const held = listeningSocketsOf(process.pid);
  assert.ok(held.includes(udpEntry), held.join(', '));
  assert.ok(held.includes(tcpEntry), held.join(', '));
  await new Promise<void>((resolve) => udp.close(resolve));
  await new Promise<void>((resolve) => {
    tcp.close(() => {
      resolve();
    });
  });
  const after = listeningSocketsOf(process.pid);
  assert.ok(!after.includes(udpEntry) && !after.includes(tcpEntry), after.join(', '));
});

test('closedTcpPort refuses connections, and no one can listen on it', async () => {
  for (const host of ['127.0.0.1', '::1']) {
    const closed = await closedTcpPort(host);
    try {
      const attempt = connect({ host, port: closed.port });
      const error = await new Promise<NodeJS.ErrnoException>((resolve) => {
        attempt.once('error', resolve);
      });
      assert.equal(error.code, 'ECONNREFUSED', host);
      const taker = createServer();
      const listen = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
        taker.once('error', resolve);
        taker.listen(closed.port, host, () => {
          resolve(undefined);
        });
      });
      taker.close();
      assert.equal(listen?.code, 'EADDRINUSE', `${host}: listen on the held port`);
    } finally {
      await closed.close();
    }
  }
});

test('silentUdp receives and does not answer', async () => {
  const silent = await silentUdp('::1');
  try {
    const received = new Promise<Buffer>((resolve) => {
      silent.once('message', resolve);
    });
    const client = createSocket('udp6');
    client.send(Buffer.from('ping'), silent.address().port, '::1');
    assert.equal((await received).toString(), 'ping');
    client.close();
  } finally {
    silent.close();
  }
});

test('listenOnOnePort: every server on one port, and another port when one is taken', async () => {
  const a = createServer();
  const b = createServer();
  const port = await listenOnOnePort([
    [a, '127.0.0.1'],
    [b, '::1'],
  ]);
  assert.equal((a.address() as { port: number }).port, port);
  assert.deepEqual(b.address(), { address: '::1', family: 'IPv6', port });
  for (const server of [a, b]) server.close();
});

test('listenOnOnePort: when the port is taken on one address, all move to another', async () => {
  const c = createServer();
  const d = createServer();
  const blocker = createServer();
  // The first time d is asked for the port c got, the blocker takes it there first.
  const asked: number[] = [];
  const listen = d.listen.bind(d) as (
    options: { host: string; port: number },
    cb: () => void,
  ) => void;
  Object.assign(d, {
    listen: (options: { host: string; port: number }, callback: () => void) => {
      asked.push(options.port);
      if (asked.length > 1) {
        listen(options, callback);
        return d;
      }
      blocker.listen(options.port, options.host, () => {
        listen(options, callback);
      });
      return d;
    },
  });
  const port = await listenOnOnePort([
    [c, '127.0.0.2'],
    [d, '127.0.0.3'],
  ]);
  assert.equal(asked.length, 2, 'a second attempt');
  assert.notEqual(port, asked[0], 'another port');
  assert.equal((c.address() as { port: number }).port, port);
  assert.equal((d.address() as { port: number }).port, port);
  for (const server of [c, d, blocker]) server.close();
});
