// Node + npm `dns2`: its UDP server parses the query into a Packet, we fill in the
// response with Packet objects and its send() serialises it. Same zone data as raw.mjs.
// (dns2 has no EDNS handling of its own; dnsperf sends no EDNS by default.)
import { ORIGIN, TTL, SOA, RECORDS, PORT, HOST } from './zone-data.mjs';
import { requireNpm } from './npm-require.mjs';
import process from 'node:process';
const dns2 = requireNpm('dns2');
const { Packet } = dns2;

const soaRR = (name) => ({
  name,
  type: Packet.TYPE.SOA,
  class: Packet.CLASS.IN,
  ttl: TTL,
  primary: SOA.mname,
  admin: SOA.rname,
  serial: SOA.serial,
  refresh: SOA.refresh,
  retry: SOA.retry,
  expiration: SOA.expire,
  minimum: SOA.minimum,
});
const typeName = Object.fromEntries(Object.entries(Packet.TYPE).map(([k, v]) => [v, k]));
const suffix = '.' + ORIGIN;

const server = dns2.createServer({
  udp: true,
  handle: (request, send) => {
    const response = Packet.createResponseFromRequest(request);
    const [question] = request.questions;
    if (!question) return;
    const name = question.name.toLowerCase();
    if (name !== ORIGIN && !name.endsWith(suffix)) {
      response.header.rcode = 5;
      return send(response);
    }
    response.header.aa = 1;
    const node = RECORDS[name];
    if (!node) {
      response.header.rcode = 3;
      response.authorities.push(soaRR(ORIGIN));
      return send(response);
    }
    const t = typeName[question.type];
    const values = node[t];
    if (!values) response.authorities.push(soaRR(ORIGIN));
    else if (t === 'SOA') response.answers.push(soaRR(question.name));
    else if (t === 'NS')
      for (const v of values)
        response.answers.push({
          name: question.name,
          type: Packet.TYPE.NS,
          class: Packet.CLASS.IN,
          ttl: TTL,
          ns: v,
        });
    else
      for (const v of values)
        response.answers.push({
          name: question.name,
          type: Packet.TYPE.A,
          class: Packet.CLASS.IN,
          ttl: TTL,
          address: v,
        });
    send(response);
  },
});
server.on('requestError', () => undefined);
server
  .listen({ udp: { port: PORT, address: HOST } })
  .then(() =>
    process.stderr.write(`node-dns2 listening on ${HOST}:${PORT} (pid ${process.pid})\n`),
  );
process.on('SIGTERM', () => process.exit(0));
