import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';
import { isUniqueViolation } from '../../db/unique-violation.js';
import type { Actor } from '../../domain/actor.js';
import { ConflictError, NotFoundError } from '../../domain/errors.js';
import { newId, nowIso } from '../../domain/ids.js';
import { checkColor, checkKey, checkName } from '../../domain/keys.js';
import type { ChangeBus } from '../../evaluation/change-bus.js';
import type { AuditStore } from '../audit/audit-store.js';
import type { ProjectAccessService, ProjectRef } from './project-access.js';
import type { Environment, EnvironmentChanges, Project, ProjectStore } from './project-store.js';
import { unlimitedEntitlements, type EntitlementCheck } from '../plans/entitlement-service.js';

/** An environment reference: a numeric id, `env_123`, `123`, or the environment key. */
export type EnvironmentRef = number | string;

export interface NewEnvironment {
  key: string;
  name?: string;
  color?: string | null;
}

/** PATCH semantics: absent = unchanged, null = cleared; the key never changes. */
export interface EnvironmentPatch {
  name?: string;
  color?: string | null;
}

function parseEnvironmentId(ref: EnvironmentRef): number | null {
  if (typeof ref === 'number') return Number.isSafeInteger(ref) && ref > 0 ? ref : null;
  const digits = ref.startsWith('env_') ? ref.slice(4) : ref;
  if (!/^[1-9]\d{0,15}$/.test(digits)) return null;
  const n = Number(digits);
  return Number.isSafeInteger(n) ? n : null;
}

/**
 * A project's environments. A new environment starts with every flag disabled (no per-environment
 * rows); deleting one takes its flag configuration, rules and API keys with it, and the last one
 * cannot be deleted.
 */
export class EnvironmentService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly projectAccess: ProjectAccessService,
    private readonly projects: ProjectStore,
    private readonly audit: AuditStore,
    private readonly changes: ChangeBus,
  ) {}

  private entitlements: EntitlementCheck = unlimitedEntitlements;

  /** Plan limits and features (billing slice); nothing is limited until this is called. */
  useEntitlements(entitlements: EntitlementCheck): void {
    this.entitlements = entitlements;
  }

  /** The environment `ref` names in `projectId`, by id first, then by key; null when none. */
  async find(db: Kysely<Database> | Transaction<Database>, projectId: number, ref: EnvironmentRef): Promise<Environment | null> {
    const id = parseEnvironmentId(ref);
    if (id !== null) {
      const byId = await this.projects.findEnvironmentById(db, projectId, id);
      if (byId) return byId;
    }
    return typeof ref === 'string' ? this.projects.findEnvironmentByKey(db, projectId, ref) : null;
  }

  /** The project's environments in order, paged in memory (a project has few). */
  async list(actor: Actor, projectRef: ProjectRef, page: { limit?: number; offset?: number } = {}): Promise<{ items: Environment[]; total: number }> {
    const { project } = await this.projectAccess.require(actor, projectRef, 'projects:read');
    const all = await this.projects.listEnvironments(this.db, project.id);
    const offset = page.offset ?? 0;
    return { items: all.slice(offset, offset + (page.limit ?? 100)), total: all.length };
  }

  async get(actor: Actor, projectRef: ProjectRef, ref: EnvironmentRef): Promise<Environment> {
    const { project } = await this.projectAccess.require(actor, projectRef, 'projects:read');
    const env = await this.find(this.db, project.id, ref);
    if (!env) throw new NotFoundError('Environment');
    return env;
  }

  /** Adds an environment at the end (409 `environment_key_taken` when the key is used). */
  async create(actor: Actor, projectRef: ProjectRef, input: NewEnvironment): Promise<Environment> {
    const key = checkKey('key', input.key);
    const name = input.name === undefined ? key : checkName('name', input.name);
    const color = checkColor('color', input.color ?? null);
    let created: { env: Environment; project: Project };
    try {
      created = await this.db.transaction().execute(async (trx) => {
        const { project } = await this.projectAccess.require(actor, projectRef, 'environments:write', trx);
        await this.projects.lockProject(trx, project.id);
        if (await this.projects.findEnvironmentByKey(trx, project.id, key)) throw keyTaken(key);
        await this.entitlements.requireWithinLimit(project.organizationId, 'environments', trx, { projectId: project.id });
        const existing = await this.projects.listEnvironments(trx, project.id);
        const now = nowIso();
        const env: Environment = {
          id: newId(),
          projectId: project.id,
          key,
          name,
          color,
          position: existing.reduce((max, e) => Math.max(max, e.position + 1), 0),
          createdAt: now,
          updatedAt: now,
        };
        await this.projects.insertEnvironment(trx, env);
        await this.audit.record(trx, actor, { organizationId: project.organizationId, projectId: project.id, action: 'environment.created', resourceType: 'environment', resourceId: env.id, after: { key, name, color } });
        return { env, project };
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw keyTaken(key);
      throw err;
    }
    await this.publish(created.project, created.env, 'created');
    return created.env;
  }

  async update(actor: Actor, projectRef: ProjectRef, ref: EnvironmentRef, patch: EnvironmentPatch): Promise<Environment> {
    const name = patch.name === undefined ? undefined : checkName('name', patch.name);
    const color = patch.color === undefined ? undefined : checkColor('color', patch.color);
    const result = await this.db.transaction().execute(async (trx) => {
      const { project } = await this.projectAccess.require(actor, projectRef, 'environments:write', trx);
      const env = await this.find(trx, project.id, ref);
      if (!env) throw new NotFoundError('Environment');
      const before: Record<string, unknown> = {};
      const after: Record<string, unknown> = {};
      const changes: EnvironmentChanges = { updatedAt: nowIso() };
      if (name !== undefined && name !== env.name) {
        before.name = env.name;
        after.name = changes.name = name;
      }
      if (color !== undefined && color !== env.color) {
        before.color = env.color;
        after.color = changes.color = color;
      }
      if (Object.keys(after).length === 0) return { env, project, changed: false };
      await this.projects.updateEnvironment(trx, env.id, changes);
      await this.audit.record(trx, actor, { organizationId: project.organizationId, projectId: project.id, action: 'environment.updated', resourceType: 'environment', resourceId: env.id, before, after: { key: env.key, ...after } });
      return { env: { ...env, ...changes }, project, changed: true };
    });
    if (result.changed) await this.publish(result.project, result.env, 'updated');
    return result.env;
  }

  /** Deletes an environment and answers its id; the project's last one is refused (409 `last_environment`). */
  async delete(actor: Actor, projectRef: ProjectRef, ref: EnvironmentRef): Promise<number> {
    const { env, project } = await this.db.transaction().execute(async (trx) => {
      const { project } = await this.projectAccess.require(actor, projectRef, 'environments:write', trx);
      await this.projects.lockProject(trx, project.id);
      const env = await this.find(trx, project.id, ref);
      if (!env) throw new NotFoundError('Environment');
      const all = await this.projects.listEnvironments(trx, project.id);
      if (all.length <= 1) throw new ConflictError(`"${env.key}" is the project's last environment and cannot be deleted`, 'last_environment', { key: env.key });
      await this.projects.deleteEnvironment(trx, env.id);
      await this.audit.record(trx, actor, { organizationId: project.organizationId, projectId: project.id, action: 'environment.deleted', resourceType: 'environment', resourceId: env.id, before: { key: env.key, name: env.name, color: env.color } });
      return { env, project };
    });
    await this.publish(project, env, 'deleted');
    return env.id;
  }

  private async publish(project: Project, env: Environment, action: 'created' | 'updated' | 'deleted'): Promise<void> {
    await this.changes.publish({ organizationId: project.organizationId, projectId: project.id, environmentIds: [env.id], entity: 'environment', action, key: env.key });
  }
}

function keyTaken(key: string): ConflictError {
  return new ConflictError(`An environment with key "${key}" already exists in this project`, 'environment_key_taken', { key });
}
