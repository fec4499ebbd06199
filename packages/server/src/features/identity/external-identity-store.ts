import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';

type Db = Kysely<Database> | Transaction<Database>;

/** An account's identity at an external issuer: (issuer, subject) is unique. */
export interface ExternalIdentity {
  id: number;
  userId: number;
  issuer: string;
  subject: string;
  /** How it was first used: `google`, `github`, `microsoft`, or null (plain login/signup). */
  provider: string | null;
  createdAt: string;
}

/** What a request authenticated by an external ID token needs to know about its account, in one read. */
export interface ExternalCallerState {
  userId: number;
  email: string;
  status: string;
  platformRole: string | null;
  /** The user's memberships, oldest first (the first is the canonical organisation). */
  memberships: Array<{ organizationId: number; role: string }>;
}

/** Reads and writes external identities. Decides nothing. */
export interface ExternalIdentityStore {
  insert(db: Db, identity: ExternalIdentity): Promise<void>;
  find(db: Db, issuer: string, subject: string): Promise<ExternalIdentity | null>;
  listOfUser(db: Db, userId: number): Promise<ExternalIdentity[]>;
  /** The linked account's state and memberships, or null when (issuer, subject) is linked to none. */
  callerState(db: Db, issuer: string, subject: string): Promise<ExternalCallerState | null>;
}

function toIdentity(r: Database['external_identities']): ExternalIdentity {
  return { id: r.id, userId: r.user_id, issuer: r.issuer, subject: r.subject, provider: r.provider, createdAt: r.created_at };
}

/** Kysely implementation of `ExternalIdentityStore`. */
export class KyselyExternalIdentityStore implements ExternalIdentityStore {
  async insert(db: Db, i: ExternalIdentity): Promise<void> {
    await db
      .insertInto('external_identities')
      .values({ id: i.id, user_id: i.userId, issuer: i.issuer, subject: i.subject, provider: i.provider, created_at: i.createdAt })
      .execute();
  }

  async find(db: Db, issuer: string, subject: string): Promise<ExternalIdentity | null> {
    const row = await db
      .selectFrom('external_identities')
      .selectAll()
      .where('issuer', '=', issuer)
      .where('subject', '=', subject)
      .executeTakeFirst();
    return row ? toIdentity(row) : null;
  }

  async listOfUser(db: Db, userId: number): Promise<ExternalIdentity[]> {
    const rows = await db.selectFrom('external_identities').selectAll().where('user_id', '=', userId).orderBy('created_at').execute();
    return rows.map(toIdentity);
  }

  async callerState(db: Db, issuer: string, subject: string): Promise<ExternalCallerState | null> {
    const rows = await db
      .selectFrom('external_identities as x')
      .innerJoin('users as u', 'u.id', 'x.user_id')
      .leftJoin('memberships as m', 'm.user_id', 'u.id')
      .select(['u.id as user_id', 'u.email', 'u.status', 'u.platform_role', 'm.organization_id', 'm.role', 'm.created_at as joined_at'])
      .where('x.issuer', '=', issuer)
      .where('x.subject', '=', subject)
      .orderBy('m.created_at')
      .orderBy('m.id')
      .execute();
    const first = rows[0];
    if (!first) return null;
    return {
      userId: first.user_id,
      email: first.email,
      status: first.status,
      platformRole: first.platform_role,
      memberships: rows.flatMap((r) => (r.organization_id !== null && r.role !== null ? [{ organizationId: r.organization_id, role: r.role }] : [])),
    };
  }
}
