import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { query } from '../helpers/dns-client.js';
import { startServer, tmpdirWith, type ServerProcess } from '../helpers/server-process.js';

// GET /api/v1/decisions: real queries sampled by the process that answered them (a worker,
// with workers: 2) and explained there on the live state; the primary keeps the last 50.

const TOKEN = 'decisions-test-token-0123456789';

const config = (workers: number): string => `
workers: ${workers}
api:
  listen: 127.0.0.1:0
  tokenFile: api.tokens
zones:
  - origin: example.org
    ttl: 3600
    records: |
      @   IN SOA ns1 hostmaster 1 7200 3600 1209600 300
      @   IN NS  ns1
      ns1 IN A   192.0.2.53
services:
  - name: www.example.org
    ttl: 5
    pools:
      - name: web
        members:
          - { name: a, address: 192.0.2.10 }
          - { name: b, address: 192.0.2.11 }
    policies: [admin, round-robin]
`;

interface Decision {
  at: string;
  transport: string;
  explanation: { name: string; type: string; client: string; pool: string; steps: unknown[] };
}

async function decisions(server: ServerProcess, token?: string): Promise<Response> {
  return fetch(`http://127.0.0.1:${server.api!.port}/api/v1/decisions`, {
    headers: token === undefined ? {} : { 'x-api-key': token },
  });
}

async function withServer(workers: number, run: (server: ServerProcess) => Promise<void>) {
  const dir = await tmpdirWith({
    'steerdns.yaml': config(workers),
    'api.tokens': `ops ${TOKEN}\n`,
  });
  const server = await startServer(['serve', '--config', join(dir, 'steerdns.yaml')]);
  try {
    await run(server);
  } finally {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

for (const workers of [1, 2]) {
  test(`workers: ${workers}: sampled queries are explained, a few a second, the last 50 kept`, async (t) => {
    await withServer(workers, async (server) => {
      const unauthorized = await decisions(server);
      assert.equal(unauthorized.status, 401, 'the token is needed');
      const start = performance.now();
      let sent = 0;
      let seen: Decision[] = [];
      // Queries until a sampled one shows (ticks are 250 ms apart: within a few seconds).
      const deadline = start + 20_000;
      while (performance.now() < deadline) {
        for (let i = 0; i < 50; i++, sent++)
          await query(server.address, { name: 'www.example.org', type: 'A' });
        const reply = await decisions(server, TOKEN);
        assert.equal(reply.status, 200);
        seen = ((await reply.json()) as { decisions: Decision[] }).decisions;
        if (seen.length >= 3) break;
      }
      const seconds = (performance.now() - start) / 1000;
      t.diagnostic(`${seen.length} decisions after ${sent} queries in ${seconds.toFixed(1)} s`);
      assert.ok(seen.length >= 3, `decisions sampled: ${seen.length}`);
      // At most 4 a second per answering process, and never more than 50 kept.
      assert.ok(seen.length <= Math.min(50, Math.ceil((seconds + 1) * 4 * workers)));
      assert.ok(seen.length < sent, 'sampled, not every query');
      const newest = seen[0]!;
      assert.equal(newest.explanation.name, 'www.example.org.');
      assert.equal(newest.explanation.type, 'A');
      assert.equal(newest.explanation.client, '127.0.0.1');
      assert.equal(newest.explanation.pool, 'web');
      assert.equal(newest.transport, 'udp');
      assert.ok(newest.explanation.steps.length > 0, 'explained step by step');
      const times = seen.map((d) => Date.parse(d.at));
      assert.deepEqual(
        times,
        [...times].sort((a, b) => b - a),
        'newest first',
      );
    });
  });
}
