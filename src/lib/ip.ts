import { isIPv4, isIPv6 } from 'node:net';

/** An IPv4 or IPv6 prefix, address bytes in network order. */
export interface Cidr {
  readonly family: 4 | 6;
  readonly bytes: Uint8Array;
  readonly prefix: number;
}

/**
 * Parses an IPv4 or IPv6 address into 4 or 16 bytes; undefined if it is neither. A zone id
 * (`fe80::1%eth0`, as sockets report link-local peers) is accepted and left out.
 */
export function parseAddress(text: string): Uint8Array | undefined {
  if (isIPv4(text)) {
    const out = new Uint8Array(4);
    packIPv4(text, out, 0);
    return out;
  }
  if (!isIPv6(text)) return undefined;
  const zone = text.indexOf('%');
  const out = new Uint8Array(16);
  return packIPv6(zone < 0 ? text : text.slice(0, zone), out, 0) ? out : undefined;
}

/**
 * Writes the 4 (`family` 4) or 16 (`family` 6) bytes of an address into `out` at `at`
 * without allocating, as master files are read. False, and nothing written, when `text`
 * is not an address of that family; a zone id (`%eth0`) is not part of an address here.
 */
export function writeAddress(text: string, family: 4 | 6, out: Uint8Array, at: number): boolean {
  if (family === 4) {
    if (!isIPv4(text)) return false;
    packIPv4(text, out, at);
    return true;
  }
  return isIPv6(text) && !text.includes('%') && packIPv6(text, out, at);
}

/** Packs a dotted quad that `isIPv4` accepted (four decimals 0-255, no leading zeros). */
function packIPv4(text: string, out: Uint8Array, at: number): void {
  let octet = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2e) {
      out[at++] = octet;
      octet = 0;
    } else {
      octet = octet * 10 + c - 0x30;
    }
  }
  out[at] = octet;
}

const WORDS = new Uint16Array(8);

const hexDigit = (c: number): number => (c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x57);

/**
 * Packs an IPv6 address that `isIPv6` accepted (so: hex groups, at most one `::`, maybe a
 * dotted IPv4 tail), without its zone id, into `out` at `at`, in one pass. Returns false
 * when the groups do not add up to 16 bytes.
 */
function packIPv6(text: string, out: Uint8Array, at: number): boolean {
  let count = 0;
  let gap = -1;
  let value = 0;
  let digits = 0;
  let groupStart = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x3a) {
      if (digits > 0) {
        if (count === 8) return false;
        WORDS[count++] = value;
        value = digits = 0;
      }
      if (text.charCodeAt(i + 1) === 0x3a) {
        gap = count;
        i++;
      }
      groupStart = i + 1;
    } else if (c === 0x2e) {
      const [a = 0, b = 0, c2 = 0, d = 0] = text.slice(groupStart).split('.').map(Number);
      if (count > 6) return false;
      WORDS[count++] = (a << 8) | b;
      WORDS[count++] = (c2 << 8) | d;
      digits = 0;
      break;
    } else {
      value = value * 16 + hexDigit(c);
      digits++;
    }
  }
  if (digits > 0) {
    if (count === 8) return false;
    WORDS[count++] = value;
  }
  // `::` standing for no group at all is accepted, as node:net and inet_pton accept it.
  if (gap < 0 ? count !== 8 : count > 8) return false;
  const zeros = gap < 0 ? 0 : 8 - count;
  out.fill(0, at, at + 16);
  for (let k = 0; k < count; k++) {
    const o = at + 2 * (gap >= 0 && k >= gap ? k + zeros : k);
    out[o] = WORDS[k]! >> 8;
    out[o + 1] = WORDS[k]! & 0xff;
  }
  return true;
}

/** Parses `ADDR/LEN` or a bare address (a host prefix); undefined when invalid. */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf('/');
  const addressText = slash < 0 ? text : text.slice(0, slash);
  const bytes = parseAddress(addressText);
  if (!bytes) return undefined;
  const family = bytes.length === 4 ? 4 : 6;
  const max = bytes.length * 8;
  const prefixText = slash < 0 ? String(max) : text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  if (prefix > max) return undefined;
  return { family, bytes: maskBytes(bytes, prefix), prefix };
}

/** A copy of `bytes` with every bit after `prefix` cleared. */
export function maskBytes(bytes: Uint8Array, prefix: number): Uint8Array {
  const out = Uint8Array.from(bytes);
  for (let i = 0; i < out.length; i++) {
    const keep = Math.max(0, Math.min(8, prefix - i * 8));
    out[i] = out[i]! & ((0xff << (8 - keep)) & 0xff);
  }
  return out;
}

/** Strips the `::ffff:` prefix Node puts on IPv4 clients of dual-stack sockets. */
export function unmapAddress(text: string): string {
  return text.startsWith('::ffff:') && isIPv4(text.slice(7)) ? text.slice(7) : text;
}

/** True when the address bytes fall inside the prefix (same family only). */
export function cidrContains(cidr: Cidr, address: Uint8Array): boolean {
  if (address.length !== cidr.bytes.length) return false;
  const full = cidr.prefix >> 3;
  for (let i = 0; i < full; i++) if (address[i] !== cidr.bytes[i]) return false;
  const rest = cidr.prefix & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (address[full]! & mask) === cidr.bytes[full];
}

/**
 * Formats 4 or 16 address bytes as text, IPv6 in RFC 5952 short form: lower-case hex, the
 * first longest run of two or more zero groups as `::`. With `mappedDotted`, an IPv4-mapped
 * address (::ffff:0:0/96) ends in its IPv4 part, dotted (RFC 5952 5), as master files and
 * dig print it: `::ffff:192.0.2.1` rather than `::ffff:c000:201`.
 */
export function formatAddress(
  bytes: Uint8Array,
  options: { readonly mappedDotted?: boolean } = {},
): string {
  if (bytes.length === 4) return bytes.join('.');
  if (options.mappedDotted === true && isMapped(bytes)) {
    return `::ffff:${bytes.subarray(12, 16).join('.')}`;
  }
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push((bytes[i]! << 8) | bytes[i + 1]!);
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) [bestStart, bestLen] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  const hex = words.map((w) => w.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

function isMapped(bytes: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return false;
  return bytes[10] === 0xff && bytes[11] === 0xff;
}

/** `host:port`, with an IPv6 host in brackets (`[::1]:5353`), as addresses are written in configuration. */
export function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * Parses `ADDR:PORT` or `[IPv6]:PORT` (port 0-65535), the one form addresses with a port
 * take in configuration and on the command line. With `portOptional`, a bare address is
 * accepted too and comes back without a port.
 */
export function parseHostPort(
  text: string,
  options: { readonly portOptional?: boolean } = {},
): { readonly host: string; readonly port: number | undefined } | undefined {
  if (options.portOptional === true && (isIPv4(text) || isIPv6(text)))
    return { host: text, port: undefined };
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|(\d{1,3}(?:\.\d{1,3}){3})):(\d{1,5})$/.exec(text);
  if (!match) return undefined;
  const host = match[1] ?? match[2]!;
  const port = Number(match[3]);
  const valid = match[1] === undefined ? isIPv4(host) : isIPv6(host);
  return port <= 65535 && valid ? { host, port } : undefined;
}

/**
 * Why an address cannot be one that clients are sent to, or undefined when it can: the
 * unspecified address (`0.0.0.0`, `::`), the limited broadcast `255.255.255.255`, multicast
 * (224.0.0.0/4, ff00::/8) and IPv4-mapped IPv6 (`::ffff:a.b.c.d`: give the IPv4 address).
 * `bytes` are 4 or 16 address bytes.
 */
export function memberAddressProblem(bytes: Uint8Array): string | undefined {
  if (bytes.every((b) => b === 0)) return 'the unspecified address';
  if (bytes.length === 4) {
    if (bytes.every((b) => b === 255)) return 'the broadcast address';
    if ((bytes[0]! & 0xf0) === 0xe0) return 'a multicast address';
    return undefined;
  }
  if (bytes[0] === 0xff) return 'a multicast address';
  if (isMapped(bytes)) return 'an IPv4-mapped IPv6 address (give the IPv4 address)';
  return undefined;
}

/**
 * An address in its one written form: IPv4 dotted, IPv6 as RFC 5952 (`2001:0db8:0:0::1` is
 * `2001:db8::1`), so that two spellings of one address compare equal. Undefined when `text`
 * is not an address (a zone id is not allowed here).
 */
export function canonicalAddress(text: string): string | undefined {
  if (text.includes('%')) return undefined;
  const bytes = parseAddress(text);
  return bytes && formatAddress(bytes);
}
