// The AXFR stall: does a server keep answering UDP while it sends a large zone over TCP?
// Writes a zone of N names (`h-i IN A 10.x.y.z`) into a temporary directory, starts the
// server on it (one worker, port 0, loopback), and measures two things with a UDP probe
// asking one name every 10 ms (test/helpers/udp-probe.ts, in a process of its own: a reply
// after 500 ms counts as lost, and as 500 ms in the p99):
//   one:    while one client reads a whole AXFR as fast as it can;
//   unread: after ten AXFRs are pipelined on one connection that is never read (310 bytes
//           sent), for at least 5 s and until the server's RSS has not grown for 2 s; the
//           RSS added (VmRSS, from a settled value before) is reported with the probe, which
//           runs on until the server answers UDP again.
// Prints one JSON line per run and phase. Every wait is bounded: an AXFR has 120 s, a phase
// 90 s, and the whole script exits after --deadline seconds.
//
// Usage: node --import tsx bench/axfr-stall.ts [--records 500000] [--runs 1]
//                                             [--phase one|unread|both]
//                                             [--root DIR] (the checkout whose src/main.ts
//                                             runs, e.g. a git worktree of older code)
//                                             [--deadline 900]
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import net from 'node:net';
import { join, resolve } from 'node:path';
import process from 'node:process';
import { parseArgs } from 'node:util';
import { encodeQuery } from '../test/helpers/dns-wire.js';
import { REPO_ROOT, startServer, tmpdirWith } from '../test/helpers/server-process.js';
import type { ProbeResult } from '../test/helpers/udp-probe.js';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '500000' },
    runs: { type: 'string', default: '1' },
    phase: { type: 'string', default: 'both' },
    root: { type: 'string' },
    deadline: { type: 'string', default: '900' },
  },
});
const records = Number(values.records);
const root = values.root === undefined ? REPO_ROOT : resolve(values.root);
setTimeout(
  () => {
    process.stderr.write(`axfr-stall: not done after ${values.deadline} s, giving up\n`);
    process.exit(2);
  },
  Number(values.deadline) * 1000,
).unref();

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const frame = (message: Buffer): Buffer =>
  Buffer.concat([Buffer.from([message.length >> 8, message.length & 255]), message]);
const axfrQuery = (id: number): Buffer =>
  frame(encodeQuery({ id, name: 'axfr.test', type: 'AXFR' }));

function zone(): string {
  const lines = [
    '$ORIGIN axfr.test.',
    '$TTL 300',
    '@ IN SOA ns1 hostmaster 1 7200 3600 1209600 300',
    '@ IN NS ns1',
    'ns1 IN A 192.0.2.53',
  ];
  for (let i = 0; i < records; i++)
    lines.push(`h-${i} IN A 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
  return `${lines.join('\n')}\n`;
}

// Only the keys every version measured knows, so that older code runs the same file.
const CONFIG = `listen: ['127.0.0.1:0']
workers: 1
log:
  level: warn
zones:
  - origin: axfr.test
    file: axfr.test.zone
    transfer: [127.0.0.0/8]
`;

const rssMb = (pid: number): number => {
  const kb = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!kb) throw new Error(`axfr-stall: no VmRSS in /proc/${pid}/status`);
  return Number(kb[1]) / 1024;
};

/** Samples RSS every 200 ms until it has not grown by 1 MB for `quietMs`, after `minMs`. */
async function rssSettled(pid: number, minMs: number, quietMs: number): Promise<number> {
  const began = Date.now();
  let peak = rssMb(pid);
  let grewAt = began;
  while (Date.now() - began < 90_000) {
    await sleep(200);
    const now = rssMb(pid);
    if (now > peak + 1) grewAt = Date.now();
    peak = Math.max(peak, now);
    if (Date.now() - began >= minMs && Date.now() - grewAt >= quietMs) return peak;
  }
  return peak;
}

/** Reads one AXFR to its closing SOA; resolves the records it had and how long it took. */
function readAxfr(port: number): Promise<{ records: number; ms: number }> {
  return new Promise((resolve, reject) => {
    const began = Date.now();
    const socket = net.connect({ host: '127.0.0.1', port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('axfr-stall: the AXFR did not finish within 120 s'));
    }, 120_000);
    let pending: Buffer = Buffer.alloc(0);
    let count = 0;
    socket.on('error', reject);
    socket.on('connect', () => socket.write(axfrQuery(77)));
    socket.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
        const message = pending.subarray(2, 2 + pending.readUInt16BE(0));
        pending = pending.subarray(2 + message.length);
        if ((message.readUInt16BE(2) & 0xf) !== 0) {
          clearTimeout(timer);
          socket.destroy();
          reject(
            new Error(`axfr-stall: AXFR answered with RCODE ${message.readUInt16BE(2) & 0xf}`),
          );
          return;
        }
        count += message.readUInt16BE(6);
        // SOA, NS, ns1, the names, SOA.
        if (count >= records + 4) {
          clearTimeout(timer);
          socket.destroy();
          resolve({ records: count, ms: Date.now() - began });
          return;
        }
      }
    });
  });
}

/** Resolves once the server answers a UDP query again (one every 200 ms, for at most 120 s). */
async function untilAnswered(port: number): Promise<void> {
  const socket = createSocket('udp4');
  const answered = new Promise<void>((resolve) => {
    socket.once('message', () => {
      resolve();
    });
  });
  const began = Date.now();
  try {
    for (let id = 1; Date.now() - began < 120_000; id++) {
      socket.send(encodeQuery({ id, name: 'ns1.axfr.test', type: 'A' }), port, '127.0.0.1');
      const done = await Promise.race([answered.then(() => true), sleep(200).then(() => false)]);
      if (done) return;
    }
    throw new Error('axfr-stall: no UDP answer within 120 s');
  } finally {
    socket.close();
  }
}

/**
 * The probe in a process of its own (test/helpers/probe-process.ts: every 10 ms, a reply
 * after 500 ms is lost), so that reading the transfer here cannot delay the probe.
 */
async function startProbe(server: {
  host: string;
  port: number;
}): Promise<{ stop(): Promise<ProbeResult> }> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'test/helpers/probe-process.ts',
      server.host,
      String(server.port),
      'ns1.axfr.test',
      '10',
    ],
    { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout.setEncoding('utf8');
  const probing = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error('axfr-stall: the probe did not start in 30 s'));
    }, 30_000);
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
      if (out.includes('probing\n')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      resolve();
    }),
  );
  await probing;
  return {
    async stop() {
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(10_000)]);
      const line = out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .at(-1);
      if (line === undefined) throw new Error(`axfr-stall: no result from the probe: ${out}`);
      return JSON.parse(line) as ProbeResult;
    },
  };
}

const report = (fields: Record<string, unknown>, probe: ProbeResult): void => {
  process.stdout.write(`${JSON.stringify({ records, root, ...fields, ...probe })}\n`);
};

const dir = await tmpdirWith({ 'steerdns.yaml': CONFIG, 'axfr.test.zone': zone() });
try {
  const server = await startServer(['serve', '--config', join(dir, 'steerdns.yaml')], {
    addListen: false,
    cwd: root,
    readyTimeoutMs: 180_000,
  });
  try {
    for (let run = 1; run <= Number(values.runs); run++) {
      if (values.phase !== 'unread') {
        await rssSettled(server.pid, 1000, 1000);
        const probe = await startProbe(server.address);
        const transfer = await readAxfr(server.port);
        report({ run, phase: 'one', transferMs: transfer.ms }, await probe.stop());
      }
      if (values.phase !== 'one') {
        const before = await rssSettled(server.pid, 2000, 1000);
        const socket = net.connect({ host: '127.0.0.1', port: server.port });
        // A reset when the server drops it at the end is expected.
        socket.on('error', () => undefined);
        socket.pause();
        socket.write(Buffer.concat(Array.from({ length: 10 }, (_, i) => axfrQuery(100 + i))));
        const probe = await startProbe(server.address);
        const peak = await rssSettled(server.pid, 5000, 2000);
        // Until the server answers again, so that the longest gap covers a stall to its end.
        await untilAnswered(server.port);
        await sleep(200);
        const result = await probe.stop();
        socket.destroy();
        report(
          {
            run,
            phase: 'unread',
            rssBeforeMb: Math.round(before),
            rssAddedMb: Math.round((peak - before) * 10) / 10,
          },
          result,
        );
        await sleep(1000);
      }
    }
  } finally {
    await server.stop();
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
