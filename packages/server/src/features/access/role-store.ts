import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';
import { isPermission, type Permission, type RoleDefinition } from './permissions.js';

type Db = Kysely<Database> | Transaction<Database>;

/** A custom role as stored; built-in roles never reach the store. */
export interface CustomRole extends RoleDefinition {
  id: number;
  organizationId: number;
  builtIn: false;
  createdAt: string;
  updatedAt: string;
}

/** Fields of a custom role that can change after creation (the key cannot: memberships name it). */
export interface CustomRoleChanges {
  name?: string;
  description?: string | null;
  permissions?: Permission[];
  updatedAt: string;
}

/** Reads and writes custom roles, and counts who holds one. Decides nothing about permissions. */
export interface RoleStore {
  insert(db: Db, role: CustomRole): Promise<void>;
  listByOrganization(db: Db, organizationId: number): Promise<CustomRole[]>;
  findById(db: Db, organizationId: number, id: number): Promise<CustomRole | null>;
  findByKey(db: Db, organizationId: number, key: string): Promise<CustomRole | null>;
  update(db: Db, organizationId: number, id: number, changes: CustomRoleChanges): Promise<void>;
  delete(db: Db, organizationId: number, id: number): Promise<void>;
  /** Members of the organisation holding the role. */
  countHolders(db: Db, organizationId: number, key: string): Promise<number>;
  /** Pending invitations of the organisation that would grant the role. */
  countPendingInvitations(db: Db, organizationId: number, key: string): Promise<number>;
}

type RoleRow = Database['roles'];

function toCustomRole(r: RoleRow): CustomRole {
  let parsed: unknown;
  try {
    parsed = JSON.parse(r.permissions);
  } catch {
    parsed = [];
  }
  // A permission dropped from the vocabulary in a later version simply stops granting anything.
  const perms = Array.isArray(parsed) ? parsed.filter((p): p is Permission => typeof p === 'string' && isPermission(p)) : [];
  return {
    id: r.id,
    organizationId: r.organization_id,
    key: r.key,
    name: r.name,
    description: r.description,
    permissions: perms,
    builtIn: false,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/** Kysely implementation of `RoleStore`. */
export class KyselyRoleStore implements RoleStore {
  async insert(db: Db, role: CustomRole): Promise<void> {
    await db
      .insertInto('roles')
      .values({
        id: role.id,
        organization_id: role.organizationId,
        key: role.key,
        name: role.name,
        description: role.description,
        permissions: JSON.stringify(role.permissions),
        created_at: role.createdAt,
        updated_at: role.updatedAt,
      })
      .execute();
  }

  async listByOrganization(db: Db, organizationId: number): Promise<CustomRole[]> {
    const rows = await db
      .selectFrom('roles')
      .selectAll()
      .where('organization_id', '=', organizationId)
      .orderBy('key', 'asc')
      .execute();
    return rows.map(toCustomRole);
  }

  async findById(db: Db, organizationId: number, id: number): Promise<CustomRole | null> {
    const row = await db
      .selectFrom('roles')
      .selectAll()
      .where('organization_id', '=', organizationId)
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? toCustomRole(row) : null;
  }

  async findByKey(db: Db, organizationId: number, key: string): Promise<CustomRole | null> {
    const row = await db
      .selectFrom('roles')
      .selectAll()
      .where('organization_id', '=', organizationId)
      .where('key', '=', key)
      .executeTakeFirst();
    return row ? toCustomRole(row) : null;
  }

  async update(db: Db, organizationId: number, id: number, changes: CustomRoleChanges): Promise<void> {
    await db
      .updateTable('roles')
      .set({
        ...(changes.name !== undefined ? { name: changes.name } : {}),
        ...(changes.description !== undefined ? { description: changes.description } : {}),
        ...(changes.permissions !== undefined ? { permissions: JSON.stringify(changes.permissions) } : {}),
        updated_at: changes.updatedAt,
      })
      .where('organization_id', '=', organizationId)
      .where('id', '=', id)
      .execute();
  }

  async delete(db: Db, organizationId: number, id: number): Promise<void> {
    await db.deleteFrom('roles').where('organization_id', '=', organizationId).where('id', '=', id).execute();
  }

  async countHolders(db: Db, organizationId: number, key: string): Promise<number> {
    const row = await db
      .selectFrom('memberships')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('organization_id', '=', organizationId)
      .where('role', '=', key)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async countPendingInvitations(db: Db, organizationId: number, key: string): Promise<number> {
    const row = await db
      .selectFrom('invitations')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('organization_id', '=', organizationId)
      .where('role', '=', key)
      .where('status', '=', 'pending')
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }
}
