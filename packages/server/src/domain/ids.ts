import { randomBytes } from 'node:crypto';

/**
 * A new row id: a random positive integer below 2^53, so it is exact in JavaScript and in a
 * 64-bit column, and — unlike a global sequence — tells no tenant how busy another one is.
 */
export function newId(): number {
  const b = randomBytes(7);
  // 53 bits: the top 5 bits of the first byte are dropped.
  const high = (b[0]! & 0x1f) * 2 ** 48;
  const low = b.readUIntBE(1, 6);
  const id = high + low;
  return id === 0 ? newId() : id;
}

/** The current time as the ISO-8601 UTC text every table stores. */
export function nowIso(): string {
  return new Date().toISOString();
}
