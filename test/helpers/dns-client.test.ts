import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  bytesToIp,
  decodeReply,
  encodeQuery,
  frame,
  ipToBytes,
  query,
  sendRaw,
  tcpSession,
  DnsTimeoutError,
} from './dns-client.js';
import type { ServerAddress } from './dns-client.js';
import { startStubServer } from './stub-dns-server.js';
import type { StubServer } from './stub-dns-server.js';

let stub: StubServer;
let server: ServerAddress;

before(async () => {
  stub = await startStubServer();
  server = { host: '127.0.0.1', port: stub.port };
});
after(async () => {
  await stub.close();
});

test('ip text and bytes convert both ways', () => {
  const cases = [
    { family: 1, text: '198.51.100.7', hex: 'c6336407' },
    { family: 2, text: '2001:db8::1', hex: '20010db8000000000000000000000001' },
    { family: 2, text: '::', hex: '00000000000000000000000000000000' },
    { family: 2, text: '::ffff:192.0.2.1', hex: '00000000000000000000ffffc0000201' },
  ];
  for (const { family, text, hex } of cases) {
    assert.equal(ipToBytes(text).toString('hex'), hex, text);
    assert.equal(bytesToIp(family, Buffer.from(hex, 'hex')), text, hex);
  }
  assert.equal(bytesToIp(1, Buffer.from([10, 1])), '10.1.0.0', 'short address is zero-padded');
});

test('encodeQuery writes numeric types, classes, flags and the OPT record', () => {
  const q = encodeQuery({
    id: 7,
    name: 'a.example.org',
    type: 'TYPE65280',
    class: 'CH',
    rd: true,
    edns: false,
  });
  assert.equal(q.readUInt16BE(0), 7);
  assert.equal(q.readUInt16BE(2), 0x0100, 'RD only');
  assert.equal(q.readUInt16BE(10), 0, 'no OPT');
  assert.equal(q.readUInt16BE(q.length - 4), 65280);
  assert.equal(q.readUInt16BE(q.length - 2), 3);

  const e = encodeQuery({
    id: 8,
    name: 'example.org',
    type: 'A',
    opcode: 4,
    edns: {
      udpPayload: 4096,
      do: true,
      version: 1,
      ecs: { family: 1, sourcePrefix: 20, address: '192.0.255.1' },
    },
  });
  assert.equal(e.readUInt16BE(2) >> 11, 4, 'opcode');
  assert.equal(e.readUInt16BE(10), 1, 'ARCOUNT');
  const opt = e.subarray(12 + 13 + 4);
  assert.equal(opt.toString('hex', 0, 11), '00002910000001800000' + '0b');
  assert.equal(
    opt.toString('hex', 11),
    '0008' + '0007' + '0001' + '14' + '00' + 'c000f0',
    'ECS masked to /20',
  );
  assert.throws(() => encodeQuery({ name: 'x', type: 'NOPE' }), /unknown type NOPE/);
});

test('query decodes answers, flags, OPT and ECS over UDP and TCP', async () => {
  for (const transport of ['udp', 'tcp'] as const) {
    const reply = await query(
      server,
      {
        name: 'www.example.org',
        type: 'A',
        edns: { ecs: { family: 2, sourcePrefix: 56, address: '2001:db8:1:2::' } },
      },
      { transport },
    );
    assert.equal(reply.rcode, 'NOERROR', transport);
    assert.deepEqual(
      { aa: reply.flags.aa, qr: reply.flags.qr, tc: reply.flags.tc },
      { aa: true, qr: true, tc: false },
      transport,
    );
    assert.deepEqual(
      reply.answers.map((a) => [a.name, a.type]),
      [['www.example.org', 'A']],
      transport,
    );
    assert.equal(reply.optCount, 1, transport);
    assert.equal(reply.opt?.udpPayload, 1232, transport);
    assert.deepEqual(
      reply.opt.ecs && { ...reply.opt.ecs, addressBytes: undefined },
      {
        family: 2,
        sourcePrefix: 56,
        scopePrefix: 56,
        address: '2001:db8:1::',
        addressBytes: undefined,
      },
      transport,
    );
    assert.equal(reply.additionals.length, 0, `${transport}: OPT is not among additionals`);
  }
});

test('query reports extended RCODEs and NXDOMAIN', async () => {
  const badvers = await query(server, { name: 'www.example.org', type: 'A', edns: { version: 1 } });
  assert.equal(badvers.rcode, 'BADVERS');
  assert.equal(badvers.rcodeValue, 16);
  const nx = await query(server, { name: 'nx.example.org', type: 'A', edns: false });
  assert.equal(nx.rcode, 'NXDOMAIN');
  assert.equal(nx.opt, undefined);
  assert.equal(nx.optCount, 0);
});

test('query times out with DnsTimeoutError when nothing answers', async () => {
  const silent = { host: '127.0.0.1', port: 9 };
  await assert.rejects(
    query(silent, { name: 'example.org', type: 'A' }, { timeoutMs: 100 }),
    DnsTimeoutError,
  );
});

test('sendRaw returns raw replies, or undefined when there is none', async () => {
  const q = encodeQuery({ id: 99, name: 'example.org', type: 'SOA' });
  const udp = await sendRaw(server, q);
  assert.equal(udp?.readUInt16BE(0), 99);
  const tcp = await sendRaw(server, q, { transport: 'tcp' });
  assert.equal(tcp?.readUInt16BE(0), 99);
  assert.equal(await sendRaw(server, Buffer.from('short'), { timeoutMs: 100 }), undefined);
  assert.equal(
    await sendRaw(server, Buffer.from('short'), { transport: 'tcp', timeoutMs: 100 }),
    undefined,
  );
});

test('tcpSession handles split length prefixes, pipelining and close', async () => {
  const session = await tcpSession(server);
  const a = frame(encodeQuery({ id: 1, name: 'a.example.org', type: 'A' }));
  const b = frame(encodeQuery({ id: 2, name: 'b.example.org', type: 'TXT' }));
  await session.write(a.subarray(0, 1));
  await session.write(Buffer.concat([a.subarray(1), b]));
  const id3 = await session.send({ id: 3, name: 'c.example.org', type: 'AAAA' });
  const ids = [];
  for (let i = 0; i < 3; i++) ids.push(decodeReply((await session.nextReply())!).id);
  assert.deepEqual(ids, [1, 2, id3]);
  assert.equal(await session.nextReply(50), undefined, 'no fourth reply');
  assert.equal(session.isClosed, false);
  await session.close();
  await session.closed();
  assert.equal(session.isClosed, true);
  assert.equal(await session.nextReply(), undefined, 'closed session yields undefined at once');
});

test('decodeReply rejects truncated messages with their bytes', () => {
  const reply = encodeQuery({ id: 5, name: 'example.org', type: 'A' });
  assert.throws(() => decodeReply(reply.subarray(0, 20)), /cannot decode reply 0005/);
});
