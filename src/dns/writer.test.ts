import assert from 'node:assert/strict';
import { test } from 'node:test';
import dnsPacket from 'dns-packet';
import fc from 'fast-check';
import { RRType } from './constants.js';
import { nameFromText, nameToText } from './name.js';
import { ParsedQuery, parseQuery, Verdict } from './query.js';
import { MessageWriter } from './writer.js';

const label = fc.stringMatching(/^[a-zA-Z0-9_-]{1,20}$/);
const domain = fc.array(label, { minLength: 1, maxLength: 5 }).map((labels) => labels.join('.'));
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0x7fffffff });

interface Sample {
  readonly type: number;
  readonly rdata: Buffer;
  /** What dns-packet should decode the data to. */
  readonly expected: unknown;
}

const name = (text: string): Buffer => nameFromText(`${text}.`);
const lower = (text: string): string => text.toLowerCase();

const sample: fc.Arbitrary<Sample> = fc.oneof(
  fc
    .ipV4()
    .map((ip) => ({ type: RRType.A, rdata: Buffer.from(ip.split('.').map(Number)), expected: ip })),
  domain.map((target) => ({ type: RRType.NS, rdata: name(target), expected: target })),
  domain.map((target) => ({ type: RRType.CNAME, rdata: name(target), expected: target })),
  fc.tuple(u16, domain).map(([preference, exchange]) => {
    const rdata = Buffer.concat([Buffer.from([preference >> 8, preference & 255]), name(exchange)]);
    return { type: RRType.MX, rdata, expected: { preference, exchange } };
  }),
  fc.tuple(u16, u16, u16, domain).map(([priority, weight, port, target]) => {
    const fixed = Buffer.alloc(6);
    fixed.writeUInt16BE(priority, 0);
    fixed.writeUInt16BE(weight, 2);
    fixed.writeUInt16BE(port, 4);
    return {
      type: RRType.SRV,
      rdata: Buffer.concat([fixed, name(target)]),
      expected: { priority, weight, port, target },
    };
  }),
  fc.array(fc.uint8Array({ maxLength: 255 }), { minLength: 1, maxLength: 3 }).map((strings) => ({
    type: RRType.TXT,
    rdata: Buffer.concat(
      strings.map((s) => Buffer.concat([Buffer.from([s.length]), Buffer.from(s)])),
    ),
    expected: strings.map((s) => Buffer.from(s)),
  })),
  fc
    .tuple(domain, domain, u32, u32, u32, u32, u32)
    .map(([mname, rname, serial, refresh, retry, expire, minimum]) => {
      const numbers = Buffer.alloc(20);
      [serial, refresh, retry, expire, minimum].forEach((n, i) => numbers.writeUInt32BE(n, i * 4));
      return {
        type: RRType.SOA,
        rdata: Buffer.concat([name(mname), name(rname), numbers]),
        expected: { mname, rname, serial, refresh, retry, expire, minimum },
      };
    }),
);

const normalise = (value: unknown): unknown => {
  if (typeof value === 'string') return lower(value);
  if (Buffer.isBuffer(value)) return value.toString('hex');
  if (Array.isArray(value)) return value.map(normalise);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalise(v)]));
  }
  return value;
};

test('messages we write decode with dns-packet to the same records, compressed or not', () => {
  fc.assert(
    fc.property(
      domain,
      fc.array(fc.tuple(domain, sample, u32), { minLength: 1, maxLength: 12 }),
      (qname, records) => {
        const writer = new MessageWriter(64);
        writer.bytes(
          Buffer.from([0, 1, 0x84, 0, 0, 1, records.length >> 8, records.length & 255, 0, 0, 0, 0]),
        );
        writer.name(name(qname));
        writer.u32(0x00010001);
        for (const [owner, { type, rdata }, ttl] of records)
          writer.rr(name(owner), type, ttl, rdata);
        const decoded = dnsPacket.decode(writer.toBuffer());
        assert.equal(decoded.questions?.[0]?.name.toLowerCase(), lower(qname));
        assert.equal(decoded.answers?.length, records.length);
        records.forEach(([owner, { expected }, ttl], i) => {
          const answer = decoded.answers![i]! as { name: string; ttl: number; data: unknown };
          assert.equal(lower(answer.name), lower(owner));
          assert.equal(answer.ttl, ttl);
          assert.deepEqual(normalise(answer.data), normalise(expected));
        });
        const uncompressed = records.reduce(
          (sum, [owner, { rdata }]) => sum + owner.length + 2 + 10 + rdata.length,
          0,
        );
        assert.ok(
          writer.length <= 12 + qname.length + 2 + 4 + uncompressed,
          'compression never grows a message',
        );
      },
    ),
    { numRuns: 300 },
  );
});

test('the query decoder reads what dns-packet writes', () => {
  const qtypes = ['A', 'AAAA', 'MX', 'TXT', 'SOA', 'NS', 'SRV', 'CAA', 'ANY'] as const;
  fc.assert(
    fc.property(
      domain,
      fc.constantFrom(...qtypes),
      u16,
      fc.option(fc.integer({ min: 1, max: 65535 })),
      (qname, qtype, id, payload) => {
        const packet = dnsPacket.encode({
          type: 'query',
          id,
          questions: [{ name: qname, type: qtype as dnsPacket.RecordType, class: 'IN' }],
          additionals:
            payload === null
              ? []
              : [
                  {
                    type: 'OPT',
                    name: '.',
                    udpPayloadSize: payload,
                    extendedRcode: 0,
                    ednsVersion: 0,
                    flags: 0,
                    flag_do: false,
                    options: [],
                  },
                ],
        });
        const q = new ParsedQuery();
        assert.equal(parseQuery(packet, q), Verdict.OK, q.problem);
        assert.equal(q.id, id);
        assert.equal(nameToText(packet.subarray(12, q.qnameEnd)), `${qname}.`);
        assert.equal(q.qtype, RRType[qtype]);
        assert.equal(q.edns, payload !== null);
        if (payload !== null) assert.equal(q.udpPayload, payload);
      },
    ),
    { numRuns: 300 },
  );
});
