/**
 * End to end on the batched UDP engine (dns.udpEngine: batched, the addon in native/udp):
 * the UDP end-to-end suites of answers, EDNS and malformed packets run again on it (the
 * helper writes the setting into each server's configuration and checks that the server
 * says it runs it), then what only this engine does: replies on a wildcard listener leave
 * from the address that was asked, and a burst of malformed packets leaves it answering.
 * Skipped, with the reason, where the addon is not built or cannot run (not Linux).
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { loadUdpAddon } from '../../src/dns/udp-addon.js';
import { decodeReply, encodeQuery, query } from '../helpers/dns-client.js';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  startServer,
  tmpdirWith,
  UDP_ENGINE_ENV,
  type ServerProcess,
} from '../helpers/server-process.js';
import { pidAlive, startDataSet, type DataSetServer } from './fixtures/server.js';
import { dataSet } from './fixtures/zones.js';

const { reason } = loadUdpAddon();
const skip = reason === undefined ? false : `the UDP addon cannot run here: ${reason}`;

/** Sends `bytes` from a socket on `from` to `to:port`; resolves the reply and where it came from (deadline 5 s). */
async function askFrom(from: string, to: string, port: number, bytes: Buffer) {
  const socket = dgram.createSocket('udp4');
  try {
    await new Promise<void>((resolve) => {
      socket.bind(0, from, resolve);
    });
    const reply = new Promise<{ msg: Buffer; address: string; port: number }>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`no reply from ${to}:${port} within 5 s`));
      }, 5000);
      socket.once('message', (msg, remote) => {
        clearTimeout(timer);
        resolve({ msg, address: remote.address, port: remote.port });
      });
    });
    socket.send(bytes, port, to);
    return await reply;
  } finally {
    socket.close();
  }
}

if (skip) {
  test('the batched UDP engine', { skip }, () => undefined);
} else {
  process.env[UDP_ENGINE_ENV] = 'batched';
  await import('./answers.test.js');
  await import('./edns.test.js');
  await import('./malformed.test.js');

  describe('batched engine: a wildcard listener', () => {
    let server: ServerProcess;
    let dir: string;
    before(async () => {
      dir = await tmpdirWith(dataSet({ port: 0, listen: ['0.0.0.0:0', '[::]:0'] }));
      server = await startServer(['serve', '--config', join(dir, 'steerdns.yaml')], {
        addListen: false,
      });
    });
    after(async () => {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    });

    test('answers from the address asked: 127.0.0.2 and 127.0.0.3, not the route source', async () => {
      const { port } = server.dnsAt('0.0.0.0');
      for (const to of ['127.0.0.2', '127.0.0.3', '127.0.0.1']) {
        const bytes = encodeQuery({ name: 'www.example.org', type: 'A' });
        const reply = await askFrom('127.0.0.1', to, port, bytes);
        assert.equal(reply.address, to, `a query to ${to} answered from ${reply.address}`);
        assert.equal(reply.port, port);
        assert.equal(decodeReply(reply.msg).id, bytes.readUInt16BE(0));
        assert.equal(decodeReply(reply.msg).answers.length, 2);
      }
    });

    test('answers over IPv6 on [::] from ::1', async () => {
      const reply = await query(
        { host: '::1', port: server.dnsAt('::').port },
        { name: 'www.example.org', type: 'AAAA' },
      );
      assert.equal(reply.answers.length, 1);
    });
  });

  test('batched with two workers and a port 0 stops with a reason, not on two ports', async () => {
    const dir = await tmpdirWith(dataSet({ port: 0, workers: 2 }));
    try {
      await assert.rejects(
        startServer(['serve', '--config', join(dir, 'steerdns.yaml')], { addListen: false }),
        /batched cannot run: workers: 2 with a listen port 0/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  describe('batched engine: a burst of malformed packets', () => {
    let server: DataSetServer;
    before(async () => {
      server = await startDataSet();
    });
    after(async () => {
      await server.stop();
    });

    test('3,000 packets of every size (0 to 4,096 bytes, random and cut queries): still answering', async () => {
      const socket = dgram.createSocket('udp4');
      const good = encodeQuery({ name: 'www.example.org', type: 'A' });
      try {
        await new Promise<void>((resolve) => {
          socket.bind(0, '127.0.0.1', resolve);
        });
        const { host, port } = server.v4;
        for (let i = 0; i < 3000; i++) {
          const kind = i % 3;
          const bytes =
            kind === 0
              ? randomBytes(i % 4097)
              : kind === 1
                ? good.subarray(0, i % good.length)
                : Buffer.concat([good, randomBytes(i % 700)]);
          socket.send(bytes, port, host);
          // Let the send queue drain now and then, so the burst reaches the server.
          if (i % 200 === 199) await new Promise((resolve) => setImmediate(resolve));
        }
      } finally {
        socket.close();
      }
      const reply = await query(
        server.v4,
        { name: 'www.example.org', type: 'A' },
        { timeoutMs: 5000 },
      );
      assert.equal(reply.answers.length, 2);
      assert.ok(pidAlive(server.process.pid), 'the server process is alive');
      const failures = server.process
        .entries()
        .filter((e) => e['msg'] === 'query handler failed; answered SERVFAIL');
      assert.deepEqual(failures, []);
    });
  });
}
