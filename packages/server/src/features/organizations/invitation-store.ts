import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';

type Db = Kysely<Database> | Transaction<Database>;

/** Stored states; `expired` is derived from `expiresAt` for display and filtering. */
export type InvitationState = 'pending' | 'accepted' | 'revoked';
export type InvitationStatus = InvitationState | 'expired';

/** An invitation to join an organisation. The token is never stored, only its SHA-256. */
export interface Invitation {
  id: number;
  organizationId: number;
  email: string;
  role: string;
  invitedBy: number | null;
  status: InvitationState;
  createdAt: string;
  expiresAt: string;
  acceptedAt: string | null;
  acceptedBy: number | null;
}

/** Reads and writes organisation invitations (`kind = 'organization'`). Decides nothing. */
export interface InvitationStore {
  insert(db: Db, invitation: Invitation, tokenHash: string): Promise<void>;
  findById(db: Db, organizationId: number, id: number): Promise<Invitation | null>;
  findByTokenHash(db: Db, tokenHash: string): Promise<Invitation | null>;
  /** A pending invitation for the email that has not expired at `now`. */
  findOpenByEmail(db: Db, organizationId: number, email: string, now: string): Promise<Invitation | null>;
  /** Newest first; `status` filters, with `expired` meaning pending past its expiry. */
  list(db: Db, organizationId: number, query: { status?: InvitationStatus; now: string; limit: number; offset: number }): Promise<Invitation[]>;
  count(db: Db, organizationId: number, query: { status?: InvitationStatus; now: string }): Promise<number>;
  /** Accepts a pending invitation; false when it was no longer pending (someone was quicker). */
  markAccepted(db: Db, id: number, userId: number, at: string): Promise<boolean>;
  /** Revokes a pending invitation; false when it was no longer pending. */
  markRevoked(db: Db, id: number): Promise<boolean>;
  /** A new token and expiry for a pending invitation: the old token stops working. */
  replaceToken(db: Db, id: number, tokenHash: string, expiresAt: string): Promise<void>;
}

type Row = Database['invitations'];

function toInvitation(r: Row): Invitation {
  return {
    id: r.id,
    organizationId: r.organization_id!,
    email: r.email,
    role: r.role,
    invitedBy: r.invited_by,
    status: r.status as InvitationState,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    acceptedAt: r.accepted_at,
    acceptedBy: r.accepted_by,
  };
}

const kind = 'organization';

/** Kysely implementation of `InvitationStore`. */
export class KyselyInvitationStore implements InvitationStore {
  async insert(db: Db, i: Invitation, tokenHash: string): Promise<void> {
    await db
      .insertInto('invitations')
      .values({
        id: i.id,
        organization_id: i.organizationId,
        email: i.email,
        role: i.role,
        kind,
        token_hash: tokenHash,
        invited_by: i.invitedBy,
        status: i.status,
        created_at: i.createdAt,
        expires_at: i.expiresAt,
        accepted_at: i.acceptedAt,
        accepted_by: i.acceptedBy,
      })
      .execute();
  }

  async findById(db: Db, organizationId: number, id: number): Promise<Invitation | null> {
    const row = await db
      .selectFrom('invitations')
      .selectAll()
      .where('kind', '=', kind)
      .where('organization_id', '=', organizationId)
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? toInvitation(row) : null;
  }

  async findByTokenHash(db: Db, tokenHash: string): Promise<Invitation | null> {
    const row = await db
      .selectFrom('invitations')
      .selectAll()
      .where('kind', '=', kind)
      .where('token_hash', '=', tokenHash)
      .executeTakeFirst();
    return row ? toInvitation(row) : null;
  }

  async findOpenByEmail(db: Db, organizationId: number, email: string, now: string): Promise<Invitation | null> {
    const row = await db
      .selectFrom('invitations')
      .selectAll()
      .where('kind', '=', kind)
      .where('organization_id', '=', organizationId)
      .where('email', '=', email)
      .where('status', '=', 'pending')
      .where('expires_at', '>', now)
      .executeTakeFirst();
    return row ? toInvitation(row) : null;
  }

  private filtered(db: Db, organizationId: number, query: { status?: InvitationStatus; now: string }) {
    let q = db.selectFrom('invitations').where('kind', '=', kind).where('organization_id', '=', organizationId);
    if (query.status === 'expired') q = q.where('status', '=', 'pending').where('expires_at', '<=', query.now);
    else if (query.status === 'pending') q = q.where('status', '=', 'pending').where('expires_at', '>', query.now);
    else if (query.status) q = q.where('status', '=', query.status);
    return q;
  }

  async list(db: Db, organizationId: number, query: { status?: InvitationStatus; now: string; limit: number; offset: number }): Promise<Invitation[]> {
    const rows = await this.filtered(db, organizationId, query)
      .selectAll()
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(query.limit)
      .offset(query.offset)
      .execute();
    return rows.map(toInvitation);
  }

  async count(db: Db, organizationId: number, query: { status?: InvitationStatus; now: string }): Promise<number> {
    const row = await this.filtered(db, organizationId, query)
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async markAccepted(db: Db, id: number, userId: number, at: string): Promise<boolean> {
    const result = await db
      .updateTable('invitations')
      .set({ status: 'accepted', accepted_at: at, accepted_by: userId })
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async markRevoked(db: Db, id: number): Promise<boolean> {
    const result = await db
      .updateTable('invitations')
      .set({ status: 'revoked' })
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async replaceToken(db: Db, id: number, tokenHash: string, expiresAt: string): Promise<void> {
    await db.updateTable('invitations').set({ token_hash: tokenHash, expires_at: expiresAt }).where('id', '=', id).execute();
  }
}
