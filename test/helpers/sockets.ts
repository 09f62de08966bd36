import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/**
 * The listening sockets a process holds, read from Linux's /proc: `udp 127.0.0.1:5353`,
 * `tcp [::1]:5353` (TCP in state LISTEN only; UDP all), sorted and each once.
 */

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
