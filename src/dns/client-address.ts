import { writeAddress } from '../lib/ip.js';

/**
 * The address a query came from, as bytes, read once per query into reused storage for
 * the rate limiter and the cookie MAC (RFC 9018 hashes the client's address bytes).
 */
export class ClientAddress {
  /** 4 (IPv4, also for an IPv4-mapped IPv6 peer) or 6; 0 when the text was not an address. */
  family: 0 | 4 | 6 = 0;
  /** The address bytes: [0, 4) for IPv4, [0, 16) for IPv6. */
  readonly bytes = new Uint8Array(16);
  /** A view of the first 4 bytes (the IPv4 address). */
  readonly v4 = this.bytes.subarray(0, 4);

  /** The address bytes of this family: a view, valid until the next {@link read}. */
  get view(): Uint8Array {
    return this.family === 4 ? this.v4 : this.bytes;
  }

  /**
   * Reads `text`, the address a socket reported: a dotted quad, IPv6, or `::ffff:a.b.c.d`
   * (an IPv4 peer of a dual-stack socket, taken as IPv4). Returns the family, 0 when the
   * text is none of these. A dotted quad allocates nothing.
   */
  read(text: string): 0 | 4 | 6 {
    const colon = text.indexOf(':');
    if (colon < 0) return (this.family = readIPv4(text, 0, this.bytes) ? 4 : 0);
    if (text.startsWith('::ffff:') && text.indexOf('.') > 0)
      return (this.family = readIPv4(text, 7, this.bytes) ? 4 : 0);
    return (this.family = writeAddress(text, 6, this.bytes, 0) ? 6 : 0);
  }
}

/** Packs the dotted quad at `text[from..]` into `out[0, 4)`; false when it is not one. */
function readIPv4(text: string, from: number, out: Uint8Array): boolean {
  let octet = 0;
  let digits = 0;
  let k = 0;
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2e) {
      if (digits === 0 || k === 3) return false;
      out[k++] = octet;
      octet = 0;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39 && digits < 3) {
      octet = octet * 10 + c - 0x30;
      digits++;
      if (octet > 255) return false;
    } else {
      return false;
    }
  }
  if (digits === 0 || k !== 3) return false;
  out[3] = octet;
  return true;
}
