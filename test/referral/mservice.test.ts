/**
 * Seed 002 MService with real processes: two `steerdns agent --measure` processes stand
 * for two POPs (their addresses in two prefixes) and download a page from two real origins
 * that each sees with opposite delays; the server (`referral.measurements`) steers each
 * client, by its ECS subnet, to the site the agent sharing the longest prefix with it
 * measured best. A silent agent's figures age past `maxAge` and the server falls back to
 * the order before the policy, and says so in explain; a forged round is dropped and
 * counted. Loopback only.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dig, type DigResult } from '../helpers/dig.js';
import {
  endpoint,
  REPO_ROOT,
  startServer,
  tmpdirWith,
  type ServerProcess,
} from '../helpers/server-process.js';
import { stopAgentProcess } from '../helpers/agent-process.js';
import { encodeMapMessage } from '../../src/referral/message.js';
import { MessageClock } from '../../src/referral/replay.js';
import { sendMapMessage } from '../../src/referral/transport.js';

const key = randomBytes(32);
const SITE_A = '192.0.2.1';
const SITE_B = '192.0.2.2';
const POP1 = { name: 'pop1', address: '198.51.100.10', clients: '198.51.100.0/24' };
const POP2 = { name: 'pop2', address: '203.0.113.10', clients: '203.0.113.0/24' };

let dir: string;
let server: ServerProcess;
const agents = new Map<string, ChildProcess>();
const http: Server[] = [];

async function origin(delayMs: number): Promise<string> {
  const server = createServer((_req, res) => {
    const timer = setTimeout(() => res.end('z'.repeat(4096)), delayMs);
    res.once('close', () => {
      clearTimeout(timer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  http.push(server);
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A measuring agent process: `probes` is where it reaches site A and site B. */
function startMeasuring(
  pop: typeof POP1,
  [probeA, probeB]: readonly [string, string],
  to: string,
): ChildProcess {
  const args = [
    '--import',
    'tsx',
    'src/main.ts',
    'agent',
    '--measure',
    '--to',
    to,
    '--key-file',
    join(dir, 'map.key'),
    '--node',
    pop.name,
    '--address',
    pop.address,
    '--site',
    `${SITE_A}=${probeA}`,
    '--site',
    `${SITE_B}=${probeB}`,
    '--interval',
    '1s',
    '--timeout',
    '800ms',
  ];
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: 'ignore' });
  agents.set(pop.name, child);
  return child;
}

const ask = (subnet: string): Promise<DigResult> =>
  dig([
    '@127.0.0.1',
    '-p',
    String(server.port),
    `+subnet=${subnet}`,
    '+norec',
    'www.example.com',
    'A',
  ]);

/** Asks until the answer for clients in `subnet` is `want`; 20 s deadline. */
async function waitAnswer(subnet: string, want: string): Promise<DigResult> {
  const deadline = Date.now() + 20_000;
  let last: DigResult | undefined;
  while (Date.now() < deadline) {
    last = await ask(subnet);
    if (last.answer.some((l) => l.endsWith(` A ${want}`))) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(`clients in ${subnet} never got ${want} within 20 s: ${last?.answer.join(' | ')}`);
}

const mapListener = (): string => {
  const line = server.entries().find((e) => e['msg'] === 'listening');
  return (line?.['referral'] as { measurements: string }).measurements;
};

before(async () => {
  dir = await tmpdirWith({ 'map.key': key.toString('hex') });
  const [fast, slow] = [await origin(0), await origin(200)];
  await writeFile(
    join(dir, 'server.yaml'),
    `
listen: ['127.0.0.1:0']
workers: 1
api: { listen: '127.0.0.1:0' }
zones:
  - origin: example.com
    records: |
      $TTL 3600
      @ SOA ns hostmaster 1 3600 600 86400 300
      @ NS ns
      ns A 127.0.0.1
services:
  - name: www.example.com
    ttl: 60
    pools:
      - name: sites
        members:
          - { name: a, address: ${SITE_A} }
          - { name: b, address: ${SITE_B} }
    # Before the measured policy: the fallback order (configured order, a first).
    policies: [first, { policy: measured, maxAge: 3 }]
referral:
  keyFile: map.key
  measurements: { listen: '127.0.0.1:0' }
`,
  );
  server = await startServer(['serve', '--config', join(dir, 'server.yaml')], {
    addListen: false,
  });
  // pop1 reaches site A fast and B slowly; pop2 the other way round.
  startMeasuring(POP1, [fast, slow], mapListener());
  startMeasuring(POP2, [slow, fast], mapListener());
  for (const pop of [POP1, POP2])
    await server.waitForLog((e) => e?.['msg'] === `measurement agent ${pop.name} heard`, 20_000);
});

after(async () => {
  for (const child of agents.values()) await stopAgentProcess(child, 'SIGKILL');
  await server.stop();
  for (const h of http) h.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('clients in each prefix get the site their agent measured best', async () => {
  const one = await waitAnswer(POP1.clients, SITE_A);
  const two = await waitAnswer(POP2.clients, SITE_B);
  // The ECS scope: the bits the client's subnet has in common with the agent (24 of /24).
  assert.match(one.stdout, /CLIENT-SUBNET: 198\.51\.100\.0\/24\/24/, one.stdout);
  assert.match(two.stdout, /CLIENT-SUBNET: 203\.0\.113\.0\/24\/24/, two.stdout);
});

test('a silent agent expires after maxAge: the server falls back, and explain says so', async () => {
  await waitAnswer(POP2.clients, SITE_B);
  await stopAgentProcess(agents.get(POP2.name)!);
  // pop2 is still the agent nearest to its clients, but its figures age past 3 s.
  await waitAnswer(POP2.clients, SITE_A);
  const explained = await (
    await fetch(
      `http://${server.api!.host}:${server.api!.port}/explain?name=www.example.com&ecs=${POP2.clients}`,
    )
  ).text();
  assert.match(explained, /agent pop2: figures \d+ s old, over 3 s: next rule/);
  // pop1's clients still follow pop1.
  await waitAnswer(POP1.clients, SITE_A);
});

test('a forged round is dropped and counted in GET /status', async () => {
  const { host, port } = endpoint(mapListener());
  const forged = encodeMapMessage(
    {
      kind: 'measure',
      ...new MessageClock('pop1').next(),
      address: POP1.address,
      intervalMs: 1000,
      sites: [{ address: SITE_B, ok: true, ms: 0, resets: 0, abnormal: 0 }],
    },
    randomBytes(32),
  );
  assert.equal(await sendMapMessage(host, port, forged), false);
  const status = (await (
    await fetch(`http://${server.api!.host}:${server.api!.port}/status`)
  ).json()) as {
    referral: { measurements: { accepted: number; dropped: Record<string, number> } };
  };
  assert.equal(status.referral.measurements.dropped['bad-mac'], 1);
  assert.ok(status.referral.measurements.accepted >= 2);
  await waitAnswer(POP1.clients, SITE_A);
});
