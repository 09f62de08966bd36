import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { QueryExplanation } from '../answer/explain.js';
import { ExplainError, type ExplainRequest } from '../answer/explain.js';
import { QuestionSampler } from '../answer/question-sampler.js';
import { ParsedQuery, parseQuery, Verdict } from '../dns/query.js';
import dnsPacket from 'dns-packet';
import { DecisionLog, startDecisionSampling, type SampledDecision } from './decisions.js';

const explanation = (name: string): QueryExplanation => ({
  kind: 'steered',
  name,
  type: 'A',
  client: '192.0.2.1',
  ecs: undefined,
  rcode: 'NOERROR',
  answers: ['192.0.2.10'],
  ttl: 5,
  scope: 0,
  pool: 'web',
  allDown: false,
  steps: [],
  notes: [],
});

const decision = (i: number): SampledDecision => ({
  at: new Date(i).toISOString(),
  transport: 'udp',
  explanation: explanation(`n${i}.example.org.`),
});

test('the decisions log keeps the last ones to arrive, newest query first', () => {
  const log = new DecisionLog(3);
  assert.deepEqual(log.list(), []);
  for (const i of [1, 2, 4, 3, 5]) log.add(decision(i));
  assert.deepEqual(
    log.list().map((d) => d.explanation.name),
    ['n5.example.org.', 'n4.example.org.', 'n3.example.org.'],
  );
});

/** Waits (at most 5 s) until `done` says so. */
async function until(done: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`not within 5 s: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function offer(sampler: QuestionSampler, name: string): void {
  const msg = Buffer.from(dnsPacket.encode({ type: 'query', questions: [{ name, type: 'A' }] }));
  const q = new ParsedQuery();
  assert.equal(parseQuery(msg, q), Verdict.OK);
  sampler.offer(q, msg, 'udp', '192.0.2.1', Date.parse('2026-12-02T12:00:00Z'));
}

test('sampling arms the sampler, explains what it took and records it; refused ones are left out', async () => {
  const sampler = new QuestionSampler();
  const asked: ExplainRequest[] = [];
  const recorded: SampledDecision[] = [];
  const sampling = startDecisionSampling(
    sampler,
    (request) => {
      asked.push(request);
      return request.name.startsWith('bad')
        ? new ExplainError('refused')
        : explanation(request.name);
    },
    (d) => recorded.push(d),
  );
  try {
    assert.equal(sampler.wanted, true, 'armed at once');
    offer(sampler, 'bad.example.org');
    await until(() => asked.length > 0, 'the first question explained');
    assert.equal(asked.length, 1);
    assert.equal(recorded.length, 0, 'an explain error is not recorded');
    assert.equal(sampler.wanted, true, 'armed again after each tick');
    offer(sampler, 'www.example.org');
    await until(() => recorded.length > 0, 'the second question recorded');
    assert.deepEqual(recorded, [
      {
        at: '2026-12-02T12:00:00.000Z',
        transport: 'udp',
        explanation: explanation('www.example.org.'),
      },
    ]);
  } finally {
    sampling.stop();
  }
  assert.equal(sampler.wanted, false, 'stopped: no more questions taken');
});
