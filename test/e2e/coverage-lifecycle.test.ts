/**
 * End to end, filling gaps of lifecycle.test.ts:
 * - multi-core: without --workers or `workers:`, one worker per core (the server is pinned to
 *   two cores with taskset); every worker holds the listening sockets; a worker that dies is
 *   replaced while the others keep answering;
 * - SIGTERM with open TCP connections: they are closed and the process ends promptly, not after
 *   the idle timeout; replies to queries already received are delivered (drain);
 * - SIGHUP: `serve --zone` reloads its files too; configuration changes (zones added and
 *   removed, dns settings) take effect; a reload is all or nothing over several zones; a
 *   missing zone file and a broken $INCLUDEd file are rejected with file:line; queries are
 *   answered without a gap while reloads happen.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DnsTimeoutError, encodeQuery, frame, query, tcpSession } from '../helpers/dns-client.js';
import { listeningSocketsOf } from '../helpers/sockets.js';
import {
  startServer,
  tmpdirWith,
  type ExitInfo,
  type ServerProcess,
} from '../helpers/server-process.js';
import {
  rdataTexts,
  sleep,
  startDataSet,
  within,
  workersOf,
  type DataSetServer,
} from './fixtures/server.js';
import { EXAMPLE_ORG_ZONE, INCLUDED_ZONE, SUB_ZONE } from './fixtures/zones.js';

const TIMED_OUT: ExitInfo = { code: null, signal: null };

/** Parsed log lines of `server` from line `from` on. */
function entriesSince(server: ServerProcess, from: number): Record<string, unknown>[] {
  return server
    .logs()
    .slice(from)
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
}

/** Waits until `count` log entries after line `from` satisfy `predicate`; returns them. */
async function waitForEntries(
  server: ServerProcess,
  from: number,
  predicate: (entry: Record<string, unknown>) => boolean,
  count = 1,
  timeoutMs = 8000,
): Promise<Record<string, unknown>[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = entriesSince(server, from).filter(predicate);
    if (found.length >= count) return found;
    if (Date.now() > deadline || !server.isAlive()) {
      throw new Error(
        `no ${count} matching log lines within ${timeoutMs} ms:\n${server.logs().slice(from).join('\n')}`,
      );
    }
    await sleep(25);
  }
}

const message = (e: Record<string, unknown>): string =>
  typeof e['msg'] === 'string' ? e['msg'] : '';

/** Sends SIGHUP and waits for `count` "reloaded" lines (accepted) or one rejection. */
async function reload(
  server: ServerProcess,
  outcome: 'accepted' | RegExp,
  count = 1,
): Promise<string> {
  const from = server.logs().length;
  server.signal('SIGHUP');
  if (outcome === 'accepted') {
    await waitForEntries(server, from, (e) => e['msg'] === 'reloaded', count);
    return 'reloaded';
  }
  const [entry] = await waitForEntries(
    server,
    from,
    (e) => message(e).includes('reload rejected') && outcome.test(message(e)),
  );
  await sleep(150);
  assert.deepEqual(
    entriesSince(server, from).filter((e) => e['msg'] === 'reloaded'),
    [],
    'reloaded although rejected',
  );
  return message(entry!);
}

/** The A records of `name` over UDP and TCP at `address`, sorted. */
async function addresses(
  address: { host: string; port: number },
  name: string,
): Promise<string[][]> {
  const out: string[][] = [];
  for (const transport of ['udp', 'tcp'] as const) {
    const reply = await query(address, { name, type: 'A' }, { transport });
    out.push(rdataTexts(reply.answers).sort());
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Multi-core

/** The CPUs this process may run on (Linux), from /proc/self/status. */
function allowedCpus(): number[] {
  const line = /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync('/proc/self/status', 'utf8'));
  const cpus: number[] = [];
  for (const part of (line?.[1] ?? '').split(',')) {
    const [from, to] = part.split('-').map(Number);
    if (from === undefined || Number.isNaN(from)) continue;
    for (let cpu = from; cpu <= (to ?? from); cpu++) cpus.push(cpu);
  }
  return cpus;
}

const TASKSET_MISSING: string | false =
  !existsSync('/usr/bin/taskset') && 'taskset (util-linux) is not installed';

/** Starts `taskset -c CPUS node src/main.ts ARGS` (taskset keeps the PID). */
const startPinned = (cpus: readonly number[], args: readonly string[]): Promise<ServerProcess> =>
  startServer(args, { prefix: ['/usr/bin/taskset', '-c', cpus.join(',')], readyTimeoutMs: 20_000 });

/** Worker PIDs after the "all workers ready" line (or none, for a single process). */
async function settledWorkers(server: ServerProcess, expected: number): Promise<number[]> {
  if (expected > 1) await server.waitForLog((e) => e?.['msg'] === 'all workers ready', 10_000);
  return workersOf(server.pid);
}

describe('workers default to the number of cores', { skip: TASKSET_MISSING }, () => {
  const cpus = allowedCpus().slice(0, 2);
  // On two cores: two workers besides the primary; on one: a single process.
  const expected = cpus.length >= 2 ? 2 : 0;
  let dir: string;
  before(async () => {
    dir = await tmpdirWith({
      'zones/example.org.zone': EXAMPLE_ORG_ZONE,
      'zones/included.zone': INCLUDED_ZONE,
    });
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test(`serve --zone without --workers on ${cpus.length} core(s)`, async () => {
    const server = await startPinned(cpus, [
      'serve',
      '--zone',
      `example.org=${join(dir, 'zones/example.org.zone')}`,
      '--listen',
      '127.0.0.1:0',
    ]);
    try {
      const workers = await settledWorkers(server, expected);
      assert.equal(workers.length, expected, `workers ${workers.join(', ')}`);
      const reply = await query(server.address, { name: 'www.example.org', type: 'A' });
      assert.equal(reply.answers.length, 2, 'answers');
    } finally {
      assert.deepEqual(await server.stop(), { code: 0, signal: null }, 'exit');
    }
  });

  test(`serve --config with no workers: in the file, on ${cpus.length} core(s)`, async () => {
    const config = `listen: ['127.0.0.1:0']\nzones:\n  - origin: example.org\n    file: zones/example.org.zone\n`;
    await writeFile(join(dir, 'no-workers.yaml'), config);
    const server = await startPinned(cpus, ['serve', '--config', join(dir, 'no-workers.yaml')]);
    try {
      const workers = await settledWorkers(server, expected);
      assert.equal(workers.length, expected, `workers ${workers.join(', ')}`);
    } finally {
      assert.deepEqual(await server.stop(), { code: 0, signal: null }, 'exit');
    }
  });
});

describe('--workers 2: shared sockets, a dead worker replaced', () => {
  let server: DataSetServer;
  before(async () => {
    server = await startDataSet({ workers: 1 }, ['--workers', '2']);
    await server.process.waitForLog((e) => e?.['msg'] === 'all workers ready', 10_000);
  });
  after(async () => {
    await server.stop();
  });

  test('every worker holds the UDP and TCP listening sockets of both addresses', () => {
    const workers = workersOf(server.process.pid);
    assert.equal(workers.length, 2, `workers ${workers.join(', ')}`);
    // Port 0 on both addresses: every worker is on the ports of the `listening` line.
    const { udp, tcp } = server.process.bound.dns;
    assert.equal(udp.length, 2);
    const all = [...tcp.map((a) => `tcp ${a}`), ...udp.map((a) => `udp ${a}`)].sort();
    for (const pid of workers) assert.deepEqual(listeningSocketsOf(pid), all, `worker ${pid}`);
  });

  test('a worker killed with SIGKILL is replaced; answers go on meanwhile', async () => {
    const initial = workersOf(server.process.pid);
    const victim = initial[0]!;
    const from = server.process.logs().length;
    process.kill(victim, 'SIGKILL');
    // While it is being replaced, the other worker answers on the shared sockets.
    for (let i = 0; i < 10; i++) {
      for (const address of [server.v4, server.v6]) {
        const [udp, tcp] = await addresses(address, 'www.example.org');
        assert.deepEqual(udp, ['192.0.2.1', '192.0.2.2'], `UDP ${address.host} #${i}`);
        assert.deepEqual(tcp, ['192.0.2.1', '192.0.2.2'], `TCP ${address.host} #${i}`);
      }
      await sleep(20);
    }
    // The replacement's own "ready" line (the first workers' lines may come late: each
    // process writes to the shared stdout on its own).
    await waitForEntries(
      server.process,
      from,
      (e) =>
        e['msg'] === 'ready' && e['worker'] !== undefined && !initial.includes(Number(e['pid'])),
      1,
      10_000,
    );
    const replaced = workersOf(server.process.pid);
    assert.equal(replaced.length, 2, `workers after the restart: ${replaced.join(', ')}`);
    assert.ok(!replaced.includes(victim), 'the dead worker is still listed');
    const { udp, tcp } = server.process.bound.dns;
    const all = [...tcp.map((a) => `tcp ${a}`), ...udp.map((a) => `udp ${a}`)].sort();
    for (const pid of replaced) assert.deepEqual(listeningSocketsOf(pid), all, `worker ${pid}`);
    for (const address of [server.v4, server.v6]) {
      const [udp, tcp] = await addresses(address, 'www.example.org');
      assert.deepEqual(
        [udp, tcp],
        [
          ['192.0.2.1', '192.0.2.2'],
          ['192.0.2.1', '192.0.2.2'],
        ],
      );
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Stopping with open connections

for (const workers of [1, 2]) {
  describe(`SIGTERM with --workers ${workers} and an idle TCP connection (idle timeout 30 s)`, () => {
    let server: DataSetServer;
    before(async () => {
      server = await startDataSet({ workers, dns: ['tcpIdleTimeout: 30s'] });
      if (workers > 1) {
        await server.process.waitForLog((e) => e?.['msg'] === 'all workers ready', 10_000);
      }
    });
    after(async () => {
      await server.stop();
    });

    test('closes the connection and ends with code 0 within 5 s', async () => {
      const session = await tcpSession(server.v4);
      const id = await session.send({ name: 'www.example.org', type: 'A' });
      const first = await session.nextReply(1000);
      assert.equal(first?.readUInt16BE(0), id, 'the connection is served');
      const started = Date.now();
      server.process.signal('SIGTERM');
      const info = await within(server.process.exited, 5000, TIMED_OUT);
      const closed = await within(
        session.closed().then(() => true),
        1000,
        false,
      );
      await session.close();
      assert.deepEqual(info, { code: 0, signal: null }, 'exit');
      assert.ok(closed, 'the connection is still open');
      assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
      await assert.rejects(
        query(server.v4, { name: 'www.example.org', type: 'A' }, { timeoutMs: 300 }),
        DnsTimeoutError,
        'still answering',
      );
    });
  });
}

/** A zone whose `huge` TXT RRset makes a reply of about 50 KB. */
const HUGE_ZONE = `$ORIGIN drain.test.
$TTL 60
@ IN SOA ns1 hostmaster 1 7200 3600 1209600 60
@ IN NS ns1
ns1 IN A 192.0.2.53
${Array.from({ length: 200 }, (_, i) => `huge IN TXT "${String(i).padStart(3, '0')}${'h'.repeat(246)}"`).join('\n')}
`;

describe('SIGTERM drains: replies to queries already received are delivered', () => {
  let dir: string;
  let server: ServerProcess;
  before(async () => {
    dir = await tmpdirWith({ 'drain.test.zone': HUGE_ZONE });
    server = await startServer([
      'serve',
      '--zone',
      `drain.test=${join(dir, 'drain.test.zone')}`,
      '--workers',
      '1',
    ]);
  });
  after(async () => {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });

  // 400 pipelined queries (12 KB, one segment) for a 50 KB RRset: 20 MB of replies, far more
  // than the socket buffers hold. The client reads the first reply (so every query has been
  // read and answered: the server handles a segment at once), then reads nothing until after
  // SIGTERM, so most replies are still queued in the server when the signal arrives.
  test('a slow reader gets every reply to the queries it sent before SIGTERM', async () => {
    const N = 400;
    const socket = connect({ host: '127.0.0.1', port: server.port });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    socket.on('error', () => undefined);
    let pending = Buffer.alloc(0);
    let replies = 0;
    let firstReply: () => void = () => undefined;
    const first = new Promise<void>((resolve) => {
      firstReply = resolve;
    });
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
        replies++;
        pending = pending.subarray(2 + pending.readUInt16BE(0));
        if (replies === 1) {
          socket.pause();
          firstReply();
        }
      }
    });
    const closed = new Promise<boolean>((resolve) =>
      socket.once('close', () => {
        resolve(true);
      }),
    );
    const queries = Array.from({ length: N }, (_, i) =>
      frame(encodeQuery({ id: i, name: 'huge.drain.test', type: 'TXT', edns: false })),
    );
    socket.write(Buffer.concat(queries));
    assert.ok(
      await within(
        first.then(() => true),
        5000,
        false,
      ),
      'no first reply',
    );
    await sleep(200);
    server.signal('SIGTERM');
    await sleep(200);
    socket.resume();
    const wasClosed = await within(closed, 10_000, false);
    socket.destroy();
    const info = await within(server.exited, 10_000, TIMED_OUT);
    assert.equal(replies, N, `replies received before the connection closed`);
    assert.ok(wasClosed, 'the connection was not closed within 10 s');
    assert.deepEqual(info, { code: 0, signal: null }, 'exit');
  });
});

// ---------------------------------------------------------------------------------------------
// Reload on SIGHUP

describe('SIGHUP with serve --zone: the zone files are read again', () => {
  let dir: string;
  let server: ServerProcess;
  let zoneFile: string;
  before(async () => {
    dir = await tmpdirWith({
      'example.org.zone': EXAMPLE_ORG_ZONE,
      'included.zone': INCLUDED_ZONE,
    });
    zoneFile = join(dir, 'example.org.zone');
    server = await startServer(['serve', '--zone', `example.org=${zoneFile}`, '--workers', '1']);
  });
  after(async () => {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('a changed file is answered; a broken one is rejected with file:line, old data kept', async () => {
    const changed = EXAMPLE_ORG_ZONE.replace('300 IN A 192.0.2.1', '300 IN A 192.0.2.41');
    await writeFile(zoneFile, changed);
    await reload(server, 'accepted');
    assert.deepEqual(await addresses(server.address, 'www.example.org'), [
      ['192.0.2.2', '192.0.2.41'],
      ['192.0.2.2', '192.0.2.41'],
    ]);
    const broken = changed.replace('IN 300 A 192.0.2.2', 'IN 300 A 192.0.2.999');
    const line = broken.split('\n').findIndex((l) => l.includes('192.0.2.999')) + 1;
    await writeFile(zoneFile, broken);
    const logged = await reload(server, new RegExp(`example\\.org\\.zone:${line}: \\S`));
    assert.match(logged, /still serving/);
    assert.deepEqual(await addresses(server.address, 'www.example.org'), [
      ['192.0.2.2', '192.0.2.41'],
      ['192.0.2.2', '192.0.2.41'],
    ]);
  });
});

describe('SIGHUP with serve --config: configuration and zones', () => {
  let server: DataSetServer;
  let yaml: string;
  before(async () => {
    server = await startDataSet({ workers: 1 });
    yaml = await readFile(server.config, 'utf8');
  });
  after(async () => {
    await server.stop();
  });

  const zonePath = (name: string): string => join(server.dir, 'zones', name);

  test('a zone added to the file is answered, a zone removed is REFUSED', async () => {
    const refused = await query(server.v4, { name: 'www.example.com', type: 'A' });
    assert.equal(refused.rcode, 'REFUSED', 'example.com before');
    const added = yaml
      .replace(/ {2}- origin: 2\.0\.192\.in-addr\.arpa[\s\S]*$/, '')
      .concat(
        `  - origin: example.com\n    ttl: 60\n    records:\n      - '@ IN SOA ns1.example.org. h.example.org. 1 2 3 4 5'\n      - '@ IN NS ns1.example.org.'\n      - 'www IN A 192.0.2.123'\n`,
      );
    await writeFile(server.config, added);
    await reload(server.process, 'accepted');
    const com = await query(server.v6, { name: 'www.example.com', type: 'A' });
    assert.equal(com.rcode, 'NOERROR', 'example.com after');
    assert.deepEqual(rdataTexts(com.answers), ['192.0.2.123']);
    const arpa = await query(server.v4, { name: '1.2.0.192.in-addr.arpa', type: 'PTR' });
    assert.equal(arpa.rcode, 'REFUSED', 'the removed reverse zone');
    await writeFile(server.config, yaml);
    await reload(server.process, 'accepted');
    assert.equal((await query(server.v4, { name: 'www.example.com', type: 'A' })).rcode, 'REFUSED');
  });

  test('dns settings change with the file (udpPayloadMax 1232 -> 800)', async () => {
    const ask = async (): Promise<number | undefined> =>
      (await query(server.v4, { name: 'www.example.org', type: 'A', edns: { udpPayload: 4096 } }))
        .opt?.udpPayload;
    assert.equal(await ask(), 1232, 'before');
    await writeFile(
      server.config,
      yaml.replace('zones:\n', 'dns:\n  udpPayloadMax: 800\nzones:\n'),
    );
    await reload(server.process, 'accepted');
    assert.equal(await ask(), 800, 'after');
    await writeFile(server.config, yaml);
    await reload(server.process, 'accepted');
    assert.equal(await ask(), 1232, 'back');
  });

  test('all or nothing: one good and one broken zone file leave both as they were', async () => {
    const good = EXAMPLE_ORG_ZONE.replace('300 IN A 192.0.2.1', '300 IN A 192.0.2.51');
    const broken = SUB_ZONE.replace('www  IN A  192.0.2.101', 'www  IN A  192.0.2.1011');
    await writeFile(zonePath('example.org.zone'), good);
    await writeFile(zonePath('sub.example.org.zone'), broken);
    const line = broken.split('\n').findIndex((l) => l.includes('192.0.2.1011')) + 1;
    await reload(server.process, new RegExp(`sub\\.example\\.org\\.zone:${line}: \\S`));
    for (const address of [server.v4, server.v6]) {
      assert.deepEqual(await addresses(address, 'www.example.org'), [
        ['192.0.2.1', '192.0.2.2'],
        ['192.0.2.1', '192.0.2.2'],
      ]);
      assert.deepEqual(await addresses(address, 'www.sub.example.org'), [
        ['192.0.2.101'],
        ['192.0.2.101'],
      ]);
    }
    await writeFile(zonePath('sub.example.org.zone'), SUB_ZONE);
    await reload(server.process, 'accepted');
    assert.deepEqual(await addresses(server.v4, 'www.example.org'), [
      ['192.0.2.2', '192.0.2.51'],
      ['192.0.2.2', '192.0.2.51'],
    ]);
    await writeFile(zonePath('example.org.zone'), EXAMPLE_ORG_ZONE);
    await reload(server.process, 'accepted');
  });

  test('a zone file that disappeared is rejected, the zone still answered', async () => {
    await unlink(zonePath('sub.example.org.zone'));
    try {
      await reload(
        server.process,
        /sub\.example\.org\.zone.*ENOENT|ENOENT.*sub\.example\.org\.zone/,
      );
      assert.deepEqual(await addresses(server.v4, 'www.sub.example.org'), [
        ['192.0.2.101'],
        ['192.0.2.101'],
      ]);
    } finally {
      await writeFile(zonePath('sub.example.org.zone'), SUB_ZONE);
    }
    await reload(server.process, 'accepted');
  });

  test('a broken $INCLUDEd file is rejected with its own file:line', async () => {
    const broken = INCLUDED_ZONE.replace('host    IN A 192.0.2.70', 'host    IN A 192.0.2.70.1');
    const line = broken.split('\n').findIndex((l) => l.includes('192.0.2.70.1')) + 1;
    await writeFile(zonePath('included.zone'), broken);
    try {
      await reload(server.process, new RegExp(`included\\.zone:${line}: \\S`));
      assert.deepEqual(await addresses(server.v4, 'host.lab.example.org'), [
        ['192.0.2.70'],
        ['192.0.2.70'],
      ]);
    } finally {
      await writeFile(zonePath('included.zone'), INCLUDED_ZONE);
    }
    await reload(server.process, 'accepted');
  });

  test('queries are answered without a gap while reloads (good and bad) happen', async () => {
    let stop = false;
    const failures: string[] = [];
    let answered = 0;
    const load = (async () => {
      for (let i = 0; !stop; i++) {
        const address = i % 2 === 0 ? server.v4 : server.v6;
        const transport = i % 3 === 0 ? 'tcp' : 'udp';
        try {
          const reply = await query(
            address,
            { name: 'www.example.org', type: 'A' },
            { transport, timeoutMs: 1000 },
          );
          if (reply.rcode !== 'NOERROR' || reply.answers.length !== 2) {
            failures.push(`${reply.rcode} with ${reply.answers.length} answers`);
          } else answered++;
        } catch (error) {
          failures.push(String(error));
        }
      }
    })();
    try {
      const broken = yaml.replace('workers: 1', 'workers: many');
      for (let round = 0; round < 3; round++) {
        await writeFile(server.config, yaml);
        await reload(server.process, 'accepted');
        await writeFile(server.config, broken);
        await reload(server.process, /steerdns\.yaml:\d+: \S/);
      }
    } finally {
      stop = true;
      await load;
      await writeFile(server.config, yaml);
    }
    assert.deepEqual(failures, [], 'queries failed during reloads');
    assert.ok(answered > 20, `only ${answered} queries answered`);
  });
});
