import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { Actor } from '../../domain/actor.js';
import { ForbiddenError, NotFoundError } from '../../domain/errors.js';
import { scopePermissions, type AccessGrant, type AccessService } from '../access/access-service.js';
import type { Permission } from '../access/permissions.js';
import type { ProjectMemberStore, ProjectRole } from './project-member-store.js';
import type { Project, ProjectStore } from './project-store.js';

type Db = Kysely<Database> | Transaction<Database>;

/** What a project role grants within its project, on top of the organisation role. */
export const projectRolePermissions: Readonly<Record<ProjectRole, readonly Permission[]>> = {
  admin: ['projects:read', 'projects:write', 'environments:write', 'flags:read', 'flags:write', 'segments:write', 'api_keys:read', 'api_keys:write', 'audit:read'],
  member: ['projects:read', 'flags:read', 'audit:read'],
};

/** What the actor may do in one project, as established by `ProjectAccessService`. */
export interface ProjectGrant {
  organizationId: number;
  projectId: number;
  /** The member behind the grant; null for machine credentials and the system. */
  userId: number | null;
  /** The organisation role key; null for machine credentials and the system. */
  organizationRole: string | null;
  /** The stored project role, or `admin` for organisation admins (admin everywhere); null when none. */
  projectRole: ProjectRole | null;
  /** Effective permissions in this project: organisation role's ∪ project role's, narrowed by token scopes. */
  permissions: ReadonlySet<Permission>;
}

/** A project together with the caller's grant there. */
export interface ProjectAccess {
  project: Project;
  grant: ProjectGrant;
}

/** A project reference as callers give it: a numeric id, `proj_123`, `123`, or the project key. */
export type ProjectRef = number | string;

function parseProjectId(raw: string): number | null {
  const digits = raw.startsWith('proj_') ? raw.slice(5) : raw;
  if (!/^[1-9]\d{0,15}$/.test(digits)) return null;
  const n = Number(digits);
  return Number.isSafeInteger(n) ? n : null;
}

function combine(org: AccessGrant, projectRole: ProjectRole | null, scopes: readonly string[] | null): Set<Permission> {
  const out = new Set(org.permissions);
  if (projectRole !== null) {
    // The organisation grant is already narrowed; the project role's share must be too.
    const allowed = scopes === null ? null : new Set(scopes.flatMap(scopePermissions));
    for (const p of projectRolePermissions[projectRole]) if (allowed === null || allowed.has(p)) out.add(p);
  }
  return out;
}

/**
 * The one place that decides what an actor may do in a project. A project of another organisation
 * (or of an organisation other than the one the request acts in) looks exactly like absence
 * (`NotFoundError('Project')`); a member lacking the permission gets `ForbiddenError`.
 */
export class ProjectAccessService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly access: AccessService,
    private readonly projects: ProjectStore,
    private readonly members: ProjectMemberStore,
  ) {}

  /**
   * Finds the project `ref` names in the actor's organisation and checks the actor's effective
   * permissions there include `permission`. Pass `db` to read inside the caller's transaction.
   */
  async require(actor: Actor, ref: ProjectRef, permission: Permission, db: Db = this.db): Promise<ProjectAccess> {
    const resolved = await this.resolve(actor, ref, db);
    if (!resolved.grant.permissions.has(permission)) {
      throw new ForbiddenError(`You need the ${permission} permission in this project to do this`, 'forbidden', { permission });
    }
    return resolved;
  }

  /** The project and the actor's grant there, whatever it permits; 404 when not the actor's to see. */
  async resolve(actor: Actor, ref: ProjectRef, db: Db = this.db): Promise<ProjectAccess> {
    const project = await this.find(actor, ref, db);
    if (!project) throw new NotFoundError('Project');
    const org = await this.orgGrant(actor, project.organizationId, db);
    const projectRole = await this.projectRoleOf(org, project.id, db);
    return { project, grant: this.grantFor(actor, org, project.id, projectRole) };
  }

  /**
   * Every project of the actor's organisation where the actor holds `permission`, each with its
   * grant, in creation order. An actor outside the organisation gets `NotFoundError`.
   */
  async listAccessible(actor: Actor, permission: Permission, db: Db = this.db): Promise<ProjectAccess[]> {
    const org = await this.access.requireMember(actor, actor.organizationId, db);
    const roles = org.userId !== null ? await this.members.rolesOfUser(db, org.organizationId, org.userId) : new Map<number, ProjectRole>();
    const all = await this.projects.listProjects(db, org.organizationId);
    const out: ProjectAccess[] = [];
    for (const project of all) {
      const role = org.role === 'admin' ? 'admin' : (roles.get(project.id) ?? null);
      const grant = this.grantFor(actor, org, project.id, role);
      if (grant.permissions.has(permission)) out.push({ project, grant });
    }
    return out;
  }

  /**
   * `listAccessible`, but an actor who holds `permission` nowhere in the organisation — neither
   * through the organisation role (or token scopes) nor in any project — is refused with
   * `ForbiddenError` instead of getting an empty list. Organisation-wide routes (IntelliToggle's
   * `/flags`) start here, so a token without `flags:read` is told so rather than shown nothing.
   */
  async requireAccessible(actor: Actor, permission: Permission, db: Db = this.db): Promise<ProjectAccess[]> {
    const accessible = await this.listAccessible(actor, permission, db);
    if (accessible.length === 0) {
      const org = await this.access.requireMember(actor, actor.organizationId, db);
      if (!org.permissions.has(permission)) {
        throw new ForbiddenError(`You need the ${permission} permission to do this`, 'forbidden', { permission });
      }
    }
    return accessible;
  }

  private async find(actor: Actor, ref: ProjectRef, db: Db): Promise<Project | null> {
    const id = typeof ref === 'number' ? (Number.isSafeInteger(ref) && ref > 0 ? ref : null) : parseProjectId(ref);
    const orgId = actor.organizationId;
    if (id !== null) {
      const byId = await this.projects.findById(db, id);
      // The system acts in no organisation of its own and may name any project by id.
      if (byId && (orgId === null ? actor.kind === 'system' : byId.organizationId === orgId)) return byId;
    }
    if (typeof ref === 'string' && orgId !== null) return this.projects.findByKey(db, orgId, ref);
    return null;
  }

  private async orgGrant(actor: Actor, organizationId: number, db: Db): Promise<AccessGrant> {
    try {
      return await this.access.requireMember(actor, actor.kind === 'system' ? organizationId : actor.organizationId, db);
    } catch (err) {
      // Not a member of the project's organisation: the project does not exist for them.
      if (err instanceof NotFoundError) throw new NotFoundError('Project');
      throw err;
    }
  }

  private async projectRoleOf(org: AccessGrant, projectId: number, db: Db): Promise<ProjectRole | null> {
    if (org.role === 'admin') return 'admin';
    if (org.userId === null) return null;
    const m = await this.members.find(db, projectId, org.userId);
    return m?.role ?? null;
  }

  private grantFor(actor: Actor, org: AccessGrant, projectId: number, projectRole: ProjectRole | null): ProjectGrant {
    return {
      organizationId: org.organizationId,
      projectId,
      userId: org.userId,
      organizationRole: org.role,
      projectRole,
      permissions: combine(org, projectRole, actor.kind === 'user' ? actor.scopes : null),
    };
  }
}
