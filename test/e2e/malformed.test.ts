/**
 * End to end: malformed packets, responses, other opcodes. Each bad packet gets FORMERR,
 * NOTIMP or no reply, over UDP and TCP, and the server keeps answering afterwards.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { dig } from '../helpers/dig.js';
import { encodeOpt, encodeQuery, query, sendRaw } from '../helpers/dns-client.js';
import { startDataSet, TOOLS_MISSING, type DataSetServer } from './fixtures/server.js';

let server: DataSetServer;

before(async () => {
  server = await startDataSet();
});
after(async () => {
  await server.stop();
});

/** A DNS header. */
function header(id: number, flags: number, qd: number, an = 0, ns = 0, ar = 0): Buffer {
  const b = Buffer.alloc(12);
  [id, flags, qd, an, ns, ar].forEach((v, i) => b.writeUInt16BE(v, i * 2));
  return b;
}

/** A name in wire form from labels given as lengths (filled with 'a') or text. */
function wireName(labels: readonly (number | string)[]): Buffer {
  const parts = labels.map((l) => {
    const text = typeof l === 'number' ? 'a'.repeat(l) : l;
    return Buffer.concat([Buffer.from([text.length]), Buffer.from(text)]);
  });
  return Buffer.concat([...parts, Buffer.from([0])]);
}

const TYPE_A_IN = Buffer.from('00010001', 'hex');
const QUESTION = Buffer.concat([wireName(['www', 'example', 'org']), TYPE_A_IN]);

/** A record: owner bytes, type A, class IN, TTL 0, RDATA. */
function record(
  owner: Buffer,
  rdata: Buffer = Buffer.from([192, 0, 2, 1]),
  rdlength?: number,
): Buffer {
  const fixed = Buffer.alloc(10);
  fixed.writeUInt16BE(1, 0);
  fixed.writeUInt16BE(1, 2);
  fixed.writeUInt16BE(rdlength ?? rdata.length, 8);
  return Buffer.concat([owner, fixed, rdata]);
}

/** A query for www.example.org A whose additional section is `additional` (ARCOUNT 1). */
function withAdditional(id: number, additional: Buffer): Buffer {
  return Buffer.concat([header(id, 0, 1, 0, 0, 1), QUESTION, additional]);
}

/** Offset of the first additional record in {@link withAdditional} packets. */
const ADDITIONAL_AT = 12 + QUESTION.length;

/** The server still answers both transports. */
async function assertStillServing(where: string): Promise<void> {
  for (const transport of ['udp', 'tcp'] as const) {
    const reply = await query(
      server.v4,
      { name: 'www.example.org', type: 'A' },
      { transport, timeoutMs: 1000 },
    );
    assert.equal(reply.rcode, 'NOERROR', `${where}: then ${transport} query`);
  }
}

describe('malformed packets', () => {
  test('no reply to truncated headers or to responses (QR set)', async () => {
    const valid = encodeQuery({ id: 77, name: 'www.example.org', type: 'A' });
    const response = Buffer.from(valid);
    response[2]! |= 0x80;
    const rows = [
      { name: 'empty datagram', bytes: Buffer.alloc(0) },
      { name: '1 octet', bytes: Buffer.from([0x12]) },
      { name: '2 octets (id only)', bytes: Buffer.from([0x12, 0x34]) },
      { name: '11 octets', bytes: header(5, 0, 1).subarray(0, 11) },
      { name: 'QR set on a query', bytes: response },
      { name: 'QR set, header only', bytes: header(6, 0x8000, 0) },
      { name: 'QR set, NXDOMAIN reply', bytes: Buffer.concat([header(7, 0x8403, 1), QUESTION]) },
    ];
    const results = await Promise.all(
      rows.flatMap((row) =>
        (['udp', 'tcp'] as const)
          .filter((transport) => transport === 'udp' || row.bytes.length > 0)
          .map(async (transport) => ({
            where: `${row.name} over ${transport}`,
            reply: await sendRaw(server.v4, row.bytes, { transport, timeoutMs: 400 }),
          })),
      ),
    );
    for (const { where, reply } of results) {
      assert.equal(reply?.toString('hex'), undefined, `${where}: got a reply`);
    }
    await assertStillServing('after packets without reply');
  });

  test('FORMERR for malformed questions and records', async () => {
    const long = wireName([63, 63, 63, 63, 'example', 'org']);
    const selfPointer = Buffer.from([0xc0, ADDITIONAL_AT & 0xff]);
    const rows = [
      { name: 'QDCOUNT 0', bytes: header(1, 0, 0) },
      { name: 'QDCOUNT 0 with RD', bytes: header(1, 0x0100, 0) },
      { name: 'QDCOUNT 2', bytes: Buffer.concat([header(1, 0, 2), QUESTION, QUESTION]) },
      { name: 'QDCOUNT 1 but no question', bytes: header(1, 0, 1) },
      {
        name: 'question without type and class',
        bytes: Buffer.concat([header(1, 0, 1), wireName(['www', 'example', 'org'])]),
      },
      {
        name: 'question name without its root label',
        bytes: Buffer.concat([header(1, 0, 1), Buffer.from('\x03www\x07example', 'latin1')]),
      },
      {
        name: 'label of 64 octets',
        bytes: Buffer.concat([header(1, 0, 1), wireName([64, 'example', 'org']), TYPE_A_IN]),
      },
      {
        name: 'label length 0x7f',
        bytes: Buffer.concat([header(1, 0, 1), Buffer.from([0x7f, 0x61, 0]), TYPE_A_IN]),
      },
      {
        name: `name of ${long.length} octets`,
        bytes: Buffer.concat([header(1, 0, 1), long, TYPE_A_IN]),
      },
      {
        name: 'compression pointer in the question',
        bytes: Buffer.concat([header(1, 0, 1), Buffer.from([0xc0, 0x0c]), TYPE_A_IN]),
      },
      { name: 'ANCOUNT 1 beyond the packet', bytes: Buffer.concat([header(1, 0, 1, 1), QUESTION]) },
      {
        name: 'NSCOUNT 65535 beyond the packet',
        bytes: Buffer.concat([header(1, 0, 1, 0, 65535), QUESTION]),
      },
      {
        name: 'ARCOUNT 3 with one OPT',
        bytes: Buffer.concat([header(1, 0, 1, 0, 0, 3), QUESTION, encodeOpt()]),
      },
      {
        name: 'ARCOUNT 1, nothing after the question',
        bytes: Buffer.concat([header(1, 0, 1, 0, 0, 1), QUESTION]),
      },
      {
        name: 'additional with a compression loop (points at itself)',
        bytes: withAdditional(1, record(selfPointer)),
      },
      {
        name: 'additional with a forward pointer',
        bytes: withAdditional(1, record(Buffer.from([0xc0, (ADDITIONAL_AT + 20) & 0xff]))),
      },
      {
        name: 'additional with a pointer past the end',
        bytes: withAdditional(1, record(Buffer.from([0xff, 0xff]))),
      },
      {
        name: 'additional: a forward pointer into a loop',
        bytes: withAdditional(
          1,
          record(
            Buffer.from([1, 0x61, 0xc0, (ADDITIONAL_AT + 4) & 0xff, 0xc0, ADDITIONAL_AT & 0xff]),
          ),
        ),
      },
      {
        name: 'additional owner with a 64-octet label',
        bytes: withAdditional(1, record(wireName([64]))),
      },
      { name: 'additional owner longer than 255', bytes: withAdditional(1, record(long)) },
      {
        name: 'additional RDLENGTH past the end',
        bytes: withAdditional(1, record(wireName(['x']), Buffer.from([1, 2]), 40)),
      },
      { name: 'additional cut inside its fixed fields', bytes: withAdditional(1, wireName(['x'])) },
      {
        name: 'OPT cut inside its fixed fields',
        bytes: withAdditional(1, encodeOpt().subarray(0, 8)),
      },
      {
        name: 'OPT option longer than the OPT',
        bytes: withAdditional(1, optWithRdata('0008' + '0010' + '00011800c63364')),
      },
      { name: 'OPT with a truncated option header', bytes: withAdditional(1, optWithRdata('00')) },
      {
        name: 'query for type OPT',
        bytes: encodeQuery({ id: 1, name: 'example.org', type: 'OPT', edns: false }),
      },
    ];
    for (const row of rows) {
      const id = Math.floor(Math.random() * 0xffff);
      const bytes = Buffer.from(row.bytes);
      bytes.writeUInt16BE(id, 0);
      for (const transport of ['udp', 'tcp'] as const) {
        const where = `${row.name} over ${transport}`;
        const reply = await sendRaw(server.v4, bytes, { transport, timeoutMs: 1000 });
        assert.ok(reply, `${where}: no reply`);
        assert.equal(reply.readUInt16BE(0), id, `${where}: ID`);
        assert.equal(reply[2]! & 0x80, 0x80, `${where}: QR`);
        assert.equal(reply[3]! & 0xf, 1, `${where}: RCODE ${reply[3]! & 0xf}, want FORMERR`);
      }
    }
    await assertStillServing('after FORMERR packets');
  });

  test('dig +header-only (QDCOUNT 0) gets FORMERR', { skip: TOOLS_MISSING }, async () => {
    const r = await dig([...server.at(), '+header-only', 'example.org']);
    assert.equal(r.status, 'FORMERR', r.stdout);
  });

  test('a stream of random and mutated packets does not stop the server', async () => {
    const base = encodeQuery({
      name: 'www.example.org',
      type: 'A',
      edns: { ecs: { family: 1, sourcePrefix: 24, address: '198.51.100.0' } },
    });
    const packets: Buffer[] = [];
    for (let i = 0; i < 300; i++) {
      if (i % 2 === 0) {
        packets.push(randomBytes(1 + (i % 80)));
      } else {
        const mutated = Buffer.from(base);
        for (let j = 0; j < 1 + (i % 5); j++)
          mutated[(i * 7 + j * 13) % mutated.length] = (i * 31 + j) & 0xff;
        packets.push(mutated.subarray(0, mutated.length - (i % 9)));
      }
    }
    await Promise.all(packets.map((p) => sendRaw(server.v4, p, { timeoutMs: 300 })));
    await assertStillServing('after random packets');
    assert.ok(server.process.isAlive(), 'server process alive');
  });
});

/** An OPT record with the given RDATA (hex), as the only additional record. */
function optWithRdata(hex: string): Buffer {
  const rdata = Buffer.from(hex, 'hex');
  const fixed = Buffer.from('0000291000000000000000', 'hex');
  fixed.writeUInt16BE(rdata.length, 9);
  return Buffer.concat([fixed, rdata]);
}

describe('opcodes other than QUERY', () => {
  test('NOTIMP with the opcode echoed', async () => {
    const rows = [
      { opcode: 1, name: 'IQUERY' },
      { opcode: 2, name: 'STATUS' },
      { opcode: 3, name: 'unassigned 3' },
      { opcode: 4, name: 'NOTIFY' },
      { opcode: 5, name: 'UPDATE' },
      { opcode: 6, name: 'DSO' },
      { opcode: 15, name: 'opcode 15' },
      { opcode: 0, name: 'QUERY (control)' },
    ];
    for (const row of rows) {
      for (const transport of ['udp', 'tcp'] as const) {
        const where = `${row.name} over ${transport}`;
        const reply = await query(
          server.v4,
          { name: 'example.org', type: 'SOA', opcode: row.opcode },
          { transport },
        );
        assert.equal(reply.opcode, row.opcode, `${where}: opcode`);
        assert.equal(reply.rcode, row.opcode === 0 ? 'NOERROR' : 'NOTIMP', where);
        if (row.opcode !== 0) assert.equal(reply.answers.length, 0, `${where}: no answer`);
      }
    }
    await assertStillServing('after other opcodes');
  });

  test('dig +opcode=notify and +opcode=update get NOTIMP', { skip: TOOLS_MISSING }, async () => {
    for (const opcode of ['notify', 'update']) {
      const r = await dig([...server.at(), `+opcode=${opcode}`, 'example.org', 'SOA']);
      assert.equal(r.status, 'NOTIMP', `${opcode}\n${r.stdout}`);
      assert.match(r.stdout, new RegExp(`opcode: ${opcode.toUpperCase()}`), opcode);
    }
  });
});
