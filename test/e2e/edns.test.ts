/**
 * End to end: EDNS(0) (RFC 6891), truncation and TCP fallback, and EDNS Client Subnet
 * (RFC 7871), on a server configured with `dns.udpPayloadMax: 1400`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { dig, kdig } from '../helpers/dig.js';
import {
  decodeReply,
  encodeOpt,
  encodeQuery,
  ecsOption,
  query,
  sendRaw,
  type EcsSpec,
  type RawOption,
} from '../helpers/dns-client.js';
import { startDataSet, TOOLS_MISSING, type DataSetServer } from './fixtures/server.js';

const CAP = 1400;
let server: DataSetServer;

before(async () => {
  server = await startDataSet({ dns: [`udpPayloadMax: ${CAP}`] });
});
after(async () => {
  await server.stop();
});

describe('EDNS(0)', () => {
  test('advertised payload = min(client, configured cap), never below 512', async () => {
    const rows = [
      { asked: 65535, want: CAP },
      { asked: 4096, want: CAP },
      { asked: CAP, want: CAP },
      { asked: 1300, want: 1300 },
      { asked: 512, want: 512 },
      { asked: 511, want: 512 },
      { asked: 100, want: 512 },
      { asked: 0, want: 512 },
    ];
    for (const { asked, want } of rows) {
      for (const host of ['127.0.0.1', '::1']) {
        const where = `payload ${asked} over ${host}`;
        const reply = await query(server.on(host), {
          name: 'www.example.org',
          type: 'A',
          edns: { udpPayload: asked },
        });
        assert.equal(reply.rcode, 'NOERROR', where);
        assert.equal(reply.optCount, 1, `${where}: one OPT`);
        assert.equal(reply.opt?.udpPayload, want, where);
        assert.equal(reply.opt.version, 0, `${where}: version`);
      }
    }
  });

  test('no OPT in the reply when the query has none', async () => {
    for (const transport of ['udp', 'tcp'] as const) {
      const reply = await query(
        server.v4,
        { name: 'nx.example.org', type: 'A', edns: false },
        { transport },
      );
      assert.equal(reply.rcode, 'NXDOMAIN', transport);
      assert.equal(reply.optCount, 0, `${transport}: OPT count`);
    }
  });

  test('OPT on every kind of reply (answer, NXDOMAIN, REFUSED, NOTIMP, FORMERR)', async () => {
    const rows = [
      { spec: { name: 'www.example.org', type: 'A' }, rcode: 'NOERROR' },
      { spec: { name: 'nx.example.org', type: 'A' }, rcode: 'NXDOMAIN' },
      { spec: { name: 'www.example.com', type: 'A' }, rcode: 'REFUSED' },
      { spec: { name: 'example.org', type: 'SOA', opcode: 4 }, rcode: 'NOTIMP' },
      { spec: { name: 'example.org', type: 'OPT' }, rcode: 'FORMERR' },
    ];
    for (const { spec, rcode } of rows) {
      const where = `${spec.name} ${spec.type} ${rcode}`;
      const reply = await query(server.v4, { ...spec, edns: { udpPayload: 1000 } });
      assert.equal(reply.rcode, rcode, where);
      assert.equal(reply.optCount, 1, `${where}: one OPT`);
      assert.equal(reply.opt?.udpPayload, 1000, `${where}: payload`);
    }
  });

  test('BADVERS for EDNS versions above 0, answered with version 0 and no data', async () => {
    const rows = [
      { version: 1, rcode: 'BADVERS' },
      { version: 2, rcode: 'BADVERS' },
      { version: 255, rcode: 'BADVERS' },
      { version: 0, rcode: 'NOERROR' },
    ];
    for (const { version, rcode } of rows) {
      for (const transport of ['udp', 'tcp'] as const) {
        const where = `version ${version} over ${transport}`;
        const reply = await query(
          server.v4,
          { name: 'www.example.org', type: 'A', edns: { version } },
          { transport },
        );
        assert.equal(reply.rcode, rcode, where);
        assert.equal(reply.opt?.version, 0, `${where}: reply version`);
        if (rcode === 'BADVERS') assert.equal(reply.answers.length, 0, `${where}: no answer`);
      }
    }
  });

  test('kdig +edns=1 and dig +edns=1 see BADVERS', { skip: TOOLS_MISSING }, async () => {
    const k = await kdig([...server.at('::1'), '+edns=1', 'www.example.org', 'A']);
    assert.equal(k.status, 'BADVERS', k.stdout);
    assert.match(k.edns.join('\n'), /Version: 0/, 'kdig: reply version 0');
    const d = await dig([...server.at(), '+edns=1', '+noednsnegotiation', 'www.example.org', 'A']);
    assert.equal(d.status, 'BADVERS', d.stdout);
  });

  test('the DO bit is copied', async () => {
    for (const dnssecOk of [true, false]) {
      for (const name of ['www.example.org', 'nx.example.org', 'www.example.com']) {
        const reply = await query(server.v4, {
          name,
          type: 'A',
          edns: { do: dnssecOk },
        });
        assert.equal(reply.opt?.do, dnssecOk, `${name} DO=${dnssecOk}`);
      }
    }
  });

  test('dig +dnssec sees DO, and the payload cap', { skip: TOOLS_MISSING }, async () => {
    const rows = [
      { args: ['+dnssec', '+bufsize=4096'], want: `flags: do; udp: ${CAP}` },
      { args: ['+bufsize=1300'], want: 'flags:; udp: 1300' },
      { args: ['+bufsize=100'], want: 'flags:; udp: 512' },
    ];
    for (const row of rows) {
      const r = await dig([...server.at(), ...row.args, 'www.example.org', 'A']);
      assert.equal(r.status, 'NOERROR', row.args.join(' '));
      assert.equal(r.edns[0], `EDNS: version: 0, ${row.want}`, row.args.join(' '));
    }
  });

  test('unknown options are ignored, not echoed', async () => {
    const rows: { name: string; options: RawOption[] }[] = [
      { name: 'one private option', options: [{ code: 65001, data: Buffer.from('abcd', 'hex') }] },
      { name: 'empty option', options: [{ code: 65500, data: Buffer.alloc(0) }] },
      {
        name: 'several',
        options: [
          { code: 65001, data: Buffer.from('01', 'hex') },
          { code: 65002, data: Buffer.alloc(40, 7) },
        ],
      },
    ];
    for (const row of rows) {
      const reply = await query(server.v4, {
        name: 'www.example.org',
        type: 'A',
        edns: { options: row.options },
      });
      assert.equal(reply.rcode, 'NOERROR', row.name);
      assert.equal(reply.answers.length, 2, `${row.name}: answers`);
      const echoed = reply.opt?.options.filter((o) => o.code >= 65000) ?? [];
      assert.deepEqual(echoed, [], `${row.name}: not echoed`);
    }
  });

  test('dig +ednsopt with an unknown option is answered', { skip: TOOLS_MISSING }, async () => {
    const r = await dig([...server.at(), '+ednsopt=65001:abcd', 'www.example.org', 'A']);
    assert.equal(r.status, 'NOERROR', r.stdout);
    assert.equal(r.answer.length, 2);
  });

  test('two OPT records are FORMERR', async () => {
    const rows = [
      { name: 'two OPTs', opts: [encodeOpt(), encodeOpt()], rcode: 1 },
      {
        name: 'two OPTs, versions differ',
        opts: [encodeOpt(), encodeOpt({ version: 1 })],
        rcode: 1,
      },
      { name: 'one OPT (control)', opts: [encodeOpt()], rcode: 0 },
    ];
    for (const row of rows) {
      const base = encodeQuery({ name: 'www.example.org', type: 'A', edns: false });
      const bytes = Buffer.concat([base, ...row.opts]);
      bytes.writeUInt16BE(row.opts.length, 10);
      for (const transport of ['udp', 'tcp'] as const) {
        const raw = await sendRaw(server.v4, bytes, { transport });
        assert.ok(raw, `${row.name} over ${transport}: no reply`);
        assert.equal(raw.readUInt16BE(0), bytes.readUInt16BE(0), `${row.name}: ID`);
        assert.equal(raw[3]! & 0xf, row.rcode, `${row.name} over ${transport}: RCODE`);
      }
    }
  });
});

describe('truncation', () => {
  test('TC when the answer does not fit; the same answer in full over TCP', async () => {
    const rows = [
      { name: 'mid.example.net', edns: false, tc: true },
      { name: 'mid.example.net', edns: { udpPayload: 512 }, tc: true },
      { name: 'mid.example.net', edns: { udpPayload: 600 }, tc: true },
      { name: 'mid.example.net', edns: { udpPayload: 1232 }, tc: false },
      { name: 'big.example.net', edns: { udpPayload: 1232 }, tc: true },
      { name: 'big.example.net', edns: { udpPayload: 65535 }, tc: true },
      { name: 'www.example.org', edns: false, tc: false },
    ] as const;
    for (const row of rows) {
      const where = `${row.name} edns=${JSON.stringify(row.edns)}`;
      const reply = await query(server.v4, { name: row.name, type: 'TXT', edns: row.edns });
      const limit = row.edns === false ? 512 : Math.max(512, Math.min(row.edns.udpPayload, CAP));
      assert.equal(reply.flags.tc, row.tc, `${where}: TC`);
      assert.equal(reply.flags.aa, true, `${where}: AA`);
      assert.ok(reply.raw.length <= limit, `${where}: ${reply.raw.length} > ${limit} octets`);
      if (row.tc) assert.equal(reply.answers.length, 0, `${where}: no partial RRset`);
      const full = await query(
        server.v4,
        { name: row.name, type: 'TXT', edns: row.edns },
        { transport: 'tcp' },
      );
      assert.equal(full.flags.tc, false, `${where} over TCP: TC`);
      const strings = full.answers.flatMap((a) => (a.type === 'TXT' ? a.data : []));
      const want = row.name.startsWith('big') ? 12 : row.name.startsWith('mid') ? 3 : 0;
      assert.equal(strings.length, want, `${where} over TCP: strings`);
    }
  });

  test(
    'dig and kdig: TC with +noedns and +bufsize=512, full answers over TCP',
    { skip: TOOLS_MISSING },
    async () => {
      const rows = [
        { tool: dig, args: ['+noedns', '+ignore', 'mid.example.net'], tc: true, answers: 0 },
        { tool: dig, args: ['+bufsize=512', '+ignore', 'mid.example.net'], tc: true, answers: 0 },
        { tool: kdig, args: ['+bufsize=512', '+ignore', 'mid.example.net'], tc: true, answers: 0 },
        { tool: kdig, args: ['+ignore', 'mid.example.net'], tc: true, answers: 0 },
        { tool: dig, args: ['mid.example.net'], tc: false, answers: 1 },
        { tool: dig, args: ['+bufsize=4096', '+ignore', 'big.example.net'], tc: true, answers: 0 },
        { tool: dig, args: ['+tcp', 'big.example.net'], tc: false, answers: 12 },
        { tool: kdig, args: ['+tcp', 'big.example.net'], tc: false, answers: 12 },
        { tool: dig, args: ['+noedns', '+tcp', 'mid.example.net'], tc: false, answers: 1 },
      ];
      for (const row of rows) {
        const where = `${row.tool === dig ? 'dig' : 'kdig'} ${row.args.join(' ')}`;
        const host = row.tool === dig ? '127.0.0.1' : '::1';
        const r = await row.tool([...server.at(host), ...row.args, 'TXT']);
        assert.equal(r.status, 'NOERROR', `${where}\n${r.stdout}`);
        assert.equal(r.flags.includes('tc'), row.tc, `${where}: flags ${r.flags.join(' ')}`);
        assert.equal(r.answer.length, row.answers, `${where}: answers`);
      }
    },
  );

  test('dig retries over TCP by itself after TC', { skip: TOOLS_MISSING }, async () => {
    const r = await dig([...server.at(), 'big.example.net', 'TXT']);
    assert.match(r.stdout, /Truncated, retrying in TCP mode/, r.stdout);
    assert.match(r.stdout, /\(TCP\)/, 'the reply came over TCP');
    assert.equal(r.answer.length, 12);
    assert.equal(r.flags.includes('tc'), false);
  });
});

describe('EDNS Client Subnet', () => {
  const ecsQuery = (ecs: EcsSpec | RawOption): Buffer =>
    encodeQuery({
      name: 'www.example.org',
      type: 'A',
      edns: 'code' in ecs ? { options: [ecs] } : { ecs },
    });

  test('echoed with scope 0', async () => {
    const rows: { ecs: EcsSpec; hex: string }[] = [
      { ecs: { family: 1, sourcePrefix: 24, address: '198.51.100.0' }, hex: 'c63364' },
      { ecs: { family: 1, sourcePrefix: 32, address: '198.51.100.7' }, hex: 'c6336407' },
      { ecs: { family: 1, sourcePrefix: 20, address: '198.51.96.0' }, hex: 'c63360' },
      { ecs: { family: 1, sourcePrefix: 0, address: '0.0.0.0' }, hex: '' },
      { ecs: { family: 2, sourcePrefix: 56, address: '2001:db8:1:200::' }, hex: '20010db8000102' },
      {
        ecs: { family: 2, sourcePrefix: 128, address: '2001:db8::1' },
        hex: '20010db8000000000000000000000001',
      },
    ];
    for (const { ecs, hex } of rows) {
      for (const transport of ['udp', 'tcp'] as const) {
        const where = `${ecs.address}/${ecs.sourcePrefix} over ${transport}`;
        const raw = await sendRaw(server.v4, ecsQuery(ecs), { transport });
        assert.ok(raw, `${where}: no reply`);
        const reply = decodeReply(raw);
        assert.equal(reply.rcode, 'NOERROR', where);
        assert.equal(reply.answers.length, 2, `${where}: answers`);
        const echoed = reply.opt?.ecs;
        assert.ok(echoed, `${where}: no ECS option in the reply`);
        assert.deepEqual(
          [
            echoed.family,
            echoed.sourcePrefix,
            echoed.scopePrefix,
            echoed.addressBytes.toString('hex'),
          ],
          [ecs.family, ecs.sourcePrefix, 0, hex],
          where,
        );
      }
    }
  });

  test('FORMERR for a prefix too long for the family or address bits beyond it', async () => {
    const withData = (hex: string): RawOption => ({ code: 8, data: Buffer.from(hex, 'hex') });
    const rows: { name: string; ecs: EcsSpec | RawOption }[] = [
      { name: 'IPv4 /33', ecs: withData('0001' + '21' + '00' + 'c6336407ff') },
      { name: 'IPv4 /255', ecs: withData('0001' + 'ff' + '00' + 'c6336407') },
      {
        name: 'IPv6 /129',
        ecs: withData('0002' + '81' + '00' + '20010db8000000000000000000000001ff'),
      },
      {
        name: 'IPv4 /20 with bits past 20',
        ecs: { family: 1, sourcePrefix: 20, address: '198.51.100.0', unmasked: true },
      },
      {
        name: 'IPv4 /31 with the last bit',
        ecs: { family: 1, sourcePrefix: 31, address: '198.51.100.7', unmasked: true },
      },
      {
        name: 'IPv6 /60 with bits past 60',
        ecs: { family: 2, sourcePrefix: 60, address: '2001:db8:1:23::', unmasked: true },
      },
      { name: 'IPv4 /24 with a fourth octet', ecs: withData('0001' + '18' + '00' + 'c6336400') },
      { name: 'IPv4 /24 with two octets', ecs: withData('0001' + '18' + '00' + 'c633') },
      { name: 'unknown family 3', ecs: withData('0003' + '08' + '00' + 'ff') },
      { name: 'option shorter than 4 octets', ecs: withData('0001') },
    ];
    for (const row of rows) {
      const bytes = ecsQuery(row.ecs);
      const raw = await sendRaw(server.v4, bytes);
      assert.ok(raw, `${row.name}: no reply`);
      assert.equal(raw.readUInt16BE(0), bytes.readUInt16BE(0), `${row.name}: ID`);
      assert.equal(decodeReply(raw).rcode, 'FORMERR', row.name);
    }
    // The same option, well formed, as a control.
    const ok = await sendRaw(
      server.v4,
      ecsQuery(ecsOption({ family: 1, sourcePrefix: 20, address: '198.51.100.0' })),
    );
    assert.equal(ok && decodeReply(ok).rcode, 'NOERROR', 'masked /20');
  });

  test(
    'kdig +subnet and dig +subnet see the subnet echoed with scope 0',
    { skip: TOOLS_MISSING },
    async () => {
      const rows = [
        {
          tool: kdig,
          host: '127.0.0.1',
          subnet: '198.51.100.0/24',
          want: 'CLIENT-SUBNET: 198.51.100.0/24/0',
        },
        {
          tool: kdig,
          host: '::1',
          subnet: '2001:db8::/48',
          want: 'CLIENT-SUBNET: 2001:db8::/48/0',
        },
        {
          tool: dig,
          host: '127.0.0.1',
          subnet: '198.51.100.0/24',
          want: 'CLIENT-SUBNET: 198.51.100.0/24/0',
        },
        { tool: dig, host: '::1', subnet: '2001:db8::/56', want: 'CLIENT-SUBNET: 2001:db8::/56/0' },
      ];
      for (const row of rows) {
        const where = `${row.tool === dig ? 'dig' : 'kdig'} +subnet=${row.subnet} @${row.host}`;
        const r = await row.tool([
          ...server.at(row.host),
          `+subnet=${row.subnet}`,
          'www.example.org',
          'A',
        ]);
        assert.equal(r.status, 'NOERROR', `${where}\n${r.stdout}`);
        assert.ok(r.edns.includes(row.want), `${where}: ${r.edns.join(' | ')}`);
        assert.equal(r.answer.length, 2, `${where}: answers`);
      }
    },
  );
});
