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

/** Reads and writes organisations and memberships. Decides nothing about permissions. */
export interface OrganizationStore {
  insert(db: Db, org: Organization): Promise<void>;
  findById(db: Db, id: number): Promise<Organization | null>;
  insertMembership(db: Db, membership: Membership): Promise<void>;
  findMembership(db: Db, organizationId: number, userId: number): Promise<Membership | null>;
  /** The user's memberships, oldest first (the first is the user's canonical organisation). */
  listMembershipsOfUser(db: Db, userId: number): Promise<MembershipWithOrganization[]>;
}

type OrgRow = Database['organizations'];
type MembershipRow = Database['memberships'];

/** Maps an `organizations` row to the domain type. */
export function toOrganization(r: OrgRow): Organization {
  return {
    id: r.id,
    name: r.name,
    primaryEmail: r.primary_email,
    contactName: r.contact_name,
    isSandbox: r.is_sandbox === 1,
    sandboxExpiresAt: r.sandbox_expires_at,
    plan: r.plan,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function toMembership(r: MembershipRow): Membership {
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
    return row ? toOrganization(row) : null;
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
      }),
    }));
  }
}
