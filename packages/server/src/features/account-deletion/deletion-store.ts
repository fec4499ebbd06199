import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';

type Db = Kysely<Database> | Transaction<Database>;

/** What a deletion erases: the account of a user, or an organisation with everything in it. */
export type DeletionScope = 'account' | 'organization';

/** `pending` until the grace period ends; then `completed` (erased) or `failed`; `cancelled` by its owner. */
export type DeletionStatus = 'pending' | 'cancelled' | 'completed' | 'failed';

/** One deletion request as stored. */
export interface DeletionRequest {
  id: number;
  scope: DeletionScope;
  /** The user (account) or organisation to erase; null once erased. */
  subjectId: number | null;
  organizationId: number | null;
  requestedBy: number | null;
  status: DeletionStatus;
  requestedAt: string;
  scheduledFor: string;
  cancelledAt: string | null;
  completedAt: string | null;
  failure: string | null;
}

type Row = Database['deletion_requests'];

function toRequest(r: Row): DeletionRequest {
  return {
    id: r.id,
    scope: r.scope as DeletionScope,
    subjectId: r.subject_id,
    organizationId: r.organization_id,
    requestedBy: r.requested_by,
    status: r.status as DeletionStatus,
    requestedAt: r.requested_at,
    scheduledFor: r.scheduled_for,
    cancelledAt: r.cancelled_at,
    completedAt: r.completed_at,
    failure: r.failure,
  };
}

/** Storage of deletion requests. Decides nothing about permissions. */
export class KyselyDeletionStore {
  /** Inserts a pending request; a second pending one for the same subject fails with a unique violation. */
  async insert(db: Db, r: DeletionRequest): Promise<void> {
    await db
      .insertInto('deletion_requests')
      .values({
        id: r.id,
        scope: r.scope,
        subject_id: r.subjectId,
        organization_id: r.organizationId,
        requested_by: r.requestedBy,
        status: r.status,
        requested_at: r.requestedAt,
        scheduled_for: r.scheduledFor,
        cancelled_at: null,
        completed_at: null,
        failure: null,
      })
      .execute();
  }

  /** The pending request for an account or organisation, if any. */
  async findPending(db: Db, scope: DeletionScope, subjectId: number): Promise<DeletionRequest | null> {
    const row = await db.selectFrom('deletion_requests').selectAll().where('scope', '=', scope).where('subject_id', '=', subjectId).where('status', '=', 'pending').executeTakeFirst();
    return row ? toRequest(row) : null;
  }

  /** Pending requests whose grace period has ended at `now`, soonest first. */
  async due(db: Db, now: string): Promise<DeletionRequest[]> {
    const rows = await db.selectFrom('deletion_requests').selectAll().where('status', '=', 'pending').where('scheduled_for', '<=', now).orderBy('scheduled_for').execute();
    return rows.map(toRequest);
  }

  /**
   * Pending requests that concern a user: their account's, and those of organisations they are a
   * member of; soonest first.
   */
  async pendingConcerning(db: Db, userId: number): Promise<DeletionRequest[]> {
    const rows = await db
      .selectFrom('deletion_requests')
      .selectAll()
      .where('status', '=', 'pending')
      .where((eb) =>
        eb.or([
          eb.and([eb('scope', '=', 'account'), eb('subject_id', '=', userId)]),
          eb.and([eb('scope', '=', 'organization'), eb('subject_id', 'in', eb.selectFrom('memberships').select('organization_id').where('user_id', '=', userId))]),
        ]),
      )
      .orderBy('scheduled_for')
      .execute();
    return rows.map(toRequest);
  }

  /** Moves a pending request to `status`; false when it was no longer pending. */
  async finish(db: Db, id: number, status: Exclude<DeletionStatus, 'pending'>, at: string, changes: { failure?: string; clearPeople?: boolean } = {}): Promise<boolean> {
    const result = await db
      .updateTable('deletion_requests')
      .set({
        status,
        ...(status === 'cancelled' ? { cancelled_at: at } : { completed_at: at }),
        ...(changes.failure !== undefined ? { failure: changes.failure } : {}),
        // An erased account leaves no id behind in its own request.
        ...(changes.clearPeople ? { requested_by: null } : {}),
      })
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** Clears a user's id from every request (theirs and those they made). */
  async forgetUser(db: Db, userId: number): Promise<void> {
    await db.updateTable('deletion_requests').set({ requested_by: null }).where('requested_by', '=', userId).execute();
    await db.updateTable('deletion_requests').set({ subject_id: null }).where('scope', '=', 'account').where('subject_id', '=', userId).where('status', '!=', 'pending').execute();
  }
}
