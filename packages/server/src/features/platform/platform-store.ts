import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';
import { toOrganization, type Organization } from '../organizations/organization-store.js';

type Db = Kysely<Database> | Transaction<Database>;

/** An account as the platform's operators see it. */
export interface PlatformUser {
  id: number;
  email: string;
  name: string | null;
  /** As stored; the effective role also counts `ADMIN_SUPER_USER_EMAILS`. */
  storedRole: string | null;
  status: string;
  createdAt: string;
  updatedAt: string;
  lastLoginAt: string | null;
}

/** A platform-admin invitation (`kind = 'platform'`, no organisation). Only the token's SHA-256 is stored. */
export interface PlatformInvitation {
  id: number;
  email: string;
  role: string;
  invitedBy: number | null;
  status: 'pending' | 'accepted' | 'revoked';
  createdAt: string;
  expiresAt: string;
  acceptedAt: string | null;
  acceptedBy: number | null;
}

/** An organisation with how many members it has. */
export interface TenantOverview extends Organization {
  memberCount: number;
}

/** Platform-wide reads and writes: accounts, platform invitations, all tenants. Decides nothing. */
export interface PlatformStore {
  /** Oldest first; `adminsOnly`: a stored platform role, or an email in `superUserEmails`. */
  listUsers(db: Db, query: { adminsOnly: boolean; superUserEmails: readonly string[]; limit: number; offset: number }): Promise<PlatformUser[]>;
  countUsers(db: Db, query: { adminsOnly: boolean; superUserEmails: readonly string[] }): Promise<number>;
  findUser(db: Db, id: number): Promise<PlatformUser | null>;
  findUserByEmail(db: Db, email: string): Promise<PlatformUser | null>;
  setRole(db: Db, id: number, role: string | null, at: string): Promise<void>;
  insertInvitation(db: Db, invitation: PlatformInvitation, tokenHash: string): Promise<void>;
  findInvitation(db: Db, id: number): Promise<PlatformInvitation | null>;
  findInvitationByTokenHash(db: Db, tokenHash: string): Promise<PlatformInvitation | null>;
  findOpenInvitation(db: Db, email: string, now: string): Promise<PlatformInvitation | null>;
  /** Newest first. */
  listInvitations(db: Db, page: { limit: number; offset: number }): Promise<PlatformInvitation[]>;
  countInvitations(db: Db): Promise<number>;
  markAccepted(db: Db, id: number, userId: number, at: string): Promise<boolean>;
  markRevoked(db: Db, id: number): Promise<boolean>;
  replaceToken(db: Db, id: number, tokenHash: string, expiresAt: string): Promise<void>;
  /** Oldest first. */
  listTenants(db: Db, page: { limit: number; offset: number }): Promise<TenantOverview[]>;
  countTenants(db: Db): Promise<number>;
}

type UserRow = Database['users'];
type InvitationRow = Database['invitations'];
const kind = 'platform';

function toUser(r: UserRow): PlatformUser {
  return { id: r.id, email: r.email, name: r.name, storedRole: r.platform_role, status: r.status, createdAt: r.created_at, updatedAt: r.updated_at, lastLoginAt: r.last_login_at };
}

function toInvitation(r: InvitationRow): PlatformInvitation {
  return {
    id: r.id,
    email: r.email,
    role: r.role,
    invitedBy: r.invited_by,
    status: r.status as PlatformInvitation['status'],
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    acceptedAt: r.accepted_at,
    acceptedBy: r.accepted_by,
  };
}

/** Kysely implementation of `PlatformStore`. */
export class KyselyPlatformStore implements PlatformStore {
  /** @param planOf - the plan in force for a stored plan key, as the organisation store shows it */
  constructor(private readonly planOf: (stored: string) => string = (stored) => stored) {}

  private users(db: Db, query: { adminsOnly: boolean; superUserEmails: readonly string[] }) {
    let q = db.selectFrom('users');
    if (query.adminsOnly) {
      const emails = [...query.superUserEmails];
      q = q.where((eb) => (emails.length > 0 ? eb.or([eb('platform_role', 'is not', null), eb('email', 'in', emails)]) : eb('platform_role', 'is not', null)));
    }
    return q;
  }

  async listUsers(db: Db, query: { adminsOnly: boolean; superUserEmails: readonly string[]; limit: number; offset: number }): Promise<PlatformUser[]> {
    const rows = await this.users(db, query).selectAll().orderBy('created_at').orderBy('id').limit(query.limit).offset(query.offset).execute();
    return rows.map(toUser);
  }

  async countUsers(db: Db, query: { adminsOnly: boolean; superUserEmails: readonly string[] }): Promise<number> {
    const row = await this.users(db, query).select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async findUser(db: Db, id: number): Promise<PlatformUser | null> {
    const row = await db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toUser(row) : null;
  }

  async findUserByEmail(db: Db, email: string): Promise<PlatformUser | null> {
    const row = await db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();
    return row ? toUser(row) : null;
  }

  async setRole(db: Db, id: number, role: string | null, at: string): Promise<void> {
    await db.updateTable('users').set({ platform_role: role, updated_at: at }).where('id', '=', id).execute();
  }

  async insertInvitation(db: Db, i: PlatformInvitation, tokenHash: string): Promise<void> {
    await db
      .insertInto('invitations')
      .values({
        id: i.id,
        organization_id: null,
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

  async findInvitation(db: Db, id: number): Promise<PlatformInvitation | null> {
    const row = await db.selectFrom('invitations').selectAll().where('kind', '=', kind).where('id', '=', id).executeTakeFirst();
    return row ? toInvitation(row) : null;
  }

  async findInvitationByTokenHash(db: Db, tokenHash: string): Promise<PlatformInvitation | null> {
    const row = await db.selectFrom('invitations').selectAll().where('kind', '=', kind).where('token_hash', '=', tokenHash).executeTakeFirst();
    return row ? toInvitation(row) : null;
  }

  async findOpenInvitation(db: Db, email: string, now: string): Promise<PlatformInvitation | null> {
    const row = await db
      .selectFrom('invitations')
      .selectAll()
      .where('kind', '=', kind)
      .where('email', '=', email)
      .where('status', '=', 'pending')
      .where('expires_at', '>', now)
      .executeTakeFirst();
    return row ? toInvitation(row) : null;
  }

  async listInvitations(db: Db, page: { limit: number; offset: number }): Promise<PlatformInvitation[]> {
    const rows = await db.selectFrom('invitations').selectAll().where('kind', '=', kind).orderBy('created_at', 'desc').orderBy('id', 'desc').limit(page.limit).offset(page.offset).execute();
    return rows.map(toInvitation);
  }

  async countInvitations(db: Db): Promise<number> {
    const row = await db.selectFrom('invitations').where('kind', '=', kind).select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async markAccepted(db: Db, id: number, userId: number, at: string): Promise<boolean> {
    const r = await db.updateTable('invitations').set({ status: 'accepted', accepted_at: at, accepted_by: userId }).where('id', '=', id).where('kind', '=', kind).where('status', '=', 'pending').executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async markRevoked(db: Db, id: number): Promise<boolean> {
    const r = await db.updateTable('invitations').set({ status: 'revoked' }).where('id', '=', id).where('kind', '=', kind).where('status', '=', 'pending').executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async replaceToken(db: Db, id: number, tokenHash: string, expiresAt: string): Promise<void> {
    await db.updateTable('invitations').set({ token_hash: tokenHash, expires_at: expiresAt }).where('id', '=', id).where('kind', '=', kind).execute();
  }

  async listTenants(db: Db, page: { limit: number; offset: number }): Promise<TenantOverview[]> {
    const rows = await db
      .selectFrom('organizations')
      .selectAll('organizations')
      .select((eb) => eb.selectFrom('memberships').whereRef('memberships.organization_id', '=', 'organizations.id').select((e) => e.fn.countAll<number | string>().as('c')).as('member_count'))
      .orderBy('organizations.created_at')
      .orderBy('organizations.id')
      .limit(page.limit)
      .offset(page.offset)
      .execute();
    return rows.map((r) => ({ ...toOrganization(r, this.planOf), memberCount: Number(r.member_count ?? 0) }));
  }

  async countTenants(db: Db): Promise<number> {
    const row = await db.selectFrom('organizations').select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow();
    return Number(row.n);
  }
}
