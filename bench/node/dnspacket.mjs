// Node + npm `dns-packet`: decode() the query into objects, look it up, encode() the answer.
// Same zone data and answer shapes as raw.mjs.
import dgram from 'node:dgram';
import { ORIGIN, TTL, SOA, RECORDS, PORT, HOST } from './zone-data.mjs';
import { requireNpm } from './npm-require.mjs';
import process from 'node:process';
const dnsPacket = requireNpm('dns-packet');

const AA = dnsPacket.AUTHORITATIVE_ANSWER,
  RD = dnsPacket.RECURSION_DESIRED;
const soaRR = {
  name: ORIGIN,
  type: 'SOA',
  class: 'IN',
  ttl: TTL,
  data: {
    mname: SOA.mname,
    rname: SOA.rname,
    serial: SOA.serial,
    refresh: SOA.refresh,
    retry: SOA.retry,
    expire: SOA.expire,
    minimum: SOA.minimum,
  },
};
const suffix = '.' + ORIGIN;

const sock = dgram.createSocket('udp4');
sock.on('message', (msg, rinfo) => {
  let q;
  try {
    q = dnsPacket.decode(msg);
  } catch {
    return;
  } // unparseable: drop
  if (q.type !== 'query' || q.questions.length !== 1) return;
  const question = q.questions[0];
  const name = question.name.toLowerCase();
  let rcode = 0,
    flags = AA | (q.flags & RD);
  const answers = [],
    authorities = [];
  if (name !== ORIGIN && !name.endsWith(suffix)) {
    rcode = 5;
    flags &= ~AA;
  } else {
    const node = RECORDS[name];
    if (!node) {
      rcode = 3;
      authorities.push(soaRR);
    } else {
      const values = node[question.type];
      if (!values) authorities.push(soaRR);
      else if (question.type === 'SOA') answers.push({ ...soaRR, name: question.name });
      else
        for (const v of values)
          answers.push({
            name: question.name,
            type: question.type,
            class: 'IN',
            ttl: TTL,
            data: v,
          });
    }
  }
  const additionals = q.additionals.some((r) => r.type === 'OPT')
    ? [
        {
          type: 'OPT',
          name: '.',
          udpPayloadSize: 1232,
          extendedRcode: 0,
          ednsVersion: 0,
          flags: 0,
          options: [],
        },
      ]
    : [];
  const out = dnsPacket.encode({
    type: 'response',
    id: q.id,
    flags: flags | rcode,
    questions: q.questions,
    answers,
    authorities,
    additionals,
  });
  sock.send(out, rinfo.port, rinfo.address);
});
sock.on('listening', () =>
  process.stderr.write(`node-dnspacket listening on ${HOST}:${PORT} (pid ${process.pid})\n`),
);
sock.bind(PORT, HOST);
process.on('SIGTERM', () => {
  sock.close();
  process.exit(0);
});
