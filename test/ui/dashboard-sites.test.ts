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
import { SITE_A, SITE_KEY } from '../api/fixtures.js';

const TOKEN = 'dashboard-sites-token-0123456789';

let dir = '';
let server: ServerProcess | undefined;
let chromium: RunningBrowser | undefined;
let page: Page;
const problems: string[] = [];

before(async () => {
  dir = await tmpdirWith({
    tokens: `ops ${TOKEN}\n`,
    'dssp.key': SITE_KEY,
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
