import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { isUniqueViolation } from '../../db/unique-violation.js';
import type { Actor } from '../../domain/actor.js';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../../domain/errors.js';
import { newId, nowIso } from '../../domain/ids.js';
import type { AuditStore } from '../audit/audit-store.js';
import { normalizeEmail } from '../identity/email.js';
import type { OrganizationStore } from '../organizations/organization-store.js';
import { projectRolePermissions, type ProjectAccessService, type ProjectGrant, type ProjectRef } from './project-access.js';
import { isProjectRole, type ProjectMemberStore, type ProjectMemberWithUser, type ProjectRole } from './project-member-store.js';

/** Who to add: an organisation member named by id or email, and the project role. */
export interface NewProjectMember {
  userId?: number;
  email?: string;
  role: string;
}

function checkRole(role: string): ProjectRole {
  if (!isProjectRole(role)) throw new ValidationError('role must be admin or member', { role: 'must be admin or member' });
  return role;
}

/**
 * Who holds a project role. Organisation admins are admin in every project without being listed.
 * Reading needs `projects:read` in the project; changing needs `projects:write` there, and the
 * caller can only hand out a role whose permissions they hold in the project themselves.
 */
export class ProjectMemberService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly projectAccess: ProjectAccessService,
    private readonly members: ProjectMemberStore,
    private readonly organizations: OrganizationStore,
    private readonly audit: AuditStore,
  ) {}

  async list(actor: Actor, projectRef: ProjectRef, page: { limit?: number; offset?: number } = {}): Promise<{ items: ProjectMemberWithUser[]; total: number }> {
    const { project } = await this.projectAccess.require(actor, projectRef, 'projects:read');
    const [items, total] = await Promise.all([
      this.members.list(this.db, project.id, { limit: page.limit ?? 100, offset: page.offset ?? 0 }),
      this.members.count(this.db, project.id),
    ]);
    return { items, total };
  }

  async get(actor: Actor, projectRef: ProjectRef, userId: number): Promise<ProjectMemberWithUser> {
    const { project } = await this.projectAccess.require(actor, projectRef, 'projects:read');
    const m = await this.members.find(this.db, project.id, userId);
    if (!m) throw new NotFoundError('Project member');
    return m;
  }

  /** Adds an organisation member to the project (409 `already_project_member` when they are one). */
  async add(actor: Actor, projectRef: ProjectRef, input: NewProjectMember): Promise<ProjectMemberWithUser> {
    const role = checkRole(input.role);
    if ((input.userId === undefined) === (input.email === undefined)) {
      throw new ValidationError('Give either userId or email', { userId: 'give either userId or email' });
    }
    try {
      return await this.db.transaction().execute(async (trx) => {
        const { project, grant } = await this.projectAccess.require(actor, projectRef, 'projects:write', trx);
        assertCanGrant(grant, role);
        const orgMember =
          input.userId !== undefined
            ? await this.organizations.findMember(trx, project.organizationId, input.userId)
            : await this.organizations.findMemberByEmail(trx, project.organizationId, normalizeEmail(input.email!));
        const field = input.userId !== undefined ? 'userId' : 'email';
        if (!orgMember) throw new ValidationError(`${field} is not a member of this organization`, { [field]: 'is not a member of this organization' });
        if (await this.members.find(trx, project.id, orgMember.userId)) throw alreadyMember(orgMember.userId);
        const now = nowIso();
        await this.members.insert(trx, { id: newId(), projectId: project.id, userId: orgMember.userId, role, createdAt: now, updatedAt: now });
        await this.audit.record(trx, actor, {
          organizationId: project.organizationId,
          projectId: project.id,
          action: 'project_member.added',
          resourceType: 'project_member',
          resourceId: orgMember.userId,
          after: { userId: orgMember.userId, role },
        });
        return (await this.members.find(trx, project.id, orgMember.userId))!;
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw alreadyMember(input.userId ?? null);
      throw err;
    }
  }

  async changeRole(actor: Actor, projectRef: ProjectRef, userId: number, newRole: string): Promise<ProjectMemberWithUser> {
    const role = checkRole(newRole);
    return this.db.transaction().execute(async (trx) => {
      const { project, grant } = await this.projectAccess.require(actor, projectRef, 'projects:write', trx);
      const m = await this.members.find(trx, project.id, userId);
      if (!m) throw new NotFoundError('Project member');
      if (m.role === role) return m;
      assertCanGrant(grant, role);
      const now = nowIso();
      await this.members.updateRole(trx, project.id, userId, role, now);
      await this.audit.record(trx, actor, {
        organizationId: project.organizationId,
        projectId: project.id,
        action: 'project_member.role_changed',
        resourceType: 'project_member',
        resourceId: userId,
        before: { role: m.role },
        after: { role },
      });
      return { ...m, role, updatedAt: now };
    });
  }

  async remove(actor: Actor, projectRef: ProjectRef, userId: number): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const { project } = await this.projectAccess.require(actor, projectRef, 'projects:write', trx);
      const m = await this.members.find(trx, project.id, userId);
      if (!m) throw new NotFoundError('Project member');
      await this.members.delete(trx, project.id, userId);
      await this.audit.record(trx, actor, {
        organizationId: project.organizationId,
        projectId: project.id,
        action: 'project_member.removed',
        resourceType: 'project_member',
        resourceId: userId,
        before: { userId, role: m.role },
      });
    });
  }
}

function assertCanGrant(grant: ProjectGrant, role: ProjectRole): void {
  const missing = projectRolePermissions[role].filter((p) => !grant.permissions.has(p));
  if (missing.length > 0) {
    throw new ForbiddenError(`You cannot grant permissions you do not hold: ${missing.join(', ')}`, 'permission_escalation', { missing });
  }
}

function alreadyMember(userId: number | null): ConflictError {
  return new ConflictError('That user is already a member of this project', 'already_project_member', userId === null ? null : { userId });
}
