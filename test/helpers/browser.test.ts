import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { liveGroupMembers, startChromium } from './browser.js';

/** True while a process with `pid` exists. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('chromium starts with a fresh profile, renders a page, and is gone with its profile after close', async () => {
  const chromium = await startChromium();
  try {
    assert.ok(alive(chromium.pid));
    assert.ok(existsSync(chromium.profile), 'the profile directory exists while it runs');
    const page = await (await chromium.browser.newContext()).newPage();
    await page.setContent('<p id="x">steerdns</p>');
    assert.equal(await page.textContent('#x'), 'steerdns');
  } finally {
    await chromium.close();
  }
  assert.equal(alive(chromium.pid), false, 'the browser process ended');
  // Its renderers were in its process group: none runs.
  assert.deepEqual(liveGroupMembers(chromium.pid), []);
  assert.equal(existsSync(chromium.profile), false, 'the profile directory is removed');
  await chromium.close();
});
