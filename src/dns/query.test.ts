import assert from 'node:assert/strict';
import { test } from 'node:test';
import dnsPacket from 'dns-packet';
import { ParsedQuery, parseQuery, skipName, Verdict } from './query.js';
import { nameFromText, wireKey } from './name.js';

const encode = (packet: dnsPacket.Packet): Buffer => dnsPacket.encode(packet);
const question = (name: string, type: dnsPacket.RecordType = 'A'): dnsPacket.Packet => ({
  type: 'query',
  id: 4242,
  flags: dnsPacket.RECURSION_DESIRED,
  questions: [{ type, name, class: 'IN' }],
});
const header = (fields: {
  flags?: number;
  qd?: number;
  an?: number;
  ns?: number;
  ar?: number;
}): Buffer => {
  const out = Buffer.alloc(12);
  out.writeUInt16BE(7, 0);
  out.writeUInt16BE(fields.flags ?? 0, 2);
  out.writeUInt16BE(fields.qd ?? 0, 4);
  out.writeUInt16BE(fields.an ?? 0, 6);
  out.writeUInt16BE(fields.ns ?? 0, 8);
  out.writeUInt16BE(fields.ar ?? 0, 10);
  return out;
};
const opt = (rdata: Buffer, owner = Buffer.from([0])): Buffer => {
  const fixed = Buffer.alloc(10);
  fixed.writeUInt16BE(41, 0);
  fixed.writeUInt16BE(1232, 2);
  fixed.writeUInt16BE(rdata.length, 8);
  return Buffer.concat([owner, fixed, rdata]);
};
const ecsOption = (family: number, source: number, scope: number, address: number[]): Buffer => {
  const body = Buffer.from([family >> 8, family & 255, source, scope, ...address]);
  return Buffer.concat([Buffer.from([0, 8, body.length >> 8, body.length & 255]), body]);
};
const withAdditional = (base: Buffer, records: Buffer[]): Buffer => {
  const out = Buffer.concat([base, ...records]);
  out.writeUInt16BE(records.length, 10);
  return out;
};
const wwwQuestion = Buffer.concat([nameFromText('www.Example.org.'), Buffer.from([0, 1, 0, 1])]);

test('a plain query is read in full', () => {
  const q = new ParsedQuery();
  assert.equal(parseQuery(encode(question('WWW.Example.ORG')), q), Verdict.OK);
  assert.equal(q.id, 4242);
  assert.equal(q.qtype, 1);
  assert.equal(q.qclass, 1);
  assert.equal(q.labels, 3);
  assert.equal(q.key, wireKey(nameFromText('www.example.org.')));
  assert.equal(q.edns, false);
});

test('EDNS and client subnet are read', () => {
  const q = new ParsedQuery();
  const packet = encode({
    ...question('example.org'),
    additionals: [
      {
        type: 'OPT',
        name: '.',
        udpPayloadSize: 4096,
        extendedRcode: 0,
        ednsVersion: 0,
        flag_do: true,
        flags: dnsPacket.DNSSEC_OK,
        options: [
          { code: 8, family: 1, sourcePrefixLength: 24, scopePrefixLength: 0, ip: '198.51.100.0' },
        ],
      },
    ],
  });
  assert.equal(parseQuery(packet, q), Verdict.OK);
  assert.equal(q.edns, true);
  assert.equal(q.udpPayload, 4096);
  assert.equal(q.dnssecOk, true);
  assert.equal(q.hasEcs, true);
  assert.equal(q.ecsSourcePrefix, 24);
  assert.deepEqual([...q.ecsAddress.subarray(0, 4)], [198, 51, 100, 0]);
});

test('bad packets get the right verdict', () => {
  const base = Buffer.concat([header({ qd: 1 }), wwwQuestion]);
  const cases: { name: string; packet: Buffer; want: Verdict }[] = [
    { name: 'empty', packet: Buffer.alloc(0), want: Verdict.DROP },
    { name: 'short header', packet: Buffer.alloc(11), want: Verdict.DROP },
    {
      name: 'a response',
      packet: Buffer.concat([header({ flags: 0x8000, qd: 1 }), wwwQuestion]),
      want: Verdict.DROP,
    },
    { name: 'no question', packet: header({}), want: Verdict.FORMERR },
    {
      name: 'two questions',
      packet: Buffer.concat([header({ qd: 2 }), wwwQuestion, wwwQuestion]),
      want: Verdict.FORMERR,
    },
    {
      name: 'question cut short',
      packet: base.subarray(0, base.length - 2),
      want: Verdict.FORMERR,
    },
    {
      name: 'name runs off',
      packet: Buffer.concat([header({ qd: 1 }), Buffer.from([5, 0x61, 0x62])]),
      want: Verdict.FORMERR,
    },
    {
      name: 'label of 64',
      packet: Buffer.concat([
        header({ qd: 1 }),
        Buffer.from([64]),
        Buffer.alloc(64, 0x61),
        Buffer.from([0, 0, 1, 0, 1]),
      ]),
      want: Verdict.FORMERR,
    },
    {
      name: 'name of 256',
      packet: Buffer.concat([
        header({ qd: 1 }),
        ...Array.from({ length: 4 }, () =>
          Buffer.concat([Buffer.from([63]), Buffer.alloc(63, 0x61)]),
        ),
        Buffer.from([0, 0, 1, 0, 1]),
      ]),
      want: Verdict.FORMERR,
    },
    {
      name: 'pointer in question',
      packet: Buffer.concat([header({ qd: 1 }), Buffer.from([0xc0, 12, 0, 1, 0, 1])]),
      want: Verdict.FORMERR,
    },
    {
      name: 'arcount beyond packet',
      packet: Buffer.concat([header({ qd: 1, ar: 1 }), wwwQuestion]),
      want: Verdict.FORMERR,
    },
    {
      name: 'ancount beyond packet',
      packet: Buffer.concat([header({ qd: 1, an: 3 }), wwwQuestion]),
      want: Verdict.FORMERR,
    },
    {
      name: 'two OPT',
      packet: withAdditional(base, [opt(Buffer.alloc(0)), opt(Buffer.alloc(0))]),
      want: Verdict.FORMERR,
    },
    {
      name: 'OPT not at root',
      packet: withAdditional(base, [opt(Buffer.alloc(0), Buffer.from([1, 0x61, 0]))]),
      want: Verdict.FORMERR,
    },
    {
      name: 'truncated option',
      packet: withAdditional(base, [opt(Buffer.from([0, 8, 0]))]),
      want: Verdict.FORMERR,
    },
    {
      name: 'option past OPT',
      packet: withAdditional(base, [opt(Buffer.from([0, 10, 0, 9, 1, 2]))]),
      want: Verdict.FORMERR,
    },
    {
      name: 'ecs prefix 33 for IPv4',
      packet: withAdditional(base, [opt(ecsOption(1, 33, 0, [1, 2, 3, 4, 5]))]),
      want: Verdict.FORMERR,
    },
    {
      name: 'ecs prefix 129 for IPv6',
      packet: withAdditional(base, [opt(ecsOption(2, 129, 0, new Array<number>(17).fill(0)))]),
      want: Verdict.FORMERR,
    },
    {
      name: 'ecs bits beyond prefix',
      packet: withAdditional(base, [opt(ecsOption(1, 20, 0, [10, 0, 0x1f]))]),
      want: Verdict.FORMERR,
    },
    {
      name: 'ecs address too long',
      packet: withAdditional(base, [opt(ecsOption(1, 8, 0, [10, 0]))]),
      want: Verdict.FORMERR,
    },
    {
      name: 'ecs unknown family',
      packet: withAdditional(base, [opt(ecsOption(3, 0, 0, []))]),
      want: Verdict.FORMERR,
    },
    {
      name: 'ecs scope in query',
      packet: withAdditional(base, [opt(ecsOption(1, 24, 8, [10, 0, 0]))]),
      want: Verdict.FORMERR,
    },
    {
      name: 'ecs twice',
      packet: withAdditional(base, [
        opt(Buffer.concat([ecsOption(1, 0, 0, []), ecsOption(1, 0, 0, [])])),
      ]),
      want: Verdict.FORMERR,
    },
    {
      name: 'ecs /0 is fine',
      packet: withAdditional(base, [opt(ecsOption(1, 0, 0, []))]),
      want: Verdict.OK,
    },
    {
      name: 'unknown option ignored',
      packet: withAdditional(base, [opt(Buffer.from([0xfd, 0xe9, 0, 2, 1, 2]))]),
      want: Verdict.OK,
    },
    {
      name: 'notify opcode',
      packet: Buffer.concat([header({ flags: 4 << 11, qd: 1 }), wwwQuestion]),
      want: Verdict.NOTIMP,
    },
  ];
  for (const { name, packet, want } of cases) {
    const q = new ParsedQuery();
    assert.equal(parseQuery(packet, q), want, `${name}: ${q.problem}`);
    if (want === Verdict.FORMERR) assert.notEqual(q.problem, '', `${name} says why`);
  }
});

test('EDNS version 1 is BADVERS', () => {
  const q = new ParsedQuery();
  const packet = withAdditional(Buffer.concat([header({ qd: 1 }), wwwQuestion]), [
    opt(Buffer.alloc(0)),
  ]);
  packet[packet.length - 5] = 1; // the version octet of the OPT TTL field
  assert.equal(parseQuery(packet, q), Verdict.BADVERS);
});

test('skipName follows backward pointers and rejects forward pointers and loops', () => {
  const msg = Buffer.concat([
    Buffer.alloc(12),
    nameFromText('a.example.'),
    Buffer.from([1, 0x62, 0xc0, 12]),
  ]);
  const pointerAt = 12 + 11 + 2;
  assert.equal(skipName(msg, 23), pointerAt + 2);
  const forward = Buffer.from([0xc0, 2, 0]);
  assert.equal(skipName(forward, 0), -1);
  const self = Buffer.from([0, 0, 0xc0, 2]);
  assert.equal(skipName(self, 2), -1);
});
