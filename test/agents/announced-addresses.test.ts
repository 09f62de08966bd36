import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  encodeAnnouncement,
  readKeyFile,
  type Announcement,
} from '../../src/agent/announcement.js';
import {
  startAgentProcess,
  stopAgentProcess,
  stopAllAgentProcesses,
} from '../helpers/agent-process.js';
import { query } from '../helpers/dns-client.js';
import {
  replaced,
  REPO_ROOT,
  startServer,
  tmpdirWith,
  type ServerProcess,
} from '../helpers/server-process.js';

// examples/agents.yaml on port 0 with real `steerdns agent` processes (and signed datagrams
// for exact epochs): addresses no client can be sent to never reach an answer, and one
// IPv6 address spelt two ways is one address.

const KEY_FILE = resolve(REPO_ROOT, 'examples/agent.key');

async function answered(server: ServerProcess, type: 'A' | 'AAAA'): Promise<string[]> {
  const reply = await query(server.address, { name: 'app.example.org', type });
  assert.equal(reply.rcode, 'NOERROR');
  const seen: string[] = [];
  for (const a of reply.answers) if (a.type === 'A' || a.type === 'AAAA') seen.push(a.data);
  return seen;
}

after(async () => {
  await stopAllAgentProcesses();
});

describe('announced addresses are checked (a real server)', () => {
  let server: ServerProcess;
  let agentPort: number;

  before(async () => {
    const example = await readFile('examples/agents.yaml', 'utf8');
    const edits: [string, string][] = [
      ['listen: [127.0.0.1:5380]', 'listen: [127.0.0.1:0]'],
      ['keyFile: agent.key', `keyFile: ${KEY_FILE}`],
      ['answers: 1', 'answers: 4'],
    ];
    const dir = await tmpdirWith({
      'steerdns.yaml': edits.reduce((text, [from, to]) => replaced(text, from, to), example),
    });
    server = await startServer([
      'serve',
      '--config',
      join(dir, 'steerdns.yaml'),
      '--listen',
      '127.0.0.1:0',
    ]);
    await server.waitForLog((_e, line) => line.includes('receiving agent announcements'), 5000);
    agentPort = server.agents[0]!.port;
  });
  after(async () => {
    await server.stop();
  });

  test('multicast and IPv4-mapped addresses are dropped as bad-address and never answered', async () => {
    const good = startAgentProcess({
      port: agentPort,
      keyFile: KEY_FILE,
      node: 'good',
      address: '127.0.0.21',
    });
    const multicast = startAgentProcess({
      port: agentPort,
      keyFile: KEY_FILE,
      node: 'mc',
      address: '239.1.2.3',
    });
    const mapped = startAgentProcess({
      port: agentPort,
      keyFile: KEY_FILE,
      node: 'mapped',
      address: '::ffff:127.0.0.30',
    });
    try {
      await server.waitForLog(
        (_e, line) => line.includes('agent good') && line.includes('joined'),
        20_000,
      );
      const dropped = await server.waitForLog(
        (_e, line) => line.includes('agent announcements dropped') && line.includes('bad-address'),
        20_000,
      );
      assert.match(dropped, /bad-address \d+ \(last from 127\.0\.0\.1:\d+\)/);
      // Several of each agent's intervals (300 ms): none of them ever joins.
      const deadline = Date.now() + 1500;
      while (Date.now() < deadline) {
        assert.deepEqual(await answered(server, 'A'), ['127.0.0.21']);
        assert.deepEqual(await answered(server, 'AAAA'), []);
        await new Promise((r) => setTimeout(r, 100));
      }
      const joined = server.logs().filter((l) => /agent (mc|mapped) .*joined/.test(l));
      assert.deepEqual(joined, []);
    } finally {
      await Promise.all([good, multicast, mapped].map((c) => stopAgentProcess(c)));
    }
  });

  test('one IPv6 address spelt two ways is one address: a restart with the other spelling takes over', async () => {
    const key = readKeyFile(KEY_FILE);
    const socket = createSocket('udp4');
    const send = (fields: Partial<Announcement>): Promise<void> =>
      new Promise((done, fail) => {
        const a: Announcement = {
          node: 'v6',
          service: 'app.example.org',
          addresses: ['2001:db8::1'],
          admin: 'enabled',
          intervalMs: 1000,
          timestamp: Date.now(),
          epoch: '00000000000000aa',
          sequence: 1,
          ...fields,
        };
        socket.send(encodeAnnouncement(a, key), agentPort, '127.0.0.1', (error) => {
          if (error) fail(error);
          else done();
        });
      });
    try {
      await send({ addresses: ['2001:0db8:0:0::1'] });
      await server.waitForLog(
        (_e, line) => line.includes('agent v6') && line.includes('joined with 2001:db8::1'),
        5000,
      );
      assert.deepEqual(await answered(server, 'AAAA'), ['2001:db8::1']);
      // Another run of the node (a restart, new epoch) with the other spelling: the same
      // addresses, so it takes the node at once instead of being refused as a collision.
      await send({
        addresses: ['2001:db8::1'],
        epoch: '00000000000000bb',
        timestamp: Date.now() + 1,
      });
      assert.deepEqual(await answered(server, 'AAAA'), ['2001:db8::1']);
      // Proof that the second run holds the node: its next announcement moves it.
      await send({
        addresses: ['2001:db8::2'],
        epoch: '00000000000000bb',
        sequence: 2,
        timestamp: Date.now() + 2,
      });
      await server.waitForLog(
        (_e, line) => line.includes('agent v6') && line.includes('now announces 2001:db8::2'),
        5000,
      );
      assert.deepEqual(
        server.logs().filter((l) => l.includes('held by')),
        [],
      );
      assert.deepEqual(await answered(server, 'AAAA'), ['2001:db8::2']);
    } finally {
      socket.close();
    }
  });
});
