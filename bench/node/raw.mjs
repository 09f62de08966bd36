// Node ceiling: a bare dgram UDP server. Parses the 12-byte header and the question by
// hand, looks the (lower-cased wire name, qtype) up in a Map of precomputed RR bytes and
// writes a hand-built answer (owner names compressed to the question). No library.
// Answers: 4xA for www, SOA/NS at the apex, NXDOMAIN/NODATA + SOA in authority,
// REFUSED outside example.test; echoes a minimal EDNS OPT (udp 1232) if the query has one.
import dgram from 'node:dgram';
import { ORIGIN, TTL, SOA, RECORDS, PORT, HOST } from './zone-data.mjs';
import process from 'node:process';
import { Buffer } from 'node:buffer';

const T = { A: 1, NS: 2, SOA: 6 };
const wire = (name) => {
  const out = [];
  for (const l of name.split('.').filter(Boolean)) out.push(l.length, ...Buffer.from(l, 'ascii'));
  out.push(0);
  return Buffer.from(out);
};
const u16 = (n) => Buffer.from([n >> 8, n & 255]);
const u32 = (n) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
};
const rdataOf = (type, v) => {
  if (type === 'A') return Buffer.from(v.split('.').map(Number));
  if (type === 'NS') return wire(v);
  if (type === 'SOA')
    return Buffer.concat([
      wire(v.mname),
      wire(v.rname),
      u32(v.serial),
      u32(v.refresh),
      u32(v.retry),
      u32(v.expire),
      u32(v.minimum),
    ]);
  throw new Error(type);
};
// RR bytes *after* the 2-byte owner pointer: TYPE CLASS TTL RDLEN RDATA
const rrTail = (type, v) => {
  const rd = rdataOf(type, v);
  return Buffer.concat([u16(T[type]), u16(1), u32(TTL), u16(rd.length), rd]);
};

const apexWire = wire(ORIGIN);
const apexKey = apexWire.toString('latin1');
const apexLabels = ORIGIN.split('.').length;
const starts = new Int32Array(128);
const soaTail = rrTail('SOA', SOA);
const names = new Map(); // wire-name(lower, latin1) -> Map(qtype -> {count, bytes})
for (const [name, rrsets] of Object.entries(RECORDS)) {
  const byType = new Map();
  for (const [type, values] of Object.entries(rrsets)) {
    // each RR: C0 0C pointer to the question name, then the tail
    const bytes = Buffer.concat(
      values.map((v) => Buffer.concat([Buffer.from([0xc0, 0x0c]), rrTail(type, v)])),
    );
    byType.set(T[type], { count: values.length, bytes });
  }
  names.set(wire(name).toString('latin1'), byType);
}
const OPT = Buffer.from([0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0]); // root, OPT, udp 1232, ext-rcode/ver/flags 0, rdlen 0

const sock = dgram.createSocket('udp4');
sock.on('message', (msg, rinfo) => {
  const len = msg.length;
  if (len < 17 || msg[2] & 0x80) return; // too short, or a response: drop
  const opcode = (msg[2] >> 3) & 0x0f;
  // walk the QNAME (no compression allowed in a question)
  let p = 12,
    nl = 0;
  while (p < len && msg[p] !== 0) {
    if (msg[p] > 63 || nl === 127) return;
    starts[nl++] = p;
    p += msg[p] + 1;
  }
  if (p + 5 > len) return;
  const nameEnd = p + 1; // offset just past the root label
  const qtype = (msg[nameEnd] << 8) | msg[nameEnd + 1];
  const qEnd = nameEnd + 4;
  const qdcount = (msg[4] << 8) | msg[5];
  const arcount = (msg[10] << 8) | msg[11];
  const edns =
    arcount > 0 &&
    qEnd + 11 <= len &&
    msg[qEnd] === 0 &&
    msg[qEnd + 1] === 0 &&
    msg[qEnd + 2] === 41;

  let rcode = 0,
    an = null,
    auth = false,
    aa = 0x04;
  if (opcode !== 0) {
    rcode = 4;
    aa = 0;
  } // NOTIMP
  else if (qdcount !== 1) {
    rcode = 1;
    aa = 0;
  } // FORMERR
  else {
    const key = msg.toString('latin1', 12, nameEnd).toLowerCase();
    // in zone iff the apex's wire form is a suffix that starts on a label boundary
    if (
      nl < apexLabels ||
      starts[nl - apexLabels] !== nameEnd - apexWire.length ||
      !key.endsWith(apexKey)
    ) {
      rcode = 5;
      aa = 0; // REFUSED: not our zone
    } else {
      const node = names.get(key);
      if (!node) {
        rcode = 3;
        auth = true;
      } // NXDOMAIN
      else {
        an = node.get(qtype) || null;
        if (!an) auth = true;
      } // answer or NODATA
    }
  }
  const qlen = rcode === 1 || rcode === 4 ? 0 : qEnd - 12;
  const authLen = auth ? 2 + soaTail.length : 0;
  const total = 12 + qlen + (an ? an.bytes.length : 0) + authLen + (edns ? OPT.length : 0);
  const out = Buffer.allocUnsafe(total);
  out[0] = msg[0];
  out[1] = msg[1];
  out[2] = 0x80 | (opcode << 3) | aa | (msg[2] & 0x01); // QR, opcode, AA, RD copied
  out[3] = rcode;
  out[4] = 0;
  out[5] = qlen ? 1 : 0;
  const ancount = an ? an.count : 0;
  out[6] = ancount >> 8;
  out[7] = ancount & 255;
  out[8] = 0;
  out[9] = auth ? 1 : 0;
  out[10] = 0;
  out[11] = edns ? 1 : 0;
  let o = 12;
  if (qlen) {
    msg.copy(out, 12, 12, qEnd);
    o += qlen;
  }
  if (an) {
    an.bytes.copy(out, o);
    o += an.bytes.length;
  }
  if (auth) {
    // SOA owner = apex = suffix of the qname
    const ptr = nameEnd - apexWire.length;
    out[o] = 0xc0 | (ptr >> 8);
    out[o + 1] = ptr & 255;
    o += 2;
    soaTail.copy(out, o);
    o += soaTail.length;
  }
  if (edns) OPT.copy(out, o);
  sock.send(out, rinfo.port, rinfo.address);
});
sock.on('listening', () =>
  process.stderr.write(`node-raw listening on ${HOST}:${PORT} (pid ${process.pid})\n`),
);
sock.bind(PORT, HOST);
process.on('SIGTERM', () => {
  sock.close();
  process.exit(0);
});
