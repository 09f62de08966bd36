import { createSocket, type Socket } from 'node:dgram';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { connect, createServer, type Server, type Socket as TcpSocket } from 'node:net';

/**
 * Sockets for tests: the listening sockets a process holds (from Linux's /proc), and ports a
 * test holds so that nothing else can answer there (a silent UDP socket, a TCP port that
 * refuses connections). None of them probes for a free port.
 */

/**
 * A UDP client bound to one IPv4 loopback address (127.x.y.z), port 0: one resolver, as a
 * server sees it. Close it after.
 */
export async function resolverAt(address: string): Promise<Socket> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, address, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  return socket;
}

/** A UDP socket bound on `host`, port 0: it receives and never answers. Close it after. */
export function silentUdp(host: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket(
      host.includes(':') ? { type: 'udp6', ipv6Only: true } : { type: 'udp4' },
    );
    socket.once('error', reject);
    socket.bind(0, host, () => {
      resolve(socket);
    });
  });
}

function listenOn(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const fail = (error: Error): void => {
      reject(error);
    };
    server.once('error', fail);
    server.listen({ host, port }, () => {
      server.off('error', fail);
      resolve((server.address() as { port: number }).port);
    });
  });
}

const closeServer = (server: Server): Promise<void> =>
  new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => {
      resolve();
    });
  });

/**
 * Listens with each server on its address, all on one port: the first on port 0 (the
 * system chooses), the others on the port it got. When one of them finds that port taken,
 * all are closed and another port 0 tried, at most `attempts` times. Resolves the port.
 * (Health checks probe one port over several addresses: the members' backends.)
 */
export async function listenOnOnePort(
  servers: readonly (readonly [Server, string])[],
  attempts = 20,
): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    let port = 0;
    try {
      for (const [server, host] of servers) port = await listenOn(server, host, port);
      return port;
    } catch (error) {
      await Promise.all(servers.map(([server]) => closeServer(server)));
      if ((error as { code?: unknown }).code !== 'EADDRINUSE' || attempt >= attempts) throw error;
    }
  }
}

/** A TCP port held by a test: connections to it are refused until `close`. */
export interface ClosedPort {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * A TCP port on `host` that refuses connections, and that no one else can listen on until
 * `close`: the local port of a connection this process holds (bound, not listening: Linux
 * answers a connection attempt with a reset, ECONNREFUSED).
 */
export async function closedTcpPort(host: string): Promise<ClosedPort> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const { port } = server.address() as { port: number };
  const accepted = new Promise<TcpSocket>((resolve) => {
    server.once('connection', resolve);
  });
  const client = connect({ host, port });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', resolve);
    client.once('error', reject);
  });
  const peer = await accepted;
  return {
    port: client.localPort!,
    close: async () => {
      client.destroy();
      peer.destroy();
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
    },
  };
}

/** A /proc/net address (`0100007F:14E9`, IPv6 as four little-endian words) as `host:port`. */
export function procAddress(text: string): string {
  const [hex = '', portHex = ''] = text.split(':');
  const port = parseInt(portHex, 16);
  const words = hex.match(/.{8}/g) ?? [];
  const bytes = words.flatMap((w) => (w.match(/../g) ?? []).reverse().map((b) => parseInt(b, 16)));
  if (bytes.length === 4) return `${bytes.join('.')}:${port}`;
  const groups = Array.from({ length: 8 }, (_, i) => (bytes[2 * i]! << 8) | bytes[2 * i + 1]!);
  // Enough for loopback and the usual test addresses: the longest run of zero groups as ::.
  let best = { at: -1, length: 0 };
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > best.length) best = { at: i, length: j - i };
    i = j === i ? i + 1 : j;
  }
  const hexes = groups.map((g) => g.toString(16));
  const host =
    best.length < 2
      ? hexes.join(':')
      : `${hexes.slice(0, best.at).join(':')}::${hexes.slice(best.at + best.length).join(':')}`;
  return `[${host}]:${port}`;
}

/** Every UDP socket and listening TCP socket on the machine, by inode. */
function listeningByInode(): Map<string, string> {
  const byInode = new Map<string, string>();
  for (const proto of ['udp', 'udp6', 'tcp', 'tcp6']) {
    for (const line of readFileSync(`/proc/net/${proto}`, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10) continue;
      if (proto.startsWith('tcp') && f[3] !== '0A') continue;
      byInode.set(f[9]!, `${proto.slice(0, 3)} ${procAddress(f[1]!)}`);
    }
  }
  return byInode;
}

/** The UDP sockets and listening TCP sockets that process `pid` holds. */
export function listeningSocketsOf(pid: number): string[] {
  const sockets = listeningByInode();
  const held = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const inode = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
      const what = inode === undefined ? undefined : sockets.get(inode);
      if (what) held.add(what);
    } catch {
      // The descriptor was closed while we looked.
    }
  }
  return [...held].sort();
}
