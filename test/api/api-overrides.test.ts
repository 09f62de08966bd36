/**
 * End to end (issue 12): overrides through the REST API change the next DNS answers, are
 * kept in the state file and survive a restart, and a forced state with an end returns to
 * the real state after it.
 */
import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { query } from '../helpers/dns-client.js';
import { apiCall, until } from '../helpers/api-client.js';
import { startServer, tmpdirWith, type ServerProcess } from '../helpers/server-process.js';
import { rdataTexts } from '../e2e/fixtures/server.js';
import { ZONE } from './fixtures.js';

const TOKEN = 'operator-secret-0123456789';
const MEMBER_A = '/api/v1/services/www.example.org/members/web/a';

let dir = '';
let config = '';
let server: ServerProcess | undefined;

const start = async (): Promise<ServerProcess> => {
  server = await startServer(['serve', '--config', config]);
  return server;
};

/** The addresses of the next answer for www.example.org, sorted. */
async function answers(running: ServerProcess): Promise<string[]> {
  const reply = await query(running.address, { name: 'www.example.org', type: 'A' });
  return rdataTexts(reply.answers).sort();
}

const post = (running: ServerProcess, path: string, body?: unknown) =>
  apiCall(running.api!, path, { method: 'POST', token: TOKEN, body });

before(async () => {
  dir = await tmpdirWith({
    tokens: `ops ${TOKEN}\n`,
    'steerdns.yaml': `workers: 1\napi: { listen: 127.0.0.1:0, tokenFile: tokens }\n${ZONE}`,
  });
  config = join(dir, 'steerdns.yaml');
});

after(async () => {
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('a drain through the API changes the next answers and survives a restart', async () => {
  let running = await start();
  assert.deepEqual(await answers(running), ['192.0.2.1', '192.0.2.2']);
  const drained = await post(running, `${MEMBER_A}/drain`, { reason: 'kernel update' });
  assert.equal(drained.status, 200, drained.text);
  const member = (drained.json as { member: Record<string, unknown> }).member;
  assert.deepEqual(member['override'], {
    health: null,
    admin: 'draining',
    until: null,
    reason: 'kernel update',
    by: 'ops',
  });
  assert.equal(member['admin'], 'enabled', 'the real admin state is shown beside the override');
  assert.deepEqual(member['effective'], { up: null, admin: 'draining' });
  assert.deepEqual(await answers(running), ['192.0.2.2']);
  await running.waitForLog(
    (e) => e?.['action'] === 'drain' && e['by'] === 'ops' && e['reason'] === 'kernel update',
  );
  // Kept in the state file beside the configuration.
  const state = JSON.parse(await readFile(join(dir, 'steerdns.overrides.json'), 'utf8')) as {
    overrides: Record<string, { admin?: string; by?: string }>;
  };
  assert.equal(state.overrides['www.example.org. web/a']?.admin, 'draining');
  await running.stop();

  running = await start();
  assert.deepEqual(await answers(running), ['192.0.2.2'], 'still drained after the restart');
  const enabled = await post(running, `${MEMBER_A}/enable`);
  assert.equal(enabled.status, 200, enabled.text);
  assert.equal((enabled.json as { member: { override: unknown } }).member.override, null);
  assert.deepEqual(await answers(running), ['192.0.2.1', '192.0.2.2']);
  await running.stop();
});

test('forced down with an end: left out until then, back to the real state after it', async () => {
  const running = await start();
  const forced = await post(running, `${MEMBER_A}/override`, {
    health: 'down',
    expiresIn: '5s',
    reason: 'test',
  });
  assert.equal(forced.status, 200, forced.text);
  const member = (
    forced.json as { member: { health: { forced: boolean }; effective: { up: boolean } } }
  ).member;
  assert.equal(member.health.forced, true);
  assert.equal(member.effective.up, false);
  assert.deepEqual(await answers(running), ['192.0.2.2']);
  await until('web/a answered again after its override ended', async () =>
    (await answers(running)).includes('192.0.2.1') ? true : undefined,
  );
  const view = await apiCall(running.api!, MEMBER_A, { token: TOKEN });
  assert.equal((view.json as { member: { override: unknown } }).member.override, null);
  // The state file forgets it too.
  await until('the state file without the ended override', async () => {
    const state = JSON.parse(await readFile(join(dir, 'steerdns.overrides.json'), 'utf8')) as {
      overrides: Record<string, unknown>;
    };
    return Object.keys(state.overrides).length === 0 ? true : undefined;
  });
  // A DELETE clears a forced state at once.
  await post(running, `${MEMBER_A}/override`, { health: 'down' });
  assert.deepEqual(await answers(running), ['192.0.2.2']);
  const cleared = await apiCall(running.api!, `${MEMBER_A}/override`, {
    method: 'DELETE',
    token: TOKEN,
  });
  assert.equal(cleared.status, 200, cleared.text);
  assert.deepEqual(await answers(running), ['192.0.2.1', '192.0.2.2']);
  await running.stop();
});

test('a state file that is no state file is logged, and the server starts without overrides', async () => {
  await writeFile(join(dir, 'steerdns.overrides.json'), '{ not json');
  const running = await start();
  await running.waitForLog((e) => e?.['code'] === 'STEERDNS_ERR_API_STATE_FILE');
  assert.deepEqual(await answers(running), ['192.0.2.1', '192.0.2.2']);
  // The next change rewrites it.
  assert.equal((await post(running, `${MEMBER_A}/disable`)).status, 200);
  const state = JSON.parse(await readFile(join(dir, 'steerdns.overrides.json'), 'utf8')) as {
    overrides: Record<string, { admin?: string }>;
  };
  assert.equal(state.overrides['www.example.org. web/a']?.admin, 'disabled');
  await running.stop();
});

test('shareLastMinute follows the answers: a drained member has none of the new decisions', async () => {
  const running = await start();
  assert.equal((await post(running, `${MEMBER_A}/drain`)).status, 200);
  for (let i = 0; i < 20; i++) assert.deepEqual(await answers(running), ['192.0.2.2']);
  const shares = await until('the decisions counted in the shares', async () => {
    const reply = await apiCall(running.api!, '/api/v1/services/www.example.org', { token: TOKEN });
    const members = (
      reply.json as { pools: { members: { name: string; shareLastMinute: number | null }[] }[] }
    ).pools[0]!.members;
    const b = members.find((m) => m.name === 'b')?.shareLastMinute;
    return b === 1 ? members.map((m) => [m.name, m.shareLastMinute]) : undefined;
  });
  assert.deepEqual(shares, [
    ['a', 0],
    ['b', 1],
  ]);
  assert.equal((await post(running, `${MEMBER_A}/enable`)).status, 200);
  await running.stop();
});
