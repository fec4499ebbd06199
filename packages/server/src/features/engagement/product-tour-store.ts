import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';

type Db = Kysely<Database> | Transaction<Database>;

/** A user's stored progress through one product tour. */
export interface ProductTour {
  userId: number;
  tourKey: string;
  completed: boolean;
  completedAt: string | null;
  createdAt: string;
  updatedAt: string;
}

/** Reads and writes `product_tours`. Decides nothing. */
export interface ProductTourStore {
  find(db: Db, userId: number, tourKey: string): Promise<ProductTour | null>;
  /** Inserts or replaces the user's status for the tour (one row per user and tour). */
  upsert(db: Db, id: number, tour: ProductTour): Promise<void>;
  /** True when there was a row to delete. */
  delete(db: Db, userId: number, tourKey: string): Promise<boolean>;
}

/** Kysely implementation of `ProductTourStore`. */
export class KyselyProductTourStore implements ProductTourStore {
  async find(db: Db, userId: number, tourKey: string): Promise<ProductTour | null> {
    const r = await db.selectFrom('product_tours').selectAll().where('user_id', '=', userId).where('tour_key', '=', tourKey).executeTakeFirst();
    return r ? { userId: r.user_id, tourKey: r.tour_key, completed: r.completed === 1, completedAt: r.completed_at, createdAt: r.created_at, updatedAt: r.updated_at } : null;
  }

  async upsert(db: Db, id: number, t: ProductTour): Promise<void> {
    await db
      .insertInto('product_tours')
      .values({ id, user_id: t.userId, tour_key: t.tourKey, completed: t.completed ? 1 : 0, completed_at: t.completedAt, created_at: t.createdAt, updated_at: t.updatedAt })
      .onConflict((oc) => oc.columns(['user_id', 'tour_key']).doUpdateSet({ completed: t.completed ? 1 : 0, completed_at: t.completedAt, updated_at: t.updatedAt }))
      .execute();
  }

  async delete(db: Db, userId: number, tourKey: string): Promise<boolean> {
    const result = await db.deleteFrom('product_tours').where('user_id', '=', userId).where('tour_key', '=', tourKey).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}
