// Polls a DNS server until it answers, for the zone load-time measurement: sends
// "ORIGIN SOA" to 127.0.0.1:PORT every --interval ms (a new ID each time) and exits 0 as
// soon as an authoritative NOERROR answer with at least one answer record arrives. It
// prints the wall-clock time of that answer in microseconds since the epoch (comparable
// with bash's $EPOCHREALTIME), so the caller can subtract the time it started the server.
// Exits 1 after --timeout seconds without such an answer.
//
// Usage: node bench/wait-ready.mjs --port P [--origin example.test] [--timeout 120]
//                                   [--interval 10] [--pid PID]
// With --pid it also gives up as soon as that process is gone.
import dgram from 'node:dgram';
import process from 'node:process';
import { Buffer } from 'node:buffer';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { setTimeout, setInterval } from 'node:timers';

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    origin: { type: 'string', default: 'example.test' },
    timeout: { type: 'string', default: '120' },
    interval: { type: 'string', default: '10' },
    pid: { type: 'string' },
  },
});
const port = Number(values.port);
const timeout = Number(values.timeout);
const interval = Number(values.interval);
if (!Number.isInteger(port) || port < 1 || port > 65535 || !(timeout > 0 && timeout <= 600)) {
  process.stderr.write('usage: node wait-ready.mjs --port P [--timeout S<=600] [--pid PID]\n');
  process.exit(2);
}
const pid = values.pid === undefined ? undefined : Number(values.pid);

const labels = values.origin.replace(/\.$/, '').split('.');
const query = Buffer.alloc(12 + labels.reduce((n, l) => n + 1 + l.length, 1) + 4);
query.writeUInt16BE(1, 4);
let o = 12;
for (const label of labels) {
  query[o++] = label.length;
  o += query.write(label, o, 'ascii');
}
query[o++] = 0;
query.writeUInt16BE(6, o); // SOA
query.writeUInt16BE(1, o + 2); // IN

const nowEpochUs = () => Math.round((performance.timeOrigin + performance.now()) * 1000);
let id = 0;
const sock = dgram.createSocket('udp4');
sock.on('error', () => undefined); // ICMP port unreachable and the like: keep polling
sock.on('message', (msg) => {
  // QR, AA, RCODE NOERROR, ANCOUNT >= 1
  if (
    msg.length >= 12 &&
    msg[2] & 0x80 &&
    msg[2] & 0x04 &&
    (msg[3] & 15) === 0 &&
    msg.readUInt16BE(6) > 0
  ) {
    process.stdout.write(`${nowEpochUs()}\n`);
    process.exit(0);
  }
});
const poll = () => {
  if (pid !== undefined) {
    try {
      process.kill(pid, 0);
    } catch {
      process.stderr.write(`wait-ready: process ${pid} is gone\n`);
      process.exit(1);
    }
  }
  id = (id + 1) & 0xffff;
  const packet = Buffer.from(query);
  packet.writeUInt16BE(id, 0);
  sock.send(packet, port, '127.0.0.1');
};
sock.bind(0, '127.0.0.1', () => {
  poll();
  setInterval(poll, interval);
  setTimeout(() => {
    process.stderr.write(`wait-ready: no answer from 127.0.0.1:${port} within ${timeout} s\n`);
    process.exit(1);
  }, timeout * 1000);
});
