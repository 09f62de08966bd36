/**
 * The IANA IPv4 address space registry reduced to /8 -> regional registry (seed 003: map a
 * client to a region by the registry its address block belongs to). Legacy blocks map to
 * the registry whose whois serves them. Blocks that are not routable map to undefined.
 * Source: IANA "IPv4 Address Space Registry" (by whois server), as published in 2024.
 */
export type Rir = 'AFRINIC' | 'APNIC' | 'ARIN' | 'LACNIC' | 'RIPE';

/** First octet ranges, inclusive, and their registry. */
const RANGES: readonly (readonly [number, number, Rir | undefined])[] = [
  [0, 0, undefined],
  [1, 1, 'APNIC'],
  [2, 2, 'RIPE'],
  [3, 4, 'ARIN'],
  [5, 5, 'RIPE'],
  [6, 9, 'ARIN'],
  [10, 10, undefined],
  [11, 13, 'ARIN'],
  [14, 14, 'APNIC'],
  [15, 24, 'ARIN'],
  [25, 25, 'RIPE'],
  [26, 26, 'ARIN'],
  [27, 27, 'APNIC'],
  [28, 30, 'ARIN'],
  [31, 31, 'RIPE'],
  [32, 35, 'ARIN'],
  [36, 36, 'APNIC'],
  [37, 37, 'RIPE'],
  [38, 38, 'ARIN'],
  [39, 39, 'APNIC'],
  [40, 40, 'ARIN'],
  [41, 41, 'AFRINIC'],
  [42, 43, 'APNIC'],
  [44, 45, 'ARIN'],
  [46, 46, 'RIPE'],
  [47, 48, 'ARIN'],
  [49, 49, 'APNIC'],
  [50, 50, 'ARIN'],
  [51, 51, 'RIPE'],
  [52, 52, 'ARIN'],
  [53, 53, 'RIPE'],
  [54, 56, 'ARIN'],
  [57, 57, 'RIPE'],
  [58, 61, 'APNIC'],
  [62, 62, 'RIPE'],
  [63, 76, 'ARIN'],
  [77, 95, 'RIPE'],
  [96, 100, 'ARIN'],
  [101, 101, 'APNIC'],
  [102, 102, 'AFRINIC'],
  [103, 103, 'APNIC'],
  [104, 104, 'ARIN'],
  [105, 105, 'AFRINIC'],
  [106, 106, 'APNIC'],
  [107, 108, 'ARIN'],
  [109, 109, 'RIPE'],
  [110, 126, 'APNIC'],
  [127, 127, undefined],
  [128, 132, 'ARIN'],
  [133, 133, 'APNIC'],
  [134, 140, 'ARIN'],
  [141, 141, 'RIPE'],
  [142, 144, 'ARIN'],
  [145, 145, 'RIPE'],
  [146, 149, 'ARIN'],
  [150, 150, 'APNIC'],
  [151, 151, 'RIPE'],
  [152, 152, 'ARIN'],
  [153, 153, 'APNIC'],
  [154, 154, 'AFRINIC'],
  [155, 162, 'ARIN'],
  [163, 163, 'APNIC'],
  [164, 170, 'ARIN'],
  [171, 171, 'APNIC'],
  [172, 174, 'ARIN'],
  [175, 175, 'APNIC'],
  [176, 176, 'RIPE'],
  [177, 177, 'LACNIC'],
  [178, 178, 'RIPE'],
  [179, 179, 'LACNIC'],
  [180, 180, 'APNIC'],
  [181, 181, 'LACNIC'],
  [182, 183, 'APNIC'],
  [184, 184, 'ARIN'],
  [185, 185, 'RIPE'],
  [186, 187, 'LACNIC'],
  [188, 188, 'RIPE'],
  [189, 191, 'LACNIC'],
  [192, 192, 'ARIN'],
  [193, 195, 'RIPE'],
  [196, 197, 'AFRINIC'],
  [198, 199, 'ARIN'],
  [200, 201, 'LACNIC'],
  [202, 203, 'APNIC'],
  [204, 209, 'ARIN'],
  [210, 211, 'APNIC'],
  [212, 213, 'RIPE'],
  [214, 216, 'ARIN'],
  [217, 217, 'RIPE'],
  [218, 223, 'APNIC'],
  [224, 255, undefined],
];

const BY_OCTET: readonly (Rir | undefined)[] = (() => {
  const table = new Array<Rir | undefined>(256).fill(undefined);
  for (const [from, to, rir] of RANGES)
    for (let octet = from; octet <= to; octet++) table[octet] = rir;
  return table;
})();

/** The regional registry of an IPv4 address (4 bytes); undefined for IPv6 or unallocated space. */
export function rirOf(address: Uint8Array): Rir | undefined {
  return address.length === 4 ? BY_OCTET[address[0]!] : undefined;
}
