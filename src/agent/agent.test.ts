import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mock, test, type TestContext } from 'node:test';
import { startAgent, type AgentLog, type AgentOptions } from './agent.js';
import { decodeAnnouncement, type Announcement } from './announcement.js';

const KEY = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
const T = 1_750_000_000_000;

interface Receiver {
  readonly port: number;
  readonly received: Buffer[];
  next(): Promise<Announcement>;
}

/** A UDP socket on 127.0.0.1 that decodes what it receives with KEY. */
async function receiver(t: TestContext): Promise<Receiver> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const received: Buffer[] = [];
  const waiters: ((bytes: Buffer) => void)[] = [];
  socket.on('message', (bytes) => {
    const waiter = waiters.shift();
    if (waiter) waiter(bytes);
    else received.push(bytes);
  });
  t.after(
    () =>
      new Promise<void>((resolve) => {
        socket.close(() => {
          resolve();
        });
      }),
  );
  return {
    port: socket.address().port,
    received,
    async next() {
      const bytes = received.shift() ?? (await new Promise<Buffer>((r) => waiters.push(r)));
      const decoded = decodeAnnouncement(bytes, KEY);
      assert.ok(decoded.ok, decoded.ok ? '' : decoded.reason);
      return decoded.announcement;
    },
  };
}

/** A meter that counts its calls and returns the values given, the last one repeated. */
function fakeMeter(values: (number | Error)[]): {
  calls: () => number;
  meter: () => Promise<number>;
} {
  let calls = 0;
  return {
    calls: () => calls,
    meter: () => {
      const value = values[Math.min(calls++, values.length - 1)]!;
      return value instanceof Error ? Promise.reject(value) : Promise.resolve(value);
    },
  };
}

function options(port: number, extra: Partial<AgentOptions> = {}): AgentOptions {
  return {
    to: [{ host: '127.0.0.1', port }],
    key: KEY,
    service: 'app.example.org',
    node: 'web-1',
    addresses: ['192.0.2.10', '2001:db8::10'],
    now: () => T,
    log: () => undefined,
    ...extra,
  };
}

/** Sockets, timers, child processes and pipes still open, by kind, once closes have settled. */
async function handles(): Promise<string[]> {
  // A closed socket's handle goes one loop turn after its 'close' event.
  for (let i = 0; i < 2; i++) await new Promise((resolve) => setImmediate(resolve));
  const kinds = new Set(['UDPWrap', 'Timeout', 'ProcessWrap', 'PipeWrap']);
  return process
    .getActiveResourcesInfo()
    .filter((r) => kinds.has(r))
    .sort();
}

test(
  'the agent announces at once, then every interval with jitter, and drains on demand',
  { timeout: 10_000 },
  async (t) => {
    const inbox = await receiver(t);
    const handlesBefore = await handles();
    mock.timers.enable({ apis: ['setTimeout'] });
    t.after(() => {
      mock.timers.reset();
    });
    const load = fakeMeter([40, 55.5]);
    const connections = fakeMeter([7, 9]);
    const randoms = [0, 0.5, 0.999999, 0.5];
    const agent = startAgent(
      options(inbox.port, {
        capacity: 500,
        random: () => randoms.shift() ?? 0.5,
        epoch: '00000000000000aa',
        meters: { load: load.meter, connections: connections.meter },
      }),
    );
    assert.equal(agent.epoch, '00000000000000aa');
    const first = await inbox.next();
    assert.deepEqual(first, {
      node: 'web-1',
      service: 'app.example.org',
      addresses: ['192.0.2.10', '2001:db8::10'],
      load: 40,
      connections: 7,
      capacity: 500,
      admin: 'enabled',
      intervalMs: 1000,
      timestamp: T,
      epoch: '00000000000000aa',
      sequence: 1,
    });

    // Waits: 900 ms (random 0), 1000 ms (0.5), 1100 ms (~1): ±10% of the interval.
    for (const [wait, sequence] of [
      [900, 2],
      [1000, 3],
      [1100, 4],
    ] as const) {
      mock.timers.tick(wait - 1);
      assert.equal(load.calls(), sequence - 1, `nothing before ${wait} ms`);
      mock.timers.tick(1);
      assert.equal(load.calls(), sequence, `announced after ${wait} ms`);
      const next = await inbox.next();
      assert.equal(next.sequence, sequence);
      assert.equal(next.load, 55.5);
      assert.equal(next.connections, 9);
    }

    agent.setDrain(true); // announced at once, not at the next interval
    const drained = await inbox.next();
    assert.equal(drained.admin, 'draining');
    assert.equal(drained.sequence, 5);
    agent.setDrain(true); // no change: nothing sent
    assert.equal(load.calls(), 5);
    mock.timers.tick(1000);
    assert.equal((await inbox.next()).admin, 'draining');
    agent.setDrain(false);
    assert.equal((await inbox.next()).admin, 'enabled');

    await agent.stop();
    await agent.stop();
    const calls = load.calls();
    mock.timers.tick(60_000);
    assert.equal(load.calls(), calls, 'no announcement after stop');
    assert.deepEqual(await handles(), handlesBefore, 'socket closed');
    agent.setDrain(true);
    assert.equal(load.calls(), calls, 'setDrain after stop sends nothing');
  },
);

test(
  'stop sends a signed leave, the next sequence, to every destination',
  { timeout: 10_000 },
  async (t) => {
    const one = await receiver(t);
    const two = await receiver(t);
    const logged: string[] = [];
    const agent = startAgent({
      ...options(one.port),
      to: [
        { host: '127.0.0.1', port: one.port },
        { host: '127.0.0.1', port: two.port },
      ],
      intervalMs: 60_000,
      drain: true,
      log: (_level, message) => logged.push(message),
    });
    const [a, b] = await Promise.all([one.next(), two.next()]);
    assert.equal(a.kind, undefined, 'a status announcement has no kind');
    await agent.stop();
    const [leaveOne, leaveTwo] = await Promise.all([one.next(), two.next()]);
    assert.deepEqual(leaveOne, leaveTwo);
    assert.equal(leaveOne.kind, 'leave');
    assert.equal(leaveOne.sequence, a.sequence + 1);
    assert.equal(leaveOne.epoch, b.epoch);
    assert.equal(leaveOne.admin, 'draining');
    assert.deepEqual(
      logged.filter((m) => m.startsWith('left')),
      ['left: sent a leave to 2 of 2 destination(s)'],
    );
    await agent.stop();
    assert.equal(one.received.length + two.received.length, 0, 'one leave only');
  },
);

test('each destination gets every announcement', { timeout: 10_000 }, async (t) => {
  const one = await receiver(t);
  const two = await receiver(t);
  const agent = startAgent({
    ...options(one.port),
    to: [
      { host: '127.0.0.1', port: one.port },
      { host: '127.0.0.1', port: two.port },
    ],
    intervalMs: 60_000,
    meters: { load: () => Promise.resolve(10) },
  });
  const [a, b] = await Promise.all([one.next(), two.next()]);
  assert.deepEqual(a, b);
  assert.equal(a.connections, undefined, 'no connection meter: no count');
  await agent.stop();
});

test(
  'a failing measurement leaves its field out and is logged once, then its recovery',
  { timeout: 10_000 },
  async (t) => {
    const inbox = await receiver(t);
    mock.timers.enable({ apis: ['setTimeout'] });
    t.after(() => {
      mock.timers.reset();
    });
    const logged: [string, string][] = [];
    const log: AgentLog = (level, message) => logged.push([level, message]);
    const load = fakeMeter([new Error('exit 3'), new Error('exit 3'), 20]);
    const agent = startAgent(
      options(inbox.port, { log, random: () => 0.5, meters: { load: load.meter } }),
    );
    assert.equal((await inbox.next()).load, undefined);
    mock.timers.tick(1000);
    assert.equal((await inbox.next()).load, undefined);
    mock.timers.tick(1000);
    assert.equal((await inbox.next()).load, 20);
    assert.deepEqual(logged, [
      ['warn', 'load: exit 3'],
      ['info', 'load: working again'],
    ]);
    await agent.stop();
  },
);

test('real commands measure load and connections', { timeout: 10_000 }, async (t) => {
  const inbox = await receiver(t);
  const agent = startAgent(
    options(inbox.port, {
      intervalMs: 60_000,
      loadCommand: 'echo 12.5',
      connectionsCommand: 'echo "3 connections"',
    }),
  );
  const got = await inbox.next();
  assert.equal(got.load, 12.5);
  assert.equal(got.connections, 3);
  await agent.stop();
});

test(
  'stop leaves no handle behind, even with a command running',
  { timeout: 10_000 },
  async (t) => {
    const inbox = await receiver(t);
    const before = await handles();
    const first = startAgent(
      options(inbox.port, { intervalMs: 60_000, epoch: 'aaaaaaaaaaaaaaaa' }),
    );
    await inbox.next();
    await first.stop();
    assert.equal((await inbox.next()).kind, 'leave');
    // A command still running at stop is killed; nothing but the leave is sent.
    const second = startAgent(
      options(inbox.port, {
        intervalMs: 60_000,
        loadCommand: 'sleep 30; echo 1',
        epoch: 'bbbbbbbbbbbbbbbb',
      }),
    );
    await second.stop();
    assert.deepEqual(await handles(), before);
    const last = await inbox.next();
    assert.deepEqual([last.epoch, last.kind, last.sequence], ['bbbbbbbbbbbbbbbb', 'leave', 1]);
    assert.equal(inbox.received.length, 0);
  },
);

test(
  'a load URL: its number is announced; a failure leaves the field out, logged once',
  { timeout: 10_000 },
  async (t) => {
    const inbox = await receiver(t);
    let status = 200;
    const server = createServer((_request, response) => {
      response.statusCode = status;
      response.end('{"load": 33.3}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(
      () =>
        new Promise<void>((resolve) =>
          server.close(() => {
            resolve();
          }),
        ),
    );
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/load`;
    const logged: [string, string][] = [];
    const agent = startAgent(
      options(inbox.port, {
        intervalMs: 100,
        random: () => 0.5,
        loadUrl: url,
        log: (level, message) => logged.push([level, message]),
      }),
    );
    assert.equal((await inbox.next()).load, 33.3);
    status = 503;
    let next = await inbox.next();
    while (next.load !== undefined) next = await inbox.next();
    assert.equal((await inbox.next()).load, undefined, 'still left out');
    status = 200;
    while ((await inbox.next()).load === undefined);
    await agent.stop();
    assert.deepEqual(logged, [
      ['warn', 'load: HTTP 503'],
      ['info', 'load: working again'],
      ['info', 'left: sent a leave to 1 of 1 destination(s)'],
    ]);
  },
);

/** Undefined when a datagram to a group, sent and joined on 127.0.0.1, arrives; else why not. */
async function loopbackMulticast(group: string): Promise<string | undefined> {
  const inbox = dgram.createSocket({ type: 'udp4', reuseAddr: true });
  const out = dgram.createSocket('udp4');
  try {
    await new Promise<void>((resolve) => inbox.bind(0, group, resolve));
    inbox.addMembership(group, '127.0.0.1');
    await new Promise<void>((resolve) => out.bind(0, '127.0.0.1', resolve));
    out.setMulticastInterface('127.0.0.1');
    const arrived = new Promise<boolean>((resolve) => {
      inbox.once('message', () => {
        resolve(true);
      });
      setTimeout(() => {
        resolve(false);
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

test(
  'a multicast group gets the announcements, sent from the interface given',
  { timeout: 10_000 },
  async (t) => {
    const group = '239.255.53.77';
    const skip = await loopbackMulticast(group);
    if (skip !== undefined) {
      t.skip(skip);
      return;
    }
    // Two servers on this host joined the group on loopback, on one shared port.
    const servers = [0, 1].map(() => dgram.createSocket({ type: 'udp4', reuseAddr: true }));
    t.after(() => {
      for (const s of servers) s.close();
    });
    await new Promise<void>((resolve) => servers[0]!.bind(0, group, resolve));
    const port = servers[0]!.address().port;
    await new Promise<void>((resolve) => servers[1]!.bind(port, group, resolve));
    const heard = servers.map(
      (s) =>
        new Promise<[Buffer, dgram.RemoteInfo]>((resolve) => {
          s.addMembership(group, '127.0.0.1');
          s.once('message', (bytes, from) => {
            resolve([bytes, from]);
          });
        }),
    );
    const handlesBefore = await handles();
    const agent = startAgent({
      ...options(port),
      to: [{ host: group, port }],
      multicastInterface: '127.0.0.1',
      multicastTtl: 0, // nowhere beyond this host
      intervalMs: 60_000,
    });
    for (const [bytes, from] of await Promise.all(heard)) {
      const decoded = decodeAnnouncement(bytes, KEY);
      assert.ok(decoded.ok);
      assert.equal(decoded.announcement.node, 'web-1');
      assert.equal(from.address, '127.0.0.1', 'sent from the interface given');
    }
    await agent.stop();
    assert.deepEqual(await handles(), handlesBefore, 'the multicast socket is closed');
  },
);

test(
  'a multicast interface that is not on this host: logged once, nothing sent',
  { timeout: 10_000 },
  async (t) => {
    mock.timers.enable({ apis: ['setTimeout'] });
    t.after(() => {
      mock.timers.reset();
    });
    const logged: [string, string][] = [];
    const before = await handles();
    const load = fakeMeter([10]);
    const agent = startAgent({
      ...options(9),
      to: [{ host: '239.255.53.78', port: 5380 }],
      multicastInterface: '192.0.2.1', // TEST-NET-1: on no interface here
      random: () => 0.5,
      meters: { load: load.meter },
      log: (level, message) => logged.push([level, message]),
    });
    for (let i = 0; i < 3; i++) {
      while (load.calls() === i) await new Promise((resolve) => setImmediate(resolve));
      for (let j = 0; j < 5; j++) await new Promise((resolve) => setImmediate(resolve));
      mock.timers.tick(1000);
    }
    await agent.stop();
    assert.deepEqual(logged, [
      [
        'warn',
        'send to 239.255.53.78:5380: interface 192.0.2.1: setMulticastInterface EADDRNOTAVAIL',
      ],
      ['info', 'left: sent a leave to 0 of 1 destination(s)'],
    ]);
    assert.deepEqual(await handles(), before);
  },
);

test('bad options are refused when the agent starts', () => {
  const cases: [Partial<AgentOptions>, RegExp][] = [
    [{ key: Buffer.alloc(15) }, /key is 15 bytes, at least 16/],
    [{ to: [] }, /no destination/],
    [{ to: [{ host: 'dns1.example.org', port: 53 }] }, /bad destination/],
    [{ to: [{ host: '127.0.0.1', port: 0 }] }, /bad destination/],
    [{ service: 'App.example.org' }, /service:/],
    [{ node: 'web 1' }, /node:/],
    [{ addresses: [] }, /addresses:/],
    [{ addresses: ['192.0.2.300'] }, /addresses:/],
    [{ intervalMs: 50 }, /intervalMs:/],
    [{ capacity: 0 }, /capacity:/],
    [{ to: [{ host: 'fe80::53%eth0', port: 5380 }] }, /only for an IPv6 multicast group/],
    [{ to: [{ host: 'ff02::5380', port: 5380 }] }, /needs its interface/],
    [{ loadCommand: 'echo 1', loadUrl: 'http://127.0.0.1/' }, /loadCommand or loadUrl, not both/],
    [{ loadUrl: 'file:///proc/loadavg' }, /loadUrl is not an http\(s\) URL/],
    [{ multicastInterface: '::1' }, /multicastInterface is not an IPv4 address/],
    [{ multicastTtl: 256 }, /multicastTtl is not 0-255/],
    [{ multicastTtl: 1.5 }, /multicastTtl is not 0-255/],
  ];
  for (const [extra, message] of cases) {
    assert.throws(() => startAgent(options(9, extra)), message, JSON.stringify(extra));
  }
});
