import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';

type Db = Kysely<Database> | Transaction<Database>;

/** A mailed password-reset token as stored: only its SHA-256. */
export interface PasswordReset {
  id: number;
  userId: number;
  tokenHash: string;
  createdAt: string;
  expiresAt: string;
  usedAt: string | null;
}

/** Reads and writes password-reset tokens. Decides nothing. */
export interface PasswordResetStore {
  insert(db: Db, reset: PasswordReset): Promise<void>;
  findByHash(db: Db, tokenHash: string): Promise<PasswordReset | null>;
  /** Marks it used only if it is not yet; false when another request used it first. */
  markUsed(db: Db, id: number, at: string): Promise<boolean>;
  /** Marks every unused token of the user used (a newer one, or a new password, replaces them). */
  retireAllOfUser(db: Db, userId: number, at: string): Promise<void>;
  /** How many tokens the user was sent since `since` (ISO). */
  countSince(db: Db, userId: number, since: string): Promise<number>;
}

/** Kysely implementation of `PasswordResetStore`. */
export class KyselyPasswordResetStore implements PasswordResetStore {
  async insert(db: Db, r: PasswordReset): Promise<void> {
    await db
      .insertInto('password_resets')
      .values({ id: r.id, user_id: r.userId, token_hash: r.tokenHash, created_at: r.createdAt, expires_at: r.expiresAt, used_at: r.usedAt })
      .execute();
  }

  async findByHash(db: Db, tokenHash: string): Promise<PasswordReset | null> {
    const r = await db.selectFrom('password_resets').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
    return r ? { id: r.id, userId: r.user_id, tokenHash: r.token_hash, createdAt: r.created_at, expiresAt: r.expires_at, usedAt: r.used_at } : null;
  }

  async markUsed(db: Db, id: number, at: string): Promise<boolean> {
    const result = await db.updateTable('password_resets').set({ used_at: at }).where('id', '=', id).where('used_at', 'is', null).executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async retireAllOfUser(db: Db, userId: number, at: string): Promise<void> {
    await db.updateTable('password_resets').set({ used_at: at }).where('user_id', '=', userId).where('used_at', 'is', null).execute();
  }

  async countSince(db: Db, userId: number, since: string): Promise<number> {
    const row = await db
      .selectFrom('password_resets')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('user_id', '=', userId)
      .where('created_at', '>=', since)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }
}
