/**
 * MurmurHash3 x86 32-bit over the UTF-8 bytes of a string, written out so the engine needs no
 * hashing dependency. This is the hash flagd's `fractional` uses (Go hashes the UTF-8 bytes of the
 * bucketing value). ASCII strings are hashed straight from their char codes; other strings are
 * UTF-8 encoded into a reused buffer first (lone surrogates become U+FFFD, as `TextEncoder` and
 * Go's JSON decoder do).
 */

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

let buffer = new Uint8Array(256);
const encoder = new TextEncoder();

/**
 * MurmurHash3 x86_32 of the UTF-8 encoding of `value`.
 * @param value - the string to hash
 * @param seed - the seed (flagd uses 0)
 * @returns the hash as an unsigned 32-bit integer
 */
export function murmur3(value: string, seed = 0): number {
  const n = value.length;
  for (let i = 0; i < n; i++) {
    if (value.charCodeAt(i) > 0x7f) return murmur3Bytes(encodeUtf8(value), seed);
  }
  let h = seed | 0;
  const blocks = n & ~3;
  let i = 0;
  for (; i < blocks; i += 4) {
    let k =
      value.charCodeAt(i) |
      (value.charCodeAt(i + 1) << 8) |
      (value.charCodeAt(i + 2) << 16) |
      (value.charCodeAt(i + 3) << 24);
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  let k = 0;
  switch (n & 3) {
    case 3:
      k ^= value.charCodeAt(i + 2) << 16;
    // falls through
    case 2:
      k ^= value.charCodeAt(i + 1) << 8;
    // falls through
    case 1:
      k ^= value.charCodeAt(i);
      k = Math.imul(k, C1);
      k = (k << 15) | (k >>> 17);
      k = Math.imul(k, C2);
      h ^= k;
  }
  return finish(h, n);
}

/**
 * MurmurHash3 x86_32 of the first `length` bytes of `bytes`.
 * @param bytes - the bytes to hash
 * @param seed - the seed
 * @param length - how many bytes to hash (default all)
 * @returns the hash as an unsigned 32-bit integer
 */
export function murmur3Bytes(bytes: Uint8Array, seed = 0, length = bytes.length): number {
  let h = seed | 0;
  const blocks = length & ~3;
  let i = 0;
  for (; i < blocks; i += 4) {
    let k = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  let k = 0;
  switch (length & 3) {
    case 3:
      k ^= bytes[i + 2]! << 16;
    // falls through
    case 2:
      k ^= bytes[i + 1]! << 8;
    // falls through
    case 1:
      k ^= bytes[i]!;
      k = Math.imul(k, C1);
      k = (k << 15) | (k >>> 17);
      k = Math.imul(k, C2);
      h ^= k;
  }
  return finish(h, length);
}

function finish(h: number, length: number): number {
  h ^= length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Encodes into the shared buffer; returns a view of exactly the encoded bytes. */
function encodeUtf8(value: string): Uint8Array {
  // UTF-8 needs at most 3 bytes per UTF-16 code unit.
  if (buffer.length < value.length * 3) buffer = new Uint8Array(value.length * 3);
  const { written } = encoder.encodeInto(value, buffer);
  return buffer.subarray(0, written);
}

/** MurmurHash3 state after hashing a fixed prefix, so `prefix + value` hashes without concatenating. */
export interface Murmur3Prefix {
  /** The prefix. */
  readonly text: string;
  /** Seed. */
  readonly seed: number;
  /** Hash state after the prefix's complete 4-byte blocks. */
  readonly h: number;
  /** The prefix's trailing bytes (0–3), little-endian. */
  readonly k: number;
  /** How many trailing bytes `k` holds. */
  readonly pending: number;
  /** The prefix's length in UTF-8 bytes. */
  readonly length: number;
}

function mix(h: number, k: number): number {
  k = Math.imul(k, C1);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, C2);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/**
 * Precomputes the hash state of a prefix (typically a flag key or rollout salt).
 * @param prefix - the prefix
 * @param seed - the seed
 * @returns the state for `murmur3WithPrefix`
 */
export function murmur3Prefix(prefix: string, seed = 0): Murmur3Prefix {
  const bytes = encoder.encode(prefix);
  let h = seed | 0;
  const blocks = bytes.length & ~3;
  for (let i = 0; i < blocks; i += 4) h = mix(h, bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24));
  let k = 0;
  for (let i = blocks; i < bytes.length; i++) k |= bytes[i]! << (8 * (i - blocks));
  return Object.freeze({ text: prefix, seed, h, k, pending: bytes.length - blocks, length: bytes.length });
}

/**
 * `murmur3(prefix.text + value)` without building the concatenated string (ASCII values are
 * hashed in place; others fall back to hashing the concatenation).
 * @param p - the precomputed prefix
 * @param value - the rest of the input
 * @returns the unsigned 32-bit hash
 */
export function murmur3WithPrefix(p: Murmur3Prefix, value: string): number {
  const n = value.length;
  let h = p.h;
  let k = p.k;
  let pending = p.pending;
  let i = 0;
  while (pending !== 0 && i < n) {
    const c = value.charCodeAt(i++);
    if (c > 0x7f) return murmur3(p.text + value, p.seed);
    k |= c << (8 * pending);
    if (++pending === 4) {
      h = mix(h, k);
      k = 0;
      pending = 0;
    }
  }
  for (; i + 4 <= n; i += 4) {
    const c0 = value.charCodeAt(i);
    const c1 = value.charCodeAt(i + 1);
    const c2 = value.charCodeAt(i + 2);
    const c3 = value.charCodeAt(i + 3);
    if ((c0 | c1 | c2 | c3) > 0x7f) return murmur3(p.text + value, p.seed);
    h = mix(h, c0 | (c1 << 8) | (c2 << 16) | (c3 << 24));
  }
  for (; i < n; i++) {
    const c = value.charCodeAt(i);
    if (c > 0x7f) return murmur3(p.text + value, p.seed);
    k |= c << (8 * pending++);
  }
  if (pending !== 0) {
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h ^= k;
  }
  return finish(h, p.length + n);
}
