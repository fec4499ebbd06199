import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bucketFor, bucketOf, MAX_TOTAL_WEIGHT, pickIndex } from './bucketing.js';
import { murmur3, murmur3Bytes } from './murmur3.js';

// imurmurhash (flagd-core's hash) hashes UTF-16 code units; fed a "binary string" of UTF-8 bytes it
// is a byte-wise MurmurHash3 and so an independent oracle for ours.
const require = createRequire(import.meta.url);
const MurmurHash3 = require('imurmurhash') as new (s: string) => { result(): number };
const oracle = (s: string): number => new MurmurHash3(String.fromCharCode(...new TextEncoder().encode(s))).result() >>> 0;

describe('murmur3', () => {
  it('matches published MurmurHash3 x86_32 vectors', () => {
    expect(murmur3('')).toBe(0);
    expect(murmur3('hello')).toBe(0x248bfa47);
    expect(murmur3('The quick brown fox jumps over the lazy dog')).toBe(0x2e4ff723);
    expect(murmur3('', 1)).toBe(0x514e28b7);
  });

  it('hashes UTF-8 bytes, unlike flagd-core on non-ASCII input', () => {
    const utf16 = new MurmurHash3('ü').result() >>> 0;
    expect(murmur3('ü')).toBe(murmur3Bytes(new Uint8Array([0xc3, 0xbc])));
    expect(murmur3('ü')).not.toBe(utf16);
  });

  it('agrees with a byte-wise oracle on any string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (s) => {
        expect(murmur3(s)).toBe(oracle(s));
      }),
      { numRuns: 2000 },
    );
  });

  it('encodes lone surrogates as U+FFFD', () => {
    expect(murmur3('a\ud800b')).toBe(murmur3('a\ufffdb'));
  });
});

describe('bucketOf', () => {
  it('equals (hash × total) >> 32 in 64-bit arithmetic for every total', () => {
    fc.assert(
      fc.property(fc.nat({ max: 0xffffffff }), fc.integer({ min: 0, max: MAX_TOTAL_WEIGHT }), (hash, total) => {
        expect(bucketOf(hash, total)).toBe(Number((BigInt(hash) * BigInt(total)) >> 32n));
      }),
      { numRuns: 20000 },
    );
  });

  it('is exact at the edges', () => {
    for (const total of [1, 100, 2 ** 21, 2 ** 21 + 1, MAX_TOTAL_WEIGHT]) {
      for (const hash of [0, 1, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff]) {
        expect(bucketOf(hash, total)).toBe(Number((BigInt(hash) * BigInt(total)) >> 32n));
      }
      expect(bucketOf(0xffffffff, total)).toBeLessThan(total);
    }
  });

  it('picks the first cumulative weight above the bucket', () => {
    expect(pickIndex([0, 50, 100], 0)).toBe(1);
    expect(pickIndex([50, 100], 49)).toBe(0);
    expect(pickIndex([50, 100], 50)).toBe(1);
    expect(pickIndex([0], 0)).toBe(-1);
    expect(bucketFor('hello', 100)).toBe(Math.floor((0x248bfa47 * 100) / 2 ** 32));
  });
});
