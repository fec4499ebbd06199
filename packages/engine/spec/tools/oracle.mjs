// Independent hashing oracle for the case file (imurmurhash, a dependency of flagd-core).
/* global URL, TextEncoder */
// Independent oracles for hash-dependent expectations: imurmurhash over a binary string of UTF-8
// bytes (standard byte-wise MurmurHash3) and BigInt bucket math.
import { createRequire } from 'node:module';
const req = createRequire(new URL('../../../../package.json', import.meta.url));
const MH = req('imurmurhash');
export const hash = (s) => new MH(String.fromCharCode(...new TextEncoder().encode(s))).result() >>> 0;
export const bucket = (s, total) => Number((BigInt(hash(s)) * BigInt(total)) >> 32n);
export const pick = (s, entries) => { // entries: [[variant, weight], ...]
  const total = entries.reduce((a, e) => a + e[1], 0);
  const b = bucket(s, total); let sum = 0;
  for (const [v, w] of entries) { sum += w; if (sum > b) return v; }
  return null;
};
