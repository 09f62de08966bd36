import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { connect, createServer } from 'node:net';
import { test } from 'node:test';
import { closedTcpPort, listeningSocketsOf, procAddress, silentUdp } from './sockets.js';

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
