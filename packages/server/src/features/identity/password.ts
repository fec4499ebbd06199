import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';

function scrypt(password: string, salt: Buffer, keylen: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scryptCb(password, salt, keylen, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** scrypt cost: N = 2^ln, block size r, parallelism p. */
export interface ScryptParams {
  ln: number;
  r: number;
  p: number;
}

/**
 * N=2^15, r=8, p=1: 32 MiB and roughly 100–200 ms per hash on a small server. The parameters are
 * stored with every hash, so raising them later only affects new hashes (and re-hash on login).
 */
export const defaultScryptParams: ScryptParams = { ln: 15, r: 8, p: 1 };

/** The scrypt parameters for a configured cost (`SWITCHYARD_PASSWORD_HASH_COST`, log2 of N). */
export function scryptParamsFor(cost: number): ScryptParams {
  return { ...defaultScryptParams, ln: cost };
}

/** A well-formed hash of nothing anyone knows, at `params`: unknown accounts are checked against it. */
export function dummyPasswordHash(params: ScryptParams = defaultScryptParams): string {
  return `$scrypt$ln=${params.ln},r=${params.r},p=${params.p}$${randomBytes(16).toString('base64')}$${randomBytes(32).toString('base64')}`;
}

const keyLength = 32;
// Refuse absurd parameters read from storage so a tampered row cannot make us burn gigabytes.
const limits = { ln: [10, 20], r: [1, 32], p: [1, 16] } as const;

function maxmem({ ln, r }: ScryptParams): number {
  return 128 * r * 2 ** ln * 2 + 1024 * 1024;
}

/**
 * Hashes a password as `$scrypt$ln=15,r=8,p=1$<salt b64>$<hash b64>` (PHC string format), so the
 * salt and cost travel with the hash.
 */
export async function hashPassword(password: string, params: ScryptParams = defaultScryptParams): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scrypt(password.normalize('NFKC'), salt, keyLength, {
    N: 2 ** params.ln,
    r: params.r,
    p: params.p,
    maxmem: maxmem(params),
  });
  return `$scrypt$ln=${params.ln},r=${params.r},p=${params.p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

interface ParsedHash {
  params: ScryptParams;
  salt: Buffer;
  hash: Buffer;
}

function parse(stored: string): ParsedHash | null {
  const m = /^\$scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(stored);
  if (!m) return null;
  const params = { ln: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
  for (const k of ['ln', 'r', 'p'] as const) {
    if (params[k] < limits[k][0] || params[k] > limits[k][1]) return null;
  }
  const hash = Buffer.from(m[5]!, 'base64');
  if (hash.length < 16) return null;
  return { params, salt: Buffer.from(m[4]!, 'base64'), hash };
}

/** Checks a password against a stored hash in constant time; false for a malformed hash. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parse(stored);
  if (!parsed) return false;
  const candidate = await scrypt(password.normalize('NFKC'), parsed.salt, parsed.hash.length, {
    N: 2 ** parsed.params.ln,
    r: parsed.params.r,
    p: parsed.params.p,
    maxmem: maxmem(parsed.params),
  });
  return timingSafeEqual(candidate, parsed.hash);
}

/** True when a stored hash uses weaker parameters than the current default. */
export function needsRehash(stored: string, params: ScryptParams = defaultScryptParams): boolean {
  const parsed = parse(stored);
  if (!parsed) return true;
  return parsed.params.ln < params.ln || parsed.params.r < params.r || parsed.params.p < params.p;
}

/** Minimum password length; checked by services (the routes also declare it in their schemas). */
export const minPasswordLength = 8;
/** Upper bound so a megabyte "password" cannot be used to make hashing expensive. */
export const maxPasswordLength = 1024;

/** A problem with a proposed password, or null when it is acceptable. */
export function passwordProblem(password: string): string | null {
  if (password.length < minPasswordLength) return `must be at least ${minPasswordLength} characters`;
  if (password.length > maxPasswordLength) return `must be at most ${maxPasswordLength} characters`;
  return null;
}
