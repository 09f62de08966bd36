import dnsPacket from 'dns-packet';
import type { Answer, DecodedPacket } from 'dns-packet';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import type { Socket } from 'node:net';
import { pathToFileURL } from 'node:url';
import { encodeOpt, frame, decodeReply } from './dns-client.js';

/**
 * A tiny DNS server built on dns-packet, used only to test the test helpers (client, dig
 * parser, server-process, fuzz driver) while the real server is being written. Run as a
 * script (`node --import tsx test/helpers/stub-dns-server.ts --listen 127.0.0.1:0`) it
 * behaves like `src/main.ts serve` as far as those helpers care: JSON log lines on stdout,
 * exit 0 on SIGTERM.
 */

/** A running stub server. */
export interface StubServer {
  readonly port: number;
  close(): Promise<void>;
}

const ZONE = 'example.org';

function answersFor(name: string, type: string): Answer[] | undefined {
  const lower = name.toLowerCase();
  if (lower !== ZONE && !lower.endsWith(`.${ZONE}`)) return undefined;
  if (lower.startsWith('nx.')) return undefined;
  switch (type) {
    case 'A':
      return [{ name, type: 'A', ttl: 300, data: '192.0.2.1' }];
    case 'AAAA':
      return [{ name, type: 'AAAA', ttl: 300, data: '2001:db8::1' }];
    case 'TXT':
      return [{ name, type: 'TXT', ttl: 300, data: ['hello world', 'second'] }];
    case 'SOA':
      return [soa()];
    default:
      return [];
  }
}

const soa = (): Answer => ({
  name: ZONE,
  type: 'SOA',
  ttl: 300,
  data: { mname: `ns1.${ZONE}`, rname: `hostmaster.${ZONE}`, serial: 1, minimum: 300 },
});

/** A reply with only the header: the query's id and `rcode`. */
function headerOnly(msg: Buffer, rcode: number): Buffer {
  const reply = Buffer.alloc(12);
  msg.copy(reply, 0, 0, 2);
  reply.writeUInt16BE(0x8000 | rcode, 2);
  return reply;
}

/** Builds the stub's reply to one message, or undefined to drop it. */
export function stubAnswer(msg: Buffer): Buffer | undefined {
  if (msg.length < 12 || (msg[2]! & 0x80) !== 0) return undefined;
  try {
    return answer(msg);
  } catch {
    return headerOnly(msg, 2);
  }
}

function answer(msg: Buffer): Buffer {
  let parsed: ReturnType<typeof decodeReply>;
  try {
    parsed = decodeReply(msg);
  } catch {
    return headerOnly(msg, 1);
  }
  const question = parsed.questions[0];
  const answers = question ? answersFor(question.name, question.type) : undefined;
  const badvers = parsed.opt !== undefined && parsed.opt.version > 0;
  const header: DecodedPacket = {
    ...parsed.packet,
    type: 'response',
    flags: dnsPacket.AUTHORITATIVE_ANSWER | (parsed.flags.rd ? dnsPacket.RECURSION_DESIRED : 0),
    questions: question ? [question] : [],
    answers: badvers ? [] : (answers ?? []),
    authorities: !badvers && answers?.length === 0 ? [soa()] : [],
    additionals: [],
  };
  const reply = dnsPacket.encode(header);
  const rcode = !question ? 1 : answers === undefined ? 3 : 0;
  reply.writeUInt16BE(reply.readUInt16BE(2) | (badvers ? 0 : rcode), 2);
  if (!parsed.opt) return reply;
  reply.writeUInt16BE(1, 10);
  const ecs = parsed.opt.ecs;
  const opt = encodeOpt({
    ...(ecs && (ecs.family === 1 || ecs.family === 2)
      ? {
          ecs: {
            family: ecs.family,
            sourcePrefix: ecs.sourcePrefix,
            scopePrefix: ecs.sourcePrefix,
            address: ecs.address,
          },
        }
      : {}),
  });
  if (badvers) opt.writeUInt8(1, 5); // extended RCODE 1 << 4 = BADVERS
  return Buffer.concat([reply, opt]);
}

/** Serves framed queries on one TCP connection. */
function serveConnection(conn: Socket): void {
  let pending = Buffer.alloc(0);
  conn.on('error', () => undefined);
  conn.on('data', (chunk) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
      const reply = stubAnswer(pending.subarray(2, 2 + pending.readUInt16BE(0)));
      pending = pending.subarray(2 + pending.readUInt16BE(0));
      if (reply) conn.write(frame(reply));
    }
  });
}

/** Binds UDP and TCP on `host:port`; resolves undefined if either is taken. */
async function bindBoth(host: string, port: number): Promise<StubServer | undefined> {
  const connections = new Set<Socket>();
  const tcp = createServer((conn) => {
    connections.add(conn);
    conn.once('close', () => connections.delete(conn));
    serveConnection(conn);
  });
  const tcpOk = await new Promise<boolean>((resolve) => {
    tcp.once('error', () => {
      resolve(false);
    });
    tcp.listen({ host, port, exclusive: true }, () => {
      resolve(true);
    });
  });
  if (!tcpOk) return undefined;
  const address = tcp.address();
  const bound = typeof address === 'object' && address !== null ? address.port : port;
  const closeTcp = (): Promise<void> =>
    new Promise((resolve) => {
      for (const conn of connections) conn.destroy();
      tcp.close(() => {
        resolve();
      });
    });
  const udp = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  udp.on('message', (msg, rinfo) => {
    const reply = stubAnswer(msg);
    if (reply) udp.send(reply, rinfo.port, rinfo.address);
  });
  const udpOk = await new Promise<boolean>((resolve) => {
    udp.once('error', () => {
      resolve(false);
    });
    udp.bind({ address: host, port: bound, exclusive: true }, () => {
      resolve(true);
    });
  });
  if (!udpOk) {
    udp.close();
    await closeTcp();
    return undefined;
  }
  udp.on('error', () => undefined);
  return {
    port: bound,
    close: async () => {
      await new Promise<void>((resolve) => udp.close(resolve));
      await closeTcp();
    },
  };
}

/** Starts the stub on UDP and TCP at `host:port` (port 0 = one free for both). */
export async function startStubServer(host = '127.0.0.1', port = 0): Promise<StubServer> {
  for (let attempt = 0; attempt < (port === 0 ? 50 : 1); attempt++) {
    const server = await bindBoth(host, port);
    if (server) return server;
  }
  throw new Error(`stub-dns-server: cannot bind UDP and TCP on ${host}:${port}`);
}

async function main(argv: readonly string[]): Promise<void> {
  const listen = argv[argv.indexOf('--listen') + 1] ?? '127.0.0.1:0';
  const m = /^\[?([^\]]+)\]?:(\d+)$/.exec(listen);
  const host = m?.[1] ?? '127.0.0.1';
  const server = await startStubServer(host, Number(m?.[2] ?? 0));
  const bound = host.includes(':') ? `[${host}]:${server.port}` : `${host}:${server.port}`;
  console.log(
    JSON.stringify({
      level: 30,
      msg: 'listening',
      dns: { udp: [bound], tcp: [bound] },
      agents: [],
    }),
  );
  process.once('SIGTERM', () => {
    console.log(JSON.stringify({ level: 30, msg: 'stopping' }));
    void server.close().then(() => {
      process.exitCode = 0;
    });
  });
  process.on('SIGHUP', () => {
    console.log(JSON.stringify({ level: 30, msg: 'reloaded' }));
  });
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main(process.argv.slice(2));
}
