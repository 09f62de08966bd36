import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { banner, BANNERS, type BannerProtocol } from './banner.js';

/** Tiny servers that greet with `chunks` (sent apart), then keep the socket open. */
const servers: Server[] = [];
const sockets = new Set<Socket>();
const quits: string[] = [];
after(async () => {
  for (const socket of sockets) socket.destroy();
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
});

async function greeter(chunks: readonly string[], closeAfter = false): Promise<number> {
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('data', (data: Buffer) => quits.push(data.toString('latin1')));
    socket.on('error', () => socket.destroy());
    chunks.forEach((chunk, i) => {
      setTimeout(() => {
        socket.write(chunk);
        if (closeAfter && i === chunks.length - 1) socket.end();
      }, i * 20);
    });
    if (closeAfter && chunks.length === 0) socket.end();
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function check(protocol: BannerProtocol, port: number) {
  const monitor = banner.create({ protocol });
  return monitor.check({ id: 't', address: '127.0.0.1', port }, AbortSignal.timeout(3000));
}

test('each protocol is up on its ready reply and down on another', async () => {
  const cases: [BannerProtocol, string, boolean, string?][] = [
    ['smtp', '220 mx.example.org ESMTP\r\n', true],
    ['smtp', '220-mx.example.org first of two\r\n220 second\r\n', true],
    ['smtp', '554 no SMTP service here\r\n', false, 'banner "554"'],
    ['pop3', '+OK POP3 server ready\r\n', true],
    ['pop3', '-ERR go away\r\n', false, 'banner "-ER"'],
    ['ftp', '220 FTP ready\r\n', true],
    ['ftp', '421 too many users\r\n', false, 'banner "421"'],
    ['nntp', '200 news ready, posting allowed\r\n', true],
    ['nntp', '201 news ready, no posting\r\n', true],
    ['nntp', '400 service unavailable\r\n', false, 'banner "400"'],
    ['nntp', '220 not a news greeting\r\n', false, 'banner "220"'],
  ];
  for (const [protocol, greeting, up, reason] of cases) {
    const result = await check(protocol, await greeter([greeting]));
    assert.equal(result.ok, up, `${protocol} ${JSON.stringify(greeting)}`);
    assert.equal(result.reason, reason, `${protocol} ${JSON.stringify(greeting)}`);
  }
});

test('a greeting in pieces is read whole; a good one is answered with QUIT', async () => {
  quits.length = 0;
  const result = await check('smtp', await greeter(['22', '0 slow', ' server\r\n']));
  assert.equal(result.ok, true);
  assert.ok(result.latencyMs >= 30, `the check waited for the whole line: ${result.latencyMs}`);
  const deadline = Date.now() + 2000;
  while (!quits.includes('QUIT\r\n') && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 10));
  assert.ok(quits.includes('QUIT\r\n'), 'the server got QUIT');
});

test('closed before a line, a line too long, and no port are failures with reasons', async () => {
  assert.equal((await check('pop3', await greeter(['+OK no line end'], true))).reason, 'closed');
  assert.equal((await check('ftp', await greeter(['x'.repeat(600)]))).reason, 'banner too long');
  const noPort = await banner
    .create({ protocol: 'smtp', port: 1 })
    .check({ id: 't', address: 'mail.example.org', port: undefined }, AbortSignal.timeout(500));
  assert.equal(noPort.reason, 'bad address');
  assert.deepEqual(Object.fromEntries(Object.entries(BANNERS).map(([p, b]) => [p, b.port])), {
    smtp: 25,
    pop3: 110,
    ftp: 21,
    nntp: 119,
  });
});
