/**
 * End to end: SIGUSR1 and SIGUSR2 sent to a server (the agent's drain and enable signals,
 * which `pkill -USR1 -f steerdns` sends to every steerdns process) are logged and ignored.
 * Without a listener, Node opens its inspector on 127.0.0.1:9229 on SIGUSR1 (a debugger
 * that runs any code as the server's user) and SIGUSR2 ends the process.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { query } from '../helpers/dns-client.js';
import { startServer, type ServerProcess } from '../helpers/server-process.js';
import { listeningSocketsOf } from '../helpers/sockets.js';
import { pidAlive, workersOf } from './fixtures/server.js';

const ZONE = 'example.org=examples/zones/example.org.zone';
const SIGNALS = ['SIGUSR1', 'SIGUSR2'] as const;

/** www.example.org over UDP and TCP, from whichever process answers. */
async function answers(server: ServerProcess, label: string): Promise<void> {
  for (const transport of ['udp', 'tcp'] as const) {
    const reply = await query(
      server.address,
      { name: 'www.example.org', type: 'A' },
      { transport, timeoutMs: 3000 },
    );
    assert.equal(reply.rcode, 'NOERROR', `${label}: ${transport}`);
    assert.equal(reply.answers.length, 2, `${label}: ${transport} answers`);
  }
}

/** Waits for the warning `pid` logs for `signal`. */
async function warned(server: ServerProcess, pid: number, signal: string): Promise<void> {
  await server.waitForLog(
    (entry) =>
      entry?.['pid'] === pid &&
      entry['level'] === 40 &&
      entry['msg'] === `${signal} ignored: steerdns serve gives it no meaning`,
    10_000,
  );
}

for (const workers of [1, 2]) {
  describe(`SIGUSR1 and SIGUSR2 to a server with ${workers} worker(s)`, { timeout: 90_000 }, () => {
    test('are logged and ignored: it keeps answering and opens no inspector', async () => {
      const server = await startServer(['serve', '--zone', ZONE, '--workers', String(workers)], {
        readyTimeoutMs: 60_000,
      });
      try {
        if (workers > 1) {
          await server.waitForLog((entry) => entry?.['msg'] === 'all workers ready', 60_000);
        }
        const children = workersOf(server.pid);
        assert.equal(children.length, workers > 1 ? workers : 0, 'worker processes');
        // The primary and, with workers, each worker: pkill reaches them all.
        const pids = [server.pid, ...children];
        const socketsBefore = new Map(pids.map((pid) => [pid, listeningSocketsOf(pid)]));
        await answers(server, 'before');
        for (const pid of pids) {
          for (const signal of SIGNALS) {
            process.kill(pid, signal);
            await warned(server, pid, signal);
          }
        }
        await answers(server, 'after');
        for (const pid of pids) {
          assert.ok(pidAlive(pid), `process ${pid} is alive`);
          // An inspector would be one more listening socket of the process: 127.0.0.1:9229.
          const sockets = listeningSocketsOf(pid);
          assert.deepEqual(sockets, socketsBefore.get(pid), `sockets of ${pid}`);
          assert.ok(!sockets.some((s) => s.endsWith(':9229')), `${pid} listens on 9229`);
        }
        const stderr = server.stderr().join('\n');
        assert.doesNotMatch(stderr, /Debugger|inspector/i, 'the inspector started (or tried to)');
        assert.deepEqual(workersOf(server.pid).sort(), children.sort(), 'no worker was replaced');
        assert.ok(!server.logs().some((line) => line.includes('worker died')), 'a worker died');
      } finally {
        await server.stop();
      }
    });
  });
}
