import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { isUniqueViolation } from '../../db/unique-violation.js';
import type { Actor } from '../../domain/actor.js';
import { ConflictError, ValidationError } from '../../domain/errors.js';
import { newId, nowIso } from '../../domain/ids.js';
import { checkColor, checkName, checkOptionalText, slugify } from '../../domain/keys.js';
import type { ChangeBus } from '../../evaluation/change-bus.js';
import type { AccessService } from '../access/access-service.js';
import type { AuditStore } from '../audit/audit-store.js';
import type { FlagStore } from '../flags/flag-store.js';
import { defaultEnvironments } from '../organizations/organization-service.js';
import type { OrganizationStore } from '../organizations/organization-store.js';
import type { ProjectAccessService, ProjectRef } from './project-access.js';
import type { Project, ProjectChanges, ProjectStore } from './project-store.js';

/** A project as listed and shown: with the number of its flags that are not archived. */
export interface ProjectView extends Project {
  flagCount: number;
}

/** What it takes to create a project; `key` is derived from `name` when absent. */
export interface NewProject {
  name: string;
  key?: string;
  description?: string | null;
  color?: string | null;
}

/** PATCH semantics: absent = unchanged, null = cleared (`name` cannot be cleared; `key` never changes). */
export interface ProjectPatch {
  name?: string;
  description?: string | null;
  color?: string | null;
}

/** Kebab-case (`mobile-app`), not all digits (those read as ids in paths), at most 100 characters. */
const projectKeyPattern = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

function checkProjectKey(key: string): string {
  if (key.length > 100 || !projectKeyPattern.test(key) || /^\d+$/.test(key)) {
    throw new ValidationError('key must be kebab-case (a-z, 0-9 and single dashes), at most 100 characters, not only digits', {
      key: 'must be kebab-case (a-z, 0-9 and single dashes), at most 100 characters, not only digits',
    });
  }
  return key;
}

/** The key a project gets when none is given: its name in kebab-case. */
export function projectKeyFromName(name: string): string {
  const slug = slugify(name, 100);
  if (slug === '') return 'project';
  return /^\d+$/.test(slug) ? `project-${slug}`.slice(0, 100) : slug;
}

const colorByKey = new Map<string, string>(defaultEnvironments.map((e) => [e.key, e.color]));

/**
 * Projects of an organisation: list, create (with the organisation's default environment list),
 * read, change, delete. Creating needs `projects:write` in the organisation; everything else is
 * decided per project by `ProjectAccessService`.
 */
export class ProjectService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly access: AccessService,
    private readonly projectAccess: ProjectAccessService,
    private readonly projects: ProjectStore,
    private readonly organizations: OrganizationStore,
    private readonly flags: FlagStore,
    private readonly audit: AuditStore,
    private readonly changes: ChangeBus,
  ) {}

  /** The projects the caller may read, oldest first, paged in memory (the set is per caller). */
  async list(actor: Actor, page: { limit?: number; offset?: number } = {}): Promise<{ items: ProjectView[]; total: number }> {
    const accessible = await this.projectAccess.listAccessible(actor, 'projects:read');
    const offset = page.offset ?? 0;
    const slice = accessible.slice(offset, offset + (page.limit ?? 100)).map((a) => a.project);
    const counts = await this.flags.countByProject(this.db, slice.map((p) => p.id));
    return { items: slice.map((p) => ({ ...p, flagCount: counts.get(p.id) ?? 0 })), total: accessible.length };
  }

  async get(actor: Actor, ref: ProjectRef): Promise<ProjectView> {
    const { project } = await this.projectAccess.require(actor, ref, 'projects:read');
    return this.withCount(project);
  }

  /** Creates a project with the organisation's default environments (409 `project_key_taken` when the key is used). */
  async create(actor: Actor, input: NewProject): Promise<ProjectView> {
    const name = checkName('name', input.name);
    const key = checkProjectKey(input.key ?? projectKeyFromName(name));
    const description = checkOptionalText('description', input.description ?? null);
    const color = checkColor('color', input.color ?? null);
    const now = nowIso();
    let project: Project;
    try {
      project = await this.db.transaction().execute(async (trx) => {
        const grant = await this.access.require(actor, actor.organizationId, 'projects:write', trx);
        if (await this.projects.findByKey(trx, grant.organizationId, key)) throw keyTaken(key);
        const p: Project = { id: newId(), organizationId: grant.organizationId, key, name, description, color, isDefault: false, createdAt: now, updatedAt: now };
        await this.projects.insertProject(trx, p);
        const templates = await this.organizations.listEnvironmentTemplates(trx, grant.organizationId);
        for (const [position, t] of templates.entries()) {
          await this.projects.insertEnvironment(trx, { id: newId(), projectId: p.id, key: t.key, name: t.name, color: colorByKey.get(t.key) ?? null, position, createdAt: now, updatedAt: now });
        }
        await this.audit.record(trx, actor, {
          organizationId: p.organizationId,
          projectId: p.id,
          action: 'project.created',
          resourceType: 'project',
          resourceId: p.id,
          after: { key, name, description, color, environments: templates.map((t) => t.key) },
        });
        return p;
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw keyTaken(key);
      throw err;
    }
    await this.changes.publish({ organizationId: project.organizationId, projectId: project.id, environmentIds: 'all', entity: 'project', action: 'created', key: project.key });
    return { ...project, flagCount: 0 };
  }

  async update(actor: Actor, ref: ProjectRef, patch: ProjectPatch): Promise<ProjectView> {
    const name = patch.name === undefined ? undefined : checkName('name', patch.name);
    const description = patch.description === undefined ? undefined : checkOptionalText('description', patch.description);
    const color = patch.color === undefined ? undefined : checkColor('color', patch.color);
    const updated = await this.db.transaction().execute(async (trx) => {
      const { project } = await this.projectAccess.require(actor, ref, 'projects:write', trx);
      const before: Record<string, unknown> = {};
      const after: Record<string, unknown> = {};
      const changes: ProjectChanges = { updatedAt: nowIso() };
      if (name !== undefined && name !== project.name) {
        before.name = project.name;
        after.name = changes.name = name;
      }
      if (description !== undefined && description !== project.description) {
        before.description = project.description;
        after.description = changes.description = description;
      }
      if (color !== undefined && color !== project.color) {
        before.color = project.color;
        after.color = changes.color = color;
      }
      if (Object.keys(after).length === 0) return project;
      await this.projects.updateProject(trx, project.id, changes);
      await this.audit.record(trx, actor, { organizationId: project.organizationId, projectId: project.id, action: 'project.updated', resourceType: 'project', resourceId: project.id, before, after });
      return { ...project, ...changes };
    });
    return this.withCount(updated);
  }

  /**
   * Deletes a project and everything in it. The organisation's default project is refused
   * (409 `default_project`): flags created without a project go there. Answers the project's id.
   */
  async delete(actor: Actor, ref: ProjectRef): Promise<number> {
    const project = await this.db.transaction().execute(async (trx) => {
      const { project } = await this.projectAccess.require(actor, ref, 'projects:write', trx);
      if (project.isDefault) {
        throw new ConflictError("The organization's default project cannot be deleted: flags created without a project go there", 'default_project', { key: project.key });
      }
      await this.projects.deleteProject(trx, project.id);
      await this.audit.record(trx, actor, {
        organizationId: project.organizationId,
        projectId: project.id,
        action: 'project.deleted',
        resourceType: 'project',
        resourceId: project.id,
        before: { key: project.key, name: project.name, description: project.description, color: project.color },
      });
      return project;
    });
    await this.changes.publish({ organizationId: project.organizationId, projectId: project.id, environmentIds: 'all', entity: 'project', action: 'deleted', key: project.key });
    return project.id;
  }

  private async withCount(project: Project): Promise<ProjectView> {
    const counts = await this.flags.countByProject(this.db, [project.id]);
    return { ...project, flagCount: counts.get(project.id) ?? 0 };
  }
}

function keyTaken(key: string): ConflictError {
  return new ConflictError(`A project with key "${key}" already exists in this organization`, 'project_key_taken', { key });
}
