/**
 * Site lists by multicast (seed 002: the DNS-B forwards the owner's site list "multicast to
 * all or unicast") with real processes: a DNS-B with `multicast` sends each list once to an
 * IPv4 group on loopback, which two DNS-LBs (no unicast listener) join; both stop answering
 * the site the list has offline. A datagram replayed to the group, and one signed with
 * another key, are dropped and counted by each DNS-LB. Skipped where loopback multicast
 * does not work (lo without MULTICAST).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dig } from '../helpers/dig.js';
import {
  endpoint,
  startServer,
  tmpdirWith,
  type ServerProcess,
} from '../helpers/server-process.js';
import { encodeMapMessage } from '../../src/referral/message.js';
import { MessageClock } from '../../src/referral/replay.js';
import { sendMapMessage } from '../../src/referral/transport.js';

const key = randomBytes(32);
const GROUP = `239.255.54.${randomInt(1, 255)}`;
const SITE_A = '192.0.2.1';
const SITE_B = '192.0.2.2';

/** Undefined when a datagram to `group`, sent and joined on 127.0.0.1, arrives; else why not. */
async function loopbackMulticast(group: string): Promise<string | undefined> {
  const inbox = createSocket({ type: 'udp4', reuseAddr: true });
  const out = createSocket('udp4');
  try {
    await new Promise<void>((done) => inbox.bind(0, group, done));
    inbox.addMembership(group, '127.0.0.1');
    await new Promise<void>((done) => out.bind(0, '127.0.0.1', done));
    out.setMulticastInterface('127.0.0.1');
    const arrived = new Promise<boolean>((done) => {
      inbox.once('message', () => {
        done(true);
      });
      setTimeout(() => {
        done(false);
      }, 1000).unref();
    });
    out.send('probe', inbox.address().port, group);
    return (await arrived) ? undefined : 'no multicast delivery on the loopback interface here';
  } catch (error) {
    return `no multicast on the loopback interface here: ${(error as Error).message}`;
  } finally {
    inbox.close();
    out.close();
  }
}

const skip = await loopbackMulticast(GROUP);
let dir: string;
let dnsb: ServerProcess;
const lbs: ServerProcess[] = [];
const servers: ServerProcess[] = [];
/** The test's own member of the group: it sees what the DNS-B sends, and replays it. */
let watcher: Socket | undefined;
const heard: Buffer[] = [];
let groupPort = 0;
/** The DNS-B's datagram with b offline, as heard on the group (replayed by the second test). */
let offlineDatagram: Buffer | undefined;

async function serve(name: string, yaml: string): Promise<ServerProcess> {
  await writeFile(join(dir, `${name}.yaml`), yaml);
  const s = await startServer(['serve', '--config', join(dir, `${name}.yaml`)], {
    addListen: false,
  });
  servers.push(s);
  return s;
}

const lbYaml = (label: string, address: string, map: { host: string; port: number }) => `
listen: ['127.0.0.1:0']
workers: 1
api: { listen: '127.0.0.1:0' }
zones:
  - origin: ${label}.www.example.com
    records: |
      $TTL 3600
      @ SOA ns hostmaster 1 3600 600 86400 300
      @ NS ns
      ns A ${address}
services:
  - name: ${label}.www.example.com
    ttl: 300
    answers: 2
    pools:
      - name: sites
        members:
          - { name: a, address: ${SITE_A} }
          - { name: b, address: ${SITE_B} }
referral:
  keyFile: map.key
  balancer:
    label: ${label}
    address: ${address}
    resolvers: [127.0.0.${label === 'lb1' ? 31 : 32}]
    backbones: ['${map.host}:${map.port}']
    interval: 60s
    multicast: { group: '${GROUP}:${groupPort}', interface: 127.0.0.1 }
`;

/** The sites a DNS-LB answers, in order. */
async function answered(lb: ServerProcess, label: string): Promise<string[]> {
  const result = await dig([
    '@127.0.0.1',
    '-p',
    String(lb.port),
    '+norec',
    `${label}.www.example.com`,
    'A',
  ]);
  return result.answer.map((line) => line.split(' ').at(-1)!).sort();
}

/** Asks until `lb` answers exactly `want`; 20 s deadline. */
async function waitSites(lb: ServerProcess, label: string, want: string[]): Promise<void> {
  const deadline = Date.now() + 20_000;
  let last: string[] = [];
  while (Date.now() < deadline) {
    last = await answered(lb, label);
    if (JSON.stringify(last) === JSON.stringify(want)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(`${label}: never answered ${want.join(', ')} within 20 s: ${last.join(', ')}`);
}

async function balancerDrops(lb: ServerProcess): Promise<Record<string, number>> {
  const res = await fetch(`http://${lb.api!.host}:${lb.api!.port}/status`);
  const body = (await res.json()) as {
    referral: { balancer: { dropped: Record<string, number> } };
  };
  return body.referral.balancer.dropped;
}

before(async () => {
  if (skip) return;
  dir = await tmpdirWith({ 'map.key': key.toString('hex') });
  watcher = createSocket({ type: 'udp4', reuseAddr: true });
  watcher.on('message', (bytes) => heard.push(bytes));
  await new Promise<void>((done) => watcher!.bind(0, GROUP, done));
  watcher.addMembership(GROUP, '127.0.0.1');
  // The system chose the group's port for the watcher: everyone else uses it.
  groupPort = watcher.address().port;
  dnsb = await serve(
    'dnsb',
    `
listen: ['127.0.0.1:0']
workers: 1
zones:
  - origin: www.example.com
    records: |
      $TTL 86400
      @ SOA b1.backbone.example.com. hostmaster.example.com. 1 3600 600 86400 300
      @ NS b1.backbone.example.com.
referral:
  keyFile: map.key
  backbone:
    listen: '127.0.0.1:0'
    names: [www.example.com]
    multicast: { group: '${GROUP}:${groupPort}', interface: 127.0.0.1, ttl: 0 }
`,
  );
  const line = dnsb.entries().find((e) => e['msg'] === 'listening');
  const map = endpoint((line?.['referral'] as { backbone: string }).backbone);
  lbs.push(await serve('lb1', lbYaml('lb1', '127.0.0.21', map)));
  lbs.push(await serve('lb2', lbYaml('lb2', '127.0.0.22', map)));
  for (const lb of lbs)
    await lb.waitForLog((e) => String(e?.['msg']).startsWith('registered'), 10_000);
});

after(async () => {
  for (const s of servers.reverse()) await s.stop();
  watcher?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const owner = new MessageClock('dnsa');
const siteList = (bOnline: boolean, signedWith = key) =>
  encodeMapMessage(
    {
      kind: 'sites',
      ...owner.next(),
      name: 'www.example.com',
      sites: [
        { address: SITE_A, online: true },
        { address: SITE_B, online: bOnline },
      ],
    },
    signedWith,
  );

test('one datagram to the group brings the owner list to every DNS-LB', { skip }, async () => {
  const [lb1, lb2] = lbs as [ServerProcess, ServerProcess];
  await waitSites(lb1, 'lb1', [SITE_A, SITE_B]);
  await waitSites(lb2, 'lb2', [SITE_A, SITE_B]);
  const map = endpoint(
    (dnsb.entries().find((e) => e['msg'] === 'listening')?.['referral'] as { backbone: string })
      .backbone,
  );
  const before = heard.length;
  assert.equal(await sendMapMessage(map.host, map.port, siteList(false)), true);
  await waitSites(lb1, 'lb1', [SITE_A]);
  await waitSites(lb2, 'lb2', [SITE_A]);
  // Nobody gave a unicast address: the list came by the group, once for both.
  assert.equal(heard.length - before, 1, 'one datagram to the group');
  offlineDatagram = heard[before];
  for (const lb of lbs)
    await lb.waitForLog(
      (e) => e?.['msg'] === 'site list of www.example.com received from dnsb',
      5000,
    );
  assert.equal(await sendMapMessage(map.host, map.port, siteList(true)), true);
  await waitSites(lb1, 'lb1', [SITE_A, SITE_B]);
  await waitSites(lb2, 'lb2', [SITE_A, SITE_B]);
});

test('a replayed or forged datagram to the group is dropped and counted', { skip }, async () => {
  const captured = offlineDatagram;
  assert.ok(captured, 'the DNS-B list with b offline was heard');
  const out = createSocket('udp4');
  try {
    await new Promise<void>((done) => out.bind(0, '127.0.0.1', done));
    out.setMulticastInterface('127.0.0.1');
    const send = (bytes: Buffer) =>
      new Promise<void>((done, fail) => {
        out.send(bytes, groupPort, GROUP, (error) => {
          if (error) fail(error);
          else done();
        });
      });
    await send(captured);
    await send(siteList(false, randomBytes(32)));
    for (const lb of lbs) {
      const deadline = Date.now() + 10_000;
      let drops = await balancerDrops(lb);
      while (Date.now() < deadline && !(drops['replay'] && drops['bad-mac'])) {
        await new Promise((r) => setTimeout(r, 200));
        drops = await balancerDrops(lb);
      }
      assert.ok(drops['replay'] === 1 && drops['bad-mac'] === 1, JSON.stringify(drops));
    }
    // Neither took the list with b offline again.
    await waitSites(lbs[0]!, 'lb1', [SITE_A, SITE_B]);
    await waitSites(lbs[1]!, 'lb2', [SITE_A, SITE_B]);
  } finally {
    out.close();
  }
});
