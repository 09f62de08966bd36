import assert from 'node:assert/strict';
import { test } from 'node:test';
import dnsPacket from 'dns-packet';
import { loadAll } from '../../src/app.js';
import { QuestionSampler } from '../../src/answer/question-sampler.js';
import { readConfig } from '../../src/config/load.js';
import { createResponder } from '../../src/server/dns-server.js';

const packet = (name: string): Buffer =>
  Buffer.from(dnsPacket.encode({ type: 'query', id: 7, questions: [{ name, type: 'A' }] }));

test('the responder copies a steered question only while the sampler is armed', async () => {
  const { config, loaded, services } = await loadAll(() =>
    readConfig('examples/health-failover.yaml'),
  );
  const sampler = new QuestionSampler();
  const responder = createResponder(
    config,
    loaded.zones,
    services,
    undefined,
    undefined,
    undefined,
    undefined,
    sampler,
  );
  const steered = packet('www.example.org');
  const other = packet('ns1.example.org');
  responder.handle(steered, 'udp', '192.0.2.1');
  assert.equal(sampler.take(), undefined, 'not armed: nothing copied');
  sampler.arm();
  responder.handle(other, 'udp', '192.0.2.2');
  assert.equal(sampler.wanted, true, 'a static name is not a decision');
  responder.handle(steered, 'tcp', '192.0.2.3');
  responder.handle(steered, 'udp', '192.0.2.4');
  const taken = sampler.take();
  assert.equal(taken?.request.client, '192.0.2.3', 'the first steered query after arming');
  assert.equal(taken.transport, 'tcp');
  assert.equal(sampler.take(), undefined);
});
