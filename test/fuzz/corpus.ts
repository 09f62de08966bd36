import dnsPacket from 'dns-packet';
import { encodeOpt, encodeQuery } from '../helpers/dns-wire.js';
import type { EdnsSpec, QuerySpec } from '../helpers/dns-wire.js';

/**
 * The seed corpus of the packet fuzzer: valid and nearly valid queries that reach the
 * server's interesting paths (answers, NXDOMAIN, wildcards, delegations, EDNS, ECS,
 * compression), built with dns-packet and, where it cannot express the packet, by hand.
 */

/** Wire form of a name from raw labels (strings are latin1; Buffers are taken as is). */
export function wireName(labels: readonly (string | Uint8Array)[]): Buffer {
  const parts = labels.flatMap((l) => {
    const bytes = typeof l === 'string' ? Buffer.from(l, 'latin1') : Buffer.from(l);
    return [Buffer.from([bytes.length & 0xff]), bytes];
  });
  return Buffer.concat([...parts, Buffer.from([0])]);
}

/** A resource record from its parts: `name` is a wire name (or a pointer). */
export function wireRecord(
  name: Uint8Array,
  type: number,
  klass: number,
  ttl: number,
  rdata: Uint8Array,
): Buffer {
  const fixed = Buffer.alloc(10);
  fixed.writeUInt16BE(type, 0);
  fixed.writeUInt16BE(klass, 2);
  fixed.writeUInt32BE(ttl >>> 0, 4);
  fixed.writeUInt16BE(rdata.length, 8);
  return Buffer.concat([name, fixed, rdata]);
}

/** Sections of a hand-built message. Counts are taken from the arrays unless given. */
export interface RawMessage {
  readonly id?: number;
  readonly flags?: number;
  readonly questions?: readonly Uint8Array[];
  readonly answers?: readonly Uint8Array[];
  readonly authorities?: readonly Uint8Array[];
  readonly additionals?: readonly Uint8Array[];
  readonly counts?: readonly [number, number, number, number];
}

/** Assembles a message from raw sections. */
export function rawMessage(m: RawMessage): Buffer {
  const sections = [m.questions ?? [], m.answers ?? [], m.authorities ?? [], m.additionals ?? []];
  const header = Buffer.alloc(12);
  header.writeUInt16BE(m.id ?? 0x1234, 0);
  header.writeUInt16BE(m.flags ?? 0, 2);
  sections.forEach((s, i) => header.writeUInt16BE(m.counts?.[i] ?? s.length, 4 + i * 2));
  return Buffer.concat([header, ...sections.flat()]);
}

/** A question from a wire name, type and class. */
export function wireQuestion(name: Uint8Array, type: number, klass = 1): Buffer {
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(type, 0);
  tail.writeUInt16BE(klass, 2);
  return Buffer.concat([name, tail]);
}

const POINTER_TO_QNAME = Buffer.from([0xc0, 0x0c]);

function plainQueries(origin: string): Buffer[] {
  // prettier-ignore
  const names = [
    origin, `www.${origin}`, `nx.${origin}`, `a.wild.${origin}`, `deep.a.b.c.${origin}`,
    `WwW.${origin.toUpperCase()}`, `alias.${origin}`, `host.sub.${origin}`, `ns1.${origin}`,
    'example.net', '.', `${'x'.repeat(63)}.${origin}`,
  ];
  // prettier-ignore
  const types = [
    'A', 'AAAA', 'MX', 'TXT', 'SOA', 'NS', 'CNAME',
    'ANY', 'AXFR', 'IXFR', 'CAA', 'TYPE65280',
  ];
  const out: Buffer[] = [];
  names.forEach((name, i) => {
    types.forEach((type, j) => {
      const edns: false | EdnsSpec = (i + j) % 3 === 0 ? false : {};
      out.push(encodeQuery({ id: i * 16 + j, name, type, edns, rd: j % 2 === 0 }));
    });
  });
  out.push(encodeQuery({ id: 7, name: 'version.bind', type: 'TXT', class: 'CH', edns: false }));
  out.push(encodeQuery({ id: 8, name: `www.${origin}`, type: 'A', class: 'ANY' }));
  return out;
}

function ednsQueries(origin: string): Buffer[] {
  const name = `www.${origin}`;
  // prettier-ignore
  const variants: EdnsSpec[] = [
    { do: true }, { udpPayload: 512 }, { udpPayload: 65535 }, { udpPayload: 0 }, { version: 1 },
    { version: 255, do: true }, { flags: 0x7fff },
    { ecs: { family: 1, sourcePrefix: 24, address: '198.51.100.0' } },
    { ecs: { family: 1, sourcePrefix: 32, address: '198.51.100.7' } },
    { ecs: { family: 1, sourcePrefix: 0, address: '0.0.0.0' } },
    { ecs: { family: 2, sourcePrefix: 56, address: '2001:db8:1:2::' } },
    { ecs: { family: 2, sourcePrefix: 128, address: '2001:db8::1' } },
    { ecs: { family: 1, sourcePrefix: 24, scopePrefix: 16, address: '192.0.2.0' } },
    { ecs: { family: 1, sourcePrefix: 20, address: '192.0.2.255', unmasked: true } },
    { options: [{ code: 8, data: Buffer.from([0, 1, 40, 0, 1, 2, 3, 4, 5]) }] },
    { options: [{ code: 8, data: Buffer.from([0, 3, 8, 0, 1]) }] },
    { options: [{ code: 8, data: Buffer.from([0, 1]) }] },
    { options: [{ code: 10, data: Buffer.alloc(8, 0xab) }] },
    { options: [{ code: 3, data: Buffer.alloc(0) }] },
    { options: [{ code: 12, data: Buffer.alloc(64) }] },
    { options: [{ code: 65001, data: Buffer.from('fuzz') }], ecs: { family: 1, sourcePrefix: 16, address: '203.0.113.0' } },
    { options: [ { code: 8, data: Buffer.from([0, 1, 8, 0, 10]) }, { code: 8, data: Buffer.from([0, 1, 8, 0, 11]) } ] },
  ];
  return variants.map((edns, i) =>
    encodeQuery({ id: 0x100 + i, name, type: i % 2 ? 'AAAA' : 'A', edns }),
  );
}

function handBuilt(origin: string): Buffer[] {
  const qname = wireName(origin.split('.'));
  const www = wireName(['www', ...origin.split('.')]);
  const soaRdata = dnsPacket
    .encode({
      type: 'response',
      answers: [
        {
          type: 'SOA',
          name: origin,
          data: { mname: `ns1.${origin}`, rname: `hostmaster.${origin}` },
        },
      ],
    })
    .subarray(12 + qname.length + 10);
  const a = Buffer.from([192, 0, 2, 1]);
  const opt = encodeOpt({});
  const optEcs = encodeOpt({ ecs: { family: 1, sourcePrefix: 24, address: '198.51.100.0' } });
  const q = (name: Uint8Array, type = 1): Buffer => wireQuestion(name, type);
  // prettier-ignore
  return [
    // Compression pointers in the additional and answer sections.
    rawMessage({ questions: [q(www)], additionals: [wireRecord(POINTER_TO_QNAME, 1, 1, 300, a), opt] }),
    rawMessage({ questions: [q(www)], answers: [wireRecord(POINTER_TO_QNAME, 1, 1, 0, a)] }),
    rawMessage({
      questions: [q(www)],
      additionals: [wireRecord(Buffer.concat([Buffer.from([3]), Buffer.from('sub'), POINTER_TO_QNAME]), 1, 1, 1, a)],
    }),
    // OPT whose owner is a pointer (to the root label at the end of QNAME).
    rawMessage({ questions: [q(qname)], additionals: [Buffer.concat([Buffer.from([0xc0, 12 + qname.length - 1]), opt.subarray(1)])] }),
    // Two OPT records; OPT in the answer section; OPT with a non-root owner.
    rawMessage({ questions: [q(www)], additionals: [opt, optEcs] }),
    rawMessage({ questions: [q(www)], answers: [opt] }),
    rawMessage({ questions: [q(www)], additionals: [Buffer.concat([www, opt.subarray(1)])] }),
    // NOTIFY with an SOA answer, UPDATE, IQUERY, STATUS, opcode 15.
    rawMessage({ flags: 4 << 11, questions: [q(qname, 6)], answers: [wireRecord(POINTER_TO_QNAME, 6, 1, 300, soaRdata)] }),
    rawMessage({ flags: 5 << 11, questions: [q(qname, 6)], authorities: [wireRecord(www, 1, 254, 0, Buffer.alloc(0))] }),
    ...[1, 2, 15].map((op) => rawMessage({ flags: op << 11, questions: [q(www)], additionals: [opt] })),
    // Header oddities: response, TC, Z, AD+CD, RCODE set, no question, two questions.
    ...[0x8000, 0x0200, 0x0040, 0x0030, 0x0005].map((flags) => rawMessage({ flags, questions: [q(www)] })),
    rawMessage({ additionals: [opt] }),
    rawMessage({ questions: [q(www), q(qname, 6)] }),
    // Names with odd bytes: binary, a dot inside a label, maximum length.
    rawMessage({ questions: [q(wireName([Buffer.from([0, 0xff, 0x2e]), ...origin.split('.')]))] }),
    rawMessage({ questions: [q(wireName(['a.b', ...origin.split('.')]))] }),
    rawMessage({ questions: [q(wireName([...Array.from({ length: 3 }, () => 'y'.repeat(63)), 'z'.repeat(61)]))] }),
    rawMessage({ questions: [q(wireName(Array.from({ length: 127 }, () => 'a')))] }),
  ];
}

/** The seed corpus for zone `origin` (which the fuzzed server should serve). */
export function seedCorpus(origin = 'example.org'): Buffer[] {
  return [...plainQueries(origin), ...ednsQueries(origin), ...handBuilt(origin)];
}

/** A valid query the fuzzer uses to check the server still answers correctly. */
export const probeQuery = (origin = 'example.org'): QuerySpec => ({
  name: `www.${origin}`,
  type: 'A',
  edns: {},
});
