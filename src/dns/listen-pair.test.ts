import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net, { type AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { boundAddress, listenPair } from './listen-pair.js';
import { listenTcp, type TcpListener } from './tcp.js';

const HOST = '127.0.0.1';
const noAnswer = (): undefined => undefined;
const ignore = (): void => undefined;

const udpOn = (port: number): Promise<dgram.Socket> =>
  new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    socket.once('error', reject);
    socket.bind(port, HOST, () => {
      resolve(socket);
    });
  });

const tcpOn = (port: number): Promise<TcpListener> =>
  listenTcp({ host: HOST, port, handler: noAnswer, onError: ignore });

const closed = (socket: dgram.Socket): boolean => {
  try {
    socket.address();
    return false;
  } catch {
    return true;
  }
};

// A port this test holds for UDP and for TCP (the blocker). Only a port whose TCP side this
// test holds will do: one taken by another process could be given back during the tests.
const tcpBlocker = async (port: number): Promise<net.Server | undefined> => {
  const server = net.createServer();
  return new Promise((resolve) => {
    server.once('error', () => {
      resolve(undefined);
    });
    server.listen(port, HOST, () => {
      resolve(server);
    });
  });
};
let taken = await udpOn(0);
let blocker = await tcpBlocker(taken.address().port);
for (let attempt = 1; blocker === undefined; attempt++) {
  assert.ok(attempt < 50, 'no port free for both UDP and TCP in 50 attempts');
  taken.close();
  taken = await udpOn(0);
  blocker = await tcpBlocker(taken.address().port);
}
const takenPort = taken.address().port;
after(() => {
  blocker.close();
  if (!closed(taken)) taken.close();
});

test('port 0: UDP and TCP on the one port the system chose', async () => {
  const pair = await listenPair({ host: HOST, port: 0, udp: udpOn, tcp: tcpOn });
  try {
    const port = pair.udp.address().port;
    assert.notEqual(port, 0);
    assert.equal((pair.tcp.server.address() as AddressInfo).port, port);
    assert.equal(boundAddress(pair.udp.address()), `127.0.0.1:${port}`);
  } finally {
    pair.udp.close();
    await pair.tcp.close();
  }
});

test('port 0: a UDP port taken for TCP is given back and another one tried', async () => {
  const asked: number[] = [];
  const first: dgram.Socket[] = [];
  const pair = await listenPair({
    host: HOST,
    port: 0,
    // The first time, the "system" chooses the port that is taken for TCP.
    udp: async (port) => {
      asked.push(port);
      if (asked.length > 1) return udpOn(port);
      first.push(taken);
      return taken;
    },
    tcp: tcpOn,
  });
  try {
    assert.deepEqual(asked, [0, 0]);
    assert.ok(closed(first[0]!), 'the first UDP socket is closed');
    const port = pair.udp.address().port;
    assert.notEqual(port, takenPort);
    assert.equal((pair.tcp.server.address() as AddressInfo).port, port);
  } finally {
    pair.udp.close();
    await pair.tcp.close();
  }
});

test('port 0: gives up after the attempts with EADDRINUSE, every UDP socket closed', async () => {
  const sockets: dgram.Socket[] = [];
  await assert.rejects(
    listenPair({
      host: HOST,
      port: 0,
      attempts: 3,
      udp: async (port) => {
        const socket = await udpOn(port);
        sockets.push(socket);
        return socket;
      },
      // Whatever port UDP got, TCP meets one that is taken.
      tcp: () => tcpOn(takenPort),
    }),
    (error: Error & { code?: string }) => {
      assert.equal(error.code, 'EADDRINUSE');
      assert.equal(
        error.message,
        '127.0.0.1:0: no port free for both UDP and TCP in 3 attempts (each port the system chose for UDP was taken for TCP)',
      );
      return true;
    },
  );
  assert.equal(sockets.length, 3);
  assert.ok(sockets.every(closed));
});

test('a fixed port taken for TCP fails at once, with the UDP socket closed', async () => {
  const sockets: dgram.Socket[] = [];
  await assert.rejects(
    listenPair({
      host: HOST,
      port: takenPort,
      udp: async () => {
        const socket = await udpOn(0);
        sockets.push(socket);
        return socket;
      },
      tcp: () => tcpOn(takenPort),
    }),
    { code: 'EADDRINUSE', syscall: 'listen' },
  );
  assert.equal(sockets.length, 1);
  assert.ok(closed(sockets[0]!));
});
