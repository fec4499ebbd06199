import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { Actor } from '../../domain/actor.js';
import { ForbiddenError, NotFoundError, UnauthorizedError, ValidationError } from '../../domain/errors.js';
import { newId, nowIso } from '../../domain/ids.js';
import type { AccessService } from '../access/access-service.js';
import type { AuditStore } from '../audit/audit-store.js';
import { emailProblem, normalizeEmail } from '../identity/email.js';
import type { ProjectStore } from '../projects/project-store.js';
import type { MembershipWithOrganization, Organization, OrganizationChanges, OrganizationStore } from './organization-store.js';

/** What it takes to create an organisation. */
export interface NewOrganization {
  name: string;
  primaryEmail?: string | null;
  contactName?: string | null;
  isSandbox?: boolean;
}

/** PATCH semantics: absent = unchanged, null = cleared (`name` cannot be cleared). */
export interface OrganizationPatch {
  name?: string;
  primaryEmail?: string | null;
  contactName?: string | null;
}

/** An organisation as one of its members sees it. */
export interface OrganizationWithRole {
  organization: Organization;
  /** The caller's role there; null for machine credentials and the system. */
  role: string | null;
}

/**
 * Every new organisation's default environment list, also given to its default project
 * (IntelliToggle's tenant environments).
 */
export const defaultEnvironments = [
  { key: 'development', name: 'Development', color: '#22c55e' },
  { key: 'staging', name: 'Staging', color: '#f59e0b' },
  { key: 'production', name: 'Production', color: '#ef4444' },
] as const;

/** The key of the project every organisation starts with, where project-less flags go. */
export const defaultProjectKey = 'default';

function checkName(name: string): string {
  const trimmed = name.trim();
  if (trimmed.length === 0 || trimmed.length > 200) {
    throw new ValidationError('Organization name must be 1 to 200 characters', { name: 'must be 1 to 200 characters' });
  }
  return trimmed;
}

function checkEmail(field: string, email: string | null | undefined): string | null {
  if (email === undefined || email === null) return null;
  const normalized = normalizeEmail(email);
  const problem = emailProblem(normalized);
  if (problem) throw new ValidationError(`${field} ${problem}`, { [field]: problem });
  return normalized;
}

function checkContact(contact: string | null | undefined): string | null {
  if (contact === undefined || contact === null) return null;
  const trimmed = contact.trim();
  if (trimmed.length > 200) throw new ValidationError('contactName must be at most 200 characters', { contactName: 'must be at most 200 characters' });
  return trimmed.length === 0 ? null : trimmed;
}

/**
 * Runs after `OrganizationService.create` committed a new organisation, before it answers (e.g. the
 * sandbox feature seeds a tenant created with `isSandbox: true` and sets its expiry). A hook that
 * throws fails the request; the organisation stays.
 */
export type OrganizationCreatedHook = (organization: Organization, actor: Actor) => Promise<void>;

/** Organisations: create (with their defaults), read, change, delete; who belongs to them. */
export class OrganizationService {
  private readonly createdHooks: OrganizationCreatedHook[] = [];

  constructor(
    private readonly db: Kysely<Database>,
    private readonly store: OrganizationStore,
    private readonly audit: AuditStore,
    private readonly access: AccessService,
    private readonly projects: ProjectStore,
  ) {}

  /**
   * Creates an organisation with `ownerUserId` as its first admin, its default environment list
   * and its default project with those environments, in one transaction — `trx` when given (so a
   * caller can create the owner's account in the same one), otherwise a new one.
   */
  async createWithOwner(actor: Actor, input: NewOrganization, ownerUserId: number, trx?: Transaction<Database>): Promise<Organization> {
    const name = checkName(input.name);
    const primaryEmail = checkEmail('primaryEmail', input.primaryEmail);
    const contactName = checkContact(input.contactName);
    const now = nowIso();
    const org: Organization = {
      id: newId(),
      name,
      primaryEmail,
      contactName,
      isSandbox: input.isSandbox ?? false,
      sandboxExpiresAt: null,
      plan: 'self-hosted',
      createdAt: now,
      updatedAt: now,
    };
    const work = async (t: Transaction<Database>) => {
      await this.store.insert(t, org);
      await this.store.insertMembership(t, {
        id: newId(),
        organizationId: org.id,
        userId: ownerUserId,
        role: 'admin',
        createdAt: now,
        updatedAt: now,
        lastAccessedAt: null,
      });
      await this.seedDefaults(t, org.id, now);
      await this.audit.record(t, actor, {
        organizationId: org.id,
        action: 'organization.created',
        resourceType: 'organization',
        resourceId: org.id,
        after: { name: org.name, owner: ownerUserId },
      });
      await this.audit.record(t, actor, {
        organizationId: org.id,
        action: 'member.added',
        resourceType: 'member',
        resourceId: ownerUserId,
        after: { userId: ownerUserId, role: 'admin' },
      });
    };
    if (trx) await work(trx);
    else await this.db.transaction().execute(work);
    return org;
  }

  /** Adds a hook run after every `create` (in registration order). Composition wires them. */
  onCreated(hook: OrganizationCreatedHook): void {
    this.createdHooks.push(hook);
  }

  /**
   * `POST /organizations`, `POST /tenants`: a signed-in user creates an organisation and becomes
   * its admin. `isSandbox` is stored as given (IntelliToggle's tenants); what a sandbox gets
   * besides (demo data, expiry) is up to the `onCreated` hooks, whose changes the answer shows.
   */
  async create(actor: Actor, input: NewOrganization): Promise<OrganizationWithRole> {
    if (actor.kind !== 'user' || actor.userId === null) {
      if (actor.kind === 'user') throw new UnauthorizedError();
      throw new ForbiddenError('Only a signed-in user can create an organization');
    }
    let org = await this.createWithOwner(actor, { ...input, isSandbox: input.isSandbox ?? false }, actor.userId);
    if (this.createdHooks.length > 0) {
      for (const hook of this.createdHooks) await hook(org, actor);
      org = (await this.store.findById(this.db, org.id)) ?? org;
    }
    return { organization: org, role: 'admin' };
  }

  /** The user's memberships with their organisations, canonical (oldest) first. */
  async membershipsOf(userId: number): Promise<MembershipWithOrganization[]> {
    return this.store.listMembershipsOfUser(this.db, userId);
  }

  /** The organisations the caller belongs to (a machine credential: its own one). */
  async listMine(actor: Actor): Promise<OrganizationWithRole[]> {
    if (actor.kind === 'user') {
      if (actor.userId === null) throw new UnauthorizedError();
      const list = await this.store.listMembershipsOfUser(this.db, actor.userId);
      return list.map((m) => ({ organization: m.organization, role: m.role }));
    }
    if (actor.organizationId === null) return [];
    const grant = await this.access.require(actor, actor.organizationId, 'organization:read');
    const org = await this.store.findById(this.db, grant.organizationId);
    return org ? [{ organization: org, role: null }] : [];
  }

  async get(actor: Actor, organizationId: number | null): Promise<OrganizationWithRole> {
    const grant = await this.access.require(actor, organizationId, 'organization:read');
    const org = await this.store.findById(this.db, grant.organizationId);
    // The grant proved it exists; only a concurrent delete gets here.
    if (!org) throw new NotFoundError('Organization');
    return { organization: org, role: grant.role };
  }

  async update(actor: Actor, organizationId: number | null, patch: OrganizationPatch): Promise<OrganizationWithRole> {
    const name = patch.name === undefined ? undefined : checkName(patch.name);
    const primaryEmail = patch.primaryEmail === undefined ? undefined : checkEmail('primaryEmail', patch.primaryEmail);
    const contactName = patch.contactName === undefined ? undefined : checkContact(patch.contactName);
    return this.db.transaction().execute(async (trx) => {
      const grant = await this.access.require(actor, organizationId, 'organization:write', trx);
      const org = (await this.store.findById(trx, grant.organizationId))!;
      const before: Record<string, unknown> = {};
      const after: Record<string, unknown> = {};
      const changes: OrganizationChanges = { updatedAt: nowIso() };
      if (name !== undefined && name !== org.name) {
        before.name = org.name;
        after.name = changes.name = name;
      }
      if (primaryEmail !== undefined && primaryEmail !== org.primaryEmail) {
        before.primaryEmail = org.primaryEmail;
        after.primaryEmail = changes.primaryEmail = primaryEmail;
      }
      if (contactName !== undefined && contactName !== org.contactName) {
        before.contactName = org.contactName;
        after.contactName = changes.contactName = contactName;
      }
      if (Object.keys(after).length === 0) return { organization: org, role: grant.role };
      await this.store.update(trx, org.id, changes);
      await this.audit.record(trx, actor, {
        organizationId: org.id,
        action: 'organization.updated',
        resourceType: 'organization',
        resourceId: org.id,
        before,
        after,
      });
      return { organization: { ...org, ...changes }, role: grant.role };
    });
  }

  /** Deletes the organisation and everything in it (memberships, roles, invitations, projects, …). */
  async delete(actor: Actor, organizationId: number | null): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const grant = await this.access.require(actor, organizationId, 'organization:delete', trx);
      await this.store.lock(trx, grant.organizationId);
      const org = (await this.store.findById(trx, grant.organizationId))!;
      await this.store.delete(trx, org.id);
      // Recorded outside the organisation: its own audit trail is deleted with it.
      await this.audit.record(trx, actor, {
        organizationId: null,
        action: 'organization.deleted',
        resourceType: 'organization',
        resourceId: org.id,
        before: { name: org.name, primaryEmail: org.primaryEmail, contactName: org.contactName },
      });
    });
  }

  private async seedDefaults(trx: Transaction<Database>, organizationId: number, now: string): Promise<void> {
    const projectId = newId();
    await this.projects.insertProject(trx, {
      id: projectId,
      organizationId,
      key: defaultProjectKey,
      name: 'Default',
      description: 'The project flags go to when none is named',
      color: '#6366f1',
      isDefault: true,
      createdAt: now,
      updatedAt: now,
    });
    for (const [position, env] of defaultEnvironments.entries()) {
      await this.store.insertEnvironmentTemplate(trx, {
        id: newId(),
        organizationId,
        key: env.key,
        name: env.name,
        position,
        createdAt: now,
        updatedAt: now,
      });
      await this.projects.insertEnvironment(trx, {
        id: newId(),
        projectId,
        key: env.key,
        name: env.name,
        color: env.color,
        position,
        createdAt: now,
        updatedAt: now,
      });
    }
  }
}
