import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { isUniqueViolation } from '../../db/unique-violation.js';
import { ConflictError, ValidationError } from '../../domain/errors.js';
import { newId, nowIso } from '../../domain/ids.js';
import type { IdempotencyRecord, IdempotencyStore } from './idempotency-store.js';

/** How long a key is remembered. */
export const idempotencyTtlSeconds = 24 * 60 * 60;

/** An in-flight claim older than this is taken to belong to a request that died with its process. */
export const abandonedClaimSeconds = 5 * 60;

/** 1–255 visible ASCII characters (no spaces). */
export const idempotencyKeyPattern = /^[\x21-\x7e]{1,255}$/;

/** One request presenting an `Idempotency-Key`. */
export interface IdempotentRequest {
  /** Who is calling (`user:…`, `client:…`, `api_key:…`, else `ip:…`): keys are per caller. */
  caller: string;
  key: string;
  method: string;
  /** Path and query string. */
  url: string;
  /** The parsed body (or raw text); compared by canonical JSON. */
  body: unknown;
}

/** The first response to a key, replayed to repeats. */
export interface StoredResponse {
  status: number;
  contentType: string | null;
  body: string;
}

/** A key this request holds until it completes or releases it. */
export interface IdempotencyClaim {
  readonly id: number;
  readonly secret: Buffer;
}

export type IdempotencyBegin = { kind: 'claimed'; claim: IdempotencyClaim } | { kind: 'replay'; response: StoredResponse };

function canonical(value: unknown): string {
  if (typeof value === 'string') return `s:${value}`;
  if (Buffer.isBuffer(value)) return `b:${value.toString('base64')}`;
  const walk = (v: unknown): string => {
    if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
    if (Array.isArray(v)) return `[${v.map(walk).join(',')}]`;
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .filter((k) => o[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${walk(o[k])}`)
      .join(',')}}`;
  };
  return `j:${walk(value)}`;
}

function encrypt(secret: Buffer, plain: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', secret, iv);
  const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return `${iv.toString('base64')}.${cipher.getAuthTag().toString('base64')}.${data.toString('base64')}`;
}

function decrypt(secret: Buffer, sealed: string): string | null {
  const [iv, tag, data] = sealed.split('.');
  if (!iv || !tag || data === undefined) return null;
  try {
    const decipher = createDecipheriv('aes-256-gcm', secret, Buffer.from(iv, 'base64'));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(data, 'base64')), decipher.final()]).toString('utf8');
  } catch {
    return null;
  }
}

function addSeconds(iso: string, seconds: number): string {
  return new Date(Date.parse(iso) + seconds * 1000).toISOString();
}

/**
 * `Idempotency-Key` bookkeeping, in the database so it holds across instances. The first request
 * with a key claims it (a unique row); a repeat with the same method, path and body gets the
 * first response back; a different request under the same key is refused (422
 * `idempotency_key_reused`); a repeat while the first is still running gets 409
 * `idempotency_request_in_progress`. Only SHA-256 of caller+key is stored as the lookup, and the
 * response is sealed (AES-256-GCM) with a key derived from the idempotency key: the table alone
 * does not reveal response bodies, some of which carry secrets shown once.
 */
export class IdempotencyService {
  private lastPurge = 0;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly store: IdempotencyStore,
    private readonly now: () => string = nowIso,
    /** How often (ms) `begin` also purges expired keys, in the background. */
    private readonly purgeEveryMs = 10 * 60 * 1000,
    private readonly onPurgeError: (error: unknown) => void = () => {},
  ) {}

  /** Claims the key, or answers what a repeat gets; throws for a reused or in-flight key. */
  async begin(request: IdempotentRequest): Promise<IdempotencyBegin> {
    this.maybePurge();
    const secret = Buffer.from(hkdfSync('sha256', request.key, request.caller, 'switchyard idempotency v1', 32));
    const lookupHash = createHash('sha256').update(`${request.caller}\u0000${request.key}`, 'utf8').digest('hex');
    const fingerprint = createHmac('sha256', secret).update(`${request.method.toUpperCase()} ${request.url}\u0000${canonical(request.body)}`, 'utf8').digest('hex');
    for (let attempt = 0; attempt < 5; attempt++) {
      const now = this.now();
      const record: IdempotencyRecord = { id: newId(), lookupHash, fingerprint, state: 'in_flight', response: null, createdAt: now, expiresAt: addSeconds(now, idempotencyTtlSeconds) };
      try {
        await this.store.insert(this.db, record);
        return { kind: 'claimed', claim: { id: record.id, secret } };
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
      }
      const existing = await this.store.findByLookup(this.db, lookupHash);
      if (!existing) continue;
      const abandoned = existing.state === 'in_flight' && addSeconds(existing.createdAt, abandonedClaimSeconds) <= now;
      if (existing.expiresAt <= now || abandoned) {
        await this.store.deleteIfUnchanged(this.db, existing);
        continue;
      }
      if (existing.fingerprint !== fingerprint) {
        throw new ValidationError(
          'This Idempotency-Key was already used for a different request (method, path or body); use a new key',
          { 'Idempotency-Key': 'was used for a different request' },
          'idempotency_key_reused',
        );
      }
      if (existing.state === 'in_flight') {
        throw new ConflictError('A request with this Idempotency-Key is still being processed; retry shortly', 'idempotency_request_in_progress');
      }
      const plain = existing.response === null ? null : decrypt(secret, existing.response);
      if (plain === null) {
        // Cannot happen unless the row was tampered with; start over rather than replay garbage.
        await this.store.deleteIfUnchanged(this.db, existing);
        continue;
      }
      return { kind: 'replay', response: JSON.parse(plain) as StoredResponse };
    }
    throw new ConflictError('A request with this Idempotency-Key is still being processed; retry shortly', 'idempotency_request_in_progress');
  }

  /** Keeps the response for repeats of the claimed key. */
  async complete(claim: IdempotencyClaim, response: StoredResponse): Promise<void> {
    await this.store.complete(this.db, claim.id, encrypt(claim.secret, JSON.stringify(response)));
  }

  /** Gives the key up (the request failed on our side): the next request with it does the work. */
  async release(claim: IdempotencyClaim): Promise<void> {
    await this.store.delete(this.db, claim.id);
  }

  /** Deletes keys past their 24 hours; returns how many. */
  async purgeExpired(): Promise<number> {
    this.lastPurge = Date.now();
    return this.store.deleteExpired(this.db, this.now());
  }

  private maybePurge(): void {
    if (Date.now() - this.lastPurge < this.purgeEveryMs) return;
    this.lastPurge = Date.now();
    this.purgeExpired().catch(this.onPurgeError);
  }
}
