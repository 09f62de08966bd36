/**
 * End to end (issues 12 and 9): GET /api/v1/sites shows a site's view of seed 003, the same
 * section GET /status has under `sites` (the dashboard reads it), behind the token; a node
 * that is no site answers a coded 404.
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { apiCall } from '../helpers/api-client.js';
import { startServer, tmpdirWith, type ServerProcess } from '../helpers/server-process.js';
import { SITE_A, SITE_KEY, ZONE } from './fixtures.js';

const TOKEN = 'sites-test-secret-0123456789';

let dir = '';
const servers: ServerProcess[] = [];

before(async () => {
  dir = await tmpdirWith({
    tokens: `ops ${TOKEN}\n`,
    'dssp.key': SITE_KEY,
    'site.yaml': SITE_A,
    'alone.yaml': `workers: 1\napi: { listen: 127.0.0.1:0, tokenFile: tokens }\n${ZONE}`,
  });
});

after(async () => {
  for (const server of servers) await server.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('a site shows its view at /api/v1/sites, as /status has it; the token is needed', async () => {
  const server = await startServer(['serve', '--config', join(dir, 'site.yaml')]);
  servers.push(server);
  const api = server.api!;
  const refused = await apiCall(api, '/api/v1/sites');
  assert.equal(refused.status, 401, refused.text);
  const reply = await apiCall(api, '/api/v1/sites', { token: TOKEN });
  assert.equal(reply.status, 200, reply.text);
  const sites = reply.json as { site?: unknown };
  assert.equal(sites.site, 'A', reply.text);
  const status = await apiCall(api, '/status');
  const fromStatus = (status.json as { sites?: { site?: unknown } }).sites;
  assert.equal(fromStatus?.site, 'A', 'GET /status shows the same site');
  const openapi = await apiCall(api, '/openapi.json');
  const paths = (openapi.json as { paths: Record<string, unknown> }).paths;
  assert.ok('/api/v1/sites' in paths, 'the route is in the OpenAPI document');
});

test('a node that is no site answers 404 STEERDNS_ERR_API_NOT_A_SITE', async () => {
  const server = await startServer(['serve', '--config', join(dir, 'alone.yaml')]);
  servers.push(server);
  const reply = await apiCall(server.api!, '/api/v1/sites', { token: TOKEN });
  assert.equal(reply.status, 404, reply.text);
  assert.equal(
    (reply.json as { error: { code: string } }).error.code,
    'STEERDNS_ERR_API_NOT_A_SITE',
  );
});
