import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';
import { isUniqueViolation } from '../../db/unique-violation.js';
import type { Actor } from '../../domain/actor.js';
import { ConflictError, ForbiddenError, NotFoundError, PreconditionFailedError, ValidationError } from '../../domain/errors.js';
import { newId, nowIso } from '../../domain/ids.js';
import { checkKey, checkName, checkOptionalText, slugify } from '../../domain/keys.js';
import type { ChangeBus } from '../../evaluation/change-bus.js';
import type { Permission } from '../access/permissions.js';
import type { AuditStore } from '../audit/audit-store.js';
import type { ProjectAccessService, ProjectGrant, ProjectRef } from '../projects/project-access.js';
import type { Environment, Project, ProjectStore } from '../projects/project-store.js';
import {
  flagStatuses,
  flagTypes,
  type Flag,
  type FlagChanges,
  type FlagFilter,
  type FlagStatus,
  type FlagStore,
  type FlagType,
  type FlagWithVariations,
  type JsonValue,
  type Variation,
  type VariationChanges,
  type VariationUsage,
} from './flag-store.js';
import { unlimitedEntitlements, type EntitlementCheck } from '../plans/entitlement-service.js';

type Db = Kysely<Database> | Transaction<Database>;

/**
 * Names a flag: by project and key (v1, IntelliToggle's project routes) or by id (Flipswitch). With
 * `projectRef` as well, an id names the flag only within that project
 * (`/projects/{projectId}/flags/{flagId}`). `organizationFlagKey` names it by key alone in the
 * actor's organisation (IntelliToggle's tenant routes `/flags/{flagKey}`): the one flag with that key
 * among the projects the actor can see — none is 404, several 409 `flag_key_ambiguous`.
 */
export type FlagRef = { projectRef: ProjectRef; flagKey: string } | { flagId: number; projectRef?: ProjectRef } | { organizationFlagKey: string };

/** A variation as given on create. `key` is derived from `name` when absent. */
export interface NewVariation {
  key?: string;
  name?: string;
  value: unknown;
  description?: string | null;
  weight?: number | null;
}

/** PATCH of a variation: absent = unchanged, null = cleared. The key never changes. */
export interface VariationPatch {
  name?: string;
  value?: unknown;
  description?: string | null;
  weight?: number | null;
}

/** What it takes to create a flag (see the README for the rules on variations and `defaultValue`). */
export interface NewFlag {
  key: string;
  name?: string;
  type: string;
  /** Picks the default variation by value; absent for boolean flags means `false`. */
  defaultValue?: unknown;
  /** Picks the default variation by key (alternative to `defaultValue`). */
  defaultVariation?: string;
  description?: string | null;
  tags?: string[];
  variations?: NewVariation[];
  status?: string;
  metadata?: Record<string, string | number | boolean> | null;
}

/** PATCH of a flag: absent = unchanged, null = cleared. `key` and `type` never change. */
export interface FlagPatch {
  name?: string;
  description?: string | null;
  /** A value one of the variations has; that variation becomes the default. */
  defaultValue?: unknown;
  defaultVariation?: string;
  tags?: string[] | null;
  status?: string;
  metadata?: Record<string, string | number | boolean> | null;
}

/** Optimistic concurrency: the version the caller last read (`If-Match`); absent = whatever is current. */
export interface WriteOptions {
  expectedVersion?: number;
}

/** Which environment's `enabled` a read reports: an environment key or id; default `production`. */
export interface ReadOptions {
  environment?: string;
}

/** A flag with its variations, its default value and whether it is enabled in the environment read. */
export interface FlagView {
  flag: FlagWithVariations;
  defaultValue: JsonValue;
  /** Enabled in `environment`; false when there is no such environment or no configuration there. */
  enabled: boolean;
  environment: Environment | null;
}

/** A flag the caller may act on, with its project and the caller's grant there. */
export interface FlagAccess {
  project: Project;
  grant: ProjectGrant;
  flag: Flag;
}

export interface FlagListQuery extends FlagFilter, ReadOptions {
  limit?: number;
  offset?: number;
}

/** Where an organisation-level create puts the flag: `projectRef`, else the organisation's default project. */
export interface CreateInOrganizationOptions extends ReadOptions {
  projectRef?: ProjectRef;
}

const maxAttempts = 5;

class StaleVersion extends Error {}

/** Canonical JSON (sorted object keys), so values compare by content. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

function isJson(value: unknown, depth = 0): value is JsonValue {
  if (depth > 64) return false;
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every((v) => isJson(v, depth + 1));
  if (typeof value === 'object') return Object.values(value as object).every((v) => isJson(v, depth + 1));
  return false;
}

/** Refuses a value that does not have the flag's type, naming `field`. */
export function checkValue(type: FlagType, value: unknown, field: string): JsonValue {
  const ok =
    type === 'boolean' ? typeof value === 'boolean' : type === 'string' ? typeof value === 'string' : type === 'number' ? typeof value === 'number' && Number.isFinite(value) : value !== undefined && isJson(value);
  if (!ok) throw new ValidationError(`${field} must be a ${type === 'json' ? 'JSON value' : type} (the flag's type)`, { [field]: `must be a ${type === 'json' ? 'JSON value' : type}` });
  return value as JsonValue;
}

function checkType(type: string): FlagType {
  if (!(flagTypes as readonly string[]).includes(type)) throw new ValidationError('type must be boolean, string, number or json', { type: 'must be boolean, string, number or json' });
  return type as FlagType;
}

function checkStatus(status: string): FlagStatus {
  if (!(flagStatuses as readonly string[]).includes(status)) throw new ValidationError('status must be active, inactive or archived', { status: 'must be active, inactive or archived' });
  return status as FlagStatus;
}

function checkTags(tags: readonly string[]): string[] {
  const out: string[] = [];
  for (const [i, raw] of tags.entries()) {
    const t = raw.trim();
    if (t.length === 0 || t.length > 100) throw new ValidationError('Each tag must be 1 to 100 characters', { [`tags.${i}`]: 'must be 1 to 100 characters' });
    if (!out.includes(t)) out.push(t);
  }
  if (out.length > 100) throw new ValidationError('At most 100 tags', { tags: 'must have at most 100 tags' });
  return out;
}

function checkMetadata(metadata: Record<string, unknown> | null): Record<string, string | number | boolean> | null {
  if (metadata === null) return null;
  for (const [k, v] of Object.entries(metadata)) {
    if (!(typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v)))) {
      throw new ValidationError('metadata values must be strings, numbers or booleans', { [`metadata.${k}`]: 'must be a string, number or boolean' });
    }
  }
  return metadata as Record<string, string | number | boolean>;
}

function checkWeight(weight: number | null | undefined, field: string): number | null {
  if (weight === undefined || weight === null) return null;
  if (!Number.isInteger(weight) || weight < 0 || weight > 100) throw new ValidationError(`${field} must be an integer from 0 to 100`, { [field]: 'must be an integer from 0 to 100' });
  return weight;
}

function variationKeyFrom(name: string | undefined, value: JsonValue, taken: ReadonlySet<string>): string {
  const base = slugify(name ?? (typeof value === 'object' ? '' : String(value)), 100) || 'variation';
  let key = base;
  for (let n = 2; taken.has(key); n++) key = `${base}-${n}`;
  return key;
}

function describeUsage(u: VariationUsage): string {
  switch (u.kind) {
    case 'default_variation':
      return "the flag's default variation";
    case 'off_variation':
      return `the off variation in ${u.environment}`;
    case 'default_serve':
      return `the default serve in ${u.environment}`;
    case 'rule':
      return `rule rule_${u.ruleId} in ${u.environment}`;
    case 'target':
      return `individual targets in ${u.environment}`;
    case 'prerequisite':
      return `a prerequisite of flag ${u.flagKey} in ${u.environment}`;
  }
}

/** The audit/history view of a variation. */
function variationSummary(v: Pick<Variation, 'key' | 'name' | 'value' | 'description' | 'weight'>): Record<string, unknown> {
  return { key: v.key, name: v.name, value: v.value, description: v.description, weight: v.weight };
}

/**
 * Flags and their variations: every rule about them, permission checks, audit events (in the same
 * transaction) and change events (after commit). Every write bumps `flags.version` with a
 * version-checked update; with `expectedVersion` a stale version is a 412, without one a lost race
 * is retried on fresh state, so no concurrent update is ever lost. Used by every surface that
 * manages flags (v1, IntelliToggle's tenant routes, Flipswitch), keyed by project + key or by id.
 */
export class FlagService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly projectAccess: ProjectAccessService,
    private readonly projects: ProjectStore,
    private readonly store: FlagStore,
    private readonly audit: AuditStore,
    private readonly changes: ChangeBus,
  ) {}

  private entitlements: EntitlementCheck = unlimitedEntitlements;

  /** Plan limits and features (billing slice); nothing is limited until this is called. */
  useEntitlements(entitlements: EntitlementCheck): void {
    this.entitlements = entitlements;
  }

  /**
   * The flag `ref` names, if the actor holds `permission` in its project; 404 otherwise (across
   * organisations too). Pass the transaction to read within it. For other slices (targeting).
   */
  async requireFlag(actor: Actor, ref: FlagRef, permission: Permission, db: Db = this.db): Promise<FlagAccess> {
    if ('organizationFlagKey' in ref) return this.requireOrganizationFlag(actor, ref.organizationFlagKey, permission, db);
    if ('flagId' in ref && ref.projectRef !== undefined) {
      // The project first, so a missing or foreign project reads as such; then the flag within it.
      const access = await this.projectAccess.require(actor, ref.projectRef, permission, db);
      const flag = await this.store.findById(db, ref.flagId);
      if (!flag || flag.projectId !== access.project.id) throw new NotFoundError('Flag');
      return { ...access, flag };
    }
    if ('flagId' in ref) {
      const flag = await this.store.findById(db, ref.flagId);
      if (!flag) throw new NotFoundError('Flag');
      let access;
      try {
        access = await this.projectAccess.require(actor, flag.projectId, permission, db);
      } catch (err) {
        if (err instanceof NotFoundError) throw new NotFoundError('Flag');
        throw err;
      }
      return { ...access, flag };
    }
    const access = await this.projectAccess.require(actor, ref.projectRef, permission, db);
    const flag = await this.store.findByKey(db, access.project.id, ref.flagKey);
    if (!flag) throw new NotFoundError('Flag');
    return { ...access, flag };
  }

  async list(actor: Actor, projectRef: ProjectRef, query: FlagListQuery = {}): Promise<{ items: FlagView[]; total: number }> {
    const { project } = await this.projectAccess.require(actor, projectRef, 'flags:read');
    const env = await this.environmentFor(this.db, project.id, query.environment);
    const filter: FlagFilter = {
      ...(query.tag !== undefined ? { tag: query.tag } : {}),
      ...(query.status !== undefined ? { status: query.status } : {}),
      ...(query.search !== undefined ? { search: query.search } : {}),
    };
    const page = await this.store.list(this.db, project.id, filter, { limit: query.limit ?? 100, offset: query.offset ?? 0 });
    const ids = page.items.map((f) => f.id);
    const [variations, enabled] = await Promise.all([this.store.listVariationsOf(this.db, ids), env ? this.store.enabledIn(this.db, ids, env.id) : Promise.resolve(new Set<number>())]);
    return { items: page.items.map((f) => this.view({ ...f, variations: variations.get(f.id) ?? [] }, env, enabled.has(f.id))), total: page.total };
  }

  /**
   * Flags of every project of the actor's organisation where the actor holds `flags:read` (403 when
   * it holds it nowhere), oldest first, filtered and paged like `list`. `enabled` is each flag's
   * state in the environment with key `environment` (default production) of its own project; an
   * environment named explicitly that none of those projects has is 404.
   */
  async listInOrganization(actor: Actor, query: FlagListQuery = {}): Promise<{ items: FlagView[]; total: number }> {
    const accessible = await this.projectAccess.requireAccessible(actor, 'flags:read');
    const envByProject = new Map<number, Environment | null>();
    for (const { project } of accessible) {
      envByProject.set(project.id, await this.projects.findEnvironmentByKey(this.db, project.id, query.environment ?? 'production'));
    }
    if (query.environment !== undefined && accessible.length > 0 && [...envByProject.values()].every((e) => e === null)) throw new NotFoundError('Environment');
    const filter: FlagFilter = {
      ...(query.tag !== undefined ? { tag: query.tag } : {}),
      ...(query.status !== undefined ? { status: query.status } : {}),
      ...(query.search !== undefined ? { search: query.search } : {}),
    };
    const page = await this.store.listInProjects(this.db, accessible.map((a) => a.project.id), filter, { limit: query.limit ?? 100, offset: query.offset ?? 0 });
    const ids = page.items.map((f) => f.id);
    const variations = await this.store.listVariationsOf(this.db, ids);
    const enabled = new Set<number>();
    for (const [projectId, env] of envByProject) {
      const inProject = page.items.filter((f) => f.projectId === projectId).map((f) => f.id);
      if (env && inProject.length > 0) for (const id of await this.store.enabledIn(this.db, inProject, env.id)) enabled.add(id);
    }
    return {
      items: page.items.map((f) => this.view({ ...f, variations: variations.get(f.id) ?? [] }, envByProject.get(f.projectId) ?? null, enabled.has(f.id))),
      total: page.total,
    };
  }

  /**
   * Creates a flag in the actor's organisation: in `options.projectRef` (a project the caller cannot
   * see is 422 naming `projectId`, never telling it exists), else in the organisation's default project.
   */
  async createInOrganization(actor: Actor, input: NewFlag, options: CreateInOrganizationOptions = {}): Promise<FlagView> {
    const { projectRef, ...read } = options;
    let target: ProjectRef;
    if (projectRef !== undefined) {
      try {
        target = (await this.projectAccess.resolve(actor, projectRef)).project.id;
      } catch (err) {
        if (err instanceof NotFoundError) throw new ValidationError('projectId names no project of this tenant', { projectId: 'is not a project of this tenant' });
        throw err;
      }
    } else {
      // Membership first, so an outsider learns nothing about the organisation's projects.
      await this.projectAccess.requireAccessible(actor, 'flags:read');
      const project = actor.organizationId === null ? null : await this.projects.findDefaultProject(this.db, actor.organizationId);
      if (!project) throw new NotFoundError('Project');
      target = project.id;
    }
    return this.create(actor, target, input, read);
  }

  async get(actor: Actor, ref: FlagRef, options: ReadOptions = {}): Promise<FlagView> {
    const { flag } = await this.requireFlag(actor, ref, 'flags:read');
    return this.load(this.db, flag, options.environment);
  }

  /** Creates a flag with its variations (409 `flag_key_taken` when the key is used in the project). */
  async create(actor: Actor, projectRef: ProjectRef, input: NewFlag, options: ReadOptions = {}): Promise<FlagView> {
    const key = checkKey('key', input.key);
    const type = checkType(input.type);
    const name = input.name === undefined ? key : checkName('name', input.name);
    const description = checkOptionalText('description', input.description ?? null);
    const tags = checkTags(input.tags ?? []);
    const status = checkStatus(input.status ?? 'active');
    if (status === 'archived') throw new ValidationError('A flag cannot be created archived', { status: 'must be active or inactive' });
    const metadata = checkMetadata(input.metadata ?? null);
    const now = nowIso();
    const flagId = newId();
    const variations = this.initialVariations(type, input, flagId, now);
    const defaultVariation = this.pickDefault(type, input, variations);
    let created: { project: Project; view: FlagView };
    try {
      created = await this.db.transaction().execute(async (trx) => {
        const { project } = await this.projectAccess.require(actor, projectRef, 'flags:write', trx);
        if (await this.store.findByKey(trx, project.id, key)) throw flagKeyTaken(key);
        await this.entitlements.requireWithinLimit(project.organizationId, 'flags', trx);
        if (variations.length > 2) await this.entitlements.requireFeature(project.organizationId, 'multivariate', trx);
        const flag: Flag = {
          id: flagId,
          projectId: project.id,
          key,
          name,
          description,
          type,
          defaultVariation,
          tags,
          status,
          metadata,
          version: 1,
          createdBy: actor.userId,
          createdAt: now,
          updatedAt: now,
          archivedAt: null,
        };
        await this.store.insertFlag(trx, flag);
        for (const v of variations) await this.store.insertVariation(trx, v);
        const defaultValue = variations.find((v) => v.key === defaultVariation)!.value;
        await this.audit.record(trx, actor, {
          organizationId: project.organizationId,
          projectId: project.id,
          action: 'flag.created',
          resourceType: 'flag',
          resourceId: flag.id,
          after: { key, name, type, defaultValue, defaultVariation, description, tags, status, variations: variations.map(variationSummary) },
        });
        return { project, view: await this.load(trx, flag, options.environment, variations) };
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw flagKeyTaken(key);
      throw err;
    }
    await this.publish(created.project, key, 'created', actor);
    return created.view;
  }

  /** PATCH: changes only what is given; `status: archived`/`active` archives/restores as well. */
  async update(actor: Actor, ref: FlagRef, patch: FlagPatch, options: WriteOptions & ReadOptions = {}): Promise<FlagView> {
    const name = patch.name === undefined ? undefined : checkName('name', patch.name);
    const description = patch.description === undefined ? undefined : checkOptionalText('description', patch.description);
    const tags = patch.tags === undefined ? undefined : checkTags(patch.tags ?? []);
    const status = patch.status === undefined ? undefined : checkStatus(patch.status);
    const metadata = patch.metadata === undefined ? undefined : checkMetadata(patch.metadata);
    return this.write(actor, ref, options, async (trx, flag, variations) => {
      const before: Record<string, unknown> = {};
      const after: Record<string, unknown> = {};
      const changes: FlagChanges = { updatedAt: nowIso() };
      const set = <K extends keyof FlagChanges & keyof Flag>(field: K, value: FlagChanges[K] | undefined, auditName: string = field) => {
        if (value === undefined || canonical(value) === canonical(flag[field])) return;
        before[auditName] = flag[field];
        after[auditName] = value;
        changes[field] = value;
      };
      set('name', name);
      set('description', description);
      set('tags', tags);
      set('metadata', metadata);
      if (status !== undefined && status !== flag.status) {
        set('status', status);
        changes.archivedAt = status === 'archived' ? changes.updatedAt : null;
      }
      let nextDefault: string | undefined;
      if (patch.defaultVariation !== undefined) {
        if (!variations.some((v) => v.key === patch.defaultVariation)) throw new ValidationError('defaultVariation must be the key of one of the flag’s variations', { defaultVariation: 'must be the key of one of the flag’s variations' });
        nextDefault = patch.defaultVariation;
      }
      if ('defaultValue' in patch && patch.defaultValue !== undefined) {
        const value = checkValue(flag.type, patch.defaultValue, 'defaultValue');
        const current = variations.find((v) => v.key === (nextDefault ?? flag.defaultVariation));
        const match = current && canonical(current.value) === canonical(value) ? current : variations.find((v) => canonical(v.value) === canonical(value));
        if (!match) throw new ValidationError('defaultValue must equal the value of one of the flag’s variations', { defaultValue: 'must equal the value of one of the flag’s variations' });
        if (nextDefault !== undefined && match.key !== nextDefault) throw new ValidationError('defaultValue and defaultVariation disagree', { defaultValue: 'is not the value of defaultVariation' });
        nextDefault = match.key;
      }
      if (nextDefault !== undefined && nextDefault !== flag.defaultVariation) {
        before.defaultVariation = flag.defaultVariation;
        before.defaultValue = variations.find((v) => v.key === flag.defaultVariation)?.value ?? null;
        after.defaultVariation = changes.defaultVariation = nextDefault;
        after.defaultValue = variations.find((v) => v.key === nextDefault)!.value;
      }
      if (Object.keys(after).length === 0) return null;
      const action = after.status === 'archived' ? 'flag.archived' : before.status === 'archived' ? 'flag.restored' : 'flag.updated';
      return { changes, action, before, after };
    });
  }

  /** Archives a flag: it disappears from evaluation, keeps its configuration. Idempotent. */
  async archive(actor: Actor, ref: FlagRef, options: WriteOptions & ReadOptions = {}): Promise<FlagView> {
    return this.write(actor, ref, options, async (_trx, flag) => {
      if (flag.status === 'archived') return null;
      const now = nowIso();
      return { changes: { status: 'archived', archivedAt: now, updatedAt: now }, action: 'flag.archived', before: { status: flag.status }, after: { status: 'archived' } };
    });
  }

  /** Restores an archived flag as `active`. Idempotent for a flag that is not archived. */
  async restore(actor: Actor, ref: FlagRef, options: WriteOptions & ReadOptions = {}): Promise<FlagView> {
    return this.write(actor, ref, options, async (_trx, flag) => {
      if (flag.status !== 'archived') return null;
      return { changes: { status: 'active', archivedAt: null, updatedAt: nowIso() }, action: 'flag.restored', before: { status: 'archived' }, after: { status: 'active' } };
    });
  }

  /**
   * Deletes a flag with its variations and configuration. Refused (409 `flag_in_use`, naming
   * them) while another flag has it as a prerequisite. Answers the flag's id.
   */
  async delete(actor: Actor, ref: FlagRef, options: WriteOptions = {}): Promise<number> {
    const { project, flag } = await this.db.transaction().execute(async (trx) => {
      const access = await this.lockedFlag(actor, ref, trx);
      const flag = access.flag;
      if (options.expectedVersion !== undefined && options.expectedVersion !== flag.version) throw stale(flag.version);
      const dependents = await this.store.findPrerequisiteDependents(trx, flag);
      if (dependents.length > 0) {
        throw new ConflictError(`Flag ${flag.key} is a prerequisite of ${dependents.map((d) => `${d.flagKey} (${d.environment})`).join(', ')}`, 'flag_in_use', { usedBy: dependents });
      }
      const variations = await this.store.listVariations(trx, flag.id);
      await this.store.deleteFlag(trx, flag.id);
      await this.audit.record(trx, actor, {
        organizationId: access.project.organizationId,
        projectId: access.project.id,
        action: 'flag.deleted',
        resourceType: 'flag',
        resourceId: flag.id,
        before: { key: flag.key, name: flag.name, type: flag.type, defaultVariation: flag.defaultVariation, status: flag.status, tags: flag.tags, variations: variations.map(variationSummary) },
      });
      return { project: access.project, flag };
    });
    await this.publish(project, flag.key, 'deleted', actor);
    return flag.id;
  }

  /** The flag's variations in order, paged in memory (a flag has at most 1000). */
  async listVariations(actor: Actor, ref: FlagRef, page: { limit?: number; offset?: number } = {}): Promise<{ items: Variation[]; total: number }> {
    const { flag } = await this.requireFlag(actor, ref, 'flags:read');
    const all = await this.store.listVariations(this.db, flag.id);
    const offset = page.offset ?? 0;
    return { items: all.slice(offset, offset + (page.limit ?? 100)), total: all.length };
  }

  /** Adds a variation (value of the flag's type; key derived from the name when absent). */
  async addVariation(actor: Actor, ref: FlagRef, input: NewVariation, options: WriteOptions = {}): Promise<{ variation: Variation; flag: FlagView }> {
    let added: Variation | null = null;
    const view = await this.write(actor, ref, options, async (trx, flag, variations) => {
      const value = checkValue(flag.type, input.value, 'value');
      const taken = new Set(variations.map((v) => v.key));
      const key = input.key === undefined ? variationKeyFrom(input.name, value, taken) : checkKey('key', input.key);
      if (taken.has(key)) throw new ConflictError(`The flag already has a variation with key "${key}"`, 'variation_key_taken', { key });
      if (variations.length >= 1000) throw new ValidationError('A flag has at most 1000 variations', { variations: 'at most 1000' });
      if (variations.length >= 2) {
        // A third variation makes the flag multivariate, which not every plan includes.
        const project = await this.projects.findById(trx, flag.projectId);
        if (project) await this.entitlements.requireFeature(project.organizationId, 'multivariate', trx);
      }
      const now = nowIso();
      const v: Variation = {
        id: newId(),
        flagId: flag.id,
        key,
        name: input.name === undefined ? key : checkName('name', input.name),
        value,
        description: checkOptionalText('description', input.description ?? null),
        weight: checkWeight(input.weight, 'weight'),
        position: variations.reduce((max, x) => Math.max(max, x.position + 1), 0),
        createdAt: now,
        updatedAt: now,
      };
      await this.store.insertVariation(trx, v);
      added = v;
      return { changes: { updatedAt: now }, action: 'variation.created', before: null, after: { variation: key, ...variationSummary(v) } };
    });
    return { variation: added!, flag: view };
  }

  /** Changes a variation's name, value (of the flag's type), description or weight. */
  async updateVariation(actor: Actor, ref: FlagRef, variationRef: string | number, patch: VariationPatch, options: WriteOptions = {}): Promise<{ variation: Variation; flag: FlagView }> {
    let updated: Variation | null = null;
    const view = await this.write(actor, ref, options, async (trx, flag, variations) => {
      const v = findVariation(variations, variationRef);
      const now = nowIso();
      const changes: VariationChanges = { updatedAt: now };
      const before: Record<string, unknown> = {};
      const after: Record<string, unknown> = {};
      const set = <K extends 'name' | 'value' | 'description' | 'weight'>(field: K, value: Variation[K] | undefined) => {
        if (value === undefined || canonical(value) === canonical(v[field])) return;
        before[field] = v[field];
        after[field] = value;
        (changes as unknown as Record<string, unknown>)[field] = value;
      };
      set('name', patch.name === undefined ? undefined : checkName('name', patch.name));
      set('value', patch.value === undefined ? undefined : checkValue(flag.type, patch.value, 'value'));
      set('description', patch.description === undefined ? undefined : checkOptionalText('description', patch.description));
      set('weight', patch.weight === undefined ? undefined : checkWeight(patch.weight, 'weight'));
      if (after.value !== undefined && variations.some((x) => x.id !== v.id && canonical(x.value) === canonical(after.value))) {
        // Two variations with one value would make `defaultValue` ambiguous.
        throw new ConflictError('Another variation of this flag already has that value', 'variation_value_taken', { value: after.value as JsonValue });
      }
      updated = { ...v, ...(changes as Partial<Variation>), updatedAt: now };
      if (Object.keys(after).length === 0) return null;
      await this.store.updateVariation(trx, v.id, changes);
      return { changes: { updatedAt: now }, action: 'variation.updated', before: { variation: v.key, ...before }, after: { variation: v.key, ...after } };
    });
    return { variation: updated!, flag: view };
  }

  /**
   * Deletes a variation. Refused (409 `variation_in_use`, each use named) while the flag's default,
   * an off variation, a default serve, a rule, an individual target or another flag's prerequisite
   * uses it; the last variation cannot go either.
   */
  async deleteVariation(actor: Actor, ref: FlagRef, variationRef: string | number, options: WriteOptions = {}): Promise<{ variationId: number; flag: FlagView }> {
    let variationId = 0;
    const view = await this.write(actor, ref, options, async (trx, flag, variations) => {
      const v = findVariation(variations, variationRef);
      variationId = v.id;
      const usages = await this.store.findVariationUsages(trx, flag, v.key);
      if (usages.length > 0) {
        throw new ConflictError(`Variation ${v.key} is in use: ${usages.map(describeUsage).join('; ')}`, 'variation_in_use', { variation: v.key, usedBy: usages });
      }
      if (variations.length <= 1) throw new ConflictError('A flag needs at least one variation', 'last_variation', { variation: v.key });
      await this.store.deleteVariation(trx, v.id);
      return { changes: { updatedAt: nowIso() }, action: 'variation.deleted', before: { variation: v.key, ...variationSummary(v) }, after: null };
    });
    return { variationId, flag: view };
  }

  /**
   * One flag write: read (within the transaction), decide, bump the version only if nobody wrote
   * since the read, audit, commit, publish. `decide` returns null when nothing changes.
   */
  private async write(
    actor: Actor,
    ref: FlagRef,
    options: WriteOptions & ReadOptions,
    decide: (
      trx: Transaction<Database>,
      flag: Flag,
      variations: Variation[],
    ) => Promise<{ changes: FlagChanges; action: string; before: Record<string, unknown> | null; after: Record<string, unknown> | null } | null>,
  ): Promise<FlagView> {
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await this.db.transaction().execute(async (trx) => {
          const { project, flag } = await this.lockedFlag(actor, ref, trx);
          if (options.expectedVersion !== undefined && options.expectedVersion !== flag.version) throw stale(flag.version);
          const variations = await this.store.listVariations(trx, flag.id);
          const decision = await decide(trx, flag, variations);
          if (decision === null) return { project, changed: false, view: await this.load(trx, flag, options.environment, variations) };
          // Under the lock this always holds; the version check is the safety net.
          if (!(await this.store.updateFlag(trx, flag.id, flag.version, decision.changes))) throw new StaleVersion();
          const fresh = (await this.store.findById(trx, flag.id))!;
          await this.audit.record(trx, actor, {
            organizationId: project.organizationId,
            projectId: project.id,
            action: decision.action,
            resourceType: 'flag',
            resourceId: flag.id,
            before: decision.before,
            after: decision.after,
          });
          return { project, changed: true, view: await this.load(trx, fresh, options.environment) };
        });
        if (result.changed) await this.publish(result.project, result.view.flag.key, 'updated', actor);
        return result.view;
      } catch (err) {
        if (err instanceof StaleVersion) {
          if (options.expectedVersion !== undefined) throw stale(null);
          if (attempt < maxAttempts) continue;
          throw new ConflictError('The flag is being changed by others; try again', 'concurrent_update');
        }
        throw err;
      }
    }
  }

  /**
   * The flag, locked for the rest of the transaction and read again after the lock, so a
   * read-modify-write never works from a state someone else is about to change.
   */
  private async lockedFlag(actor: Actor, ref: FlagRef, trx: Transaction<Database>): Promise<FlagAccess> {
    const access = await this.requireFlag(actor, ref, 'flags:write', trx);
    if (!(await this.store.lock(trx, access.flag.id))) throw new NotFoundError('Flag');
    const fresh = await this.store.findById(trx, access.flag.id);
    if (!fresh) throw new NotFoundError('Flag');
    return { ...access, flag: fresh };
  }

  /**
   * The one flag with `flagKey` among the projects of the actor's organisation the actor can see
   * (`flags:read`; for `flags:evaluate`, where it may evaluate), then `permission` there: a viewer
   * writing gets 403 rather than 404. Keys are unique per project only, so several matches are
   * 409 `flag_key_ambiguous` naming the projects (use the project routes for those).
   */
  private async requireOrganizationFlag(actor: Actor, flagKey: string, permission: Permission, db: Db): Promise<FlagAccess> {
    const visible = await this.projectAccess.requireAccessible(actor, permission === 'flags:evaluate' ? 'flags:evaluate' : 'flags:read', db);
    const found = await this.store.findByKeyInProjects(db, visible.map((a) => a.project.id), flagKey);
    if (found.length === 0) throw new NotFoundError('Flag');
    if (found.length > 1) {
      const projects = found.map((f) => visible.find((a) => a.project.id === f.projectId)!.project);
      throw flagKeyAmbiguous(flagKey, projects);
    }
    const flag = found[0]!;
    const access = visible.find((a) => a.project.id === flag.projectId)!;
    if (!access.grant.permissions.has(permission)) {
      throw new ForbiddenError(`You need the ${permission} permission in this project to do this`, 'forbidden', { permission });
    }
    return { project: access.project, grant: access.grant, flag };
  }

  private initialVariations(type: FlagType, input: NewFlag, flagId: number, now: string): Variation[] {
    const make = (i: number, key: string, name: string, value: JsonValue, description: string | null, weight: number | null): Variation => ({
      id: newId(),
      flagId,
      key,
      name,
      value,
      description,
      weight,
      position: i,
      createdAt: now,
      updatedAt: now,
    });
    const given = input.variations ?? [];
    if (given.length > 1000) throw new ValidationError('At most 1000 variations', { variations: 'must have at most 1000 items' });
    if (given.length === 0) {
      if (type === 'boolean') return [make(0, 'on', 'On', true, null, null), make(1, 'off', 'Off', false, null, null)];
      if (input.defaultValue === undefined) throw new ValidationError('defaultValue is required when no variations are given', { defaultValue: 'is required when no variations are given' });
      return [make(0, 'default', 'Default', checkValue(type, input.defaultValue, 'defaultValue'), null, null)];
    }
    const taken = new Set<string>();
    const seenValues = new Set<string>();
    return given.map((g, i) => {
      const value = checkValue(type, g.value, `variations.${i}.value`);
      if (seenValues.has(canonical(value))) throw new ValidationError('Two variations have the same value', { [`variations.${i}.value`]: 'duplicates another variation’s value' });
      seenValues.add(canonical(value));
      const key = g.key === undefined ? variationKeyFrom(g.name, value, taken) : checkKey(`variations.${i}.key`, g.key);
      if (taken.has(key)) throw new ValidationError('Two variations have the same key', { [`variations.${i}.key`]: 'duplicates another variation’s key' });
      taken.add(key);
      const name = g.name === undefined ? key : checkName(`variations.${i}.name`, g.name);
      return make(i, key, name, value, checkOptionalText(`variations.${i}.description`, g.description ?? null), checkWeight(g.weight, `variations.${i}.weight`));
    });
  }

  private pickDefault(type: FlagType, input: NewFlag, variations: Variation[]): string {
    if (input.defaultVariation !== undefined && !variations.some((v) => v.key === input.defaultVariation)) {
      throw new ValidationError('defaultVariation must be the key of one of the variations', { defaultVariation: 'must be the key of one of the variations' });
    }
    if (input.defaultValue !== undefined) {
      const value = checkValue(type, input.defaultValue, 'defaultValue');
      const match = variations.find((v) => canonical(v.value) === canonical(value));
      if (!match) throw new ValidationError('defaultValue must equal the value of one of the variations', { defaultValue: 'must equal the value of one of the variations' });
      if (input.defaultVariation !== undefined && input.defaultVariation !== match.key) throw new ValidationError('defaultValue and defaultVariation disagree', { defaultValue: 'is not the value of defaultVariation' });
      return match.key;
    }
    if (input.defaultVariation !== undefined) return input.defaultVariation;
    // A boolean flag is off by default; anything else defaults to its first variation.
    if (type === 'boolean') return (variations.find((v) => v.value === false) ?? variations[0]!).key;
    return variations[0]!.key;
  }

  private async environmentFor(db: Db, projectId: number, environment: string | undefined): Promise<Environment | null> {
    if (environment === undefined) return this.projects.findEnvironmentByKey(db, projectId, 'production');
    const byKey = await this.projects.findEnvironmentByKey(db, projectId, environment);
    if (byKey) return byKey;
    const id = /^(env_)?[1-9]\d{0,15}$/.test(environment) ? Number(environment.replace(/^env_/, '')) : null;
    const byId = id !== null ? await this.projects.findEnvironmentById(db, projectId, id) : null;
    if (!byId) throw new NotFoundError('Environment');
    return byId;
  }

  private async load(db: Db, flag: Flag, environment: string | undefined, variations?: Variation[]): Promise<FlagView> {
    const env = await this.environmentFor(db, flag.projectId, environment);
    const [vs, enabled] = await Promise.all([variations ?? this.store.listVariations(db, flag.id), env ? this.store.enabledIn(db, [flag.id], env.id) : Promise.resolve(new Set<number>())]);
    return this.view({ ...flag, variations: vs }, env, enabled.has(flag.id));
  }

  private view(flag: FlagWithVariations, env: Environment | null, enabled: boolean): FlagView {
    const def = flag.variations.find((v) => v.key === flag.defaultVariation);
    return { flag, defaultValue: def ? def.value : null, enabled, environment: env };
  }

  private async publish(project: Project, key: string, action: 'created' | 'updated' | 'deleted', actor: Actor): Promise<void> {
    await this.changes.publish({ organizationId: project.organizationId, projectId: project.id, environmentIds: 'all', entity: 'flag', action, key, actorUserId: actor.userId });
  }
}

function findVariation(variations: Variation[], ref: string | number): Variation {
  const id = typeof ref === 'number' ? ref : /^(var_)?[1-9]\d{0,15}$/.test(ref) ? Number(ref.replace(/^var_/, '')) : null;
  const v = variations.find((x) => x.id === id) ?? (typeof ref === 'string' ? variations.find((x) => x.key === ref) : undefined);
  if (!v) throw new NotFoundError('Variation');
  return v;
}

function stale(current: number | null): PreconditionFailedError {
  return new PreconditionFailedError('The flag has changed since you read it; read it again and retry', 'precondition_failed', current === null ? null : { currentVersion: current });
}

/** 409 for a tenant-level flag key that several projects have; `details.projects` names them by key. */
export function flagKeyAmbiguous(flagKey: string, projects: readonly Pick<Project, 'key' | 'name'>[]): ConflictError {
  return new ConflictError(
    `Flag key "${flagKey}" exists in several projects (${projects.map((p) => p.key).join(', ')}); name the project: /api/v1/flags/projects/{projectId}/flags/${flagKey}`,
    'flag_key_ambiguous',
    { flagKey, projects: projects.map((p) => ({ key: p.key, name: p.name })) },
  );
}

function flagKeyTaken(key: string): ConflictError {
  return new ConflictError(`A flag with key "${key}" already exists in this project`, 'flag_key_taken', { key });
}
