import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { listeningSocketsOf, procAddress } from './sockets.js';

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
