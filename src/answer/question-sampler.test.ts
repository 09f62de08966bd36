import assert from 'node:assert/strict';
import { test } from 'node:test';
import dnsPacket from 'dns-packet';
import { ParsedQuery, parseQuery, Verdict } from '../dns/query.js';
import { QuestionSampler } from './question-sampler.js';

const packet = (name: string, type: dnsPacket.RecordType, ecs?: string): Buffer => {
  const [ip, prefix] = ecs?.split('/') ?? [];
  return Buffer.from(
    dnsPacket.encode({
      type: 'query',
      id: 7,
      questions: [{ name, type, class: 'IN' }],
      additionals: ecs
        ? [
            {
              type: 'OPT',
              name: '.',
              udpPayloadSize: 1232,
              extendedRcode: 0,
              ednsVersion: 0,
              flags: 0,
              flag_do: false,
              options: [
                {
                  code: 8 as const,
                  family: ip!.includes(':') ? 2 : 1,
                  sourcePrefixLength: Number(prefix),
                  scopePrefixLength: 0,
                  ip: ip!,
                },
              ],
            },
          ]
        : [],
    }),
  );
};

function offered(sampler: QuestionSampler, msg: Buffer, address: string, now = 1000): void {
  const q = new ParsedQuery();
  assert.equal(parseQuery(msg, q), Verdict.OK);
  sampler.offer(q, msg, 'udp', address, now);
}

test('a sampler gives back the question it copied, as explain takes it, once', () => {
  const sampler = new QuestionSampler();
  assert.equal(sampler.take(), undefined, 'nothing taken yet');
  sampler.arm();
  assert.equal(sampler.wanted, true);
  const msg = packet('WWW.Example.org', 'AAAA', '198.51.100.0/24');
  offered(sampler, msg, '::ffff:192.0.2.7', 1234);
  assert.equal(sampler.wanted, false, 'one question per arming');
  // The packet buffer is reused by the transport: the copy must not change with it.
  msg.fill(0);
  assert.deepEqual(sampler.take(), {
    request: {
      name: 'WWW.Example.org.',
      type: 'AAAA',
      client: '192.0.2.7',
      ecs: '198.51.100.0/24',
    },
    transport: 'udp',
    at: 1234,
  });
  assert.equal(sampler.take(), undefined, 'taken once');
});

test('a sampler keeps the newest question and leaves out ECS a later query lacks', () => {
  const sampler = new QuestionSampler();
  offered(sampler, packet('a.example.org', 'A', '2001:db8::/48'), '2001:db8::1');
  offered(sampler, packet('b.example.org', 'A'), '192.0.2.1');
  assert.deepEqual(sampler.take()?.request, {
    name: 'b.example.org.',
    type: 'A',
    client: '192.0.2.1',
  });
});
