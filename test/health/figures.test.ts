/**
 * End to end, seed 000's polling variant: the `http` monitor with `figures: true` reads each
 * node's `load` from its JSON body into the live state, and the `overload` policy drops the
 * node far above the others. Changing what the nodes report moves the drop, without a
 * reload.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { query } from '../helpers/dns-client.js';
import { startServer, tmpdirWith, type ServerProcess } from '../helpers/server-process.js';

const loads: Record<string, number> = { a: 80, b: 20, c: 25, d: 30 };
const ADDRESS: Record<string, string> = {
  a: '192.0.2.1',
  b: '192.0.2.2',
  c: '192.0.2.3',
  d: '192.0.2.4',
};
let backend: Server;
let server: ServerProcess;
let dir = '';

before(async () => {
  backend = createServer((request, response) => {
    const load = loads[(request.url ?? '/').slice(1)];
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ load, connections: 10 }));
  });
  await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
  const port = (backend.address() as AddressInfo).port;
  const member = (name: string): string =>
    `          - { name: ${name}, address: ${ADDRESS[name]}, healthTarget: '127.0.0.1:${port}', health: { type: http, path: /${name}, figures: true, interval: 300ms, timeout: 250ms, rise: 1, fall: 1 } }`;
  dir = await tmpdirWith({
    'c.yaml': `
workers: 1
health: { startupGrace: 5s }
zones:
  - origin: example.org
    ttl: 3600
    records: |
      @    IN SOA ns1 hostmaster 1 7200 3600 1209600 300
      @    IN NS  ns1
      ns1  IN A   192.0.2.53
services:
  - name: www.example.org
    ttl: 5
    answers: 4
    pools:
      - name: nodes
        members:
${Object.keys(loads).map(member).join('\n')}
    policies: [up, { policy: overload, margin: 50 }, first]
`,
  });
  server = await startServer(['serve', '--config', join(dir, 'c.yaml')]);
});

after(async () => {
  await server.stop();
  backend.closeAllConnections();
  await new Promise<void>((resolve) =>
    backend.close(() => {
      resolve();
    }),
  );
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The addresses answered now, sorted. */
async function answered(): Promise<string[]> {
  const reply = await query(server.address, { name: 'www.example.org', type: 'A' });
  return reply.answers.map((a) => String((a as { data?: unknown }).data)).sort();
}

async function until(want: readonly string[], ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  let got: string[] = [];
  while (Date.now() < deadline) {
    got = await answered();
    if (JSON.stringify(got) === JSON.stringify(want)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.fail(`waited ${ms} ms for answers ${JSON.stringify(want)}; last ${JSON.stringify(got)}`);
}

test('the node reporting load 80 next to three at 20-30 is dropped by overload', async () => {
  await until([ADDRESS['b']!, ADDRESS['c']!, ADDRESS['d']!], 10_000);
});

test('when another node reports the high load, the drop moves, without a reload', async () => {
  loads['a'] = 20;
  loads['b'] = 80;
  await until([ADDRESS['a']!, ADDRESS['c']!, ADDRESS['d']!], 10_000);
});
