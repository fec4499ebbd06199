/**
 * flagd's `fractional` bucketing: which of a list of weighted variations a bucketing value lands
 * in. `bucket = floor(hash × totalWeight / 2^32)` with `hash` the uint32 MurmurHash3 of the value;
 * the first variation whose cumulative weight exceeds the bucket wins.
 */
import { murmur3 } from './murmur3.js';

/** Largest total weight flagd accepts (Go's `math.MaxInt32`). */
export const MAX_TOTAL_WEIGHT = 2147483647;

const TWO_POW_32 = 4294967296;
/** Below this total, `hash × total` stays under 2^53 and is exact in a double. */
const EXACT_TOTAL = 2097152; // 2^21

/**
 * `(hash × total) >> 32` computed exactly, without BigInt.
 * For `total ≤ 2^21` the product is below 2^53, so the double product, the division by a power
 * of two and the floor are all exact. Larger totals split the hash into 16-bit halves.
 * @param hash - an unsigned 32-bit hash
 * @param total - the total weight, 0 ≤ total ≤ 2^31 - 1
 * @returns the bucket, 0 ≤ bucket < total (0 when total is 0)
 */
export function bucketOf(hash: number, total: number): number {
  if (total <= EXACT_TOTAL) return Math.floor((hash * total) / TWO_POW_32);
  const hi = hash >>> 16; // < 2^16
  const lo = hash & 0xffff; // < 2^16
  const a = hi * total; // < 2^47, exact
  const b = lo * total; // < 2^47, exact
  // (a·2^16 + b) / 2^32 = floor(a / 2^16) + ((a mod 2^16)·2^16 + b) / 2^32
  const aHigh = Math.floor(a / 65536);
  const aLow = a - aHigh * 65536;
  return aHigh + Math.floor((aLow * 65536 + b) / TWO_POW_32);
}

/**
 * The bucket of a bucketing value, as flagd computes it.
 * @param value - the bucketing value (flagd's default: flag key followed by targeting key)
 * @param total - the total weight
 * @returns the bucket
 */
export function bucketFor(value: string, total: number): number {
  return bucketOf(murmur3(value), total);
}

/**
 * Index of the entry whose cumulative weight first exceeds `bucket`, or -1 if none does.
 * @param cumulative - running sums of the weights, in order
 * @param bucket - a bucket from `bucketOf`
 * @returns the winning index, or -1
 */
export function pickIndex(cumulative: ArrayLike<number>, bucket: number): number {
  for (let i = 0; i < cumulative.length; i++) {
    if (cumulative[i]! > bucket) return i;
  }
  return -1;
}
