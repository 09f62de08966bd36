/**
 * End to end (issue 12): the REST API of a primary with two workers. A persistence entry a
 * worker made is found through the primary and forgotten in every worker (a worker's
 * explain no longer keeps the client on it); a reload through the API is answered with its
 * outcome, and a rejected one with file:line while the server keeps its configuration.
 */
import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { apiCall, errorCode, until } from '../helpers/api-client.js';
import { query } from '../helpers/dns-client.js';
import { startServer, tmpdirWith, type ServerProcess } from '../helpers/server-process.js';
import { ZONE } from './fixtures.js';

const TOKEN = 'workers-operator-secret-0';
const ENTRY = '/api/v1/persistence?service=sticky.example.org&key=127.0.0.1';
let dir = '';
let server: ServerProcess | undefined;

before(async () => {
  dir = await tmpdirWith({
    tokens: `ops ${TOKEN}\n`,
    'steerdns.yaml': `workers: 2\napi: { listen: 127.0.0.1:0, tokenFile: tokens }\n${ZONE}`,
  });
  server = await startServer(['serve', '--config', join(dir, 'steerdns.yaml')]);
});

after(async () => {
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const notes = async (running: ServerProcess): Promise<string[]> => {
  const reply = await apiCall(
    running.api!,
    '/api/v1/explain?name=sticky.example.org&client=127.0.0.1',
    {
      token: TOKEN,
    },
  );
  assert.equal(reply.status, 200, reply.text);
  const explanation = (reply.json as { explanation: { steps: { notes: string[] }[] } }).explanation;
  return explanation.steps.flatMap((s) => s.notes);
};

test('a persistence entry: found through the primary, forgotten in every worker', async () => {
  const running = server!;
  const answered = await query(running.address, { name: 'sticky.example.org', type: 'A' });
  assert.equal(answered.rcode, 'NOERROR');
  const entry = await until('the worker entry at the primary', async () => {
    const reply = await apiCall(running.api!, ENTRY, { token: TOKEN });
    return reply.status === 200 ? (reply.json as { member: string; holds: boolean }) : undefined;
  });
  assert.match(entry.member, /^main\/[xy]$/);
  assert.equal(entry.holds, true);
  // Both workers have it (the entry travels between them): explain keeps the client.
  await until('every worker keeps 127.0.0.1', async () => {
    const all = await Promise.all([notes(running), notes(running), notes(running), notes(running)]);
    return all.every((n) => n.some((note) => note.includes('127.0.0.1 stays on')))
      ? true
      : undefined;
  });
  const deleted = await apiCall(running.api!, ENTRY, { method: 'DELETE', token: TOKEN });
  assert.equal(deleted.status, 200, deleted.text);
  assert.equal((deleted.json as { member: string }).member, entry.member);
  assert.equal(
    errorCode(await apiCall(running.api!, ENTRY, { token: TOKEN })),
    'STEERDNS_ERR_API_NO_ENTRY',
  );
  await until('no worker keeps 127.0.0.1 any more', async () => {
    const all = await Promise.all([notes(running), notes(running), notes(running), notes(running)]);
    return all.every((n) => !n.some((note) => note.includes('stays on'))) ? true : undefined;
  });
});

test('POST /api/v1/reload: applied, or rejected with file:line and the old configuration kept', async () => {
  const running = server!;
  const file = join(dir, 'steerdns.yaml');
  const good = await readFile(file, 'utf8');
  const ok = await apiCall(running.api!, '/api/v1/reload', { method: 'POST', token: TOKEN });
  assert.equal(ok.status, 200, ok.text);
  assert.equal((ok.json as { ok: boolean }).ok, true);
  await writeFile(file, good.replace('ttl: 30\n', 'ttl: thirty\n'));
  const bad = await apiCall(running.api!, '/api/v1/reload', { method: 'POST', token: TOKEN });
  assert.equal(bad.status, 422, bad.text);
  assert.equal(errorCode(bad), 'STEERDNS_ERR_API_RELOAD_REJECTED');
  const problems = (
    bad.json as { error: { problems: { file: string; line: number; text: string }[] } }
  ).error.problems;
  assert.ok(problems.length > 0);
  assert.equal(problems[0]!.file, file);
  const line = good.split('\n').findIndex((l) => l.trim() === 'ttl: 30') + 1;
  assert.equal(problems[0]!.line, line, problems[0]!.text);
  await running.waitForLog((e) => e?.['msg'] === 'reload asked through the API by ops');
  // Still answering from the configuration it had.
  const reply = await query(running.address, { name: 'www.example.org', type: 'A' });
  assert.equal(reply.rcode, 'NOERROR');
  await writeFile(file, good);
});
