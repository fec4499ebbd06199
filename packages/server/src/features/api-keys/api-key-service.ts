import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { Actor } from '../../domain/actor.js';
import { NotFoundError, ValidationError } from '../../domain/errors.js';
import { newId, nowIso } from '../../domain/ids.js';
import type { ChangeBus } from '../../evaluation/change-bus.js';
import type { AuditStore } from '../audit/audit-store.js';
import type { ProjectAccessService, ProjectRef } from '../projects/project-access.js';
import type { Environment, ProjectStore } from '../projects/project-store.js';
import { apiKeyScopes, generateApiKey, type ApiKeyFormat, type ApiKeyScope } from './api-key-format.js';
import type { ApiKey, ApiKeyStore } from './api-key-store.js';
import { unlimitedEntitlements, type EntitlementCheck } from '../plans/entitlement-service.js';

/** A key together with the key of its environment, as lists and detail views show it. */
export interface ApiKeyView extends ApiKey {
  environmentKey: string;
}

/** What creating a key takes. `environment` is the environment's id or key within the project. */
export interface CreateApiKeyInput {
  name: string;
  environment: number | string;
  scope: ApiKeyScope;
  /** ISO-8601 instant in the future, or null for a key that does not expire. */
  expiresAt: string | null;
  /** The secret's shape; default `switchyard` (`sy_<scope>_…`). */
  format?: ApiKeyFormat;
}

/** Which keys a list shows. */
export interface ListApiKeysInput {
  /** Only keys of this environment (id or key). */
  environment?: number | string;
  limit?: number;
  offset?: number;
}

/**
 * Environment-scoped API keys: created with the secret shown once (only its SHA-256 is stored),
 * listed without it, revoked. Permissions `api_keys:read`/`api_keys:write` in the project; every
 * change is audited in its transaction and published on the change bus after commit, which the
 * in-memory key map applies before the write returns.
 */
export class ApiKeyService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly projectAccess: ProjectAccessService,
    private readonly projects: ProjectStore,
    private readonly store: ApiKeyStore,
    private readonly audit: AuditStore,
    private readonly changes: ChangeBus,
  ) {}

  private entitlements: EntitlementCheck = unlimitedEntitlements;

  /** Plan limits and features (billing slice); nothing is limited until this is called. */
  useEntitlements(entitlements: EntitlementCheck): void {
    this.entitlements = entitlements;
  }

  /** Creates a key; the returned `secret` is the only time anyone sees it. */
  async create(actor: Actor, projectRef: ProjectRef, input: CreateApiKeyInput): Promise<{ key: ApiKeyView; secret: string }> {
    return this.insertKey(actor, projectRef, input, 'field');
  }

  /**
   * Creates a key of the environment a path names (Flipswitch's `…/environments/{envId}/api-keys`):
   * as `create`, except that an environment the project does not have is not found (404), not a
   * bad field.
   */
  async createInEnvironment(actor: Actor, projectRef: ProjectRef, environmentId: number, input: Omit<CreateApiKeyInput, 'environment'>): Promise<{ key: ApiKeyView; secret: string }> {
    return this.insertKey(actor, projectRef, { ...input, environment: environmentId }, 'parent');
  }

  /**
   * The keys of one environment (revoked ones too, newest first), without secrets, for anyone who
   * may read the project (`projects:read`): Flipswitch lets project members list them. A name and a
   * prefix disclose no more than the environment itself; creating and revoking still need
   * `api_keys:write`. An environment the project does not have is not found.
   */
  async listInEnvironment(actor: Actor, projectRef: ProjectRef, environmentId: number, page: { limit?: number; offset?: number } = {}): Promise<{ items: ApiKeyView[]; total: number }> {
    const { project } = await this.projectAccess.require(actor, projectRef, 'projects:read');
    const environment = (await this.projects.listEnvironments(this.db, project.id)).find((e) => e.id === environmentId);
    if (!environment) throw new NotFoundError('Environment');
    const result = await this.store.listInProject(this.db, project.id, { environmentId, limit: page.limit ?? 100, offset: page.offset ?? 0 });
    return { items: result.items.map((k) => ({ ...k, environmentKey: environment.key })), total: result.total };
  }

  private async insertKey(actor: Actor, projectRef: ProjectRef, input: CreateApiKeyInput, environmentIs: 'field' | 'parent'): Promise<{ key: ApiKeyView; secret: string }> {
    const fields: Record<string, string> = {};
    const name = input.name.trim();
    if (name.length === 0 || name.length > 200) fields.name = 'must be 1 to 200 characters';
    if (!apiKeyScopes.includes(input.scope)) fields.scope = `must be one of ${apiKeyScopes.join(', ')}`;
    let expiresAt: string | null = null;
    if (input.expiresAt !== null) {
      const ms = Date.parse(input.expiresAt);
      if (Number.isNaN(ms)) fields.expiresAt = 'must be an ISO-8601 date-time';
      else if (ms <= Date.now()) fields.expiresAt = 'must be in the future';
      else expiresAt = new Date(ms).toISOString();
    }
    const result = await this.db.transaction().execute(async (trx) => {
      const { project } = await this.projectAccess.require(actor, projectRef, 'api_keys:write', trx);
      const environments = await this.projects.listEnvironments(trx, project.id);
      const environment = environmentIs === 'parent' ? environments.find((e) => e.id === input.environment) : findEnvironment(environments, input.environment);
      if (!environment && environmentIs === 'parent') throw new NotFoundError('Environment');
      if (!environment) fields.environment = 'no environment of this project has this id or key';
      if (Object.keys(fields).length > 0 || !environment) throw new ValidationError('The API key is not valid', fields);
      await this.entitlements.requireWithinLimit(project.organizationId, 'apiKeys', trx);
      const generated = generateApiKey(input.scope, input.format);
      const key: ApiKey = {
        id: newId(),
        organizationId: project.organizationId,
        projectId: project.id,
        environmentId: environment.id,
        name,
        scope: input.scope,
        prefix: generated.prefix,
        keyHash: generated.hash,
        createdBy: actor.userId,
        createdAt: nowIso(),
        expiresAt,
        lastUsedAt: null,
        revokedAt: null,
      };
      await this.store.insert(trx, key);
      await this.audit.record(trx, actor, {
        organizationId: key.organizationId,
        projectId: key.projectId,
        action: 'api_key.created',
        resourceType: 'api_key',
        resourceId: key.id,
        after: { name, environment: environment.key, scope: key.scope, prefix: key.prefix, expiresAt },
      });
      return { key: { ...key, environmentKey: environment.key }, secret: generated.secret };
    });
    await this.changes.publish({
      organizationId: result.key.organizationId,
      projectId: result.key.projectId,
      environmentIds: [result.key.environmentId],
      entity: 'api_key',
      action: 'created',
      key: String(result.key.id),
    });
    return result;
  }

  /** A page of the project's keys (revoked ones too, newest first) and the total. */
  async list(actor: Actor, projectRef: ProjectRef, input: ListApiKeysInput = {}): Promise<{ items: ApiKeyView[]; total: number }> {
    const { project } = await this.projectAccess.require(actor, projectRef, 'api_keys:read');
    const environments = await this.projects.listEnvironments(this.db, project.id);
    let environmentId: number | undefined;
    if (input.environment !== undefined) {
      const environment = findEnvironment(environments, input.environment);
      if (!environment) return { items: [], total: 0 };
      environmentId = environment.id;
    }
    const page = await this.store.listInProject(this.db, project.id, {
      ...(environmentId !== undefined ? { environmentId } : {}),
      limit: input.limit ?? 100,
      offset: input.offset ?? 0,
    });
    const keys = new Map(environments.map((e) => [e.id, e.key]));
    return { items: page.items.map((k) => ({ ...k, environmentKey: keys.get(k.environmentId) ?? '' })), total: page.total };
  }

  /** One key of the project; another project's key is not found. */
  async get(actor: Actor, projectRef: ProjectRef, keyId: number | null): Promise<ApiKeyView> {
    const { project } = await this.projectAccess.require(actor, projectRef, 'api_keys:read');
    const key = keyId === null ? null : await this.store.findInProject(this.db, project.id, keyId);
    if (!key) throw new NotFoundError('API key');
    return this.view(key);
  }

  /**
   * Revokes a key: from the moment this returns, requests with it are refused. Revoking a revoked
   * key changes nothing and answers it as it is.
   */
  async revoke(actor: Actor, projectRef: ProjectRef, keyId: number | null): Promise<ApiKeyView> {
    const { key, changed } = await this.db.transaction().execute(async (trx) => {
      const { project } = await this.projectAccess.require(actor, projectRef, 'api_keys:write', trx);
      const found = keyId === null ? null : await this.store.findInProject(trx, project.id, keyId);
      if (!found) throw new NotFoundError('API key');
      if (found.revokedAt !== null) return { key: found, changed: false };
      const at = nowIso();
      const changed = await this.store.revoke(trx, found.id, at);
      if (changed) {
        await this.audit.record(trx, actor, {
          organizationId: found.organizationId,
          projectId: found.projectId,
          action: 'api_key.revoked',
          resourceType: 'api_key',
          resourceId: found.id,
          before: { revokedAt: null },
          after: { revokedAt: at, name: found.name, prefix: found.prefix },
        });
      }
      return { key: (await this.store.findById(trx, found.id)) ?? found, changed };
    });
    if (changed) {
      await this.changes.publish({
        organizationId: key.organizationId,
        projectId: key.projectId,
        environmentIds: [key.environmentId],
        entity: 'api_key',
        action: 'deleted',
        key: String(key.id),
      });
    }
    return this.view(key);
  }

  private async view(key: ApiKey): Promise<ApiKeyView> {
    const environments = await this.projects.listEnvironments(this.db, key.projectId);
    return { ...key, environmentKey: environments.find((e) => e.id === key.environmentId)?.key ?? '' };
  }
}

/** The environment named by id (`number`) or key (`string`). */
function findEnvironment(environments: readonly Environment[], ref: number | string): Environment | undefined {
  if (typeof ref === 'number') return environments.find((e) => e.id === ref) ?? environments.find((e) => e.key === String(ref));
  return environments.find((e) => e.key === ref);
}
