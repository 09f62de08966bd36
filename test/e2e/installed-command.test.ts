/**
 * The installed command, `bin/steerdns.js`, as `npx steerdns` runs it: the esbuild bundle
 * (dist/steerdns.mjs) with the shebang's node options. The other end-to-end tests run the
 * TypeScript sources through tsx; this one checks that what `npm install` builds works too,
 * with one process and with workers forked from the bundle.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { before, test } from 'node:test';
import { promisify } from 'node:util';
import { query } from '../helpers/dns-client.js';
import { REPO_ROOT, startServer } from '../helpers/server-process.js';

const run = promisify(execFile);

before(async () => {
  // Bundle the current sources: dist/ may be older than them outside a fresh `npm ci`.
  await run(process.execPath, ['scripts/bundle.mjs'], { cwd: REPO_ROOT });
});

for (const workers of [1, 2]) {
  test(`bin/steerdns.js serves the example zone with ${workers} worker(s)`, async () => {
    const server = await startServer(
      ['serve', '--zone', 'example.org=examples/zones/example.org.zone', '--workers', `${workers}`],
      { executable: 'bin/steerdns.js' },
    );
    try {
      const reply = await query(server.address, { name: 'www.example.org', type: 'A' });
      assert.equal(reply.rcode, 'NOERROR');
      assert.deepEqual(
        reply.answers.map((answer) => ('data' in answer ? answer.data : undefined)).sort(),
        ['192.0.2.1', '192.0.2.2'],
      );
      // The shebang's options reach node: --expose-gc lets a load's garbage be collected.
      const cmdline = (await readFile(`/proc/${server.pid}/cmdline`, 'utf8')).split('\0');
      assert.ok(cmdline.includes('--expose-gc'), cmdline.join(' '));
      assert.ok(cmdline.includes('--max-semi-space-size=4'), cmdline.join(' '));
    } finally {
      await server.stop();
    }
  });
}

test('bin/steerdns.js version prints the package version', async () => {
  const { stdout } = await run(`${REPO_ROOT}/bin/steerdns.js`, ['version']);
  const { version } = JSON.parse(await readFile(`${REPO_ROOT}/package.json`, 'utf8')) as {
    version: string;
  };
  assert.equal(stdout.trim(), `steerdns ${version}`);
});
