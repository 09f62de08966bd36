/**
 * End to end, filling gaps of tcp.test.ts and answers.test.ts:
 * - a listener on one family only (`--listen [::1]:0` or `--listen 127.0.0.1:0`) answers
 *   there, and the server holds no socket on the other family;
 * - TCP (RFC 7766): a client that half-closes after pipelining still gets every reply, several
 *   queries on one connection with kdig +keepopen, and connections closed by the idle timeout
 *   free their place under the connection cap (an idle one also makes way for a new one, see
 *   tcp.test.ts).
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { dig, kdig } from '../helpers/dig.js';
import {
  decodeReply,
  encodeQuery,
  frame,
  query,
  tcpSession,
  type ServerAddress,
  type TcpSession,
} from '../helpers/dns-client.js';
import { startServer, tmpdirWith, type ServerProcess } from '../helpers/server-process.js';
import { listeningSocketsOf } from '../helpers/sockets.js';
import {
  rdataTexts,
  sleep,
  startDataSet,
  TOOLS_MISSING,
  within,
  type DataSetServer,
} from './fixtures/server.js';
import { EXAMPLE_ORG_ZONE, INCLUDED_ZONE } from './fixtures/zones.js';

/** Resolves true when a TCP connection to `address` cannot be made or is not served. */
async function tcpNotServed(address: ServerAddress): Promise<boolean> {
  let session: TcpSession;
  try {
    session = await tcpSession(address, { connectTimeoutMs: 500 });
  } catch {
    return true;
  }
  try {
    await session.send({ name: 'www.example.org', type: 'A' });
    return (await session.nextReply(500)) === undefined;
  } finally {
    await session.close();
  }
}

describe('listeners on one address family', () => {
  let dir: string;
  before(async () => {
    dir = await tmpdirWith({
      'zones/example.org.zone': EXAMPLE_ORG_ZONE,
      'zones/included.zone': INCLUDED_ZONE,
    });
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const rows = [
    { listen: '[::1]:0', serving: '::1' },
    { listen: '127.0.0.1:0', serving: '127.0.0.1' },
  ];
  for (const row of rows) {
    test(`--listen ${row.listen} answers on ${row.serving} only`, async () => {
      const server: ServerProcess = await startServer([
        'serve',
        '--zone',
        `example.org=${join(dir, 'zones/example.org.zone')}`,
        '--listen',
        row.listen,
        '--workers',
        '1',
      ]);
      try {
        const serving = server.dnsAt(row.serving);
        const { port } = serving;
        // The server's own sockets: one UDP and one listening TCP, both on the one address
        // (a socket on the other family, or on every address, would show here).
        const text = row.serving.includes(':')
          ? `[${row.serving}]:${port}`
          : `${row.serving}:${port}`;
        assert.deepEqual(listeningSocketsOf(server.pid), [`tcp ${text}`, `udp ${text}`]);
        assert.deepEqual(server.bound.dns, { udp: [text], tcp: [text] });
        for (const transport of ['udp', 'tcp'] as const) {
          const a = await query(serving, { name: 'www.example.org', type: 'A' }, { transport });
          assert.deepEqual(rdataTexts(a.answers).sort(), ['192.0.2.1', '192.0.2.2'], transport);
          const aaaa = await query(
            serving,
            { name: 'www.example.org', type: 'AAAA' },
            { transport },
          );
          assert.deepEqual(rdataTexts(aaaa.answers), ['2001:db8::1'], transport);
        }
        if (!TOOLS_MISSING) {
          const r = await dig([
            `@${row.serving}`,
            '-p',
            String(port),
            '+norec',
            'ns1.example.org',
            'AAAA',
          ]);
          assert.equal(r.status, 'NOERROR', r.stdout);
          assert.deepEqual(r.answer, ['ns1.example.org. 3600 IN AAAA 2001:db8::53']);
          const k = await kdig([
            `@${row.serving}`,
            '-p',
            String(port),
            '+tcp',
            'mail.example.org',
            'A',
          ]);
          assert.equal(k.status, 'NOERROR', k.stdout);
          assert.deepEqual(k.answer, ['mail.example.org. 3600 IN A 192.0.2.25']);
        }
      } finally {
        await server.stop();
      }
    });
  }
});

describe('TCP (RFC 7766), with tcpIdleTimeout: 1s and tcpMaxConnections: 2', () => {
  let server: DataSetServer;
  before(async () => {
    server = await startDataSet({
      dns: ['tcpIdleTimeout: 1s', 'tcpMaxConnections: 2', 'tcpMessageTimeout: 3s'],
    });
  });
  after(async () => {
    await server.stop();
  });

  test('a client that half-closes after pipelining gets every reply, then the close', async () => {
    const names = ['www.example.org', 'nx.example.org', 'big.example.net'];
    const types = ['A', 'A', 'TXT'];
    const session = await tcpSession(server.v4);
    try {
      const queries = names.map((name, i) => encodeQuery({ id: 500 + i, name, type: types[i]! }));
      await session.write(Buffer.concat(queries.map(frame)));
      await session.end();
      for (let i = 0; i < names.length; i++) {
        const raw = await session.nextReply(1000);
        assert.ok(raw, `reply ${i} (${names[i]}) missing after the half-close`);
        const reply = decodeReply(raw);
        assert.equal(reply.id, 500 + i, `reply ${i}: id`);
        assert.equal(reply.questions[0]?.name, names[i], `reply ${i}: question`);
      }
      const closed = await within(
        session.closed().then(() => true),
        2000,
        false,
      );
      assert.ok(closed, 'the server did not close its side after the replies');
    } finally {
      await session.close();
      await sleep(100);
    }
  });

  test('kdig +keepopen: several queries on one connection', { skip: TOOLS_MISSING }, async () => {
    const r = await kdig([
      ...server.at(),
      '+tcp',
      '+keepopen',
      'www.example.org',
      'A',
      'mail.example.org',
      'A',
      'nx.example.org',
      'A',
    ]);
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    const statuses = [...r.stdout.matchAll(/status: (\w+)/g)].map((m) => m[1]);
    assert.deepEqual(statuses, ['NOERROR', 'NOERROR', 'NXDOMAIN'], r.stdout);
    assert.match(r.stdout, /www\.example\.org\.\s+300\s+IN\s+A\s+192\.0\.2\.1/);
    assert.match(r.stdout, /mail\.example\.org\.\s+3600\s+IN\s+A\s+192\.0\.2\.25/);
    await sleep(100);
  });

  test('connections closed by the idle timeout free their place under the cap', async () => {
    const idle = [await tcpSession(server.v4), await tcpSession(server.v4)];
    let third: TcpSession | undefined;
    try {
      // The cap is reached, with both idle: both are closed by the server after about a second.
      const closed = await Promise.all(
        idle.map((s) =>
          within(
            s.closed().then(() => true),
            4000,
            false,
          ),
        ),
      );
      assert.deepEqual(closed, [true, true], 'idle connections still open after 4 s');
      await sleep(100);
      third = await tcpSession(server.v4);
      const id = await third.send({ name: 'www.example.org', type: 'A' });
      const raw = await third.nextReply(1000);
      assert.ok(raw, 'a new connection is not served after the idle ones were closed');
      assert.equal(decodeReply(raw).id, id);
    } finally {
      await Promise.all([...idle, ...(third ? [third] : [])].map((s) => s.close()));
      await sleep(100);
    }
  });

  // README.md documents dns.tcpMaxConnections as "TCP connections per worker": one connection
  // on each of the two listeners makes two.
  test('the cap counts the connections of a worker over all its listeners', async () => {
    const open = [await tcpSession(server.v4), await tcpSession(server.v6)];
    try {
      // Both in the middle of a message (an idle one would make way for a new connection).
      await Promise.all(open.map((s) => s.write(Buffer.from([0]))));
      await sleep(50);
      assert.ok(
        await tcpNotServed(server.v4),
        'a third connection (on 127.0.0.1, with one open there and one on ::1) was served',
      );
      assert.ok(await tcpNotServed(server.v6), 'a third connection on ::1 was served');
    } finally {
      await Promise.all(open.map((s) => s.close()));
      await sleep(100);
    }
  });
});
