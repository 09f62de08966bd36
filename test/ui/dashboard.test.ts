import assert from 'node:assert/strict';
import { mkdir, rm } from 'node:fs/promises';
import http from 'node:http';
import { join } from 'node:path';
import { after, before, test, type TestContext } from 'node:test';
import type { Page } from 'playwright-core';
import { startChromium } from '../helpers/browser.js';
import { query } from '../helpers/dns-client.js';
import {
  REPO_ROOT,
  startServer,
  tmpdirWith,
  type ServerProcess,
} from '../helpers/server-process.js';
import { listenOnOnePort } from '../helpers/sockets.js';

// The web dashboard in a real headless Chromium, against a real server whose three members
// are checked over HTTP against backends of this test (127.0.0.21-23, one port the system
// chose). The page is loaded, the token typed in, one backend stopped (its member must turn
// red within 2 s), another member drained and enabled with the page's buttons, each
// checked in the next DNS answers over UDP. A screenshot is kept in test-artifacts/.

const SERVICE = 'www.example.org.';
const ADDRESSES = { a: '127.0.0.21', b: '127.0.0.22', c: '127.0.0.23' } as const;
const TOKEN = 'dashboard-test-token-0123456789';
/** Where the screenshots go (git-ignored; docs/api.md says so). */
const ARTIFACTS = join(REPO_ROOT, 'test-artifacts');

const backends = new Map<string, http.Server>();
let server!: ServerProcess;
let page!: Page;
/** Console errors and uncaught exceptions of the page, as they came. */
const problems: string[] = [];
/** What `after` undoes, last made first undone (also when `before` failed half-way). */
const cleanups: (() => Promise<unknown>)[] = [];
/** Set when a test failed: `after` keeps a screenshot of the page as it was. */
let failed = false;

/** A test of the sequence below; a failure is remembered for the screenshot. */
function step(name: string, body: (t: TestContext) => Promise<void>): void {
  test(name, async (t) => {
    try {
      await body(t);
    } catch (error) {
      failed = true;
      throw error;
    }
  });
}

function backend(): http.Server {
  return http.createServer((request, response) => {
    response.writeHead(request.url === '/health' ? 200 : 404).end('ok');
  });
}

/** Stops a backend: its port on that address refuses connections from now on. */
function stopBackend(address: string): Promise<void> {
  const stopped = backends.get(address)!;
  backends.delete(address);
  stopped.closeAllConnections();
  return new Promise((resolve) => {
    stopped.close(() => {
      resolve();
    });
  });
}

const config = (port: number): string => `
workers: 1
api:
  listen: 127.0.0.1:0
  tokenFile: api.tokens
health:
  startupGrace: 2s
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
    answers: 3
    pools:
      - name: web
        members:
          - { name: a, address: ${ADDRESSES.a} }
          - { name: b, address: ${ADDRESSES.b} }
          - { name: c, address: ${ADDRESSES.c} }
    health:
      type: http
      port: ${port}
      path: /health
      interval: 200ms
      timeout: 150ms
      fall: 1
      rise: 1
    policies: [up, admin, round-robin]
`;

/** The addresses of the next `rounds` answers for the service, over UDP. */
async function answered(rounds: number): Promise<Set<string>[]> {
  const replies: Set<string>[] = [];
  for (let i = 0; i < rounds; i++) {
    const reply = await query(server.address, { name: 'www.example.org', type: 'A' });
    replies.push(new Set(reply.answers.flatMap((a) => (a.type === 'A' ? [a.data] : []))));
  }
  return replies;
}

const row = (member: string): string =>
  `[data-service="${SERVICE}"] tr[data-member="web/${member}"]`;
const healthOf = (member: string, state: string): string =>
  `${row(member)} td.health[data-state="${state}"]`;

before(async () => {
  const servers = Object.values(ADDRESSES).map((address) => {
    const created = backend();
    backends.set(address, created);
    return [created, address] as const;
  });
  cleanups.push(async () => {
    for (const address of [...backends.keys()]) await stopBackend(address);
  });
  const port = await listenOnOnePort(servers);
  const dir = await tmpdirWith({
    'steerdns.yaml': config(port),
    'api.tokens': `dashboard ${TOKEN}\n`,
  });
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  server = await startServer(['serve', '--config', join(dir, 'steerdns.yaml')]);
  cleanups.push(() => server.stop());
  assert.ok(server.api, 'the server has an operator interface');
  const chromium = await startChromium({ startTimeoutMs: 60_000 });
  cleanups.push(() => chromium.close());
  const context = await chromium.browser.newContext({ viewport: { width: 1280, height: 720 } });
  const opened = await context.newPage();
  opened.setDefaultTimeout(15_000);
  opened.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  opened.on('pageerror', (error) => problems.push(`exception: ${error.message}`));
  page = opened;
});

after(async () => {
  try {
    if (failed || problems.length > 0) {
      await mkdir(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard-failure.png'), fullPage: true });
    }
  } catch {
    // The screenshot is a help, not the test.
  }
  for (const cleanup of cleanups.reverse()) await cleanup();
});

step('the page loads without console errors and shows every member up', async () => {
  const response = await page.goto(`http://127.0.0.1:${server.api!.port}/ui/`);
  assert.equal(response?.status(), 200);
  for (const member of ['a', 'b', 'c']) await page.waitForSelector(healthOf(member, 'up'));
  assert.deepEqual(problems, []);
});

step('with the token entered, the page shows the live view and allows actions', async () => {
  await page.getByLabel('API token').fill(TOKEN);
  await page.getByRole('button', { name: 'Use token' }).click();
  const drain = page.getByRole('button', { name: `Drain web/c of ${SERVICE}` });
  await drain.and(page.locator(':enabled')).waitFor();
  // The token is kept for the tab only.
  // (The page's own code, as text: the tests are type-checked without the DOM's types.)
  const stored = await page.evaluate<{ session: string | null; local: number }>(
    "({ session: sessionStorage.getItem('steerdns.apiToken'), local: localStorage.length })",
  );
  assert.deepEqual(stored, { session: TOKEN, local: 0 });
  assert.deepEqual(problems, []);
});

step('a member whose backend is stopped turns red within 2 s', async (t) => {
  const start = performance.now();
  // When the server saw it (its log line), to tell a slow check from a slow page.
  const seen = server
    .waitForLog((_entry, line) => line.includes('web/b: up -> down'), 10_000)
    .then(
      () => `${(performance.now() - start).toFixed(0)} ms`,
      () => 'never',
    );
  await stopBackend(ADDRESSES.b);
  await page.waitForSelector(healthOf('b', 'down'), { timeout: 10_000 });
  const elapsed = performance.now() - start;
  t.diagnostic(`red after ${elapsed.toFixed(0)} ms; the server logged it down after ${await seen}`);
  const badge = JSON.stringify(`${healthOf('b', 'down')} .badge`);
  const colour = await page.evaluate<string>(
    `getComputedStyle(document.querySelector(${badge})).backgroundColor`,
  );
  assert.equal(colour, 'rgb(198, 40, 40)', 'the down badge is red');
  assert.ok(elapsed <= 2000, `red after ${elapsed.toFixed(0)} ms`);
});

step('the drain button drains the member: the next answers leave it out', async () => {
  await page.getByRole('button', { name: `Drain web/c of ${SERVICE}` }).click();
  await page.getByText(`Drained web/c (${SERVICE}).`).waitFor();
  for (const reply of await answered(10))
    assert.deepEqual([...reply], [ADDRESSES.a], 'only a: b is down and c drained');
  await page.waitForSelector(`${row('c')} .forced-draining`);
  await mkdir(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true });
  assert.deepEqual(problems, []);
});

step('the enable button puts it back in the answers', async () => {
  await page.getByRole('button', { name: `Enable web/c of ${SERVICE}` }).click();
  await page.getByText(`Enabled web/c (${SERVICE}).`).waitFor();
  for (const reply of await answered(10))
    assert.deepEqual([...reply].sort(), [ADDRESSES.a, ADDRESSES.c]);
  await page.waitForSelector(`${row('c')} td.serving[data-state="in"]`);
  assert.deepEqual(problems, []);
});

step('the decisions log shows the queries the test sent, explained', async () => {
  const sampled = page.locator('#decisions-body tr', { hasText: 'www.example.org. A' }).first();
  await sampled.waitFor();
  assert.match(await sampled.innerText(), /127\.0\.0\.1 udp/);
  assert.match(await sampled.innerText(), /NOERROR 127\.0\.0\.2[13]/);
});
