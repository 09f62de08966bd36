/** Resource record types steerdns knows by name (RFC 1035, 3596, 2782, 3403, 4034, 6672, 6844, 6891). */
export const RRType = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  HINFO: 13,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  NAPTR: 35,
  DNAME: 39,
  OPT: 41,
  DS: 43,
  RRSIG: 46,
  NSEC: 47,
  DNSKEY: 48,
  CAA: 257,
  IXFR: 251,
  AXFR: 252,
  ANY: 255,
} as const;

/** Maps a type number to its mnemonic, for the types in {@link RRType}. */
export const rrTypeNames: ReadonlyMap<number, string> = new Map(
  Object.entries(RRType).map(([name, value]) => [value, name]),
);

/** Returns the mnemonic of a type, or the RFC 3597 `TYPEnnn` form. */
export function rrTypeName(type: number): string {
  return rrTypeNames.get(type) ?? `TYPE${type}`;
}

/** Parses a type mnemonic or `TYPEnnn`; returns undefined when it is neither. */
export function parseRRType(text: string): number | undefined {
  const upper = text.toUpperCase();
  const known = (RRType as Record<string, number | undefined>)[upper];
  if (known !== undefined) return known;
  const match = /^TYPE(\d{1,5})$/.exec(upper);
  if (!match) return undefined;
  const value = Number(match[1]);
  return value <= 0xffff ? value : undefined;
}

/** Classes (RFC 1035 3.2.4). Only IN carries data in steerdns. */
export const RRClass = { IN: 1, CH: 3, HS: 4, NONE: 254, ANY: 255 } as const;

/** Parses a class mnemonic or RFC 3597 `CLASSnnn`. */
export function parseRRClass(text: string): number | undefined {
  const upper = text.toUpperCase();
  const known = (RRClass as Record<string, number | undefined>)[upper];
  if (known !== undefined) return known;
  const match = /^CLASS(\d{1,5})$/.exec(upper);
  if (!match) return undefined;
  const value = Number(match[1]);
  return value <= 0xffff ? value : undefined;
}

/** Response codes (RFC 1035, 6891). BADVERS needs the OPT extended rcode bits. */
export const Rcode = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
  YXDOMAIN: 6,
  BADVERS: 16,
} as const;

/** Opcodes (RFC 1035, 1996, 2136). Only QUERY is implemented. */
export const Opcode = { QUERY: 0, IQUERY: 1, STATUS: 2, NOTIFY: 4, UPDATE: 5 } as const;

/** EDNS option codes (RFC 6891 registry). */
export const EdnsOption = { NSID: 3, CLIENT_SUBNET: 8, COOKIE: 10 } as const;

/** Header flag bits in the 16-bit flags word. */
export const Flag = {
  QR: 0x8000,
  AA: 0x0400,
  TC: 0x0200,
  RD: 0x0100,
  RA: 0x0080,
  AD: 0x0020,
  CD: 0x0010,
} as const;

/** Size limits of the protocol (RFC 1035 2.3.4, RFC 6891). */
export const Limits = {
  maxLabel: 63,
  maxName: 255,
  minUdpPayload: 512,
  defaultUdpPayload: 1232,
  maxMessage: 65535,
} as const;
