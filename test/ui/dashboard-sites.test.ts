/**
 * The dashboard on a site of seed 003 (issues 12 and 9), in a real headless Chromium: with
 * the token entered, the Sites section shows the site's DSSP view and hand-off tables from
 * GET /api/v1/sites, and the page logs no console error (on a node that is no site the
 * section stays hidden without asking: dashboard.test.ts checks that page has none).
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { startChromium, type RunningBrowser } from '../helpers/browser.js';
import { startServer, tmpdirWith, type ServerProcess } from '../helpers/server-process.js';

const TOKEN = 'dashboard-sites-token-0123456789';

/** Site A of two; its peer B (port 9, where nothing listens) never answers. */
const SITE_A = `
workers: 1
api: { listen: 127.0.0.1:0, tokenFile: tokens }
zones:
  - origin: example.org
    ttl: 3600
    records: |
      @    IN SOA ns1 hostmaster 1 7200 3600 1209600 300
      @    IN NS  ns1
      ns1  IN A   192.0.2.53
services:
  - name: www.example.org
    ttl: 30
    answers: 1
    pools:
      - name: sites
        members:
          - { name: A, address: 192.0.2.1, site: A }
          - { name: B, address: 192.0.2.2, site: B }
    policies: [up, admin, { policy: handoff, weights: [4, 2, 1, 0] }]
distributedSites:
  site: A
  names: [www.example.org]
  listen: 127.0.0.1:0
  keyFile: dssp.key
  weights: [4, 2, 1, 0]
  peers:
    - { name: B, address: '127.0.0.1:9' }
`;

let dir = '';
let server: ServerProcess | undefined;
let chromium: RunningBrowser | undefined;
let page: Page;
const problems: string[] = [];

before(async () => {
  dir = await tmpdirWith({
    tokens: `ops ${TOKEN}\n`,
    'dssp.key': '80732193649abccb7770e591f27feca8aba73fc70d6cabb71a24cae9453366f6\n',
    'site.yaml': SITE_A,
  });
  server = await startServer(['serve', '--config', join(dir, 'site.yaml')]);
  chromium = await startChromium({ startTimeoutMs: 60_000 });
  const context = await chromium.browser.newContext({ viewport: { width: 1280, height: 720 } });
  page = await context.newPage();
  page.setDefaultTimeout(15_000);
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`exception: ${error.message}`));
});

after(async () => {
  await chromium?.close();
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('a site: the Sites section shows its peers and hand-off tables, no console error', async () => {
  const response = await page.goto(`http://127.0.0.1:${server!.api!.port}/ui/`);
  assert.equal(response?.status(), 200);
  await page.getByLabel('API token').fill(TOKEN);
  await page.getByRole('button', { name: 'Use token' }).click();
  const sites = page.locator('#sites');
  await sites.waitFor({ state: 'visible', timeout: 15_000 });
  const text = await page.locator('#sites-body').innerText();
  // The site's own name, its silent peer, and the name its tables are for.
  for (const wanted of ['www.example.org', 'peers', 'tables'])
    assert.ok(text.includes(wanted), `the Sites section shows ${wanted}: ${text.slice(0, 400)}`);
  assert.deepEqual(problems, []);
});
