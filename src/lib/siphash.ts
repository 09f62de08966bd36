/**
 * SipHash-2-4 (Aumasson and Bernstein, 2012): a keyed 64-bit hash, the MAC of DNS server
 * cookies (RFC 9018). Computed on 32-bit halves in local variables, so a hash allocates
 * nothing (no BigInt): it runs for every query that carries a cookie.
 */

/** A SipHash key: the two 64-bit words k0 and k1 as four little-endian 32-bit halves. */
export type SipKey = Readonly<Int32Array>;

/** Prepares a 16-byte key. Throws a RangeError for any other length. */
export function sipKey(key: Uint8Array): SipKey {
  if (key.length !== 16) throw new RangeError(`a SipHash key has 16 bytes, not ${key.length}`);
  const words = new Int32Array(4);
  for (let i = 0; i < 4; i++) words[i] = le32(key, i * 4);
  return words;
}

/** The little-endian 32-bit word at `at`, bytes past `end` read as 0. */
function le32(data: Uint8Array, at: number, end = at + 4): number {
  let word = 0;
  for (let i = Math.min(end, at + 4) - 1; i >= at; i--) word = (word << 8) | data[i]!;
  return word | 0;
}

/**
 * Writes SipHash-2-4 of `data[start, end)` under `key` into `out` at `at`: the 8 bytes in
 * the reference implementation's order (the 64-bit value, little-endian).
 */
export function siphash24(
  key: SipKey,
  data: Uint8Array,
  start: number,
  end: number,
  out: Uint8Array,
  at: number,
): void {
  const k0l = key[0]!;
  const k0h = key[1]!;
  const k1l = key[2]!;
  const k1h = key[3]!;
  let v0l = k0l ^ 0x70736575;
  let v0h = k0h ^ 0x736f6d65;
  let v1l = k1l ^ 0x6e646f6d;
  let v1h = k1h ^ 0x646f7261;
  let v2l = k0l ^ 0x6e657261;
  let v2h = k0h ^ 0x6c796765;
  let v3l = k1l ^ 0x79746573;
  let v3h = k1h ^ 0x74656462;
  const length = end - start;
  const blocks = length >> 3;
  // `t` and `c` are scratch of the rounds (rotations and carries).
  let t: number;
  let c: number;
  for (let block = 0; block <= blocks; block++) {
    const p = start + block * 8;
    let ml = 0;
    let mh = 0;
    if (block < blocks) {
      ml = data[p]! | (data[p + 1]! << 8) | (data[p + 2]! << 16) | (data[p + 3]! << 24);
      mh = data[p + 4]! | (data[p + 5]! << 8) | (data[p + 6]! << 16) | (data[p + 7]! << 24);
    } else {
      // The last word: the bytes left over, and the length's low byte on top.
      for (let i = end - 1; i >= p + 4; i--) mh = (mh << 8) | data[i]!;
      for (let i = Math.min(end, p + 4) - 1; i >= p; i--) ml = (ml << 8) | data[i]!;
      mh |= (length & 0xff) << 24;
    }
    v3l ^= ml;
    v3h ^= mh;
    for (let round = 0; round < 2; round++) {
      // v0 += v1; v1 = rotl(v1, 13) ^ v0; v0 = rotl(v0, 32)
      c = (v0l + v1l) | 0;
      v0h = (v0h + v1h + (c >>> 0 < v0l >>> 0 ? 1 : 0)) | 0;
      v0l = c;
      t = (v1h << 13) | (v1l >>> 19);
      v1l = ((v1l << 13) | (v1h >>> 19)) ^ v0l;
      v1h = t ^ v0h;
      t = v0l;
      v0l = v0h;
      v0h = t;
      // v2 += v3; v3 = rotl(v3, 16) ^ v2
      c = (v2l + v3l) | 0;
      v2h = (v2h + v3h + (c >>> 0 < v2l >>> 0 ? 1 : 0)) | 0;
      v2l = c;
      t = (v3h << 16) | (v3l >>> 16);
      v3l = ((v3l << 16) | (v3h >>> 16)) ^ v2l;
      v3h = t ^ v2h;
      // v0 += v3; v3 = rotl(v3, 21) ^ v0
      c = (v0l + v3l) | 0;
      v0h = (v0h + v3h + (c >>> 0 < v0l >>> 0 ? 1 : 0)) | 0;
      v0l = c;
      t = (v3h << 21) | (v3l >>> 11);
      v3l = ((v3l << 21) | (v3h >>> 11)) ^ v0l;
      v3h = t ^ v0h;
      // v2 += v1; v1 = rotl(v1, 17) ^ v2; v2 = rotl(v2, 32)
      c = (v2l + v1l) | 0;
      v2h = (v2h + v1h + (c >>> 0 < v2l >>> 0 ? 1 : 0)) | 0;
      v2l = c;
      t = (v1h << 17) | (v1l >>> 15);
      v1l = ((v1l << 17) | (v1h >>> 15)) ^ v2l;
      v1h = t ^ v2h;
      t = v2l;
      v2l = v2h;
      v2h = t;
    }
    v0l ^= ml;
    v0h ^= mh;
  }
  v2l ^= 0xff;
  for (let round = 0; round < 4; round++) {
    c = (v0l + v1l) | 0;
    v0h = (v0h + v1h + (c >>> 0 < v0l >>> 0 ? 1 : 0)) | 0;
    v0l = c;
    t = (v1h << 13) | (v1l >>> 19);
    v1l = ((v1l << 13) | (v1h >>> 19)) ^ v0l;
    v1h = t ^ v0h;
    t = v0l;
    v0l = v0h;
    v0h = t;
    c = (v2l + v3l) | 0;
    v2h = (v2h + v3h + (c >>> 0 < v2l >>> 0 ? 1 : 0)) | 0;
    v2l = c;
    t = (v3h << 16) | (v3l >>> 16);
    v3l = ((v3l << 16) | (v3h >>> 16)) ^ v2l;
    v3h = t ^ v2h;
    c = (v0l + v3l) | 0;
    v0h = (v0h + v3h + (c >>> 0 < v0l >>> 0 ? 1 : 0)) | 0;
    v0l = c;
    t = (v3h << 21) | (v3l >>> 11);
    v3l = ((v3l << 21) | (v3h >>> 11)) ^ v0l;
    v3h = t ^ v0h;
    c = (v2l + v1l) | 0;
    v2h = (v2h + v1h + (c >>> 0 < v2l >>> 0 ? 1 : 0)) | 0;
    v2l = c;
    t = (v1h << 17) | (v1l >>> 15);
    v1l = ((v1l << 17) | (v1h >>> 15)) ^ v2l;
    v1h = t ^ v2h;
    t = v2l;
    v2l = v2h;
    v2h = t;
  }
  const low = v0l ^ v1l ^ v2l ^ v3l;
  const high = v0h ^ v1h ^ v2h ^ v3h;
  for (let i = 0; i < 4; i++) {
    out[at + i] = (low >>> (8 * i)) & 0xff;
    out[at + 4 + i] = (high >>> (8 * i)) & 0xff;
  }
}
