import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { test } from 'node:test';
import type { Static, TObject, TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { Monitor, MonitorDefinition, ProbeResult, Target } from '../../src/health/monitor.js';

/**
 * The rules every monitor keeps (src/health/monitor.ts `Monitor`), and the local servers
 * it is checked against. A healthy target is up; a failing one is down with a reason; an
 * abort settles the check at once with 'timeout' and leaves no socket, process or timer
 * behind; `check` never throws or rejects; `close()` may be called twice; the schema
 * fills defaults and rejects unknown keys. Run it for each registered monitor.
 */

/** The situations the contract puts a monitor in. */
export type ContractCase = 'up' | 'down' | 'hang';

export interface MonitorContractOptions {
  /**
   * Settings as written in the configuration (before defaults) for each case; undefined
   * when the monitor has no such case (a static monitor never hangs).
   * - up: checking `upTarget` succeeds;
   * - down: checking `downTarget` fails;
   * - hang: checking `hangTarget` does not finish by itself (a slow server, a sleeping script).
   */
  readonly settingsFor: (kind: ContractCase) => object | undefined;
  readonly upTarget: Target;
  readonly downTarget: Target;
  /** @default upTarget */
  readonly hangTarget?: Target;
  /** Why the monitor cannot be checked here (a tool is missing): the contract is skipped. */
  readonly skip?: string;
}

/** A check settles this soon after its signal aborts, or the contract fails. */
export const ABORT_SETTLE_MS = 50;

/** Settings as the configuration loader builds them: defaults filled into a clone, checked. */
export function configure<S extends TSchema>(
  definition: MonitorDefinition<S>,
  settings: object,
): Static<S> {
  const filled: unknown = Value.Default(definition.config, Value.Clone(settings));
  if (!Value.Check(definition.config, filled)) {
    const first = Value.Errors(definition.config, filled).First();
    throw new Error(
      `${definition.type} ${JSON.stringify(settings)}: ${first?.path ?? ''} ${first?.message ?? ''}`,
    );
  }
  return filled;
}

/** Creates a monitor from settings as written. */
export function createMonitor<S extends TSchema>(
  definition: MonitorDefinition<S>,
  settings: object,
): Monitor {
  return definition.create(configure(definition, settings));
}

/** Property names the schema requires and gives no default for. */
function requiredWithoutDefault(schema: TSchema): string[] {
  const object = schema as Partial<TObject>;
  return (object.required ?? []).filter((key) => object.properties?.[key]?.default === undefined);
}

/** Active handles and requests by kind ('TCPSocketWrap', 'ProcessWrap', 'Timeout'...). */
function resources(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo())
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
  return counts;
}

const delay = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    setTimeout(resolve, ms);
  });

/**
 * Waits (up to `graceMs`) until no kind of resource is more numerous than in `before`:
 * a destroyed socket or a killed process takes an event-loop turn or two to go away.
 */
export async function assertNoLeak(
  before: Map<string, number>,
  label: string,
  graceMs = 500,
): Promise<void> {
  const deadline = performance.now() + graceMs;
  let extra: string[];
  do {
    const now = resources();
    extra = [...now]
      .filter(([kind, n]) => n > (before.get(kind) ?? 0))
      .map(([k, n]) => `${k} ${n}`);
    if (extra.length === 0) return;
    await delay(10);
  } while (performance.now() < deadline);
  assert.fail(`${label}: still open after ${graceMs} ms: ${extra.join(', ')}`);
}

/** Runs one check and asserts that it resolved (never rejected) with a well-formed result. */
async function checkOnce(
  monitor: Monitor,
  target: Target,
  signal: AbortSignal,
): Promise<ProbeResult> {
  const result = await monitor.check(target, signal);
  assert.equal(typeof result.ok, 'boolean', 'ok is a boolean');
  assert.ok(
    Number.isFinite(result.latencyMs) && result.latencyMs >= 0,
    `latencyMs ${result.latencyMs}`,
  );
  if (result.reason !== undefined) assert.ok(result.reason.length > 0, 'a reason is not empty');
  return result;
}

/** Targets no monitor can check; a check of them must still resolve. */
const BAD_TARGETS: readonly Target[] = [
  { id: 'not-an-ip', address: 'localhost', port: 80 },
  { id: 'port-0', address: '127.0.0.1', port: 0 },
  { id: 'port-70000', address: '127.0.0.1', port: 70000 },
  { id: 'no-port', address: '127.0.0.1', port: undefined },
  { id: 'empty', address: '', port: undefined },
];

/** Registers the contract tests of `definition`. */
export function runMonitorContract(
  definition: MonitorDefinition,
  options: MonitorContractOptions,
): void {
  const { type } = definition;
  const hangTarget = options.hangTarget ?? options.upTarget;
  const make = (kind: ContractCase): Monitor | undefined => {
    const settings = options.settingsFor(kind);
    return settings === undefined ? undefined : createMonitor(definition, settings);
  };
  const testOptions = options.skip === undefined ? {} : { skip: options.skip };

  test(`${type}: monitor contract`, testOptions, async (t) => {
    await t.test(
      'fills defaults, rejects an unknown key, needs settings only when it says so',
      () => {
        const needed = requiredWithoutDefault(definition.config);
        const empty = Value.Default(definition.config, {});
        assert.equal(
          Value.Check(definition.config, empty),
          needed.length === 0,
          `{} (required: ${needed.join(', ')})`,
        );
        for (const kind of ['up', 'down', 'hang'] as const) {
          const settings = options.settingsFor(kind);
          if (settings === undefined) continue;
          const filled = configure(definition, settings) as object;
          const extra = { ...filled, notASetting: 1 };
          assert.equal(Value.Check(definition.config, extra), false, `${kind} + notASetting`);
        }
      },
    );

    await t.test('a healthy target is up, and nothing is left open', async () => {
      const monitor = make('up')!;
      assert.equal(monitor.type, type, 'reports its type');
      const before = resources();
      const result = await checkOnce(monitor, options.upTarget, new AbortController().signal);
      assert.deepEqual({ ok: result.ok, reason: result.reason }, { ok: true, reason: undefined });
      await assertNoLeak(before, 'after an up check');
      await monitor.close();
    });

    await t.test('a failing target is down with a reason, and nothing is left open', async () => {
      const monitor = make('down')!;
      const before = resources();
      const result = await checkOnce(monitor, options.downTarget, new AbortController().signal);
      assert.equal(result.ok, false, 'down');
      assert.ok(result.reason, `a reason (${String(result.reason)})`);
      await assertNoLeak(before, 'after a down check');
      await monitor.close();
    });

    await t.test(
      'an abort settles the check promptly with timeout and leaves nothing open',
      async (st) => {
        const monitor = make('hang');
        if (monitor === undefined) {
          st.skip(`${type} has no check that hangs`);
          return;
        }
        const before = resources();
        const abort = new AbortController();
        const pending = checkOnce(monitor, hangTarget, abort.signal);
        await delay(50);
        const aborted = performance.now();
        abort.abort();
        const result = await pending;
        const tookMs = performance.now() - aborted;
        assert.deepEqual(
          { ok: result.ok, reason: result.reason },
          { ok: false, reason: 'timeout' },
        );
        assert.ok(tookMs < ABORT_SETTLE_MS, `settled ${tookMs.toFixed(1)} ms after the abort`);
        await assertNoLeak(before, 'after an aborted check');
        await monitor.close();
      },
    );

    await t.test('an already aborted signal resolves timeout at once', async () => {
      for (const kind of ['up', 'down'] as const) {
        const monitor = make(kind)!;
        const before = resources();
        const target = kind === 'up' ? options.upTarget : options.downTarget;
        const result = await checkOnce(monitor, target, AbortSignal.abort());
        assert.deepEqual(
          { ok: result.ok, reason: result.reason },
          { ok: false, reason: 'timeout' },
          kind,
        );
        await assertNoLeak(before, `${kind}: pre-aborted check`);
        await monitor.close();
      }
    });

    await t.test('never throws synchronously and never rejects, whatever the target', async () => {
      const monitor = make('up')!;
      const before = resources();
      for (const target of BAD_TARGETS) {
        const abort = new AbortController();
        const timer = setTimeout(() => {
          abort.abort();
        }, 2000);
        let pending: Promise<ProbeResult> | undefined;
        assert.doesNotThrow(() => (pending = checkOnce(monitor, target, abort.signal)), target.id);
        await pending;
        clearTimeout(timer);
      }
      await assertNoLeak(before, 'after checks of bad targets');
      await monitor.close();
    });

    await t.test('close() is idempotent, also with no check run', async () => {
      for (const kind of ['up', 'down'] as const) {
        const monitor = make(kind)!;
        await monitor.close();
        await monitor.close();
      }
      const used = make('up')!;
      await used.check(options.upTarget, new AbortController().signal);
      await used.close();
      await used.close();
    });
  });
}

// ---------------------------------------------------------------------------------------
// Local servers the monitors are checked against (all on 127.0.0.1, ephemeral ports).

/** The body of the /health route; `contains: healthy` matches it. */
export const HEALTHY_BODY = 'status: healthy\n';

/**
 * The routes of the test web servers:
 * /health 200 with {@link HEALTHY_BODY}; /fail 503; /slow answers after 5 s (the timer is
 * cleared when the client goes away); /wrong 200 with other content; /empty 204;
 * /big 200 with 70 KiB of filler before 'healthy'; /echo 200 with the request as JSON
 * (method, url, headers); /reset closes the connection without an answer; /drip sends half
 * a page, the rest 300 ms later; /cut promises 100 bytes, sends 10 and closes.
 */
export const webRoutes: RequestListener = (req, res) => {
  const route = (req.url ?? '/').split('?')[0];
  switch (route) {
    case '/health':
      res.end(HEALTHY_BODY);
      return;
    case '/fail':
      res.writeHead(503).end('unavailable\n');
      return;
    case '/slow': {
      const timer = setTimeout(() => res.end(HEALTHY_BODY), 5000);
      res.once('close', () => {
        clearTimeout(timer);
      });
      return;
    }
    case '/wrong':
      res.end('status: broken\n');
      return;
    case '/empty':
      res.writeHead(204).end();
      return;
    case '/big':
      res.end(`${'x'.repeat(70 * 1024)}healthy`);
      return;
    case '/echo':
      res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers }));
      return;
    case '/reset':
      req.socket.destroy();
      return;
    case '/drip': {
      res.writeHead(200, { 'content-length': '8' }).write('half');
      const timer = setTimeout(() => res.end('page'), 300);
      res.once('close', () => {
        clearTimeout(timer);
      });
      return;
    }
    case '/cut':
      res.writeHead(200, { 'content-length': '100' }).write('0123456789', () => {
        req.socket.destroy();
      });
      return;
    default:
      res.writeHead(404).end();
  }
};

/** A started server: its port and how to stop it. */
export interface LocalServer {
  readonly port: number;
  close(): Promise<void>;
}

async function listen(server: Server | ReturnType<typeof createTcpServer>): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

function stopper(server: Server | ReturnType<typeof createTcpServer>): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      if ('closeAllConnections' in server) server.closeAllConnections();
      server.close(() => {
        resolve();
      });
    });
}

/** A plain web server with {@link webRoutes}. */
export async function startHttpServer(): Promise<LocalServer> {
  const server = createHttpServer(webRoutes);
  return { port: await listen(server), close: stopper(server) };
}

/** A self-signed certificate for CN=localhost, or why none could be made. */
export function selfSignedCertificate(): { key: Buffer; cert: Buffer } | string {
  const dir = mkdtempSync(join(tmpdir(), 'steerdns-monitor-'));
  try {
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-subj',
        '/CN=localhost',
        '-days',
        '1',
        '-keyout',
        key,
        '-out',
        cert,
      ],
      { stdio: 'ignore' },
    );
    return { key: readFileSync(key), cert: readFileSync(cert) };
  } catch (error) {
    return `openssl could not make a self-signed certificate: ${String(error)}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A TLS web server with {@link webRoutes} and a self-signed certificate. */
export async function startHttpsServer(credentials: {
  key: Buffer;
  cert: Buffer;
}): Promise<LocalServer> {
  const server = createHttpsServer(credentials, webRoutes);
  return { port: await listen(server), close: stopper(server) };
}

/** A TCP listener that accepts every connection and closes it. */
export async function startTcpListener(): Promise<LocalServer> {
  const server = createTcpServer((socket) => socket.destroy());
  return { port: await listen(server), close: stopper(server) };
}

/**
 * A TCP server that greets every connection with `greeting` (a banner: `220 ready\r\n`),
 * or says nothing when it is undefined (a check that hangs); it closes every socket it
 * holds when stopped.
 */
export async function startBannerServer(greeting: string | undefined): Promise<LocalServer> {
  const sockets = new Set<import('node:net').Socket>();
  const server = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    // Read what the client says (its QUIT), so its FIN is seen and the socket closes.
    socket.resume();
    if (greeting !== undefined) socket.write(greeting);
  });
  const port = await listen(server);
  const stop = stopper(server);
  return {
    port,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return stop();
    },
  };
}

/** A port on 127.0.0.1 with nothing listening (TCP and UDP): bound once, then released. */
export async function closedPort(): Promise<number> {
  const server = createTcpServer();
  const port = await listen(server);
  await stopper(server)();
  return port;
}

/** The name the test DNS responder knows, and its one address. */
export const DNS_NAME = 'up.monitor.test.';
export const DNS_ADDRESS = '192.0.2.1';

/**
 * A UDP DNS responder: for {@link DNS_NAME} it answers A {@link DNS_ADDRESS} (NOERROR, no
 * data for other types); for any other name NXDOMAIN. With `silent` it never answers.
 */
export async function startDnsResponder(silent = false): Promise<LocalServer> {
  const socket = createSocket('udp4');
  socket.on('message', (query, peer) => {
    if (!silent) socket.send(dnsAnswer(query), peer.port, peer.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { port: socket.address().port, close: () => closeUdp(socket) };
}

function closeUdp(socket: UdpSocket): Promise<void> {
  return new Promise((resolve) => {
    socket.close(() => {
      resolve();
    });
  });
}

/** The reply to a one-question query, the question copied and the answer compressed. */
export function dnsAnswer(query: Buffer): Buffer {
  let end = 12;
  const labels: string[] = [];
  while (query[end]! > 0) {
    labels.push(query.subarray(end + 1, end + 1 + query[end]!).toString('latin1'));
    end += query[end]! + 1;
  }
  const qtype = query.readUInt16BE(end + 1);
  const question = query.subarray(12, end + 5);
  const known = `${labels.join('.')}.`.toLowerCase() === DNS_NAME;
  const answer = known && qtype === 1;
  const header = Buffer.alloc(12);
  header.writeUInt16BE(query.readUInt16BE(0), 0);
  header.writeUInt16BE(0x8400 | (query.readUInt16BE(2) & 0x0100) | (known ? 0 : 3), 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(answer ? 1 : 0, 6);
  const record = Buffer.from([
    0xc0,
    12,
    0,
    1,
    0,
    1,
    0,
    0,
    0,
    60,
    0,
    4,
    ...DNS_ADDRESS.split('.').map(Number),
  ]);
  return Buffer.concat(answer ? [header, question, record] : [header, question]);
}
