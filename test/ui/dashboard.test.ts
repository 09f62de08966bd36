import assert from 'node:assert/strict';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test, type TestContext } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { randomBytes } from 'node:crypto';
import { startAgentProcess, stopAgentProcess } from '../helpers/agent-process.js';
import { startChromium } from '../helpers/browser.js';
import { query } from '../helpers/dns-client.js';
import {
  REPO_ROOT,
  startServer,
  tmpdirWith,
  type ServerProcess,
} from '../helpers/server-process.js';
import { startHttpBackends, type HttpBackends } from '../helpers/http-backends.js';

// The web dashboard in a real headless Chromium, against a real server with two services
// whose members are checked over HTTP against backend processes of this test (127.0.0.21-24,
// one port the system chose), and a node that joins a third service by announcing itself.
// The page is loaded, the token typed in, one backend killed (its member must turn red
// within 2 s), a member of the other service drained and enabled with the page's buttons,
// each checked in the next DNS answers over UDP. A screenshot is kept in test-artifacts/
// (docs/dashboard.md).

/** Checked every 500 ms, down after one failed check: the member killed turns red fast. */
const SERVICE = 'www.example.org.';
/** Down after three failed checks: a check slowed by a busy machine does not move c or d. */
const DRAINED = 'api.example.org.';
const ADDRESSES = { a: '127.0.0.21', b: '127.0.0.22', c: '127.0.0.23', d: '127.0.0.24' } as const;
const TOKEN = 'dashboard-test-token-0123456789';
/** The address the agent announces for app.example.org. */
const AGENT_ADDRESS = '127.0.0.31';
/** Where the screenshots go (git-ignored; docs/dashboard.md says so). */
const ARTIFACTS = join(REPO_ROOT, 'test-artifacts');

let backends!: HttpBackends;
let server!: ServerProcess;
let page!: Page;
let browser!: Browser;
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
      // The server's health transitions tell a flapping check from a slow page.
      for (const line of server.logs()) if (line.includes(' -> ')) t.diagnostic(line);
      throw error;
    }
  });
}

const config = (port: number): string => `
workers: 1
api:
  listen: 127.0.0.1:0
  tokenFile: api.tokens
agents:
  listen: [127.0.0.1:0]
  keyFile: agent.key
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
    health:
      type: http
      port: ${port}
      path: /health
      interval: 500ms
      timeout: 450ms
      fall: 1
      rise: 1
    policies: [up, admin, round-robin]
  - name: api.example.org
    ttl: 5
    answers: 3
    pools:
      - name: api
        members:
          - { name: c, address: ${ADDRESSES.c} }
          - { name: d, address: ${ADDRESSES.d} }
    health:
      type: http
      port: ${port}
      path: /health
      interval: 500ms
      timeout: 450ms
      fall: 3
      rise: 1
    policies: [up, admin, round-robin]
    allDown: nodata
  - name: app.example.org
    ttl: 5
    dynamic:
      pool: agents
    policies: [up, admin, least-load]
    allDown: nodata
`;

/** The addresses of the next `rounds` answers for api.example.org, over UDP. */
async function answered(rounds: number): Promise<Set<string>[]> {
  const replies: Set<string>[] = [];
  for (let i = 0; i < rounds; i++) {
    const reply = await query(server.address, { name: 'api.example.org', type: 'A' });
    replies.push(new Set(reply.answers.flatMap((a) => (a.type === 'A' ? [a.data] : []))));
  }
  return replies;
}

/** The row of member `id` (`pool/name`) of `service`. */
const row = (id: string, service = SERVICE): string =>
  `[data-service="${service}"] tr[data-member="${id}"]`;
const healthOf = (id: string, state: string, service = SERVICE): string =>
  `${row(id, service)} td.health[data-state="${state}"]`;

before(async () => {
  backends = await startHttpBackends(Object.values(ADDRESSES));
  cleanups.push(() => backends.stop());
  const port = backends.port;
  const dir = await tmpdirWith({
    'steerdns.yaml': config(port),
    'api.tokens': `dashboard ${TOKEN}\n`,
    'agent.key': `${randomBytes(32).toString('hex')}\n`,
  });
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  server = await startServer(['serve', '--config', join(dir, 'steerdns.yaml')]);
  cleanups.push(() => server.stop());
  assert.ok(server.api, 'the server has an operator interface');
  // One node that joins app.example.org by announcing itself: the agents section.
  const agent = startAgentProcess({
    port: server.agents[0]!.port,
    keyFile: join(dir, 'agent.key'),
    service: 'app.example.org',
    node: 'app1',
    address: AGENT_ADDRESS,
    load: 20,
  });
  cleanups.push(() => stopAgentProcess(agent));
  const chromium = await startChromium({ startTimeoutMs: 60_000 });
  cleanups.push(() => chromium.close());
  browser = chromium.browser;
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
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
  // Every cleanup runs, whatever the others do.
  const errors: unknown[] = [];
  for (const cleanup of cleanups.reverse())
    await cleanup().catch((error: unknown) => errors.push(error));
  if (errors.length > 0) throw new AggregateError(errors, 'dashboard test: cleanup failed');
});

step('the page loads without console errors and shows every member up', async () => {
  const response = await page.goto(`http://127.0.0.1:${server.api!.port}/ui/`);
  assert.equal(response?.status(), 200);
  for (const id of ['web/a', 'web/b']) await page.waitForSelector(healthOf(id, 'up'));
  for (const id of ['api/c', 'api/d']) await page.waitForSelector(healthOf(id, 'up', DRAINED));
  assert.deepEqual(problems, []);
});

step('with the token entered, the page shows the live view and allows actions', async () => {
  await page.getByLabel('API token').fill(TOKEN);
  await page.getByRole('button', { name: 'Use token' }).click();
  const drain = page.getByRole('button', { name: `Drain api/c of ${DRAINED}` });
  await drain.and(page.locator(':enabled')).waitFor();
  // The token is kept for the tab only.
  // (The page's own code, as text: the tests are type-checked without the DOM's types.)
  const stored = await page.evaluate<{ session: string | null; local: number }>(
    "({ session: sessionStorage.getItem('steerdns.apiToken'), local: localStorage.length })",
  );
  assert.deepEqual(stored, { session: TOKEN, local: 0 });
  assert.deepEqual(problems, []);
});

step('a node that announces itself shows in the agents section', async () => {
  const announced = page.locator('#agents tbody tr', { hasText: 'app1' });
  await announced.waitFor();
  const text = await announced.innerText();
  assert.match(text, /app\.example\.org/);
  assert.ok(text.includes(AGENT_ADDRESS), text);
  // And as a member of the service it announces.
  await page.waitForSelector(`[data-service="app.example.org."] tr[data-member$="/app1"]`);
  assert.deepEqual(problems, []);
});

step('a member whose backend is killed turns red within 2 s', async (t) => {
  // From a page that shows it up, so that what turns red is this kill.
  await page.waitForSelector(healthOf('web/b', 'up'));
  const earlier = new Set(server.logs());
  const start = performance.now();
  // When the server saw it (its log line), to tell a slow check from a slow page.
  const seen = server
    .waitForLog((_entry, line) => !earlier.has(line) && line.includes('web/b: up -> down'), 10_000)
    .then(
      (line) => {
        const { reason } = JSON.parse(line) as { reason?: string };
        return `${(performance.now() - start).toFixed(0)} ms (${reason ?? '?'})`;
      },
      () => 'never',
    );
  await backends.kill(ADDRESSES.b);
  await page.waitForSelector(healthOf('web/b', 'down'), { timeout: 10_000 });
  const elapsed = performance.now() - start;
  t.diagnostic(`red after ${elapsed.toFixed(0)} ms; the server logged it down after ${await seen}`);
  const badge = JSON.stringify(`${healthOf('web/b', 'down')} .badge`);
  const colour = await page.evaluate<string>(
    `getComputedStyle(document.querySelector(${badge})).backgroundColor`,
  );
  assert.equal(colour, 'rgb(198, 40, 40)', 'the down badge is red');
  assert.ok(elapsed <= 2000, `red after ${elapsed.toFixed(0)} ms`);
});

step('the drain button drains the member: the next answers leave it out', async () => {
  await page.getByRole('button', { name: `Drain api/c of ${DRAINED}` }).click();
  await page.getByText(`Drained api/c (${DRAINED}).`).waitFor();
  for (const reply of await answered(10)) assert.deepEqual([...reply], [ADDRESSES.d]);
  await page.waitForSelector(`${row('api/c', DRAINED)} .forced-draining`);
  // Every api.example.org answer so far went to d: its share of the last minute is all.
  const share = (id: string, text: string) =>
    page.locator(`${row(id, DRAINED)} td.share .percent`, { hasText: new RegExp(`^${text}$`) });
  await share('api/d', '100 %').waitFor();
  await share('api/c', '0 %').waitFor();
  await mkdir(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true });
  assert.deepEqual(problems, []);
});

step('the enable button puts it back in the answers', async () => {
  await page.getByRole('button', { name: `Enable api/c of ${DRAINED}` }).click();
  await page.getByText(`Enabled api/c (${DRAINED}).`).waitFor();
  for (const reply of await answered(10))
    assert.deepEqual([...reply].sort(), [ADDRESSES.c, ADDRESSES.d]);
  await page.waitForSelector(`${row('api/c', DRAINED)} td.serving[data-state="in"]`);
  assert.deepEqual(problems, []);
});

step('the decisions log shows the queries the test sent, explained', async () => {
  const sampled = page.locator('#decisions-body tr', { hasText: 'api.example.org. A' }).first();
  await sampled.waitFor();
  assert.match(await sampled.innerText(), /127\.0\.0\.1 udp/);
  assert.match(await sampled.innerText(), /NOERROR 127\.0\.0\.2[34]/);
});

step(
  'a wrong token is refused and forgotten; the page falls back to the read-only view',
  async () => {
    // A tab of its own (its own sessionStorage). Its 401 is the one console error expected.
    const context = await browser.newContext();
    const other = await context.newPage();
    const errors: string[] = [];
    other.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    other.on('pageerror', (error) => errors.push(`exception: ${error.message}`));
    await other.goto(`http://127.0.0.1:${server.api!.port}/ui/`);
    await other.getByLabel('API token').fill('not-the-token-0123456789');
    await other.getByRole('button', { name: 'Use token' }).click();
    await other.getByText('The token was refused.', { exact: false }).waitFor({ timeout: 15_000 });
    const stored = await other.evaluate<string | null>(
      "sessionStorage.getItem('steerdns.apiToken')",
    );
    assert.equal(stored, null, 'a refused token is not kept');
    await other.getByText('Read-only view', { exact: false }).waitFor({ timeout: 15_000 });
    const drain = other.getByRole('button', { name: `Drain api/c of ${DRAINED}` });
    assert.equal(await drain.isDisabled(), true, 'no actions without a token');
    assert.ok(
      errors.every((e) => e.includes('401')),
      errors.join('\n'),
    );
    await context.close();
    // The first tab still has its token, and forgets it when asked.
    await page.getByRole('button', { name: 'Forget token' }).click();
    const kept = await page.evaluate<string | null>("sessionStorage.getItem('steerdns.apiToken')");
    assert.equal(kept, null);
    assert.deepEqual(problems, []);
  },
);
