/**
 * The DNS-B (seed 002) as a real process: registrations over the map protocol, the
 * CNAME + referral + glue answered per resolver address, re-registration, the nearest
 * default, forged/replayed/malformed messages dropped and counted, and the table kept
 * across a restart (state file).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { dig } from '../helpers/dig.js';
import {
  endpoint,
  startServer,
  tmpdirWith,
  type ServerProcess,
} from '../helpers/server-process.js';
import { encodeMapMessage, type Registration } from '../../src/referral/message.js';
import { MessageClock } from '../../src/referral/replay.js';
import { sendMapMessage } from '../../src/referral/transport.js';

const key = randomBytes(32);
const CONFIG = `
listen: ['127.0.0.1:0']
workers: 1
zones:
  - origin: www.example.com
    records: |
      $TTL 86400
      @ SOA ns1.backbone.example. host.example. 1 3600 600 86400 300
      @ NS ns1.backbone.example.
referral:
  keyFile: map.key
  backbone:
    listen: 127.0.0.1:0
    names: [www.example.com]
    stateFile: dnsb.state
    nearestMinPrefix: 24
`;

let dir: string;
let server: ServerProcess;
const clocks = new Map<string, MessageClock>();

/** The map listener of the `listening` line. */
function mapAddress(s: ServerProcess): { host: string; port: number } {
  const line = s.entries().find((e) => e['msg'] === 'listening');
  const referral = line?.['referral'] as { backbone?: string } | undefined;
  assert.ok(referral?.backbone, 'the listening line names the map listener');
  return endpoint(referral.backbone);
}

function registration(label: string, balancer: string, resolvers: string[]): Registration {
  let clock = clocks.get(label);
  if (!clock) clocks.set(label, (clock = new MessageClock(label)));
  return {
    kind: 'register',
    ...clock.next(),
    balancer,
    resolvers,
    notify: undefined,
    intervalMs: 60_000,
  };
}

async function send(bytes: Buffer): Promise<boolean> {
  const { host, port } = mapAddress(server);
  return sendMapMessage(host, port, bytes);
}

async function ask(from: string, name = 'www.example.com') {
  return dig(['@127.0.0.1', '-p', String(server.port), '-b', from, '+norec', name, 'A']);
}

before(async () => {
  dir = await tmpdirWith({ 'dnsb.yaml': CONFIG, 'map.key': key.toString('hex') });
  server = await startServer(['serve', '--config', join(dir, 'dnsb.yaml')], { addListen: false });
});

after(async () => {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
});

test('a resolver gets a CNAME to its DNS-LB, the referral and the glue, TTL one hour', async () => {
  assert.equal(
    await send(encodeMapMessage(registration('lb1', '127.0.0.21', ['127.0.0.31']), key)),
    true,
  );
  assert.equal(
    await send(encodeMapMessage(registration('lb2', '127.0.0.22', ['127.0.0.32']), key)),
    true,
  );
  const one = await ask('127.0.0.31');
  assert.deepEqual(one.answer, ['www.example.com. 3600 IN CNAME lb1.www.example.com.']);
  assert.deepEqual(one.authority, ['lb1.www.example.com. 3600 IN NS ns.lb1.www.example.com.']);
  assert.deepEqual(one.additional, ['ns.lb1.www.example.com. 3600 IN A 127.0.0.21']);
  assert.ok(one.flags.includes('aa'), `the CNAME is authoritative: ${one.flags.join(' ')}`);
  const two = await ask('127.0.0.32');
  assert.deepEqual(two.answer, ['www.example.com. 3600 IN CNAME lb2.www.example.com.']);
  // Below the cut: the referral alone, not authoritative.
  const below = await ask('127.0.0.99', 'lb1.www.example.com');
  assert.deepEqual(below.answer, []);
  assert.deepEqual(below.authority, ['lb1.www.example.com. 3600 IN NS ns.lb1.www.example.com.']);
  assert.ok(!below.flags.includes('aa'));
});

test('an unmapped resolver gets the DNS-LB of the nearest registered one', async () => {
  // .33 = 0b00100001 shares 31 bits with .32 (0b00100000), 26 with .31 (0b00011111).
  const near = await ask('127.0.0.33');
  assert.deepEqual(near.answer, ['www.example.com. 3600 IN CNAME lb2.www.example.com.']);
});

test('re-registration moves a resolver to the DNS-LB that registered it last', async () => {
  assert.equal(
    await send(
      encodeMapMessage(registration('lb1', '127.0.0.21', ['127.0.0.31', '127.0.0.32']), key),
    ),
    true,
  );
  const moved = await ask('127.0.0.32');
  assert.deepEqual(moved.answer, ['www.example.com. 3600 IN CNAME lb1.www.example.com.']);
});

test('forged, replayed and malformed map messages are dropped and counted', async () => {
  const genuine = encodeMapMessage(registration('lb3', '127.0.0.23', ['127.0.0.32']), key);
  const forged = encodeMapMessage(
    registration('lb3', '127.0.0.23', ['127.0.0.32']),
    randomBytes(32),
  );
  assert.equal(await send(forged), false, 'a message signed with another key is rejected');
  assert.equal(await send(genuine), true);
  assert.equal(await send(genuine), false, 'the same message twice is a replay');
  const stale = {
    ...registration('lb4', '127.0.0.24', ['127.0.0.32']),
    timestamp: Date.now() - 3_600_000,
  };
  assert.equal(await send(encodeMapMessage(stale, key)), false, 'an old time stamp is stale');
  assert.equal(
    await send(Buffer.from('SDM1 not a message at all, not signed either......')),
    false,
  );
  const reasons = ['bad-mac', 'replay', 'stale', 'bad-version'];
  for (const reason of reasons)
    await server.waitForLog((e) => e?.['msg'] === `map message dropped: ${reason}`, 5000);
  const last = server
    .entries()
    .filter((e) => typeof e['msg'] === 'string' && e['msg'].startsWith('map message dropped'))
    .at(-1);
  const dropped = last?.['dropped'] as Record<string, number>;
  for (const reason of reasons)
    assert.equal(dropped[reason], 1, `${reason} counted once: ${JSON.stringify(dropped)}`);
  // The forgery changed nothing; the genuine lb3 took .32 (it registered it last).
  const now = await ask('127.0.0.32');
  assert.deepEqual(now.answer, ['www.example.com. 3600 IN CNAME lb3.www.example.com.']);
});

test('a restarted DNS-B answers from its saved table', async () => {
  await server.stop();
  server = await startServer(['serve', '--config', join(dir, 'dnsb.yaml')], { addListen: false });
  await server.waitForLog(
    (e) => e?.['msg'] === `referral table read from ${join(dir, 'dnsb.state')}`,
    5000,
  );
  const one = await ask('127.0.0.31');
  assert.deepEqual(one.answer, ['www.example.com. 3600 IN CNAME lb1.www.example.com.']);
  // A message captured before the restart is still a replay.
  const replayed = encodeMapMessage(registration('lb9', '127.0.0.29', ['127.0.0.31']), key);
  assert.equal(await send(replayed), true);
  assert.equal(await send(replayed), false);
});
