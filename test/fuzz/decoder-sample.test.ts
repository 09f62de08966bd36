import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ParsedQuery, parseQuery } from '../../src/dns/query.js';
import { Responder } from '../../src/answer/responder.js';
import { fixtureZones } from '../fixtures/zones.js';
import { fuzzDecoder } from './decoder.js';

// In-process mutation fuzzing of the hot-path decoder and the whole answer path: nothing
// may throw, whatever the bytes. Fixed seeds make failures reproducible.

test('the query decoder never throws on 200,000 mutated packets', () => {
  const q = new ParsedQuery();
  const report = fuzzDecoder((buf) => parseQuery(buf, q), 200_000, 7);
  assert.equal(report.count, 200_000);
  assert.deepEqual(report.expected, {}, 'no errors at all');
});

test('the responder never throws and every reply echoes the query ID', () => {
  const responder = new Responder(fixtureZones(), { transferAllowed: () => true });
  let replies = 0;
  fuzzDecoder(
    (buf) => {
      for (const transport of ['udp', 'tcp'] as const) {
        const reply = responder.handle(buf, transport, '127.0.0.1');
        // One reply, or the messages of a transfer (an iterable): the first one is checked.
        const first: Buffer | undefined =
          reply === undefined || Buffer.isBuffer(reply) ? reply : [...reply][0];
        if (first === undefined) continue;
        replies++;
        assert.equal(first.readUInt16BE(0), buf.readUInt16BE(0), 'reply ID matches');
        assert.ok((first[2]! & 0x80) !== 0, 'QR set');
      }
    },
    100_000,
    11,
  );
  assert.ok(replies > 10_000, `${replies} replies`);
});
