/**
 * End to end: DNS over TCP (RFC 7766) on a server configured with `dns.tcpIdleTimeout: 1s`,
 * `dns.tcpMaxConnections: 2` and `dns.tcpMessageTimeout: 3s`. Tests in this file run one
 * after another, so at most the connections of one test are open at a time.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { dig, kdig } from '../helpers/dig.js';
import {
  decodeReply,
  encodeQuery,
  frame,
  tcpSession,
  type TcpSession,
} from '../helpers/dns-client.js';
import {
  rdataTexts,
  sleep,
  startDataSet,
  TOOLS_MISSING,
  within,
  type DataSetServer,
} from './fixtures/server.js';

let server: DataSetServer;

before(async () => {
  server = await startDataSet({
    dns: ['tcpIdleTimeout: 1s', 'tcpMaxConnections: 2', 'tcpMessageTimeout: 3s'],
  });
});
after(async () => {
  await server.stop();
});

/** Sends a query on an open session and decodes the next reply. */
async function ask(session: TcpSession, name: string, type = 'A', timeoutMs = 1000) {
  const id = await session.send({ name, type });
  const raw = await session.nextReply(timeoutMs);
  if (!raw) throw new Error(`no reply to ${name} ${type} (id ${id})`);
  const reply = decodeReply(raw);
  assert.equal(reply.id, id, `${name} ${type}: reply id`);
  return reply;
}

/** Waits until the connections the server has seen closing are gone (the cap counts them). */
async function closeAll(sessions: readonly TcpSession[]): Promise<void> {
  await Promise.all(sessions.map((s) => s.close()));
  await sleep(100);
}

test('length-framed queries over IPv4 and IPv6', async () => {
  for (const host of ['127.0.0.1', '::1']) {
    const session = await tcpSession(server.on(host));
    try {
      const a = await ask(session, 'www.example.org', 'A');
      const aaaa = await ask(session, 'www.example.org', 'AAAA');
      assert.deepEqual(rdataTexts(a.answers).sort(), ['192.0.2.1', '192.0.2.2'], host);
      assert.deepEqual(rdataTexts(aaaa.answers), ['2001:db8::1'], host);
    } finally {
      await closeAll([session]);
    }
  }
});

test('dig +tcp and kdig +tcp over both families', { skip: TOOLS_MISSING }, async () => {
  const rows = [
    { tool: dig, name: 'dig', host: '127.0.0.1' },
    { tool: dig, name: 'dig', host: '::1' },
    { tool: kdig, name: 'kdig', host: '127.0.0.1' },
    { tool: kdig, name: 'kdig', host: '::1' },
  ];
  for (const row of rows) {
    const r = await row.tool([...server.at(row.host), '+tcp', 'ns1.example.org', 'AAAA']);
    const where = `${row.name} +tcp @${row.host}`;
    assert.equal(r.status, 'NOERROR', `${where}\n${r.stdout}`);
    assert.deepEqual(r.answer, ['ns1.example.org. 3600 IN AAAA 2001:db8::53'], where);
    assert.match(r.stdout, /TCP/, `${where}: transport`);
  }
  await sleep(100);
});

test('pipelined queries in one write are answered in order with matching IDs', async () => {
  const names = [
    'www.example.org',
    'nx.example.org',
    'mail.example.org',
    'www.example.com',
    'api.example.org',
  ];
  const rcodes = ['NOERROR', 'NXDOMAIN', 'NOERROR', 'REFUSED', 'NOERROR'];
  const queries = names.map((name, i) => encodeQuery({ id: 1000 + i, name, type: 'A' }));
  const session = await tcpSession(server.v4);
  try {
    await session.write(Buffer.concat(queries.map(frame)));
    for (let i = 0; i < names.length; i++) {
      const raw = await session.nextReply(1000);
      assert.ok(raw, `reply ${i} (${names[i]}) missing`);
      const reply = decodeReply(raw);
      assert.equal(reply.id, 1000 + i, `reply ${i}: id`);
      assert.equal(reply.questions[0]?.name, names[i], `reply ${i}: question`);
      assert.equal(reply.rcode, rcodes[i], `reply ${i}: rcode`);
    }
    assert.equal(await session.nextReply(200), undefined, 'no extra reply');
  } finally {
    await closeAll([session]);
  }
});

test('length prefix and message split across segments', async () => {
  const bytes = frame(encodeQuery({ id: 4242, name: 'www.example.org', type: 'A' }));
  const rows = [
    { name: 'prefix split after 1 octet', cuts: [1] },
    { name: 'inside the message', cuts: [2, 10] },
    { name: 'one octet at a time for the header', cuts: [1, 2, 3, 4, 5, 6, 7] },
  ];
  for (const row of rows) {
    const session = await tcpSession(server.v4);
    try {
      let from = 0;
      for (const cut of [...row.cuts, bytes.length]) {
        await session.write(bytes.subarray(from, cut));
        from = cut;
        if (cut !== bytes.length) await sleep(50);
      }
      const raw = await session.nextReply(1000);
      assert.ok(raw, `${row.name}: no reply`);
      const reply = decodeReply(raw);
      assert.equal(reply.id, 4242, `${row.name}: id`);
      assert.equal(reply.answers.length, 2, `${row.name}: answers`);
    } finally {
      await closeAll([session]);
    }
  }
});

test('an idle connection is closed after tcpIdleTimeout (1 s)', async () => {
  const rows = [
    { name: 'never used', query: false },
    { name: 'idle after a query', query: true },
  ];
  // Both rows at once (two connections: the cap), each timed on its own.
  const outcomes = await Promise.all(
    rows.map(async (row) => {
      const session = await tcpSession(server.v6);
      try {
        if (row.query) await ask(session, 'www.example.org');
        const started = Date.now();
        const closed = await within(
          session.closed().then(() => true),
          4000,
          false,
        );
        return { row, closed, elapsed: Date.now() - started };
      } finally {
        await session.close();
      }
    }),
  );
  await sleep(100);
  for (const { row, closed, elapsed } of outcomes) {
    assert.ok(closed, `${row.name}: still open after 4 s`);
    assert.ok(elapsed >= 700, `${row.name}: closed after ${elapsed} ms, before the timeout`);
  }
});

test('activity keeps a connection open past the idle timeout', async () => {
  const session = await tcpSession(server.v4);
  try {
    for (let i = 0; i < 3; i++) {
      await sleep(450);
      const reply = await ask(session, 'www.example.org');
      assert.equal(reply.rcode, 'NOERROR', `query ${i}`);
    }
    assert.equal(session.isClosed, false, 'open after 1.35 s of activity');
  } finally {
    await closeAll([session]);
  }
});

test('tcpMaxConnections: 2; a third closes the oldest idle one; with both busy it is not served', async () => {
  const first = await tcpSession(server.v4);
  const second = await tcpSession(server.v4);
  const sessions = [first, second];
  try {
    assert.equal((await ask(first, 'www.example.org')).rcode, 'NOERROR', 'first');
    assert.equal((await ask(second, 'mail.example.org')).rcode, 'NOERROR', 'second');
    // Both idle: a third is served, and the oldest idle one (the first) is closed (RFC 7766 6.2.3).
    const third = await tcpSession(server.v4);
    sessions.push(third);
    assert.equal((await ask(third, 'www.example.org')).rcode, 'NOERROR', 'third, at the cap');
    assert.ok(
      await within(
        first.closed().then(() => true),
        1000,
        false,
      ),
      'first still open',
    );
    assert.equal(second.isClosed, false, 'the second was closed, not the oldest');
    // Both in the middle of a message: nothing to close, so a new connection is not served.
    const query = (id: number) => frame(encodeQuery({ id, name: 'www.example.org', type: 'A' }));
    await second.write(query(21).subarray(0, 5));
    await third.write(query(22).subarray(0, 5));
    await sleep(50);
    let fourth: TcpSession | undefined;
    try {
      fourth = await tcpSession(server.v4, { connectTimeoutMs: 500 });
      sessions.push(fourth);
    } catch {
      // Refused at connect: that is fine too.
    }
    if (fourth) {
      await fourth.send({ id: 7, name: 'www.example.org', type: 'A' }).catch(() => undefined);
      const reply = await fourth.nextReply(500);
      assert.equal(reply, undefined, 'the fourth connection was answered');
    }
    await second.write(query(21).subarray(5));
    await third.write(query(22).subarray(5));
    const replies = [await second.nextReply(1000), await third.nextReply(1000)];
    assert.deepEqual(
      replies.map((raw) => raw && decodeReply(raw).id),
      [21, 22],
      'the busy connections, after the refused one',
    );
  } finally {
    await closeAll(sessions);
  }
  // With the others gone, a new connection is served again.
  const again = await tcpSession(server.v4);
  try {
    assert.equal((await ask(again, 'www.example.org')).rcode, 'NOERROR', 'after closing');
  } finally {
    await closeAll([again]);
  }
});

test('the server is still answering UDP and TCP', async () => {
  const session = await tcpSession(server.v4);
  try {
    assert.equal((await ask(session, 'example.org', 'SOA')).rcode, 'NOERROR');
  } finally {
    await closeAll([session]);
  }
  assert.ok(server.process.isAlive());
});
