import { createSocket } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { decodeReply, encodeQuery } from './dns-wire.js';
import type { Endpoint } from './server-process.js';

/**
 * A UDP probe for "does the server keep answering while X happens": one query every
 * `intervalMs` to a DNS server, each matched to its reply by ID. Open loop: a slow server
 * does not slow the probe down, so a stall shows as a gap between answers and as late or
 * lost replies.
 */

/** How to probe. */
export interface ProbeOptions {
  readonly server: Endpoint;
  readonly name: string;
  /** @default 'A' */
  readonly type?: string;
  /** @default 10 */
  readonly intervalMs?: number;
  /** A reply later than this after its query counts as lost. @default 1000 */
  readonly lostAfterMs?: number;
}

/** What a probe saw, in milliseconds. */
export interface ProbeResult {
  readonly sent: number;
  readonly answered: number;
  /** Queries without a reply (with the expected RCODE) within `lostAfterMs`. */
  readonly lost: number;
  /** The longest time between two consecutive answers (or the start and the first one). */
  readonly longestGapMs: number;
  /** The slowest reply that came in time. */
  readonly maxLatencyMs: number;
  /** The 99th percentile of the reply times of all queries sent, a lost one as `lostAfterMs`. */
  readonly p99LatencyMs: number;
  /** Replies whose RCODE was not NOERROR (counted as lost too). */
  readonly errors: number;
  /**
   * How late the probe sent its latest query (its own process was busy or not scheduled):
   * a gap between answers no longer than this may be the probe's, not the server's.
   */
  readonly maxSendLagMs: number;
}

/** A probe that runs until stopped. */
export interface RunningProbe {
  /** Stops sending, waits `lostAfterMs` for the last replies, and reports. */
  stop(): Promise<ProbeResult>;
}

/** Starts a probe; see {@link ProbeOptions}. */
export async function startProbe(options: ProbeOptions): Promise<RunningProbe> {
  const intervalMs = options.intervalMs ?? 10;
  const lostAfterMs = options.lostAfterMs ?? 1000;
  const family = options.server.host.includes(':') ? 'udp6' : 'udp4';
  const socket = createSocket(family);
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  const pending = new Map<number, number>();
  let sent = 0;
  let answered = 0;
  let errors = 0;
  let maxLatencyMs = 0;
  const latencies: number[] = [];
  const start = performance.now();
  let lastAnswer = start;
  let longestGapMs = 0;
  let nextId = 1;
  socket.on('message', (message) => {
    const now = performance.now();
    const sentAt = pending.get(message.readUInt16BE(0));
    if (sentAt === undefined) return;
    pending.delete(message.readUInt16BE(0));
    const latency = now - sentAt;
    if (latency > lostAfterMs) return;
    if (decodeReply(message).rcode !== 'NOERROR') {
      errors++;
      return;
    }
    answered++;
    latencies.push(latency);
    maxLatencyMs = Math.max(maxLatencyMs, latency);
    longestGapMs = Math.max(longestGapMs, now - lastAnswer);
    lastAnswer = now;
  });
  const send = (): void => {
    const id = nextId;
    nextId = (nextId % 0xffff) + 1;
    pending.set(id, performance.now());
    sent++;
    socket.send(
      encodeQuery({ name: options.name, type: options.type ?? 'A', id }),
      options.server.port,
      options.server.host,
    );
  };
  // Each query is due at start + i * interval: a late timer sends what is due at once.
  let due = 0;
  let maxSendLagMs = 0;
  let timer: NodeJS.Timeout | undefined;
  const tick = (): void => {
    const now = performance.now();
    while (start + due * intervalMs <= now) {
      maxSendLagMs = Math.max(maxSendLagMs, now - (start + due * intervalMs));
      send();
      due++;
    }
    timer = setTimeout(tick, Math.max(0, start + due * intervalMs - performance.now()));
  };
  tick();
  return {
    async stop() {
      clearTimeout(timer);
      await new Promise((resolve) => setTimeout(resolve, lostAfterMs));
      socket.close();
      for (let i = latencies.length; i < sent; i++) latencies.push(lostAfterMs);
      latencies.sort((a, b) => a - b);
      const p99 = latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.99))];
      return {
        sent,
        answered,
        lost: sent - answered,
        longestGapMs: Math.round(longestGapMs),
        maxLatencyMs: Math.round(maxLatencyMs),
        p99LatencyMs: Math.round((p99 ?? 0) * 10) / 10,
        errors,
        maxSendLagMs: Math.round(maxSendLagMs),
      };
    },
  };
}
