import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';

type Db = Kysely<Database> | Transaction<Database>;

/** A claimed key as stored. */
export interface IdempotencyRecord {
  id: number;
  lookupHash: string;
  fingerprint: string;
  state: 'in_flight' | 'completed';
  /** Encrypted response, once completed. */
  response: string | null;
  createdAt: string;
  expiresAt: string;
}

/** Reads and writes `idempotency_keys`. Decides nothing. */
export interface IdempotencyStore {
  /** Inserts an in-flight claim; throws a unique violation when the key is already claimed. */
  insert(db: Db, record: IdempotencyRecord): Promise<void>;
  findByLookup(db: Db, lookupHash: string): Promise<IdempotencyRecord | null>;
  /** Stores the response of the claim `id`; false when the claim is gone (purged or released). */
  complete(db: Db, id: number, response: string): Promise<boolean>;
  /** Deletes the claim `id` (the request failed: the key may be used again). */
  delete(db: Db, id: number): Promise<void>;
  /** Deletes one stored claim only if it is still the row that was read (expired or abandoned). */
  deleteIfUnchanged(db: Db, record: IdempotencyRecord): Promise<boolean>;
  /** Deletes every claim expired at `now`; returns how many. */
  deleteExpired(db: Db, now: string): Promise<number>;
}

type Row = Database['idempotency_keys'];

function toRecord(r: Row): IdempotencyRecord {
  return {
    id: r.id,
    lookupHash: r.lookup_hash,
    fingerprint: r.fingerprint,
    state: r.state === 'completed' ? 'completed' : 'in_flight',
    response: r.response,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
  };
}

/** Kysely implementation of `IdempotencyStore`. */
export class KyselyIdempotencyStore implements IdempotencyStore {
  async insert(db: Db, r: IdempotencyRecord): Promise<void> {
    await db
      .insertInto('idempotency_keys')
      .values({ id: r.id, lookup_hash: r.lookupHash, fingerprint: r.fingerprint, state: r.state, response: r.response, created_at: r.createdAt, expires_at: r.expiresAt })
      .execute();
  }

  async findByLookup(db: Db, lookupHash: string): Promise<IdempotencyRecord | null> {
    const row = await db.selectFrom('idempotency_keys').selectAll().where('lookup_hash', '=', lookupHash).executeTakeFirst();
    return row ? toRecord(row) : null;
  }

  async complete(db: Db, id: number, response: string): Promise<boolean> {
    const result = await db.updateTable('idempotency_keys').set({ state: 'completed', response }).where('id', '=', id).where('state', '=', 'in_flight').executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async delete(db: Db, id: number): Promise<void> {
    await db.deleteFrom('idempotency_keys').where('id', '=', id).execute();
  }

  async deleteIfUnchanged(db: Db, r: IdempotencyRecord): Promise<boolean> {
    const result = await db.deleteFrom('idempotency_keys').where('id', '=', r.id).where('state', '=', r.state).executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  }

  async deleteExpired(db: Db, now: string): Promise<number> {
    const result = await db.deleteFrom('idempotency_keys').where('expires_at', '<=', now).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
