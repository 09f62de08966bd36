import type { StringAnswer } from 'dns-packet';
import { createSocket } from 'node:dgram';
import { setImmediate as yieldToLoop, setTimeout as sleep } from 'node:timers/promises';
import { decodeReply, frame, query, tcpSession } from '../helpers/dns-client.js';
import type { DecodedReply, QuerySpec, ServerAddress } from '../helpers/dns-client.js';
import { probeQuery } from './corpus.js';
import { createMutator, createRng } from './mutate.js';
import type { Mutant, Rng } from './mutate.js';

/**
 * The over-the-wire fuzzer: sends mutated packets to a running server over UDP (and some
 * over TCP), paced by a window of packets in flight, and checks at intervals that the server
 * is alive and still answers a valid query correctly.
 */

/** The zone the fuzzed server serves; the corpus and the probe use its names. */
export const FUZZ_ZONE = `$ORIGIN example.org.
$TTL 300
@        IN SOA   ns1.example.org. hostmaster.example.org. 1 3600 600 86400 300
@        IN NS    ns1.example.org.
@        IN MX    10 mail.example.org.
@        IN TXT   "v=spf1 -all"
ns1      IN A     192.0.2.53
mail     IN A     192.0.2.25
www      IN A     192.0.2.1
www      IN AAAA  2001:db8::1
alias    IN CNAME www.example.org.
*.wild   IN A     192.0.2.99
sub      IN NS    ns.sub.example.org.
ns.sub   IN A     192.0.2.54
`;

/** Checks a probe reply; returns what is wrong, or undefined when it is right. */
export type ProbeCheck = (reply: DecodedReply) => string | undefined;

/** The default probe check: `www.example.org A` answers 192.0.2.1 authoritatively. */
export const expectWww: ProbeCheck = (reply) => {
  const a = reply.answers.find((r): r is StringAnswer => r.type === 'A');
  if (reply.rcode !== 'NOERROR') return `rcode ${reply.rcode}`;
  if (!reply.flags.aa) return 'AA not set';
  if (a?.data !== '192.0.2.1') return `answers ${JSON.stringify(reply.answers)}`;
  return undefined;
};

/** Options of {@link runWireFuzz}. */
export interface WireFuzzOptions {
  readonly target: ServerAddress;
  /** Says whether the server process is still running. @default always true */
  readonly isAlive?: () => boolean;
  /** Stop after this many packets. */
  readonly count: number;
  /** Stop after this many seconds. */
  readonly seconds: number;
  readonly seed: number;
  /** Most UDP packets in flight (sent, no reply yet, younger than `windowMs`). @default 256 */
  readonly window?: number;
  /** A packet without a reply stops counting as in flight after this long. @default 50 */
  readonly windowMs?: number;
  /** Upper bound on UDP packets per second. @default 20000 */
  readonly maxRate?: number;
  /** Check liveness after every this many packets. @default 10000 */
  readonly checkEvery?: number;
  /** One packet in this many is also sent over TCP. @default 50 */
  readonly tcpEvery?: number;
  /** @default www.example.org A with EDNS */
  readonly probe?: QuerySpec;
  /** @default {@link expectWww} */
  readonly check?: ProbeCheck;
  readonly corpus?: readonly Buffer[];
  /** Called after each liveness check with the report so far. */
  readonly onProgress?: (report: WireFuzzReport) => void;
}

/** What a fuzz run did and found. */
export interface WireFuzzReport {
  readonly seed: number;
  readonly sent: { udp: number; tcp: number };
  readonly replies: { udp: number; tcp: number };
  /** Replies by full RCODE; replies that do not decode count as 'UNDECODABLE'. */
  readonly rcodes: Record<string, number>;
  readonly checks: { passed: number; failed: number };
  alive: boolean;
  answering: boolean;
  /** Why the run failed, when it did. */
  failure?: string;
  /** The last packets sent before a failure (index in the run, hex, how made). */
  readonly recent: { index: number; hex: string; base: number; ops: readonly string[] }[];
  wallMs: number;
}

const count = (histogram: Record<string, number>, key: string): void => {
  histogram[key] = (histogram[key] ?? 0) + 1;
};

function classify(report: WireFuzzReport, msg: Buffer): void {
  try {
    const reply = decodeReply(msg);
    count(report.rcodes, reply.flags.qr ? reply.rcode : 'NO-QR');
  } catch {
    count(report.rcodes, 'UNDECODABLE');
  }
}

/** One TCP exchange with a mutated packet, framed in one of several (mis)ways. */
async function tcpExchange(
  target: ServerAddress,
  mutants: readonly Mutant[],
  rng: Rng,
  report: WireFuzzReport,
): Promise<void> {
  const session = await tcpSession(target, { connectTimeoutMs: 1000 }).catch(() => undefined);
  if (!session) return;
  try {
    const framed = Buffer.concat(mutants.map((m) => frame(m.bytes)));
    const mode = rng.below(4);
    if (mode === 0) {
      await session.write(framed); // pipelined, well framed
    } else if (mode === 1) {
      await session.write(framed.subarray(0, 1)); // split length prefix
      await sleep(1);
      await session.write(framed.subarray(1));
    } else if (mode === 2) {
      const wrong = Buffer.from(framed); // wrong length prefix
      wrong.writeUInt16BE(rng.next() & 0xffff, 0);
      await session.write(wrong);
    } else {
      await session.write(mutants[0]!.bytes); // no framing at all
    }
    report.sent.tcp += mutants.length;
    if (rng.chance(0.3)) await session.end();
    for (let reply = await session.nextReply(200); reply; reply = await session.nextReply(200)) {
      report.replies.tcp++;
      classify(report, reply);
    }
  } catch {
    // A reset by the server is a legitimate answer to garbage.
  } finally {
    await session.close();
  }
}

async function checkOnce(
  opts: WireFuzzOptions,
  transport: 'udp' | 'tcp',
): Promise<string | undefined> {
  let problem = 'no reply';
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const reply = await query(opts.target, opts.probe ?? probeQuery(), {
        transport,
        timeoutMs: 1000,
      });
      const wrong = (opts.check ?? expectWww)(reply);
      if (wrong === undefined) return undefined;
      problem = `wrong reply: ${wrong}`;
    } catch (err) {
      problem = err instanceof Error ? err.message : String(err);
    }
    await sleep(100);
  }
  return `${transport} probe: ${problem}`;
}

/** Checks the process is alive and answers the probe over UDP and TCP; records the result. */
async function checkServer(opts: WireFuzzOptions, report: WireFuzzReport): Promise<boolean> {
  report.alive = opts.isAlive?.() ?? true;
  const problem = report.alive
    ? ((await checkOnce(opts, 'udp')) ?? (await checkOnce(opts, 'tcp')))
    : 'server process exited';
  report.answering = problem === undefined;
  if (problem === undefined) report.checks.passed++;
  else {
    report.checks.failed++;
    report.failure = problem;
  }
  opts.onProgress?.(report);
  return problem === undefined;
}

/** Sends mutated packets until `count` or `seconds` is reached or the server fails a check. */
export async function runWireFuzz(opts: WireFuzzOptions): Promise<WireFuzzReport> {
  const started = Date.now();
  const report: WireFuzzReport = {
    seed: opts.seed,
    sent: { udp: 0, tcp: 0 },
    replies: { udp: 0, tcp: 0 },
    rcodes: {},
    checks: { passed: 0, failed: 0 },
    alive: true,
    answering: true,
    recent: [],
    wallMs: 0,
  };
  const mutator = createMutator(opts.seed, opts.corpus);
  const tcpRng = createRng(opts.seed ^ 0x5bd1e995);
  const {
    window = 256,
    windowMs = 50,
    maxRate = 20_000,
    checkEvery = 10_000,
    tcpEvery = 50,
  } = opts;
  const inFlight: number[] = [];
  const tcpTasks = new Set<Promise<void>>();
  const socket = createSocket(opts.target.host.includes(':') ? 'udp6' : 'udp4');
  socket.on('error', () => undefined); // ICMP errors surface here; the checks judge the server
  socket.on('message', (msg) => {
    report.replies.udp++;
    inFlight.shift();
    classify(report, msg);
  });
  const deadline = started + opts.seconds * 1000;
  try {
    for (let i = 0; i < opts.count && Date.now() < deadline; i++) {
      const mutant = mutator.next();
      report.recent.push({
        index: i,
        hex: mutant.bytes.toString('hex'),
        base: mutant.base,
        ops: mutant.ops,
      });
      if (report.recent.length > 16) report.recent.shift();
      await pace(inFlight, window, windowMs, maxRate, report.sent.udp, started);
      socket.send(mutant.bytes, opts.target.port, opts.target.host);
      inFlight.push(Date.now());
      report.sent.udp++;
      if (i % tcpEvery === 0 && tcpTasks.size < 4) {
        const batch = [mutant, ...Array.from({ length: tcpRng.below(3) }, () => mutator.next())];
        const task = tcpExchange(opts.target, batch, tcpRng, report).finally(() =>
          tcpTasks.delete(task),
        );
        tcpTasks.add(task);
      }
      if (i % 16 === 0) await yieldToLoop();
      if ((i + 1) % checkEvery === 0 && !(await checkServer(opts, report))) return report;
    }
    await Promise.all(tcpTasks);
    await sleep(windowMs);
    await checkServer(opts, report);
    if (report.failure === undefined) report.recent.length = 0;
    return report;
  } finally {
    report.wallMs = Date.now() - started;
    await new Promise<void>((done) => socket.close(done));
  }
}

/** Waits until the window has room and the rate allows another packet. */
async function pace(
  inFlight: number[],
  window: number,
  windowMs: number,
  maxRate: number,
  sent: number,
  started: number,
): Promise<void> {
  for (;;) {
    const now = Date.now();
    while (inFlight.length > 0 && inFlight[0]! < now - windowMs) inFlight.shift();
    const rateOk = sent < ((now - started) / 1000) * maxRate + window;
    if (inFlight.length < window && rateOk) return;
    await sleep(1);
  }
}

/** The report as a few lines of text. */
export function formatReport(report: WireFuzzReport): string {
  const rcodes = Object.entries(report.rcodes)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `  ${k.padEnd(12)} ${v}`);
  const lines = [
    `seed:             ${report.seed}`,
    `packets sent:     ${report.sent.udp + report.sent.tcp} (udp ${report.sent.udp}, tcp ${report.sent.tcp})`,
    `replies received: ${report.replies.udp + report.replies.tcp} (udp ${report.replies.udp}, tcp ${report.replies.tcp})`,
    'rcodes of replies:',
    ...rcodes,
    `liveness checks:  ${report.checks.passed} passed, ${report.checks.failed} failed`,
    `server alive:     ${report.alive ? 'yes' : 'no'}`,
    `still answering:  ${report.answering ? 'yes' : 'no'}`,
    `wall time:        ${(report.wallMs / 1000).toFixed(1)} s`,
  ];
  if (report.failure !== undefined) {
    lines.push(`FAILURE: ${report.failure}`, 'last packets sent (index base ops hex):');
    for (const r of report.recent) lines.push(`  ${r.index} ${r.base} ${r.ops.join('+')} ${r.hex}`);
  }
  return lines.join('\n');
}
