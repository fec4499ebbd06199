import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { Actor } from '../../domain/actor.js';
import { ConflictError, NotFoundError, ValidationError } from '../../domain/errors.js';
import { newId, nowIso } from '../../domain/ids.js';
import type { AuditStore } from '../audit/audit-store.js';
import type { AccessService } from './access-service.js';
import { builtInRole, builtInRoles, isPermission, permissions as vocabulary, type Permission, type RoleDefinition } from './permissions.js';
import type { CustomRole, RoleStore } from './role-store.js';

/** How a caller names a role: its stored id, or its key (the only handle built-in roles have). */
export type RoleRef = { id: number } | { key: string };

export interface NewRole {
  key: string;
  name: string;
  description?: string | null;
  permissions: string[];
}

/** PATCH semantics: absent = unchanged, null = cleared. */
export interface RoleChanges {
  name?: string;
  description?: string | null;
  permissions?: string[];
}

/** Role keys are kebab-case and start with a letter, so they never look like an id (`role_123`). */
const keyPattern = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

function checkName(name: string): string {
  const trimmed = name.trim();
  if (trimmed.length === 0 || trimmed.length > 100) {
    throw new ValidationError('Role name must be 1 to 100 characters', { name: 'must be 1 to 100 characters' });
  }
  return trimmed;
}

function checkDescription(description: string | null | undefined): string | null {
  if (description === undefined || description === null) return null;
  if (description.length > 1000) {
    throw new ValidationError('Role description must be at most 1000 characters', { description: 'must be at most 1000 characters' });
  }
  return description;
}

function checkPermissions(list: string[]): Permission[] {
  const unknown = list.filter((p) => !isPermission(p));
  if (unknown.length > 0) {
    throw new ValidationError(`Unknown permissions: ${unknown.join(', ')}`, {
      permissions: `unknown permission(s) ${unknown.join(', ')}; allowed: ${vocabulary.join(', ')}`,
    });
  }
  const set = new Set(list);
  return vocabulary.filter((p) => set.has(p));
}

/** Built-in and custom organisation roles. */
export class RoleService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly access: AccessService,
    private readonly roles: RoleStore,
    private readonly audit: AuditStore,
  ) {}

  /** Built-in roles first (admin, developer, viewer), then the organisation's custom roles by key. */
  async list(actor: Actor, organizationId: number | null): Promise<RoleDefinition[]> {
    const grant = await this.access.require(actor, organizationId, 'roles:read');
    return [...builtInRoles, ...(await this.roles.listByOrganization(this.db, grant.organizationId))];
  }

  async get(actor: Actor, organizationId: number | null, ref: RoleRef): Promise<RoleDefinition> {
    const grant = await this.access.require(actor, organizationId, 'roles:read');
    if ('key' in ref) {
      const role = await this.access.resolveRole(grant.organizationId, ref.key);
      if (role) return role;
    } else {
      const role = await this.roles.findById(this.db, grant.organizationId, ref.id);
      if (role) return role;
    }
    throw new NotFoundError('Role');
  }

  async create(actor: Actor, organizationId: number | null, input: NewRole): Promise<CustomRole> {
    const key = input.key.trim();
    if (!keyPattern.test(key) || key.length > 64) {
      throw new ValidationError('Role key must be kebab-case', { key: 'must be kebab-case (a-z, 0-9, -), start with a letter, at most 64 characters' });
    }
    const name = checkName(input.name);
    const description = checkDescription(input.description);
    const perms = checkPermissions(input.permissions);
    if (builtInRole(key)) throw new ConflictError(`"${key}" is a built-in role`, 'role_exists', { key });
    return this.db.transaction().execute(async (trx) => {
      const grant = await this.access.require(actor, organizationId, 'roles:write', trx);
      this.access.assertCanGrant(grant, perms);
      if (await this.roles.findByKey(trx, grant.organizationId, key)) {
        throw new ConflictError(`A role with key "${key}" already exists`, 'role_exists', { key });
      }
      const now = nowIso();
      const role: CustomRole = {
        id: newId(),
        organizationId: grant.organizationId,
        key,
        name,
        description,
        permissions: perms,
        builtIn: false,
        createdAt: now,
        updatedAt: now,
      };
      await this.roles.insert(trx, role);
      await this.audit.record(trx, actor, {
        organizationId: grant.organizationId,
        action: 'role.created',
        resourceType: 'role',
        resourceId: role.id,
        after: { key, name, description, permissions: perms },
      });
      return role;
    });
  }

  async update(actor: Actor, organizationId: number | null, ref: RoleRef, changes: RoleChanges): Promise<CustomRole> {
    const name = changes.name === undefined ? undefined : checkName(changes.name);
    const description = changes.description === undefined ? undefined : checkDescription(changes.description);
    const perms = changes.permissions === undefined ? undefined : checkPermissions(changes.permissions);
    return this.db.transaction().execute(async (trx) => {
      const grant = await this.access.require(actor, organizationId, 'roles:write', trx);
      const role = await this.findCustom(trx, grant.organizationId, ref);
      if (perms) this.access.assertCanGrant(grant, perms);
      const before: Record<string, unknown> = {};
      const after: Record<string, unknown> = {};
      const next: CustomRole = { ...role, updatedAt: nowIso() };
      if (name !== undefined && name !== role.name) {
        before.name = role.name;
        after.name = next.name = name;
      }
      if (description !== undefined && description !== role.description) {
        before.description = role.description;
        after.description = next.description = description;
      }
      if (perms !== undefined && perms.join(',') !== role.permissions.join(',')) {
        before.permissions = role.permissions;
        after.permissions = next.permissions = perms;
      }
      if (Object.keys(after).length === 0) return role;
      await this.roles.update(trx, grant.organizationId, role.id, {
        name: next.name,
        description: next.description,
        permissions: next.permissions,
        updatedAt: next.updatedAt,
      });
      await this.audit.record(trx, actor, {
        organizationId: grant.organizationId,
        action: 'role.updated',
        resourceType: 'role',
        resourceId: role.id,
        before,
        after,
      });
      return next;
    });
  }

  /** Refused (409 `role_in_use`) while a member holds the role or a pending invitation grants it. */
  async delete(actor: Actor, organizationId: number | null, ref: RoleRef): Promise<CustomRole> {
    return this.db.transaction().execute(async (trx) => {
      const grant = await this.access.require(actor, organizationId, 'roles:write', trx);
      const role = await this.findCustom(trx, grant.organizationId, ref);
      const members = await this.roles.countHolders(trx, grant.organizationId, role.key);
      const invitations = await this.roles.countPendingInvitations(trx, grant.organizationId, role.key);
      if (members > 0 || invitations > 0) {
        throw new ConflictError(
          `Role "${role.key}" is held by ${members} member(s) and ${invitations} pending invitation(s); reassign them first`,
          'role_in_use',
          { members, invitations },
        );
      }
      await this.roles.delete(trx, grant.organizationId, role.id);
      await this.audit.record(trx, actor, {
        organizationId: grant.organizationId,
        action: 'role.deleted',
        resourceType: 'role',
        resourceId: role.id,
        before: { key: role.key, name: role.name, description: role.description, permissions: role.permissions },
      });
      return role;
    });
  }

  private async findCustom(db: Parameters<RoleStore['findById']>[0], organizationId: number, ref: RoleRef): Promise<CustomRole> {
    if ('key' in ref && builtInRole(ref.key)) {
      throw new ConflictError(`"${ref.key}" is a built-in role and cannot be changed`, 'role_built_in', { key: ref.key });
    }
    const role = 'key' in ref
      ? await this.roles.findByKey(db, organizationId, ref.key)
      : await this.roles.findById(db, organizationId, ref.id);
    if (!role) throw new NotFoundError('Role');
    return role;
  }
}
