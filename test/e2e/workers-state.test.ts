/**
 * End to end: with two worker processes, state that must agree across the node agrees.
 * The persistence table is one per node (workers replicate it through the primary), and
 * weighted shares hold over the answers of both workers together.
 */
import assert from 'node:assert/strict';
import type { Socket } from 'node:dgram';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { decodeReply, encodeQuery } from '../helpers/dns-wire.js';
import { startServer, tmpdirWith, type ServerProcess } from '../helpers/server-process.js';
import { resolverAt } from '../helpers/sockets.js';

const CONFIG = `
listen: ['127.0.0.1:0']
workers: 2
log: { level: info, explainSample: 1 }
zones:
  - origin: example.org
    ttl: 3600
    records: |
      @ IN SOA ns1 hostmaster 1 7200 3600 1209600 300
      @ IN NS ns1
      ns1 IN A 192.0.2.53
services:
  - name: sticky.example.org
    pools:
      - name: web
        members:
          - { name: a, address: 192.0.2.1 }
          - { name: b, address: 192.0.2.2 }
    policies: [up, admin, weighted, { policy: persistence, ttl: 60 }]
  - name: shares.example.org
    pools:
      - name: web
        members:
          - { name: a, address: 192.0.2.11, weight: 1 }
          - { name: b, address: 192.0.2.12, weight: 3 }
    policies: [up, admin, weighted]
`;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Asks `name` A from `socket`; resolves the first answer's address. */
function ask(socket: Socket, port: number, name: string, timeoutMs = 3000): Promise<string> {
  const bytes = encodeQuery({ name, type: 'A' });
  const id = bytes.readUInt16BE(0);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off('message', onMessage);
      reject(new Error(`no answer to ${name} from 127.0.0.1:${port} within ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (message: Buffer): void => {
      if (message.readUInt16BE(0) !== id) return;
      clearTimeout(timer);
      socket.off('message', onMessage);
      const reply = decodeReply(message);
      const first = reply.answers[0];
      if (first?.type !== 'A') reject(new Error(`${name}: no A record in the answer`));
      else resolve(first.data);
    };
    socket.on('message', onMessage);
    socket.send(bytes, port, '127.0.0.1');
  });
}

/** Which worker (its pid) logged each decision for `name`, by resolver address. */
function deciders(server: ServerProcess, name: string): Map<string, Set<number>> {
  const out = new Map<string, Set<number>>();
  for (const entry of server.entries()) {
    if (entry['msg'] !== 'steering decision') continue;
    const explanation = entry['explanation'] as { name?: string; client?: string } | undefined;
    if (explanation?.name?.startsWith(name) !== true || explanation.client === undefined) continue;
    const set = out.get(explanation.client) ?? new Set<number>();
    set.add(Number(entry['pid']));
    out.set(explanation.client, set);
  }
  return out;
}

describe('two workers, one node state', { timeout: 120_000 }, () => {
  let server: ServerProcess;
  let dir: string;
  let port: number;

  before(async () => {
    dir = await tmpdirWith({ 'steerdns.yaml': CONFIG });
    server = await startServer(['serve', '--config', join(dir, 'steerdns.yaml')], {
      addListen: false,
    });
    port = server.dnsAt('127.0.0.1').port;
  });

  after(async () => {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('a returning resolver gets one member whichever worker answers', async () => {
    const resolvers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => resolverAt(`127.0.0.${10 + i}`)),
    );
    try {
      const answers = new Map<string, string[]>();
      // 40 queries per resolver, 10 ms apart; the resolvers ask side by side.
      for (let round = 0; round < 40; round++) {
        const replies = await Promise.all(
          resolvers.map((socket) => ask(socket, port, 'sticky.example.org')),
        );
        replies.forEach((address, i) => {
          const key = `127.0.0.${10 + i}`;
          answers.set(key, [...(answers.get(key) ?? []), address]);
        });
        await sleep(10);
      }
      for (const [resolver, got] of answers)
        assert.equal(new Set(got).size, 1, `${resolver} got ${[...new Set(got)].join(', ')}`);
      // Both workers answered (else this proves nothing about sharing).
      const pids = new Set(
        [...deciders(server, 'sticky.example.org').values()].flatMap((s) => [...s]),
      );
      assert.equal(pids.size, 2, `decisions were logged by ${[...pids].join(', ')}`);
    } finally {
      for (const socket of resolvers) socket.close();
    }
  });

  test('weighted shares over 20,000 answers of both workers stay within 1 point', async () => {
    const clients = await Promise.all(
      Array.from({ length: 50 }, (_, i) => resolverAt(`127.0.1.${1 + i}`)),
    );
    try {
      const counts = new Map<string, number>();
      const perClient = 400;
      await Promise.all(
        clients.map(async (socket) => {
          for (let i = 0; i < perClient; i++) {
            const address = await ask(socket, port, 'shares.example.org');
            counts.set(address, (counts.get(address) ?? 0) + 1);
          }
        }),
      );
      const total = clients.length * perClient;
      const shareA = ((counts.get('192.0.2.11') ?? 0) / total) * 100;
      const shareB = ((counts.get('192.0.2.12') ?? 0) / total) * 100;
      assert.equal(shareA + shareB, 100, `only a and b answered: ${JSON.stringify([...counts])}`);
      assert.ok(Math.abs(shareA - 25) <= 1, `a got ${shareA.toFixed(2)} %, want 25 ± 1`);
      assert.ok(Math.abs(shareB - 75) <= 1, `b got ${shareB.toFixed(2)} %, want 75 ± 1`);
      const pids = new Set(
        [...deciders(server, 'shares.example.org').values()].flatMap((s) => [...s]),
      );
      assert.equal(pids.size, 2, `decisions were logged by ${[...pids].join(', ')}`);
    } finally {
      for (const socket of clients) socket.close();
    }
  });
});
