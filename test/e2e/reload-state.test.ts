/**
 * End to end: a reload changes what it says it changes. Listeners move (the new address is
 * bound before the old one closes, and a taken address rejects the whole reload), and the
 * live state of members that still exist survives it: health results and persistence.
 */
import assert from 'node:assert/strict';
import type { Answer } from 'dns-packet';
import { createSocket, type Socket } from 'node:dgram';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createServer, type Server } from 'node:net';
import { query, DnsTimeoutError } from '../helpers/dns-client.js';
import { decodeReply, encodeQuery } from '../helpers/dns-wire.js';
import { startServer, tmpdirWith, type ServerProcess } from '../helpers/server-process.js';
import { closedTcpPort, resolverAt, type ClosedPort } from '../helpers/sockets.js';
import { rdataTexts } from './fixtures/server.js';

const ttlOf = (answer: Answer | undefined): number | undefined =>
  answer && 'ttl' in answer ? answer.ttl : undefined;

const ZONE = `zones:
  - origin: example.org
    ttl: 3600
    records: |
      @ IN SOA ns1 hostmaster 1 7200 3600 1209600 300
      @ IN NS ns1
      ns1 IN A 192.0.2.53
`;

interface Parts {
  readonly listen: string;
  readonly upPort: number;
  readonly downPort: number;
  readonly ttl: number;
}

/** The configuration: `up` answers a health check, `down` does not (its port is closed). */
const config = ({ listen, upPort, downPort, ttl }: Parts): string => `
listen: ['${listen}']
workers: 1
health: { startupGrace: 10s }
${ZONE}services:
  - name: checked.example.org
    ttl: ${ttl}
    pools:
      - name: web
        members:
          - { name: up, address: 192.0.2.1, healthTarget: '127.0.0.1:${upPort}' }
          - { name: down, address: 192.0.2.2, healthTarget: '127.0.0.1:${downPort}' }
    health: { type: tcp, interval: 4s, fall: 1, rise: 1 }
    policies: [up, admin, round-robin]
  - name: sticky.example.org
    ttl: ${ttl}
    pools:
      - name: web
        members:
          - { name: a, address: 192.0.2.11 }
          - { name: b, address: 192.0.2.12 }
    policies: [up, admin, weighted, { policy: persistence, ttl: 600 }]
`;

/** Log entries written after line `from` that satisfy `predicate`, waiting for the first. */
async function logAfter(
  server: ServerProcess,
  from: number,
  predicate: (entry: Record<string, unknown>) => boolean,
  what: string,
  timeoutMs = 10_000,
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const line of server.logs().slice(from)) {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        continue;
      }
      if (predicate(entry)) return entry;
    }
    if (Date.now() > deadline || !server.isAlive())
      throw new Error(
        `waited ${timeoutMs} ms for ${what}; log since:\n${server.logs().slice(from).join('\n')}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function askFrom(socket: Socket, port: number, name: string): Promise<string> {
  const bytes = encodeQuery({ name, type: 'A' });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`no answer to ${name} within 3000 ms`));
    }, 3000);
    socket.once('message', (message: Buffer) => {
      clearTimeout(timer);
      resolve(rdataTexts(decodeReply(message).answers.slice(0, 1))[0] ?? '');
    });
    socket.send(bytes, port, '127.0.0.1');
  });
}

const addressesOf = async (port: number, host = '127.0.0.1'): Promise<string[]> => {
  const reply = await query({ host, port }, { name: 'checked.example.org', type: 'A' });
  return rdataTexts(reply.answers);
};

describe('reload', { timeout: 120_000 }, () => {
  let dir: string;
  let file: string;
  let server: ServerProcess;
  let backend: Server;
  let upPort: number;
  let closed: ClosedPort;
  /** Where the server listens after the listen address moved. */
  let moved: { host: string; port: number } | undefined;
  const parts = (listen: string, ttl: number): Parts => ({
    listen,
    upPort,
    downPort: closed.port,
    ttl,
  });

  before(async () => {
    closed = await closedTcpPort('127.0.0.1');
    backend = createServer((socket) => {
      // The check connects and goes: a reset is how some of them leave.
      socket.on('error', () => undefined);
      socket.end();
    });
    await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
    upPort = (backend.address() as { port: number }).port;
    dir = await tmpdirWith({
      'steerdns.yaml': config(parts('127.0.0.1:0', 3)),
    });
    file = join(dir, 'steerdns.yaml');
    server = await startServer(['serve', '--config', file], { addListen: false });
  });

  after(async () => {
    await server.stop();
    await new Promise((resolve) => backend.close(resolve));
    await closed.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('health results and persistence entries survive a reload', async () => {
    const port = server.dnsAt('127.0.0.1').port;
    // Answers right after the reload come before any new check: what the server knows
    // then, it knew before.
    await logAfter(
      server,
      0,
      (e) => String(e['msg']).includes('web/down: unknown -> down'),
      'the down member checked',
    );
    for (let i = 0; i < 4; i++)
      assert.deepEqual(await addressesOf(port), ['192.0.2.1'], `before #${i}`);
    const first = await resolverAt('127.0.0.41');
    const second = await resolverAt('127.0.0.42');
    try {
      const a = await askFrom(first, port, 'sticky.example.org');
      const b = await askFrom(second, port, 'sticky.example.org');
      assert.notEqual(a, b, 'weighted 1:1 gives the two resolvers different members');
      const mark = server.logs().length;
      await writeFile(file, config(parts('127.0.0.1:0', 2)));
      server.signal('SIGHUP');
      await logAfter(server, mark, (e) => e['msg'] === 'reloaded', 'reloaded');
      const after = await query(
        { host: '127.0.0.1', port },
        { name: 'checked.example.org', type: 'A' },
      );
      assert.equal(ttlOf(after.answers[0]), 2, 'the reload applied (new TTL)');
      for (let i = 0; i < 4; i++)
        assert.deepEqual(await addressesOf(port), ['192.0.2.1'], `after #${i}`);
      // A fresh rotation would give the second resolver the first member now.
      assert.equal(
        await askFrom(second, port, 'sticky.example.org'),
        b,
        'the second resolver stays',
      );
      assert.equal(await askFrom(first, port, 'sticky.example.org'), a, 'the first resolver stays');
    } finally {
      first.close();
      second.close();
    }
  });

  test('a new listen address is bound before the old one closes', async () => {
    const old = server.dnsAt('127.0.0.1');
    const mark = server.logs().length;
    await writeFile(file, config(parts('127.0.0.2:0', 2)));
    server.signal('SIGHUP');
    const listening = await logAfter(server, mark, (e) => e['msg'] === 'listening', 'listening');
    const udp = (listening['dns'] as { udp: string[] }).udp;
    assert.equal(udp.length, 1, JSON.stringify(listening));
    const [host, portText] = udp[0]!.split(':');
    assert.equal(host, '127.0.0.2');
    const port = Number(portText);
    moved = { host: '127.0.0.2', port };
    assert.deepEqual(await addressesOf(port, '127.0.0.2'), ['192.0.2.1']);
    const tcp = await query(
      { host: '127.0.0.2', port },
      { name: 'checked.example.org', type: 'A' },
      { transport: 'tcp' },
    );
    assert.equal(tcp.answers.length, 1, 'TCP moved too');
    await assert.rejects(
      query(old, { name: 'checked.example.org', type: 'A' }, { timeoutMs: 500 }),
      DnsTimeoutError,
      'the old address no longer answers',
    );
  });

  test('a listen address that is taken rejects the reload; the old one keeps answering', async () => {
    const current = moved;
    assert.ok(current, 'the listen address moved in the test before');
    const squatter = createSocket('udp4');
    await new Promise<void>((resolve) => squatter.bind(0, '127.0.0.3', resolve));
    try {
      const taken = squatter.address().port;
      const mark = server.logs().length;
      await writeFile(file, config(parts(`127.0.0.3:${taken}`, 1)));
      server.signal('SIGHUP');
      const rejected = await logAfter(
        server,
        mark,
        (e) => String(e['msg']).startsWith('reload rejected'),
        'the reload rejected',
      );
      assert.match(String(rejected['msg']), /EADDRINUSE/);
      const reply = await query(current, { name: 'checked.example.org', type: 'A' });
      assert.equal(ttlOf(reply.answers[0]), 2, 'still the previous configuration');
    } finally {
      squatter.close();
    }
  });
});
