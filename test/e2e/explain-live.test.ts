/**
 * End to end: `steerdns explain --server` on a running server's live state, against
 * `explain --config` on the same file. A health-checked service with two members; the
 * backend of web/b answers 503, so the running server has it down; the configuration
 * alone cannot know that.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { query } from '../helpers/dns-client.js';
import {
  REPO_ROOT,
  startServer,
  tmpdirWith,
  type ServerProcess,
} from '../helpers/server-process.js';
import { rdataTexts } from './fixtures/server.js';

const run = promisify(execFile);

interface Output {
  kind: string;
  state: string;
  stateNote: string;
  rcode: string;
  answers: string[];
  steps: { pool: string; policy: string; kept: string[]; dropped: string[]; notes: string[] }[];
}

/** Runs `steerdns explain ARGS`; resolves stdout, rejects on a non-zero exit. */
async function explain(args: readonly string[]): Promise<string> {
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', 'src/main.ts', 'explain', ...args],
    { cwd: REPO_ROOT, timeout: 15_000 },
  );
  return stdout;
}

const explainJson = async (args: readonly string[]): Promise<Output> =>
  JSON.parse(await explain([...args, '--json'])) as Output;

let backend: Server;
let dir = '';

/** The configuration, with `workers` processes answering. */
function configYaml(workers: number, backendPort: number): string {
  const check = (path: string): string =>
    `{ type: http, path: ${path}, interval: 300ms, timeout: 200ms, rise: 1, fall: 1 }`;
  const member = (name: string, address: string): string =>
    `          - { name: ${name}, address: ${address}, healthTarget: '127.0.0.1:${backendPort}', health: ${check(`/${name}`)} }`;
  return `
workers: ${workers}
api: { listen: 127.0.0.1:0 }
health: { startupGrace: 5s }
zones:
  - origin: example.org
    ttl: 3600
    records: |
      @    IN SOA ns1 hostmaster 1 7200 3600 1209600 300
      @    IN NS  ns1
      ns1  IN A   192.0.2.53
      mail IN A   192.0.2.25
services:
  - name: www.example.org
    ttl: 30
    answers: 2
    pools:
      - name: web
        members:
${member('a', '192.0.2.1')}
${member('b', '192.0.2.2')}
`;
}

before(async () => {
  // The members' backends: /a is healthy, /b is down (503).
  backend = createServer((request, response) => {
    response.writeHead(request.url === '/a' ? 200 : 503).end();
  });
  await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
  const port = (backend.address() as AddressInfo).port;
  dir = await tmpdirWith({
    'one.yaml': configYaml(1, port),
    'two.yaml': configYaml(2, port),
  });
});

after(async () => {
  await new Promise<void>((resolve) => {
    backend.close(() => {
      resolve();
    });
  });
  await rm(dir, { recursive: true, force: true });
});

/** Starts the server on `file`; resolves it and its operator interface once web/b is down. */
async function serveUntilDown(file: string): Promise<{ server: ServerProcess; at: string }> {
  const server = await startServer(['serve', '--config', join(dir, file)]);
  try {
    await server.waitForLog(
      (entry) => entry?.['to'] === 'down' && /web\/b|503/.test(String(entry['msg'])),
      10_000,
    );
    const api = server.api;
    assert.ok(api, 'the server logged its operator interface address');
    return { server, at: `${api.host}:${api.port}` };
  } catch (error) {
    await server.stop();
    throw error;
  }
}

test('explain --config says it shows configuration state only, and keeps web/b', async () => {
  const config = join(dir, 'one.yaml');
  const json = await explainJson(['--config', config, 'www.example.org']);
  assert.equal(json.state, 'configuration');
  assert.match(json.stateNote, /configuration state only .*no health checks run, no agents/);
  const up = json.steps.find((s) => s.policy === 'up');
  assert.deepEqual(up?.dropped, [], 'the configuration cannot know web/b is down');
  assert.deepEqual([...json.answers].sort(), ['192.0.2.1', '192.0.2.2']);
  const text = await explain(['--config', config, 'www.example.org']);
  assert.match(text, /^state: configuration state only \(.*\): no health checks run, no agents/m);
  assert.doesNotMatch(text, /is down/);
});

test('explain --server says web/b was dropped as down, as the server answers', async () => {
  const { server, at } = await serveUntilDown('one.yaml');
  try {
    const json = await explainJson(['--server', at, 'www.example.org']);
    assert.equal(json.state, 'live');
    const up = json.steps.find((s) => s.policy === 'up');
    assert.ok(up, 'an up step');
    assert.deepEqual(up.dropped, ['web/b']);
    assert.deepEqual(up.notes, ['web/b is down']);
    assert.deepEqual(json.answers, ['192.0.2.1']);
    const reply = await query(server.address, { name: 'www.example.org', type: 'A' });
    assert.deepEqual(
      rdataTexts(reply.packet.answers ?? []),
      ['192.0.2.1'],
      'what the server answers',
    );

    const text = await explain(['--server', at, 'www.example.org']);
    assert.match(text, /^state: live state of the server at 127\.0\.0\.1:\d+/m);
    assert.match(text, /^ {4}up: kept web\/a; dropped web\/b\n {6}web\/b is down$/m);

    // MX at the steered name: the NODATA the server gives; a static name: its records.
    for (const [name, type] of [
      ['www.example.org', 'MX'],
      ['mail.example.org', 'A'],
    ] as const) {
      const explained = await explainJson(['--server', at, name, '--type', type]);
      const answered = await query(server.address, { name, type });
      assert.deepEqual(
        [explained.kind, explained.rcode, explained.answers],
        ['static', answered.rcode, rdataTexts(answered.packet.answers ?? [])],
        `${name} ${type}`,
      );
    }
  } finally {
    await server.stop();
  }
});

// The primary keeps only an outline of the zones (apex and service names): a worker explains.
test('with two workers, explain --server gives a static name the records the workers answer', async () => {
  const { server, at } = await serveUntilDown('two.yaml');
  try {
    const explained = await explainJson(['--server', at, 'mail.example.org']);
    const answered = await query(server.address, { name: 'mail.example.org', type: 'A' });
    assert.deepEqual(rdataTexts(answered.packet.answers ?? []), ['192.0.2.25']);
    assert.deepEqual(
      [explained.kind, explained.rcode, explained.answers],
      ['static', answered.rcode, ['192.0.2.25']],
    );
  } finally {
    await server.stop();
  }
});
