import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';

type Db = Kysely<Database> | Transaction<Database>;

/** Someone who asked for sandbox updates. */
export interface SandboxSubscription {
  id: number;
  organizationId: number;
  userId: number | null;
  email: string;
  name: string | null;
  createdAt: string;
  updatedAt: string;
}

/** Sandbox bookkeeping on organisations, and subscriptions. Decides nothing. */
export interface SandboxStore {
  /** Makes the organisation a sandbox that expires at `expiresAt`. */
  markSandbox(db: Db, organizationId: number, expiresAt: string, at: string): Promise<void>;
  /** Flags of the organisation that are not archived. */
  countFlags(db: Db, organizationId: number): Promise<number>;
  /** Inserts, or updates the name of, the subscription of `email` to the organisation; returns the stored one. */
  upsertSubscription(db: Db, subscription: SandboxSubscription): Promise<SandboxSubscription>;
}

/** Kysely implementation of `SandboxStore`. */
export class KyselySandboxStore implements SandboxStore {
  async markSandbox(db: Db, organizationId: number, expiresAt: string, at: string): Promise<void> {
    await db.updateTable('organizations').set({ is_sandbox: 1, sandbox_expires_at: expiresAt, updated_at: at }).where('id', '=', organizationId).execute();
  }

  async countFlags(db: Db, organizationId: number): Promise<number> {
    const row = await db
      .selectFrom('flags')
      .innerJoin('projects', 'projects.id', 'flags.project_id')
      .where('projects.organization_id', '=', organizationId)
      .where('flags.status', '!=', 'archived')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async upsertSubscription(db: Db, s: SandboxSubscription): Promise<SandboxSubscription> {
    await db
      .insertInto('sandbox_subscriptions')
      .values({ id: s.id, organization_id: s.organizationId, user_id: s.userId, email: s.email, name: s.name, created_at: s.createdAt, updated_at: s.updatedAt })
      .onConflict((oc) => oc.columns(['organization_id', 'email']).doUpdateSet({ name: s.name, user_id: s.userId, updated_at: s.updatedAt }))
      .execute();
    const r = await db.selectFrom('sandbox_subscriptions').selectAll().where('organization_id', '=', s.organizationId).where('email', '=', s.email).executeTakeFirstOrThrow();
    return { id: r.id, organizationId: r.organization_id, userId: r.user_id, email: r.email, name: r.name, createdAt: r.created_at, updatedAt: r.updated_at };
  }
}
