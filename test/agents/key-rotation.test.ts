/**
 * Rotating the agents' shared key without emptying the pools: the server takes the new key
 * with the old one as `previousKeyFile`, keeps the nodes it has heard across the reload,
 * and accepts both keys until the old one is dropped. Real server, real `steerdns agent`
 * processes, reloads by SIGHUP.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { startAgentProcess, stopAllAgentProcesses } from '../helpers/agent-process.js';
import { query } from '../helpers/dns-client.js';
import {
  replaced,
  REPO_ROOT,
  startServer,
  tmpdirWith,
  type ServerProcess,
} from '../helpers/server-process.js';

const INTERVAL_MS = 300;
after(stopAllAgentProcesses);

function startAgent(port: number, keyFile: string, address: string, node: string): void {
  startAgentProcess({ port, keyFile, address, node, intervalMs: INTERVAL_MS, load: 10 });
}

async function answered(server: ServerProcess): Promise<Set<string>> {
  const seen = new Set<string>();
  for (let i = 0; i < 8; i++) {
    const reply = await query(server.address, { name: 'app.example.org', type: 'A' });
    for (const a of reply.answers) if (a.type === 'A') seen.add(a.data);
  }
  return seen;
}

async function eventually(ms: number, condition: () => Promise<boolean>): Promise<void> {
  const start = performance.now();
  while (performance.now() - start < ms) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`condition not met within ${ms} ms`);
}

test('a key rotation keeps the announced nodes, accepts both keys, then only the new one', async () => {
  const example = await readFile(join(REPO_ROOT, 'examples/agents.yaml'), 'utf8');
  const configFor = (keys: string): string =>
    (
      [
        ['listen: [127.0.0.1:5380]', 'listen: [127.0.0.1:0]'],
        ['keyFile: agent.key', keys],
        ['policies: [up, admin, least-load]', 'policies: [up, admin, round-robin]'],
        ['answers: 1', 'answers: 2'],
      ] as const
    ).reduce((text, [from, to]) => replaced(text, from, to), example);
  const dir = await tmpdirWith({
    'old.key': randomBytes(32).toString('hex'),
    'new.key': randomBytes(32).toString('hex'),
    'steerdns.yaml': configFor('keyFile: old.key'),
  });
  const config = join(dir, 'steerdns.yaml');
  const server = await startServer(['serve', '--config', config, '--listen', '127.0.0.1:0']);
  // The agents' port, from the server's listening line; reloads keep it (same listen text).
  assert.equal(server.agents.length, 1, `agents: ${JSON.stringify(server.bound)}`);
  const port = server.agents[0]!.port;
  const reloads = (): number => server.entries().filter((e) => e['msg'] === 'reloaded').length;
  const reload = async (): Promise<void> => {
    const before = reloads();
    server.signal('SIGHUP');
    await eventually(5000, () => Promise.resolve(reloads() > before));
  };
  try {
    await server.waitForLog((_e, line) => line.includes('receiving agent announcements'), 5000);
    startAgent(port, join(dir, 'old.key'), '127.0.0.41', 'old1');
    await eventually(10_000, async () => (await answered(server)).has('127.0.0.41'));

    // Step 1: new key, old key still accepted. The node stays through the reload.
    await writeFile(config, configFor('keyFile: new.key\n  previousKeyFile: old.key'));
    await reload();
    assert.ok((await answered(server)).has('127.0.0.41'), 'kept across the reload');
    startAgent(port, join(dir, 'new.key'), '127.0.0.42', 'new1');
    await eventually(10_000, async () => {
      const seen = await answered(server);
      return seen.has('127.0.0.41') && seen.has('127.0.0.42');
    });
    // Still there after more than the 3 missed intervals: the old key is accepted.
    await new Promise((resolve) => setTimeout(resolve, 4 * INTERVAL_MS));
    assert.deepEqual([...(await answered(server))].sort(), ['127.0.0.41', '127.0.0.42']);

    // Step 2: the old key is dropped; its node goes silent and is removed.
    await writeFile(config, configFor('keyFile: new.key'));
    await reload();
    await eventually(3 * INTERVAL_MS + 1500, async () => {
      const seen = await answered(server);
      return !seen.has('127.0.0.41') && seen.has('127.0.0.42');
    });
  } finally {
    await server.stop();
  }
});
