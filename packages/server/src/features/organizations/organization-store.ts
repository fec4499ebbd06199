import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';

type Db = Kysely<Database> | Transaction<Database>;

/** An organisation (IntelliToggle's tenant). */
export interface Organization {
  id: number;
  name: string;
  primaryEmail: string | null;
  contactName: string | null;
  isSandbox: boolean;
  sandboxExpiresAt: string | null;
  plan: string;
  createdAt: string;
  updatedAt: string;
}

/** A user's place in an organisation. */
export interface Membership {
  id: number;
  organizationId: number;
  userId: number;
  role: string;
  createdAt: string;
  updatedAt: string;
  lastAccessedAt: string | null;
}

/** A membership together with its organisation, for "my organisations" lists. */
export interface MembershipWithOrganization extends Membership {
  organization: Organization;
}

/** A member as listed: the membership with the user's email and name. */
export interface MemberWithUser extends Membership {
  email: string;
  name: string | null;
}

/** Organisation fields that can change; `undefined` leaves a field as it is. */
export interface OrganizationChanges {
  name?: string;
  primaryEmail?: string | null;
  contactName?: string | null;
  updatedAt: string;
}

/** One entry of the organisation's default environment list (IntelliToggle's tenant environments). */
export interface OrganizationEnvironment {
  id: number;
  organizationId: number;
  key: string;
  name: string;
  position: number;
  createdAt: string;
  updatedAt: string;
}

/** Reads and writes organisations and memberships. Decides nothing about permissions. */
export interface OrganizationStore {
  insert(db: Db, org: Organization): Promise<void>;
  findById(db: Db, id: number): Promise<Organization | null>;
  update(db: Db, id: number, changes: OrganizationChanges): Promise<void>;
  /** Deletes the organisation; its memberships, roles, invitations, projects, … go with it. */
  delete(db: Db, id: number): Promise<void>;
  /**
   * Serialises membership, role and invitation changes of one organisation for the rest of the
   * transaction (a row lock on PostgreSQL; SQLite transactions are serial anyway), so rules such
   * as "never remove the last admin" hold under concurrent requests.
   */
  lock(db: Db, id: number): Promise<void>;
  insertMembership(db: Db, membership: Membership): Promise<void>;
  findMembership(db: Db, organizationId: number, userId: number): Promise<Membership | null>;
  /** The user's memberships, oldest first (the first is the user's canonical organisation). */
  listMembershipsOfUser(db: Db, userId: number): Promise<MembershipWithOrganization[]>;
  /** Members, oldest first. */
  listMembers(db: Db, organizationId: number, page: { limit: number; offset: number }): Promise<MemberWithUser[]>;
  countMembers(db: Db, organizationId: number): Promise<number>;
  findMember(db: Db, organizationId: number, userId: number): Promise<MemberWithUser | null>;
  /** `email` must already be normalised. */
  findMemberByEmail(db: Db, organizationId: number, email: string): Promise<MemberWithUser | null>;
  countMembersWithRole(db: Db, organizationId: number, role: string): Promise<number>;
  updateMembershipRole(db: Db, organizationId: number, userId: number, role: string, updatedAt: string): Promise<void>;
  deleteMembership(db: Db, organizationId: number, userId: number): Promise<void>;
  insertEnvironmentTemplate(db: Db, environment: OrganizationEnvironment): Promise<void>;
  /** The default environment list in position order. */
  listEnvironmentTemplates(db: Db, organizationId: number): Promise<OrganizationEnvironment[]>;
  /** Removes `key` from the default environment list; false when it was not there. */
  deleteEnvironmentTemplate(db: Db, organizationId: number, key: string): Promise<boolean>;
}

type OrgRow = Database['organizations'];
type MembershipRow = Database['memberships'];

/**
 * Maps an `organizations` row to the domain type; `planOf` turns the stored plan key into the plan
 * in force (billing on or off), which is what every body that shows an organisation's plan means.
 */
export function toOrganization(r: OrgRow, planOf: (stored: string) => string = (stored) => stored): Organization {
  return {
    id: r.id,
    name: r.name,
    primaryEmail: r.primary_email,
    contactName: r.contact_name,
    isSandbox: r.is_sandbox === 1,
    sandboxExpiresAt: r.sandbox_expires_at,
    plan: planOf(r.plan),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/** Maps a `memberships` row to the domain type. */
export function toMembership(r: MembershipRow): Membership {
  return {
    id: r.id,
    organizationId: r.organization_id,
    userId: r.user_id,
    role: r.role,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    lastAccessedAt: r.last_accessed_at,
  };
}

/** Kysely implementation of `OrganizationStore`. */
export class KyselyOrganizationStore implements OrganizationStore {
  /** @param planOf - the plan in force for a stored plan key (`planInForce` with the server's billing settings) */
  constructor(private readonly planOf: (stored: string) => string = (stored) => stored) {}

  async insert(db: Db, o: Organization): Promise<void> {
    await db
      .insertInto('organizations')
      .values({
        id: o.id,
        name: o.name,
        primary_email: o.primaryEmail,
        contact_name: o.contactName,
        is_sandbox: o.isSandbox ? 1 : 0,
        sandbox_expires_at: o.sandboxExpiresAt,
        plan: o.plan,
        created_at: o.createdAt,
        updated_at: o.updatedAt,
      })
      .execute();
  }

  async findById(db: Db, id: number): Promise<Organization | null> {
    const row = await db.selectFrom('organizations').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toOrganization(row, this.planOf) : null;
  }

  async update(db: Db, id: number, c: OrganizationChanges): Promise<void> {
    await db
      .updateTable('organizations')
      .set({
        ...(c.name !== undefined ? { name: c.name } : {}),
        ...(c.primaryEmail !== undefined ? { primary_email: c.primaryEmail } : {}),
        ...(c.contactName !== undefined ? { contact_name: c.contactName } : {}),
        updated_at: c.updatedAt,
      })
      .where('id', '=', id)
      .execute();
  }

  async delete(db: Db, id: number): Promise<void> {
    await db.deleteFrom('organizations').where('id', '=', id).execute();
  }

  async lock(db: Db, id: number): Promise<void> {
    // A no-op update: portable, and on PostgreSQL it holds the row lock until commit.
    await db.updateTable('organizations').set((eb) => ({ updated_at: eb.ref('updated_at') })).where('id', '=', id).execute();
  }

  async insertMembership(db: Db, m: Membership): Promise<void> {
    await db
      .insertInto('memberships')
      .values({
        id: m.id,
        organization_id: m.organizationId,
        user_id: m.userId,
        role: m.role,
        created_at: m.createdAt,
        updated_at: m.updatedAt,
        last_accessed_at: m.lastAccessedAt,
      })
      .execute();
  }

  async findMembership(db: Db, organizationId: number, userId: number): Promise<Membership | null> {
    const row = await db
      .selectFrom('memberships')
      .selectAll()
      .where('organization_id', '=', organizationId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return row ? toMembership(row) : null;
  }

  async listMembershipsOfUser(db: Db, userId: number): Promise<MembershipWithOrganization[]> {
    const rows = await db
      .selectFrom('memberships as m')
      .innerJoin('organizations as o', 'o.id', 'm.organization_id')
      .selectAll('m')
      .select([
        'o.name as o_name',
        'o.primary_email as o_primary_email',
        'o.contact_name as o_contact_name',
        'o.is_sandbox as o_is_sandbox',
        'o.sandbox_expires_at as o_sandbox_expires_at',
        'o.plan as o_plan',
        'o.created_at as o_created_at',
        'o.updated_at as o_updated_at',
      ])
      .where('m.user_id', '=', userId)
      .orderBy('m.created_at', 'asc')
      .orderBy('m.id', 'asc')
      .execute();
    return rows.map((r) => ({
      ...toMembership(r),
      organization: toOrganization({
        id: r.organization_id,
        name: r.o_name,
        primary_email: r.o_primary_email,
        contact_name: r.o_contact_name,
        is_sandbox: r.o_is_sandbox,
        sandbox_expires_at: r.o_sandbox_expires_at,
        plan: r.o_plan,
        created_at: r.o_created_at,
        updated_at: r.o_updated_at,
      }, this.planOf),
    }));
  }

  async listMembers(db: Db, organizationId: number, page: { limit: number; offset: number }): Promise<MemberWithUser[]> {
    const rows = await db
      .selectFrom('memberships as m')
      .innerJoin('users as u', 'u.id', 'm.user_id')
      .selectAll('m')
      .select(['u.email as email', 'u.name as name'])
      .where('m.organization_id', '=', organizationId)
      .orderBy('m.created_at', 'asc')
      .orderBy('m.id', 'asc')
      .limit(page.limit)
      .offset(page.offset)
      .execute();
    return rows.map((r) => ({ ...toMembership(r), email: r.email, name: r.name }));
  }

  async countMembers(db: Db, organizationId: number): Promise<number> {
    const row = await db
      .selectFrom('memberships')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('organization_id', '=', organizationId)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async findMember(db: Db, organizationId: number, userId: number): Promise<MemberWithUser | null> {
    const r = await db
      .selectFrom('memberships as m')
      .innerJoin('users as u', 'u.id', 'm.user_id')
      .selectAll('m')
      .select(['u.email as email', 'u.name as name'])
      .where('m.organization_id', '=', organizationId)
      .where('m.user_id', '=', userId)
      .executeTakeFirst();
    return r ? { ...toMembership(r), email: r.email, name: r.name } : null;
  }

  async findMemberByEmail(db: Db, organizationId: number, email: string): Promise<MemberWithUser | null> {
    const r = await db
      .selectFrom('memberships as m')
      .innerJoin('users as u', 'u.id', 'm.user_id')
      .selectAll('m')
      .select(['u.email as email', 'u.name as name'])
      .where('m.organization_id', '=', organizationId)
      .where('u.email', '=', email)
      .executeTakeFirst();
    return r ? { ...toMembership(r), email: r.email, name: r.name } : null;
  }

  async countMembersWithRole(db: Db, organizationId: number, role: string): Promise<number> {
    const row = await db
      .selectFrom('memberships')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('organization_id', '=', organizationId)
      .where('role', '=', role)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async updateMembershipRole(db: Db, organizationId: number, userId: number, role: string, updatedAt: string): Promise<void> {
    await db
      .updateTable('memberships')
      .set({ role, updated_at: updatedAt })
      .where('organization_id', '=', organizationId)
      .where('user_id', '=', userId)
      .execute();
  }

  async deleteMembership(db: Db, organizationId: number, userId: number): Promise<void> {
    await db.deleteFrom('memberships').where('organization_id', '=', organizationId).where('user_id', '=', userId).execute();
  }

  async insertEnvironmentTemplate(db: Db, e: OrganizationEnvironment): Promise<void> {
    await db
      .insertInto('organization_environments')
      .values({
        id: e.id,
        organization_id: e.organizationId,
        key: e.key,
        name: e.name,
        position: e.position,
        created_at: e.createdAt,
        updated_at: e.updatedAt,
      })
      .execute();
  }

  async listEnvironmentTemplates(db: Db, organizationId: number): Promise<OrganizationEnvironment[]> {
    const rows = await db
      .selectFrom('organization_environments')
      .selectAll()
      .where('organization_id', '=', organizationId)
      .orderBy('position', 'asc')
      .orderBy('id', 'asc')
      .execute();
    return rows.map((r) => ({
      id: r.id,
      organizationId: r.organization_id,
      key: r.key,
      name: r.name,
      position: r.position,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    }));
  }

  async deleteEnvironmentTemplate(db: Db, organizationId: number, key: string): Promise<boolean> {
    const result = await db.deleteFrom('organization_environments').where('organization_id', '=', organizationId).where('key', '=', key).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}
