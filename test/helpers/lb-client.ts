import { connect, type Socket } from 'node:net';
import { createInterface } from 'node:readline';

/**
 * The client of the balancer lab, run in the client namespace. It takes one JSON command a
 * line on stdin and answers one JSON line on stdout:
 * - `{ "op": "open", "n": 100 }`: opens n keep-alive HTTP connections to the cluster address,
 *   one request each; answers `{ "servers": [...] }` (the name that answered, or `error: ...`)
 * - `{ "op": "ask" }`: one more request on every connection opened; answers `{ "servers": [...] }`
 * - `{ "op": "new", "n": 3000, "parallel": 20 }`: n new connections, one request each, closed;
 *   answers `{ "counts": { "s1": 500, ... } }` (errors counted as `error: ...`)
 * - `{ "op": "rate", "rps": 1000, "ms": 5000 }`: a new connection and request every 1/rps s;
 *   answers `{ "sent", "ok", "gapMs", "p50Ms", "p99Ms" }` (the longest time without a success)
 * - `{ "op": "flood", "parallel": 8, "ms": 5000 }`: as many as `parallel` loops manage;
 *   answers `{ "rps", "errors", "p50Ms", "p99Ms" }`
 * - `{ "op": "rate-flows", "rps": 1000, "ms": 4000, "n": 20 }`: the same rate over n open
 *   connections (keep-alive): answers `{ "sent", "ok", "gapMs" }`
 * `rate` and `flood` take `"host"` to go to another address (a server's own: direct).
 * Usage: node --import tsx test/helpers/lb-client.ts ADDRESS PORT
 */
const host = process.argv[2] ?? '203.0.113.10';
const port = Number(process.argv[3] ?? 80);
const REQUEST = `GET / HTTP/1.1\r\nHost: lab\r\n\r\n`;
const TIMEOUT_MS = 5000;

interface Conn {
  socket: Socket;
  buffer: string;
  waiting: ((answer: string) => void) | undefined;
  dead: string | undefined;
}

/** Takes one complete response off the buffer, if there is one: its body. */
function takeResponse(conn: Conn): string | undefined {
  const end = conn.buffer.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const length = Number(/content-length: (\d+)/i.exec(conn.buffer.slice(0, end))?.[1] ?? 0);
  if (conn.buffer.length < end + 4 + length) return undefined;
  const body = conn.buffer.slice(end + 4, end + 4 + length);
  conn.buffer = conn.buffer.slice(end + 4 + length);
  return body;
}

function open(to = host): Promise<Conn> {
  return new Promise((resolve) => {
    const socket = connect({ host: to, port });
    const conn: Conn = { socket, buffer: '', waiting: undefined, dead: undefined };
    const fail = (why: string): void => {
      conn.dead ??= why;
      const waiting = conn.waiting;
      conn.waiting = undefined;
      waiting?.(`error: ${why}`);
    };
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      conn.buffer += chunk;
      const body = takeResponse(conn);
      if (body !== undefined) {
        const waiting = conn.waiting;
        conn.waiting = undefined;
        waiting?.(body);
      }
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      fail(error.code ?? error.message);
    });
    socket.on('close', () => {
      fail('closed');
    });
    socket.once('connect', () => {
      resolve(conn);
    });
    socket.once('error', () => {
      resolve(conn);
    });
  });
}

function ask(conn: Conn): Promise<string> {
  if (conn.dead !== undefined) return Promise.resolve(`error: ${conn.dead}`);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      conn.waiting = undefined;
      resolve('error: timeout');
    }, TIMEOUT_MS);
    conn.waiting = (answer) => {
      clearTimeout(timer);
      resolve(answer);
    };
    conn.socket.write(REQUEST);
  });
}

const conns: Conn[] = [];

async function once(to = host): Promise<string> {
  const conn = await open(to);
  const answer = await ask(conn);
  conn.socket.destroy();
  return answer;
}

async function many(n: number, parallel: number): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      next++;
      const answer = await once();
      counts[answer] = (counts[answer] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return counts;
}

/** `parallel` loops of connect + request + close for `ms`: requests a second and latencies. */
async function flood(parallel: number, ms: number, to: string): Promise<Record<string, number>> {
  const started = performance.now();
  const latencies: number[] = [];
  let errors = 0;
  const loop = async (): Promise<void> => {
    while (performance.now() - started < ms) {
      const t0 = performance.now();
      const answer = await once(to);
      if (answer.startsWith('error')) errors++;
      else latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: parallel }, loop));
  const elapsed = performance.now() - started;
  latencies.sort((a, b) => a - b);
  const at = (q: number): number => latencies[Math.floor(q * (latencies.length - 1))] ?? NaN;
  return {
    rps: Math.round((latencies.length * 1000) / elapsed),
    errors,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
  };
}

async function rate(rps: number, ms: number, to: string): Promise<Record<string, number>> {
  const started = performance.now();
  let sent = 0;
  let ok = 0;
  let lastOk = started;
  let gapMs = 0;
  const latencies: number[] = [];
  const pending: Promise<void>[] = [];
  while (performance.now() - started < ms) {
    const due = started + (sent * 1000) / rps;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    sent++;
    const t0 = performance.now();
    pending.push(
      once(to).then((answer) => {
        if (answer.startsWith('error')) return;
        const t1 = performance.now();
        ok++;
        latencies.push(t1 - t0);
        gapMs = Math.max(gapMs, t1 - lastOk);
        lastOk = Math.max(lastOk, t1);
      }),
    );
  }
  await Promise.all(pending);
  latencies.sort((a, b) => a - b);
  const at = (q: number): number => latencies[Math.floor(q * (latencies.length - 1))] ?? NaN;
  return { sent, ok, gapMs: Math.round(gapMs), p50Ms: at(0.5), p99Ms: at(0.99) };
}

/**
 * `rps` requests a second for `ms` over `count` long-lived connections (each one request at a
 * time; a request due on a busy connection waits for it): the longest time without an answer.
 */
async function rateOnFlows(
  rps: number,
  ms: number,
  count: number,
): Promise<Record<string, number>> {
  const flows = await Promise.all(Array.from({ length: count }, () => open()));
  const started = performance.now();
  let sent = 0;
  let ok = 0;
  let lastOk = started;
  let gapMs = 0;
  const busy = new Set<Conn>();
  const pending: Promise<void>[] = [];
  while (performance.now() - started < ms) {
    const due = started + (sent * 1000) / rps;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const conn = flows[sent % count]!;
    sent++;
    if (busy.has(conn)) continue;
    busy.add(conn);
    pending.push(
      ask(conn).then((answer) => {
        busy.delete(conn);
        if (answer.startsWith('error')) return;
        const now = performance.now();
        ok++;
        gapMs = Math.max(gapMs, now - lastOk);
        lastOk = Math.max(lastOk, now);
      }),
    );
  }
  await Promise.all(pending);
  for (const conn of flows) conn.socket.destroy();
  return { sent, ok, gapMs: Math.round(gapMs) };
}

async function handle(command: {
  op: string;
  n?: number;
  parallel?: number;
  rps?: number;
  ms?: number;
  host?: string;
}): Promise<unknown> {
  switch (command.op) {
    case 'open': {
      const opened = await Promise.all(Array.from({ length: command.n ?? 1 }, open));
      conns.push(...opened);
      return { servers: await Promise.all(opened.map(ask)) };
    }
    case 'ask':
      return { servers: await Promise.all(conns.map(ask)) };
    case 'new':
      return { counts: await many(command.n ?? 1, command.parallel ?? 10) };
    case 'rate':
      return rate(command.rps ?? 100, command.ms ?? 1000, command.host ?? host);
    case 'rate-flows':
      return rateOnFlows(command.rps ?? 100, command.ms ?? 1000, command.n ?? 10);
    case 'flood':
      return flood(command.parallel ?? 8, command.ms ?? 1000, command.host ?? host);
    case 'close':
      for (const conn of conns.splice(0)) conn.socket.destroy();
      return {};
    default:
      return { error: `unknown op ${command.op}` };
  }
}

const lines = createInterface({ input: process.stdin });
let queue = Promise.resolve();
lines.on('line', (line) => {
  queue = queue.then(async () => {
    const answer = await handle(JSON.parse(line) as { op: string });
    process.stdout.write(`${JSON.stringify(answer)}\n`);
  });
});
lines.on('close', () => process.exit(0));
process.stdout.write('ready\n');
