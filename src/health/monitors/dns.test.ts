import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Value } from '@sinclair/typebox/value';
import dnsPacket from 'dns-packet';
import { nameFromText, nameToText } from '../../dns/name.js';
import type { Target } from '../monitor.js';
import {
  closedPort,
  createMonitor,
  DNS_NAME,
  startDnsResponder,
} from '../../../test/contract/monitor.contract.js';
import { dns, judge } from './dns.js';
import { answerTexts, decodeReply, encodeQuery, readName, sameAnswer } from './dns-wire.js';

const responder = await startDnsResponder();
const closed = await closedPort();
after(() => responder.close());

const at = (port: number | undefined, address = '127.0.0.1'): Target => ({
  id: 't',
  address,
  port,
});

test('dns settings: defaults, and bad values rejected', () => {
  assert.deepEqual(Value.Default(dns.config, { qname: 'a.test' }), {
    qname: 'a.test',
    qtype: 'A',
    rcode: 'NOERROR',
    recursion: false,
  });
  const cases: { row: string; settings: object; valid: boolean }[] = [
    {
      row: 'all set',
      settings: {
        qname: 'a.test.',
        qtype: 'TXT',
        rcode: 'NXDOMAIN',
        answer: 'x',
        recursion: true,
        port: 5353,
      },
      valid: true,
    },
    { row: 'no qname', settings: {}, valid: false },
    { row: 'name is not a setting', settings: { name: 'a.test' }, valid: false },
    { row: 'empty qname', settings: { qname: '' }, valid: false },
    { row: 'meta type OPT', settings: { qname: 'a.test', qtype: 'OPT' }, valid: false },
    { row: 'zone transfer', settings: { qname: 'a.test', qtype: 'AXFR' }, valid: false },
    { row: 'lower-case type', settings: { qname: 'a.test', qtype: 'a' }, valid: false },
    {
      row: 'rcode BADVERS (needs EDNS)',
      settings: { qname: 'a.test', rcode: 'BADVERS' },
      valid: false,
    },
    { row: 'numeric rcode', settings: { qname: 'a.test', rcode: 3 }, valid: false },
    { row: 'empty answer', settings: { qname: 'a.test', answer: '' }, valid: false },
    { row: 'port 0', settings: { qname: 'a.test', port: 0 }, valid: false },
    { row: 'unknown key', settings: { qname: 'a.test', server: '127.0.0.1' }, valid: false },
  ];
  for (const { row, settings, valid } of cases) {
    const filled = Value.Default(dns.config, structuredClone(settings));
    assert.equal(Value.Check(dns.config, filled), valid, row);
  }
});

test('dns: a name that is not a domain name is refused when the monitor is made', () => {
  for (const name of ['a..b', `${'x'.repeat(64)}.test`])
    assert.throws(
      () => createMonitor(dns, { qname: name }),
      { code: 'STEERDNS_ERR_DNS_NAME' },
      name,
    );
});

test('dns: rcode and answer checks against a real responder', async () => {
  const cases: { row: string; settings: object; target?: Target; want: string | undefined }[] = [
    { row: 'known name', settings: { qname: DNS_NAME }, want: undefined },
    { row: 'without the trailing dot', settings: { qname: 'up.monitor.test' }, want: undefined },
    {
      row: 'case-insensitive question match',
      settings: { qname: 'UP.Monitor.TEST' },
      want: undefined,
    },
    {
      row: 'expected address',
      settings: { qname: DNS_NAME, answer: '192.0.2.1' },
      want: undefined,
    },
    {
      row: 'other address',
      settings: { qname: DNS_NAME, answer: '192.0.2.2' },
      want: 'answer mismatch',
    },
    { row: 'unknown name', settings: { qname: 'nx.monitor.test' }, want: 'rcode NXDOMAIN' },
    {
      row: 'NXDOMAIN expected',
      settings: { qname: 'nx.monitor.test', rcode: 'NXDOMAIN' },
      want: undefined,
    },
    {
      row: 'NOERROR expected, NXDOMAIN with answer',
      settings: { qname: 'nx.monitor.test', answer: '192.0.2.1' },
      want: 'rcode NXDOMAIN',
    },
    {
      row: 'no data for AAAA is NOERROR',
      settings: { qname: DNS_NAME, qtype: 'AAAA' },
      want: undefined,
    },
    {
      row: 'no data for AAAA, answer wanted',
      settings: { qname: DNS_NAME, qtype: 'AAAA', answer: '::1' },
      want: 'answer mismatch',
    },
    { row: 'with RD', settings: { qname: DNS_NAME, recursion: true }, want: undefined },
    {
      row: 'nothing listening',
      settings: { qname: DNS_NAME },
      target: at(closed),
      want: 'refused',
    },
    { row: 'settings port wins', settings: { qname: DNS_NAME, port: closed }, want: 'refused' },
    {
      row: 'not an address',
      settings: { qname: DNS_NAME },
      target: at(53, 'ns.example'),
      want: 'bad address',
    },
  ];
  for (const { row, settings, target, want } of cases) {
    const result = await createMonitor(dns, settings).check(
      target ?? at(responder.port),
      new AbortController().signal,
    );
    assert.deepEqual(
      { ok: result.ok, reason: result.reason },
      { ok: want === undefined, reason: want },
      row,
    );
  }
});

test('encodeQuery: one question, class IN, RD only when asked', () => {
  const cases = [
    { row: 'A, no RD', type: 1, rd: false, want: { id: 4660, type: 'A', rd: false } },
    { row: 'TXT, RD', type: 16, rd: true, want: { id: 4660, type: 'TXT', rd: true } },
  ];
  for (const { row, type, rd, want } of cases) {
    const decoded = dnsPacket.decode(
      encodeQuery(0x1234, nameFromText('www.example.org.'), type, rd),
    );
    assert.deepEqual(
      { id: decoded.id, type: decoded.questions?.[0]?.type, rd: decoded.flag_rd },
      want,
      row,
    );
    assert.deepEqual(
      decoded.questions,
      [{ name: 'www.example.org', type: want.type, class: 'IN' }],
      row,
    );
  }
});

const QNAME = nameFromText('www.example.org.');
const reply = (packet: Partial<dnsPacket.Packet>): Buffer =>
  dnsPacket.encode({
    type: 'response',
    id: 7,
    flags: dnsPacket.AUTHORITATIVE_ANSWER,
    questions: [{ type: 'A', name: 'www.example.org' }],
    ...packet,
  });

test('decodeReply: ignores what is not the reply, refuses what is malformed', () => {
  const good = reply({ answers: [{ type: 'A', name: 'www.example.org', data: '192.0.2.1' }] });
  const header = (id: number, flags: number, counts: number[]): Buffer => {
    const b = Buffer.alloc(12);
    b.writeUInt16BE(id, 0);
    b.writeUInt16BE(flags, 2);
    counts.forEach((n, i) => b.writeUInt16BE(n, 4 + 2 * i));
    return b;
  };
  const cases: { row: string; message: Buffer; want: 'reply' | 'bad reply' | undefined }[] = [
    { row: 'the reply', message: good, want: 'reply' },
    { row: 'another id', message: reply({ id: 8 }), want: undefined },
    {
      row: 'a query, not a response',
      message: dnsPacket.encode({
        type: 'query',
        id: 7,
        questions: [{ type: 'A', name: 'www.example.org' }],
      }),
      want: undefined,
    },
    {
      row: 'another name',
      message: reply({ questions: [{ type: 'A', name: 'mail.example.org' }] }),
      want: undefined,
    },
    {
      row: 'another type',
      message: reply({ questions: [{ type: 'AAAA', name: 'www.example.org' }] }),
      want: undefined,
    },
    { row: 'shorter than a header', message: good.subarray(0, 11), want: undefined },
    { row: 'no question (allowed)', message: header(7, 0x8400, [0, 0, 0, 0]), want: 'reply' },
    { row: 'two questions', message: header(7, 0x8400, [2, 0, 0, 0]), want: 'bad reply' },
    { row: 'question cut short', message: good.subarray(0, 20), want: 'bad reply' },
    { row: 'answer cut short', message: good.subarray(0, good.length - 2), want: 'bad reply' },
    {
      row: 'answer count too high',
      message: Buffer.concat([header(7, 0x8400, [0, 2, 0, 0]), good.subarray(33)]),
      want: 'bad reply',
    },
    {
      row: 'compression loop',
      message: Buffer.concat([header(7, 0x8400, [0, 1, 0, 0]), Buffer.from([0xc0, 12])]),
      want: 'bad reply',
    },
    {
      row: 'label of 64',
      message: Buffer.concat([header(7, 0x8400, [1, 0, 0, 0]), Buffer.from([64])]),
      want: 'bad reply',
    },
  ];
  for (const { row, message, want } of cases) {
    const got = decodeReply(message, 7, QNAME, 1);
    assert.equal(typeof got === 'object' ? 'reply' : got, want, row);
  }
});

test('decodeReply: rcode, TC, and answers with names decompressed', () => {
  const message = reply({
    flags: dnsPacket.AUTHORITATIVE_ANSWER | dnsPacket.TRUNCATED_RESPONSE,
    answers: [
      { type: 'CNAME', name: 'www.example.org', data: 'web.example.org' },
      { type: 'A', name: 'web.example.org', data: '192.0.2.7' },
      { type: 'AAAA', name: 'web.example.org', data: '2001:db8::7' },
      { type: 'TXT', name: 'web.example.org', data: ['v=1 ', 'ok'] },
      { type: 'MX', name: 'web.example.org', data: { preference: 10, exchange: 'mx.example.org' } },
    ],
  });
  const got = decodeReply(message, 7, QNAME, 1);
  assert.ok(typeof got === 'object', 'a reply');
  assert.equal(got.rcode, 0);
  assert.equal(got.truncated, true);
  assert.deepEqual(got.answers.map(answerTexts), [
    ['web.example.org.'],
    ['192.0.2.7'],
    ['2001:db8::7'],
    ['"v=1 " "ok"', 'v=1 ok'],
    ['10 mx.example.org.'],
  ]);
  const nx = decodeReply(reply({ flags: dnsPacket.AUTHORITATIVE_ANSWER | 3 }), 7, QNAME, 1);
  assert.deepEqual(nx, { rcode: 3, truncated: false, answers: [] }, 'NXDOMAIN');
});

test('readName follows compression pointers and reports where the name ended', () => {
  // 12 bytes of header, then "example.org." at 12, then "www" + pointer to 12 at 25.
  const message = Buffer.concat([
    Buffer.alloc(12),
    Buffer.from('\x07example\x03org\x00', 'latin1'),
    Buffer.from('\x03www\xc0\x0c', 'latin1'),
  ]);
  const cases = [
    { row: 'plain', start: 12, want: { name: 'example.org.', next: 25 } },
    { row: 'label then pointer', start: 25, want: { name: 'www.example.org.', next: 31 } },
    { row: 'pointer only', start: 29, want: { name: 'example.org.', next: 31 } },
  ];
  for (const { row, start, want } of cases) {
    const { name, next } = readName(message, start);
    assert.deepEqual({ name: nameToText(name), next }, want, row);
  }
});

test('sameAnswer: case, trailing dot and IPv6 spelling do not matter', () => {
  const cases: { row: string; text: string; expected: string; want: boolean }[] = [
    { row: 'same IPv4', text: '192.0.2.1', expected: '192.0.2.1', want: true },
    { row: 'other IPv4', text: '192.0.2.1', expected: '192.0.2.10', want: false },
    { row: 'IPv6 spelled out', text: '2001:db8::1', expected: '2001:DB8:0:0::1', want: true },
    { row: 'other IPv6', text: '2001:db8::1', expected: '2001:db8::2', want: false },
    {
      row: 'name without the dot',
      text: 'web.example.org.',
      expected: 'WEB.example.org',
      want: true,
    },
    { row: 'other name', text: 'web.example.org.', expected: 'example.org', want: false },
    { row: 'TXT joined', text: 'v=1 ok', expected: 'v=1 ok', want: true },
    { row: 'root', text: '.', expected: '.', want: true },
    { row: 'not an address with colons', text: 'a:b:zz', expected: 'A:B:ZZ', want: true },
  ];
  for (const { row, text, expected, want } of cases)
    assert.equal(sameAnswer(text, expected), want, row);
});

test('judge: rcode first, then the answer', () => {
  const a = { type: 1, rdata: Buffer.from([192, 0, 2, 1]) };
  const cases: {
    row: string;
    rcode: number;
    answer?: string;
    reply: { rcode: number; answers: (typeof a)[] };
    want: string | undefined;
  }[] = [
    { row: 'rcode only', rcode: 0, reply: { rcode: 0, answers: [] }, want: undefined },
    { row: 'SERVFAIL', rcode: 0, reply: { rcode: 2, answers: [] }, want: 'rcode SERVFAIL' },
    { row: 'unnamed rcode', rcode: 0, reply: { rcode: 9, answers: [] }, want: 'rcode 9' },
    {
      row: 'answer found',
      rcode: 0,
      answer: '192.0.2.1',
      reply: { rcode: 0, answers: [a] },
      want: undefined,
    },
    {
      row: 'answer missing',
      rcode: 0,
      answer: '192.0.2.1',
      reply: { rcode: 0, answers: [] },
      want: 'answer mismatch',
    },
  ];
  for (const { row, rcode, answer, reply: r, want } of cases)
    assert.equal(judge({ rcode, answer }, { ...r, truncated: false }), want, row);
});
