import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { isUniqueViolation } from '../../db/unique-violation.js';
import type { Actor } from '../../domain/actor.js';
import { ConflictError, NotFoundError } from '../../domain/errors.js';
import { newId, nowIso } from '../../domain/ids.js';
import { checkKey } from '../../domain/keys.js';
import type { ChangeBus } from '../../evaluation/change-bus.js';
import type { AccessService } from '../access/access-service.js';
import type { AuditStore } from '../audit/audit-store.js';
import { defaultEnvironments } from '../organizations/organization-service.js';
import type { OrganizationEnvironment, OrganizationStore } from '../organizations/organization-store.js';
import type { Environment, Project, ProjectStore } from './project-store.js';
import { unlimitedEntitlements, type EntitlementCheck } from '../plans/entitlement-service.js';

const colorByKey = new Map<string, string>(defaultEnvironments.map((e) => [e.key, e.color]));

/** What an organisation-wide environment change did in each project. */
export interface TenantEnvironmentChange {
  environment: string;
  /** Keys of the projects that got (or lost) an environment of that key. */
  projects: string[];
}

/**
 * IntelliToggle's tenant environments: the organisation's default environment list (what a new
 * project gets) kept in step with every project. Adding one adds it to the list and to every
 * project that lacks it; removing one removes it from the list and from every project — refused
 * (409 `last_environment`, naming the projects) when a project would be left with none. Needs
 * `projects:read` to list and `environments:write` in the organisation to change.
 */
export class TenantEnvironmentService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly access: AccessService,
    private readonly organizations: OrganizationStore,
    private readonly projects: ProjectStore,
    private readonly audit: AuditStore,
    private readonly changes: ChangeBus,
  ) {}

  private entitlements: EntitlementCheck = unlimitedEntitlements;

  /** Plan limits and features (billing slice); nothing is limited until this is called. */
  useEntitlements(entitlements: EntitlementCheck): void {
    this.entitlements = entitlements;
  }

  /** The default environment list in order. */
  async list(actor: Actor, organizationId: number | null): Promise<OrganizationEnvironment[]> {
    const grant = await this.access.require(actor, organizationId, 'projects:read');
    return this.organizations.listEnvironmentTemplates(this.db, grant.organizationId);
  }

  /** Adds `key` at the end of the list and of every project without it (409 `environment_exists` when listed already). */
  async add(actor: Actor, organizationId: number | null, key: string): Promise<TenantEnvironmentChange> {
    const envKey = checkKey('environment', key);
    let done: { organizationId: number; created: Array<{ project: Project; env: Environment }> };
    try {
      done = await this.db.transaction().execute(async (trx) => {
        const grant = await this.access.require(actor, organizationId, 'environments:write', trx);
        const orgId = grant.organizationId;
        await this.organizations.lock(trx, orgId);
        const templates = await this.organizations.listEnvironmentTemplates(trx, orgId);
        if (templates.some((t) => t.key === envKey)) throw exists(envKey);
        await this.entitlements.requireWithinLimit(orgId, 'environments', trx);
        const now = nowIso();
        await this.organizations.insertEnvironmentTemplate(trx, {
          id: newId(),
          organizationId: orgId,
          key: envKey,
          name: envKey,
          position: templates.reduce((max, t) => Math.max(max, t.position + 1), 0),
          createdAt: now,
          updatedAt: now,
        });
        const created: Array<{ project: Project; env: Environment }> = [];
        for (const project of await this.projects.listProjects(trx, orgId)) {
          await this.projects.lockProject(trx, project.id);
          const existing = await this.projects.listEnvironments(trx, project.id);
          // A project that already has it (added there by hand) keeps its own.
          if (existing.some((e) => e.key === envKey)) continue;
          const env: Environment = {
            id: newId(),
            projectId: project.id,
            key: envKey,
            name: envKey,
            color: colorByKey.get(envKey) ?? null,
            position: existing.reduce((max, e) => Math.max(max, e.position + 1), 0),
            createdAt: now,
            updatedAt: now,
          };
          await this.projects.insertEnvironment(trx, env);
          await this.audit.record(trx, actor, { organizationId: orgId, projectId: project.id, action: 'environment.created', resourceType: 'environment', resourceId: env.id, after: { key: envKey, name: env.name, color: env.color } });
          created.push({ project, env });
        }
        await this.audit.record(trx, actor, {
          organizationId: orgId,
          action: 'organization.environment_added',
          resourceType: 'organization',
          resourceId: orgId,
          after: { environment: envKey, projects: created.map((c) => c.project.key) },
        });
        return { organizationId: orgId, created };
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw exists(envKey);
      throw err;
    }
    for (const { project, env } of done.created) {
      await this.changes.publish({ organizationId: done.organizationId, projectId: project.id, environmentIds: [env.id], entity: 'environment', action: 'created', key: env.key });
    }
    return { environment: envKey, projects: done.created.map((c) => c.project.key) };
  }

  /**
   * Removes `key` from the list and from every project (with the flags' configuration, rules and
   * API keys there). 404 when neither the list nor any project has it; nothing changes when a
   * project would be left without an environment.
   */
  async remove(actor: Actor, organizationId: number | null, key: string): Promise<TenantEnvironmentChange> {
    const done = await this.db.transaction().execute(async (trx) => {
      const grant = await this.access.require(actor, organizationId, 'environments:write', trx);
      const orgId = grant.organizationId;
      await this.organizations.lock(trx, orgId);
      const targets: Array<{ project: Project; env: Environment }> = [];
      const stranded: string[] = [];
      for (const project of await this.projects.listProjects(trx, orgId)) {
        await this.projects.lockProject(trx, project.id);
        const envs = await this.projects.listEnvironments(trx, project.id);
        const env = envs.find((e) => e.key === key);
        if (!env) continue;
        if (envs.length <= 1) stranded.push(project.key);
        targets.push({ project, env });
      }
      if (stranded.length > 0) {
        throw new ConflictError(`Removing "${key}" would leave ${stranded.length === 1 ? 'project' : 'projects'} ${stranded.join(', ')} without an environment`, 'last_environment', { environment: key, projects: stranded });
      }
      const listed = await this.organizations.deleteEnvironmentTemplate(trx, orgId, key);
      if (!listed && targets.length === 0) throw new NotFoundError('Environment');
      for (const { project, env } of targets) {
        await this.projects.deleteEnvironment(trx, env.id);
        await this.audit.record(trx, actor, { organizationId: orgId, projectId: project.id, action: 'environment.deleted', resourceType: 'environment', resourceId: env.id, before: { key: env.key, name: env.name, color: env.color } });
      }
      await this.audit.record(trx, actor, {
        organizationId: orgId,
        action: 'organization.environment_removed',
        resourceType: 'organization',
        resourceId: orgId,
        before: { environment: key, projects: targets.map((t) => t.project.key) },
      });
      return { organizationId: orgId, targets };
    });
    for (const { project, env } of done.targets) {
      await this.changes.publish({ organizationId: done.organizationId, projectId: project.id, environmentIds: [env.id], entity: 'environment', action: 'deleted', key: env.key });
    }
    return { environment: key, projects: done.targets.map((t) => t.project.key) };
  }
}

function exists(key: string): ConflictError {
  return new ConflictError(`The tenant already has an environment "${key}"`, 'environment_exists', { environment: key });
}
