/**
 * End to end: TCP slots survive abuse (issue 13, item 1). A real server with a low cap
 * (`dns.tcpMaxConnections: 30`) is attacked from 127.0.0.2-5 while a client on 127.0.0.1
 * asks: slow clients (a byte every 300 ms: `dns.tcpMessageTimeout` closes them), idle
 * connections reopened as they close (the oldest idle one makes way, RFC 7766 §6.2.3), and
 * one address opening more than `dns.tcpMaxPerSource` (64 by default) connections.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { decodeReply, encodeQuery, frame } from '../helpers/dns-client.js';
import { startServer, tmpdirWith, type ServerProcess } from '../helpers/server-process.js';
import { sleep } from './fixtures/server.js';

const ZONE = `$ORIGIN abuse.test.
$TTL 300
@ IN SOA ns1 hostmaster 1 7200 3600 1209600 300
@ IN NS ns1
ns1 IN A 192.0.2.53
www IN A 192.0.2.1
`;

const configOf = (dns: readonly string[]): string =>
  `listen:\n  - 127.0.0.1:0\nworkers: 1\nlog:\n  level: warn\ndns:\n${dns.map((l) => `  ${l}\n`).join('')}zones:\n  - origin: abuse.test\n    file: abuse.test.zone\n`;

interface Started {
  readonly server: ServerProcess;
  readonly dir: string;
}

async function start(dns: readonly string[]): Promise<Started> {
  const dir = await tmpdirWith({ 'abuse.test.zone': ZONE, 'steerdns.yaml': configOf(dns) });
  const server = await startServer(['serve', '--config', join(dir, 'steerdns.yaml')], {
    addListen: false,
  });
  return { server, dir };
}

async function stop(started: Started | undefined): Promise<void> {
  if (!started) return;
  await started.server.stop();
  await rm(started.dir, { recursive: true, force: true });
}

/** Opens a TCP connection from `localAddress`; resolves it once connected, or undefined after `ms`. */
function connectFrom(
  port: number,
  localAddress: string | undefined,
  ms: number,
): Promise<net.Socket | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port, localAddress });
    socket.on('error', () => undefined);
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(undefined);
    }, ms);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(undefined);
    });
  });
}

/** Sends one query on `socket`; resolves the reply's ID, or undefined (closed, or nothing within `ms`). */
function askOn(socket: net.Socket, id: number, ms: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    let got = Buffer.alloc(0);
    const done = (value: number | undefined): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      resolve(value);
    };
    const onData = (chunk: Buffer): void => {
      got = Buffer.concat([got, chunk]);
      if (got.length >= 2 && got.length >= 2 + got.readUInt16BE(0))
        done(decodeReply(got.subarray(2, 2 + got.readUInt16BE(0))).id);
    };
    const onClose = (): void => {
      done(undefined);
    };
    const timer = setTimeout(() => {
      done(undefined);
    }, ms);
    socket.on('data', onData);
    socket.once('close', onClose);
    if (socket.destroyed) done(undefined);
    else socket.write(frame(encodeQuery({ id, name: 'www.abuse.test', type: 'A' })));
  });
}

/**
 * A new client on 127.0.0.1: connects (again, if the server closes it before it answers) and
 * asks, within `deadlineMs` in all. Resolves how long the answer took, or undefined.
 */
async function newClientAnswered(port: number, deadlineMs: number): Promise<number | undefined> {
  const started = Date.now();
  let id = 1;
  for (;;) {
    const left = deadlineMs - (Date.now() - started);
    if (left <= 0) return undefined;
    const socket = await connectFrom(port, undefined, left);
    if (socket) {
      const reply = await askOn(socket, id, Math.max(1, deadlineMs - (Date.now() - started)));
      socket.destroy();
      if (reply === id) return Date.now() - started;
    }
    id++;
    await sleep(20);
  }
}

/**
 * `count` attacking connections from 127.0.0.2-5, each reopened 50 ms after the server
 * closes it. `trickle`: each sends one byte every 300 ms (a message of 257 octets would take
 * 77 s); otherwise they send nothing.
 */
class Flood {
  private running = true;
  private readonly sockets = new Set<net.Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Connections the flood has had accepted (connected), reopened ones included. */
  connected = 0;

  private readonly port: number;
  private readonly trickle: boolean;

  constructor(port: number, count: number, trickle: boolean) {
    this.port = port;
    this.trickle = trickle;
    for (let i = 0; i < count; i++) this.open(`127.0.0.${2 + (i % 4)}`);
  }

  private later(fn: () => void, ms: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
  }

  private open(localAddress: string): void {
    if (!this.running) return;
    const socket = net.connect({ host: '127.0.0.1', port: this.port, localAddress });
    this.sockets.add(socket);
    socket.on('error', () => undefined);
    socket.once('connect', () => {
      this.connected++;
      if (this.trickle) {
        const drip = (): void => {
          if (socket.destroyed || !this.running) return;
          socket.write(Buffer.from([1]));
          this.later(drip, 300);
        };
        drip();
      }
    });
    socket.once('close', () => {
      this.sockets.delete(socket);
      this.later(() => {
        this.open(localAddress);
      }, 50);
    });
  }

  stop(): void {
    this.running = false;
    for (const timer of this.timers) clearTimeout(timer);
    for (const socket of this.sockets) socket.destroy();
  }
}

/** Waits until `flood` has had `count` connections accepted, or fails after `ms`. */
async function floodConnected(flood: Flood, count: number, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (flood.connected < count) {
    if (Date.now() > deadline)
      assert.fail(`the flood had ${flood.connected} of ${count} connections after ${ms} ms`);
    await sleep(20);
  }
}

/** New clients, one after another for `forMs`: each must be answered within 1 s. */
async function clientsServedDuring(port: number, forMs: number): Promise<number[]> {
  const took: number[] = [];
  const end = Date.now() + forMs;
  while (Date.now() < end) {
    const ms = await newClientAnswered(port, 1000);
    assert.ok(ms !== undefined, `client ${took.length + 1} not answered over TCP within 1 s`);
    took.push(ms);
    await sleep(200);
  }
  return took;
}

describe('tcpMaxConnections: 30, 40 attacking connections', () => {
  let started: Started | undefined;
  before(async () => {
    started = await start(['tcpMaxConnections: 30', 'tcpMaxPerSource: 1000']);
  });
  after(async () => {
    await stop(started);
  });

  test('trickle: a byte every 300 ms; new clients are answered within 1 s for 5 s', async () => {
    const { port } = started!.server;
    const flood = new Flood(port, 40, true);
    try {
      await floodConnected(flood, 30, 5000);
      await sleep(300);
      const took = await clientsServedDuring(port, 5000);
      // The slow connections were closed and reopened, over and over.
      assert.ok(flood.connected >= 60, `only ${flood.connected} attacking connections accepted`);
      console.log(`# trickle: ${took.length} clients, slowest ${Math.max(...took)} ms`);
    } finally {
      flood.stop();
      await sleep(200);
    }
    assert.ok(started!.server.isAlive(), 'the server died');
  });

  test('idle flood: reopened as they close; new clients are answered within 1 s for 5 s', async () => {
    const { port } = started!.server;
    const flood = new Flood(port, 40, false);
    try {
      await floodConnected(flood, 30, 5000);
      await sleep(300);
      const took = await clientsServedDuring(port, 5000);
      console.log(`# idle flood: ${took.length} clients, slowest ${Math.max(...took)} ms`);
    } finally {
      flood.stop();
      await sleep(200);
    }
  });
});

describe('tcpMaxPerSource: 64 (the default), tcpMaxConnections: 200', () => {
  let started: Started | undefined;
  before(async () => {
    started = await start(['tcpMaxConnections: 200']);
  });
  after(async () => {
    await stop(started);
  });

  test('the 65th connection from one address is not served; another address is', async () => {
    const { port } = started!.server;
    const open: net.Socket[] = [];
    try {
      for (let i = 0; i < 64; i++) {
        const socket = await connectFrom(port, '127.0.0.9', 1000);
        assert.ok(socket, `connection ${i + 1} from 127.0.0.9 not made`);
        open.push(socket);
        assert.equal(await askOn(socket, i + 1, 1000), i + 1, `connection ${i + 1} not served`);
      }
      const extra = await connectFrom(port, '127.0.0.9', 1000);
      if (extra) {
        open.push(extra);
        assert.equal(await askOn(extra, 65, 1000), undefined, 'the 65th was served');
      }
      const other = await connectFrom(port, '127.0.0.10', 1000);
      assert.ok(other, 'no connection from 127.0.0.10');
      open.push(other);
      assert.equal(await askOn(other, 66, 1000), 66, '127.0.0.10 not served');
      // The 64 are still served; once one closes, 127.0.0.9 gets a place again.
      assert.equal(await askOn(open[0]!, 67, 1000), 67, 'the first of the 64, after the 65th');
      open[0]!.destroy();
      await sleep(100);
      const again = await connectFrom(port, '127.0.0.9', 1000);
      assert.ok(again, 'no new connection from 127.0.0.9');
      open.push(again);
      assert.equal(await askOn(again, 68, 1000), 68, '127.0.0.9 after one of its 64 closed');
    } finally {
      for (const socket of open) socket.destroy();
    }
  });
});
