import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';
import dnsPacket from 'dns-packet';
import { loadAll } from '../../src/app.js';
import { Responder } from '../../src/answer/responder.js';
import { readConfig } from '../../src/config/load.js';
import type { Explanation } from '../../src/steering/explain.js';

const run = promisify(execFile);

test('steerdns explain --json lists the answers and every step', async () => {
  const { stdout } = await run(process.execPath, [
    '--import',
    'tsx',
    'src/main.ts',
    'explain',
    '--config',
    'examples/seed-001-stripe.yaml',
    'www.example.org',
    '--client',
    '198.51.100.10',
    '--json',
  ]);
  const explanation = JSON.parse(stdout) as Explanation;
  assert.deepEqual(explanation.answers, ['192.0.2.14']);
  assert.deepEqual(
    explanation.steps.map((s) => s.policy),
    ['admin', 'stripe'],
  );
  assert.deepEqual(explanation.steps[1]?.kept, ['servers/s4']);
});

test('explain gives a name that is not steered the zone data answer; a bad type is a usage error', async () => {
  const { stdout } = await run(process.execPath, [
    '--import',
    'tsx',
    'src/main.ts',
    'explain',
    '--config',
    'examples/weighted.yaml',
    'nope.example.org',
    '--json',
  ]);
  const explanation = JSON.parse(stdout) as Explanation & { kind: string };
  assert.deepEqual([explanation.kind, explanation.rcode], ['static', 'NXDOMAIN']);
  await assert.rejects(
    run(process.execPath, [
      '--import',
      'tsx',
      'src/main.ts',
      'explain',
      '--config',
      'examples/weighted.yaml',
      'www.example.org',
      '--type',
      'BOGUS',
    ]),
    (error: { code?: number; stderr?: string }) =>
      error.code === 2 && (error.stderr ?? '').includes('unknown type "BOGUS"'),
  );
});

test('a running responder explains in process and logs a sampled fraction', async () => {
  const { loaded, services } = await loadAll(() => readConfig('examples/seed-000-overload.yaml'));
  const logged: Explanation[] = [];
  let draw = 0;
  const responder = new Responder(loaded.zones, {
    steering: {
      names: services.byKey,
      state: () => services.staticState,
      random: () => (draw++ % 10) / 10,
      now: Date.now,
    },
    explainSample: 0.1,
    onExplain: (e) => logged.push(e),
  });
  const query = Buffer.from(
    dnsPacket.encode({ type: 'query', id: 1, questions: [{ name: 'www.example.org', type: 'A' }] }),
  );
  for (let i = 0; i < 100; i++) responder.handle(query, 'udp', '192.0.2.1');
  assert.ok(logged.length >= 5 && logged.length <= 20, `sampled ${logged.length} of 100`);
  assert.ok(
    logged.every((e) =>
      e.steps.some((s) => s.policy === 'overload' && s.dropped.includes('cluster/n4')),
    ),
  );
  const direct = responder.explain({ name: 'www.example.org', client: '192.0.2.1' });
  assert.equal(direct.answers.length, 1);
  assert.notEqual(direct.answers[0], '192.0.2.24');
});
