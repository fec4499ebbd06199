import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';

type Db = Kysely<Database> | Transaction<Database>;

/** Why a session ended. */
export type RevokeReason = 'logout' | 'reuse_detected' | 'password_changed' | 'deactivated';

/** A login session: one chain of rotating refresh tokens, and the access tokens issued from it. */
export interface Session {
  id: number;
  userId: number;
  /** The organisation the session currently acts in (changed by switch-organization). */
  organizationId: number | null;
  createdAt: string;
  expiresAt: string;
  revokedAt: string | null;
  revokedReason: string | null;
}

/** A refresh token as stored: only its SHA-256. */
export interface RefreshTokenRecord {
  id: number;
  sessionId: number;
  tokenHash: string;
  createdAt: string;
  expiresAt: string;
  usedAt: string | null;
}

/** Reads and writes sessions and their refresh tokens. Decides nothing. */
export interface SessionStore {
  insertSession(db: Db, session: Session): Promise<void>;
  findSession(db: Db, id: number): Promise<Session | null>;
  /** Revokes the session unless it already is; returns whether this call revoked it. */
  revokeSession(db: Db, id: number, reason: RevokeReason, at: string): Promise<boolean>;
  revokeSessionsOfUser(db: Db, userId: number, reason: RevokeReason, at: string): Promise<number>;
  /** Revokes every live session of the user except `keepSessionId`; returns how many it revoked. */
  revokeOtherSessionsOfUser(db: Db, userId: number, keepSessionId: number, reason: RevokeReason, at: string): Promise<number>;
  setSessionOrganization(db: Db, id: number, organizationId: number | null): Promise<void>;
  extendSession(db: Db, id: number, expiresAt: string): Promise<void>;
  insertRefreshToken(db: Db, token: RefreshTokenRecord): Promise<void>;
  findRefreshTokenByHash(db: Db, tokenHash: string): Promise<RefreshTokenRecord | null>;
  /**
   * Marks a refresh token used only if it is not yet; returns false when another request got
   * there first (which the caller treats as reuse).
   */
  markRefreshTokenUsed(db: Db, id: number, at: string): Promise<boolean>;
  /** Marks every unused refresh token of the session used, so only a newly issued one remains. */
  retireRefreshTokensOfSession(db: Db, sessionId: number, at: string): Promise<void>;
}

function toSession(r: Database['sessions']): Session {
  return {
    id: r.id,
    userId: r.user_id,
    organizationId: r.organization_id,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    revokedAt: r.revoked_at,
    revokedReason: r.revoked_reason,
  };
}

/** Kysely implementation of `SessionStore`. */
export class KyselySessionStore implements SessionStore {
  async insertSession(db: Db, s: Session): Promise<void> {
    await db
      .insertInto('sessions')
      .values({
        id: s.id,
        user_id: s.userId,
        organization_id: s.organizationId,
        created_at: s.createdAt,
        expires_at: s.expiresAt,
        revoked_at: s.revokedAt,
        revoked_reason: s.revokedReason,
      })
      .execute();
  }

  async findSession(db: Db, id: number): Promise<Session | null> {
    const row = await db.selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toSession(row) : null;
  }

  async revokeSession(db: Db, id: number, reason: RevokeReason, at: string): Promise<boolean> {
    const result = await db
      .updateTable('sessions')
      .set({ revoked_at: at, revoked_reason: reason })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async revokeSessionsOfUser(db: Db, userId: number, reason: RevokeReason, at: string): Promise<number> {
    const result = await db
      .updateTable('sessions')
      .set({ revoked_at: at, revoked_reason: reason })
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  async revokeOtherSessionsOfUser(db: Db, userId: number, keepSessionId: number, reason: RevokeReason, at: string): Promise<number> {
    const result = await db
      .updateTable('sessions')
      .set({ revoked_at: at, revoked_reason: reason })
      .where('user_id', '=', userId)
      .where('id', '!=', keepSessionId)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  async setSessionOrganization(db: Db, id: number, organizationId: number | null): Promise<void> {
    await db.updateTable('sessions').set({ organization_id: organizationId }).where('id', '=', id).execute();
  }

  async extendSession(db: Db, id: number, expiresAt: string): Promise<void> {
    await db.updateTable('sessions').set({ expires_at: expiresAt }).where('id', '=', id).execute();
  }

  async insertRefreshToken(db: Db, t: RefreshTokenRecord): Promise<void> {
    await db
      .insertInto('refresh_tokens')
      .values({
        id: t.id,
        session_id: t.sessionId,
        token_hash: t.tokenHash,
        created_at: t.createdAt,
        expires_at: t.expiresAt,
        used_at: t.usedAt,
      })
      .execute();
  }

  async findRefreshTokenByHash(db: Db, tokenHash: string): Promise<RefreshTokenRecord | null> {
    const r = await db.selectFrom('refresh_tokens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
    return r
      ? { id: r.id, sessionId: r.session_id, tokenHash: r.token_hash, createdAt: r.created_at, expiresAt: r.expires_at, usedAt: r.used_at }
      : null;
  }

  async markRefreshTokenUsed(db: Db, id: number, at: string): Promise<boolean> {
    const result = await db
      .updateTable('refresh_tokens')
      .set({ used_at: at })
      .where('id', '=', id)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async retireRefreshTokensOfSession(db: Db, sessionId: number, at: string): Promise<void> {
    await db
      .updateTable('refresh_tokens')
      .set({ used_at: at })
      .where('session_id', '=', sessionId)
      .where('used_at', 'is', null)
      .execute();
  }
}

/** What the per-request check needs to know about a caller, read in one indexed query. */
export interface CallerState {
  email: string;
  status: string;
  platformRole: string | null;
  /** Null when the session does not exist or belongs to someone else. */
  session: { revokedAt: string | null; expiresAt: string } | null;
  /** The user's roles in the organisations asked about (token's and requested), by organisation id. */
  roles: Map<number, string>;
}

/** The identify hook's one read: user state, session state and the relevant memberships. */
export interface CallerStore {
  load(db: Db, userId: number, sessionId: number | null, organizationIds: number[]): Promise<CallerState | null>;
}

/** Kysely implementation of `CallerStore`: users by primary key, left-joined on indexed keys. */
export class KyselyCallerStore implements CallerStore {
  async load(db: Db, userId: number, sessionId: number | null, organizationIds: number[]): Promise<CallerState | null> {
    // Ids are never 0 (`newId`), so 0 stands for "none" and keeps the query shape fixed.
    const orgs = organizationIds.length > 0 ? organizationIds : [0];
    const rows = await db
      .selectFrom('users as u')
      .leftJoin('sessions as s', (j) => j.on('s.id', '=', sessionId ?? 0).onRef('s.user_id', '=', 'u.id'))
      .leftJoin('memberships as m', (j) => j.onRef('m.user_id', '=', 'u.id').on('m.organization_id', 'in', orgs))
      .select([
        'u.email',
        'u.status',
        'u.platform_role',
        's.id as session_id',
        's.revoked_at',
        's.expires_at',
        'm.organization_id',
        'm.role',
      ])
      .where('u.id', '=', userId)
      .execute();
    const first = rows[0];
    if (!first) return null;
    const roles = new Map<number, string>();
    for (const r of rows) if (r.organization_id !== null && r.role !== null) roles.set(r.organization_id, r.role);
    return {
      email: first.email,
      status: first.status,
      platformRole: first.platform_role,
      session: first.session_id !== null ? { revokedAt: first.revoked_at, expiresAt: first.expires_at ?? '' } : null,
      roles,
    };
  }
}
