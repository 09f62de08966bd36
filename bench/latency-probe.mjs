// Fixed-rate UDP latency probe (open loop): sends one query every 1/QPS seconds to a DNS
// server for a bounded time, matches replies by DNS ID and reports latency percentiles and
// loss. dnsperf 2.10 reports only the average and standard deviation of latency, hence this.
//
// Usage:
//   node bench/latency-probe.mjs --port P [--host 127.0.0.1] [--qps 4000] [--duration 10]
//        [--warmup 1] [--drain 1] [--qname www.example.test] [--qtype A] [--json FILE]
//   node bench/latency-probe.mjs --from-dnsperf FILE [--json FILE]
//        (the same statistics from the per-query lines of `dnsperf -v`, as a cross-check)
//
// Pacing: query i is due at start + i/QPS. The loop re-arms with setImmediate (it spins on
// its core, so run it pinned on the client CPU), sends every query that is due and
// timestamps it just before sock.send(). Spinning keeps the client from sleeping, so a
// reply is timestamped as soon as it arrives; --pacing timer (1 ms timers) lets the core
// idle instead, and then the client's own wake-up time (~0.05 ms on a VM) is added to every
// latency. The probe's own GC (small scavenges, ~0.1-0.3 ms) delays the replies that
// arrive during one, so its upper percentiles are slightly pessimistic; run.sh also
// records dnsperf -v percentiles as a cross-check. Latency = reply received − query sent, so a late
// send by the probe itself is not counted as server latency; the probe reports how late
// it sent (send lag) so that can be checked. Queries sent during --warmup are answered but
// not counted. After the last query the probe waits --drain seconds; whatever has not been
// answered by then is lost. Everything is bounded: duration <= 600 s, qps <= 200,000.
import dgram from 'node:dgram';
import fs from 'node:fs';
import process from 'node:process';
import { Buffer } from 'node:buffer';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { setTimeout, setImmediate } from 'node:timers';

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string' },
    qps: { type: 'string', default: '4000' },
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '1' },
    drain: { type: 'string', default: '1' },
    qname: { type: 'string', default: 'www.example.test' },
    qtype: { type: 'string', default: 'A' },
    pacing: { type: 'string', default: 'spin' },
    json: { type: 'string' },
    'from-dnsperf': { type: 'string' },
  },
});

const die = (text) => {
  process.stderr.write(`latency-probe: ${text}\n`);
  process.exit(2);
};

/** Nearest-rank percentile of a sorted array (p in 0..1). */
const percentile = (sorted, p) =>
  sorted.length
    ? sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]
    : NaN;

/** Latency statistics in milliseconds, from latencies in milliseconds. */
function stats(latencies) {
  const sorted = Float64Array.from(latencies).sort();
  let sum = 0;
  for (const x of sorted) sum += x;
  const r3 = (x) => Math.round(x * 1000) / 1000;
  return {
    count: sorted.length,
    avg_ms: r3(sum / sorted.length),
    min_ms: r3(sorted[0]),
    p50_ms: r3(percentile(sorted, 0.5)),
    p90_ms: r3(percentile(sorted, 0.9)),
    p99_ms: r3(percentile(sorted, 0.99)),
    p999_ms: r3(percentile(sorted, 0.999)),
    max_ms: r3(sorted[sorted.length - 1]),
  };
}

function emit(result) {
  const line = JSON.stringify(result);
  if (values.json) fs.writeFileSync(values.json, `${line}\n`);
  process.stdout.write(`${line}\n`);
}

// ---------------------------------------------------------------- dnsperf -v mode
if (values['from-dnsperf']) {
  // lines look like: "> NOERROR www.example.test A 0.000135" (latency in seconds, last field)
  const latencies = [];
  const rcodes = {};
  let timeouts = 0;
  for (const line of fs.readFileSync(values['from-dnsperf'], 'utf8').split('\n')) {
    if (line.startsWith('> ')) {
      const fields = line.trim().split(/\s+/);
      const seconds = Number(fields[fields.length - 1]);
      if (fields[1] === 'T' || Number.isNaN(seconds)) {
        timeouts++;
        continue;
      }
      rcodes[fields[1]] = (rcodes[fields[1]] ?? 0) + 1;
      latencies.push(seconds * 1000);
    } else if (/timed out/i.test(line)) timeouts++;
  }
  if (!latencies.length)
    die(`no per-query lines in ${values['from-dnsperf']} (was dnsperf run with -v?)`);
  emit({ tool: 'dnsperf -v', received: latencies.length, timeouts, rcodes, ...stats(latencies) });
  process.exit(0);
}

// ---------------------------------------------------------------- probe mode
const port = Number(values.port);
const qps = Number(values.qps);
const duration = Number(values.duration);
const warmup = Number(values.warmup);
const drain = Number(values.drain);
if (!Number.isInteger(port) || port < 1 || port > 65535) die('--port 1..65535 is required');
if (!(qps > 0 && qps <= 200_000)) die('--qps must be in (0, 200000]');
if (!(duration > 0 && duration <= 600)) die('--duration must be in (0, 600] seconds');
if (!(warmup >= 0 && warmup <= 60) || !(drain >= 0 && drain <= 30)) die('bad --warmup or --drain');
const pacing = values.pacing;
if (pacing !== 'spin' && pacing !== 'timer') die('--pacing is spin or timer');
const TYPES = { A: 1, NS: 2, SOA: 6, MX: 15, TXT: 16, AAAA: 28 };
const qtype = TYPES[values.qtype.toUpperCase()] ?? Number(values.qtype);
if (!Number.isInteger(qtype) || qtype < 1 || qtype > 65535) die(`unknown --qtype ${values.qtype}`);

// query template: header (ID filled per query, RD=0, QDCOUNT=1), QNAME, QTYPE, QCLASS IN
const labels = values.qname.replace(/\.$/, '').split('.');
const template = Buffer.alloc(12 + labels.reduce((n, l) => n + 1 + l.length, 1) + 4);
template.writeUInt16BE(1, 4);
let o = 12;
for (const label of labels) {
  template[o++] = label.length;
  o += template.write(label, o, 'ascii');
}
template[o++] = 0;
template.writeUInt16BE(qtype, o);
template.writeUInt16BE(1, o + 2);

const warmupCount = Math.round(warmup * qps);
const total = warmupCount + Math.round(duration * qps);
const intervalMs = 1000 / qps;
const sentAt = new Float64Array(65536);
const pendingSeq = new Int32Array(65536).fill(-1); // per DNS ID: the seq waiting for a reply, or -1
const latencies = new Float64Array(total);
let received = 0; // measured replies
let warmupReceived = 0;
let overwritten = 0; // an ID reused while its query was still unanswered (counted lost)
let unexpected = 0; // replies with no query waiting (duplicates, late after reuse, garbage)
let sendErrors = 0;
let next = 0;
let maxLag = 0;
let lagOver1ms = 0;
let firstAnswerCount = -1;
const rcodes = {};
const RCODE = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];

const sock = dgram.createSocket('udp4');
sock.on('error', () => sendErrors++);
sock.on('message', (msg) => {
  const now = performance.now();
  if (msg.length < 12 || !(msg[2] & 0x80)) {
    unexpected++;
    return;
  }
  const id = msg.readUInt16BE(0);
  const seq = pendingSeq[id];
  if (seq < 0) {
    unexpected++;
    return;
  }
  pendingSeq[id] = -1;
  if (seq < warmupCount) {
    warmupReceived++;
    return;
  }
  latencies[received++] = now - sentAt[id];
  const rcode = RCODE[msg[3] & 15] ?? String(msg[3] & 15);
  rcodes[rcode] = (rcodes[rcode] ?? 0) + 1;
  if (firstAnswerCount < 0) firstAnswerCount = msg.readUInt16BE(6);
});

let t0 = 0;
let lastSend = 0;
function pump() {
  sendDue(performance.now());
  if (next >= total) setTimeout(finish, drain * 1000);
  else if (pacing === 'spin') setImmediate(pump);
  else setTimeout(pump, Math.max(0, t0 + next * intervalMs - performance.now() - 0.5));
}

function sendDue(now) {
  while (next < total) {
    const due = t0 + next * intervalMs;
    if (due > now) break;
    const lag = now - due;
    if (next >= warmupCount) {
      if (lag > maxLag) maxLag = lag;
      if (lag > 1) lagOver1ms++;
    }
    const id = next & 0xffff;
    if (pendingSeq[id] >= 0) overwritten++;
    const query = Buffer.allocUnsafe(template.length);
    template.copy(query);
    query.writeUInt16BE(id, 0);
    pendingSeq[id] = next;
    sentAt[id] = lastSend = performance.now();
    sock.send(query);
    next++;
  }
}

function finish() {
  sock.close();
  let lost = overwritten;
  for (let id = 0; id < 65536; id++) if (pendingSeq[id] >= warmupCount) lost++;
  const measured = total - warmupCount;
  const sendSeconds = (lastSend - (t0 + warmupCount * intervalMs)) / 1000;
  const result = {
    tool: 'latency-probe',
    target: `${values.host}:${port}`,
    qname: values.qname,
    qtype: values.qtype,
    offered_qps: qps,
    duration_s: duration,
    warmup_s: warmup,
    pacing,
    sent: measured,
    achieved_send_qps: Math.round(measured / sendSeconds),
    received,
    lost,
    loss_pct: Math.round((10000 * lost) / measured) / 100,
    unexpected,
    send_errors: sendErrors,
    warmup_received: warmupReceived,
    rcodes,
    answers_in_first_reply: firstAnswerCount,
    send_lag_max_ms: Math.round(maxLag * 1000) / 1000,
    sends_late_over_1ms: lagOver1ms,
    ...(received ? stats(latencies.subarray(0, received)) : { count: 0 }),
  };
  emit(result);
  process.exit(0);
}

sock.bind(0, '127.0.0.1', () => {
  sock.connect(port, values.host, () => {
    t0 = performance.now() + 20;
    // a hard stop well past the planned end, whatever happens
    setTimeout(
      () => die('hard time limit reached'),
      (warmup + duration + drain + 30) * 1000,
    ).unref();
    setImmediate(pump);
  });
});
