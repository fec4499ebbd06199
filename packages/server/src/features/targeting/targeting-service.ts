import type { ConditionConfig, PrerequisiteConfig, RolloutConfig, ServeConfig, TargetConfig } from '@switchyard/engine';
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';
import { isUniqueViolation } from '../../db/unique-violation.js';
import type { Actor } from '../../domain/actor.js';
import { NotFoundError, PreconditionFailedError, ValidationError } from '../../domain/errors.js';
import { newId, nowIso } from '../../domain/ids.js';
import type { ChangeBus, ConfigChange } from '../../evaluation/change-bus.js';
import type { Permission } from '../access/permissions.js';
import type { AuditStore } from '../audit/audit-store.js';
import { pageOf, type Page, type PageRequest } from '../organizations/member-service.js';
import type { ProjectAccessService, ProjectRef } from '../projects/project-access.js';
import type { Environment, Project } from '../projects/project-store.js';
import { checkConfig, configFor, engineRuleId, normalizeServe, toEngineEnvironment, type PathMapping, type ServeInput } from './engine-config.js';
import type { SegmentStore } from './segment-store.js';
import type { FlagEnvironmentState, Rule, RuleView, TargetingFlag, TargetingStore } from './targeting-store.js';

/** An environment as callers name it: its id (`env_1`, `1`, or the number) or its key. */
export type EnvironmentRef = string | number;

/** The most conditions one rule may have (issue 4's limits). */
export const MAX_CONDITIONS_PER_RULE = 500;

/** A flag's whole configuration in one environment, rules in priority order. */
export interface EnvironmentConfig {
  flagId: number;
  flagKey: string;
  /** The flag's own default variation: what serves when neither `defaultServe` nor `offVariation` says otherwise. */
  flagDefaultVariation: string;
  projectId: number;
  environment: Pick<Environment, 'id' | 'key' | 'name'>;
  enabled: boolean;
  offVariation: string | null;
  defaultServe: ServeConfig | null;
  targets: TargetConfig[];
  prerequisites: PrerequisiteConfig[];
  rules: RuleView[];
  /** 0 until the configuration is first written; the ETag / If-Match value. */
  version: number;
  updatedAt: string | null;
}

/** Changes to a flag's configuration in one environment: absent = unchanged, null = cleared. */
export interface EnvironmentConfigChanges {
  enabled?: boolean;
  /** Null: serve the flag's default variation when off. */
  offVariation?: string | null;
  /** Null: serve the flag's default variation when no rule matches. */
  defaultServe?: ServeInput | null;
  /** Null: no individual targets. */
  targets?: TargetConfig[] | null;
  /** Null: no prerequisites. */
  prerequisites?: PrerequisiteConfig[] | null;
}

/** A rule's content. */
export interface RuleInput {
  conditions?: ConditionConfig[];
  /** Segment keys the subject must belong to (all of them). */
  segments?: string[];
  /** A variation key, a `ServeConfig`, or a bare rollout. */
  serve: ServeInput;
  description?: string | null;
}

/** A new rule of a flag in an environment. */
export interface NewRule extends RuleInput {
  flagKey: string;
  environment: EnvironmentRef;
  /** 1-based position; absent or beyond the end appends. */
  priority?: number;
}

/** Changes to a rule: absent = unchanged, null = cleared (description only). */
export interface RuleChanges {
  conditions?: ConditionConfig[];
  segments?: string[];
  serve?: ServeInput;
  description?: string | null;
  /** 1-based position to move the rule to; beyond the end moves it last. */
  priority?: number;
}

/** A whole rule set, replaced at once (Flipswitch's PUT of a flag's environment rules). */
export interface RuleSetInput {
  enabled: boolean;
  /** Served when no rule matches (unless `rollout` is given); null/absent: the flag's default variation. */
  defaultVariation?: string | null;
  /** In priority order. A rule whose `id` is one of the current rules keeps that id. */
  rules: Array<RuleInput & { id?: number }>;
  /** A percentage rollout served when no rule matches; wins over `defaultVariation`. */
  rollout?: RolloutConfig | null;
}

/** Optimistic concurrency: the version the caller read (`If-Match`). */
export interface WriteOptions {
  ifMatch?: number;
}

/** For by-id calls: the project the flag must belong to (a flag of another project is not found). */
export interface ByIdScope {
  projectRef?: ProjectRef;
}

/** A rule and the version of its flag's configuration in its environment (its ETag). */
export interface RuleWithVersion {
  rule: RuleView;
  version: number;
}

type Db = Kysely<Database> | Transaction<Database>;

interface Located {
  project: Project;
  flag: TargetingFlag;
  environment: Environment;
}

interface Plan {
  state: FlagEnvironmentState;
  /** The complete rule list afterwards, in order; priorities are assigned from the order. */
  rules: Rule[];
  mappings: PathMapping[];
  /** Null when nothing changes: nothing is written, audited or published. */
  audit: { action: string; before: Record<string, unknown> | null; after: Record<string, unknown> } | null;
}

interface PlanContext extends Located {
  current: FlagEnvironmentState;
  rules: Rule[];
  now: string;
}

/** Thrown inside a write's transaction when a concurrent write won; the write is retried. */
class RetryWrite extends Error {}

const MAX_ATTEMPTS = 5;

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function emptyState(flagId: number, environmentId: number): FlagEnvironmentState {
  return {
    id: null,
    flagId,
    environmentId,
    enabled: false,
    offVariation: null,
    defaultServe: null,
    targets: [],
    prerequisites: [],
    targeting: null,
    version: 0,
    updatedAt: null,
  };
}

function envPath(flagKey: string, environmentKey: string): string {
  return `flags.${flagKey}.environments.${environmentKey}`;
}

function checkConditions(conditions: readonly unknown[] | undefined, field: string): void {
  if (conditions !== undefined && conditions.length > MAX_CONDITIONS_PER_RULE) {
    throw new ValidationError(`A rule may have at most ${MAX_CONDITIONS_PER_RULE} conditions`, {
      [field]: `must have at most ${MAX_CONDITIONS_PER_RULE} conditions (got ${conditions.length})`,
    });
  }
}

function checkPriority(priority: number | undefined, field = 'priority'): void {
  if (priority !== undefined && (!Number.isInteger(priority) || priority < 1)) {
    throw new ValidationError('priority must be a positive integer', { [field]: 'must be an integer of 1 or more' });
  }
}

function checkDescription(description: string | null | undefined, field = 'description'): string | null | undefined {
  if (typeof description === 'string' && description.length > 2000) {
    throw new ValidationError('description must be at most 2000 characters', { [field]: 'must be at most 2000 characters' });
  }
  return description;
}

/** Priorities from list order (1-based); a rule that moved or whose content changed (`touched`) gets `now` as updatedAt. */
function withPriorities(rules: Rule[], now: string, touched: ReadonlySet<number>): Rule[] {
  return rules.map((r, i) => (r.priority === i + 1 && !touched.has(r.id) ? r : { ...r, priority: i + 1, updatedAt: now }));
}

function ruleFields(r: Rule): Record<string, unknown> {
  return { priority: r.priority, description: r.description, conditions: r.conditions, segments: r.segments, serve: r.serve };
}

function segmentKeysOf(rules: readonly Rule[]): string[] {
  const keys = new Set<string>();
  for (const r of rules) {
    for (const s of r.segments) keys.add(s);
    for (const c of r.conditions) {
      if (c.operator !== 'IN_SEGMENT' && c.operator !== 'NOT_IN_SEGMENT') continue;
      if (typeof c.value === 'string') keys.add(c.value);
      else if (Array.isArray(c.value)) for (const v of c.value) if (typeof v === 'string') keys.add(v);
    }
  }
  return [...keys];
}

/**
 * Per-environment flag configuration and ordered rules. Every write is checked by the engine's own
 * validation (the one evaluator) with the change applied, commits with an audit event and a
 * bumped version, and then publishes a `ConfigChange` for the environment.
 */
export class TargetingService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly projectAccess: ProjectAccessService,
    private readonly store: TargetingStore,
    private readonly segments: SegmentStore,
    private readonly audit: AuditStore,
    private readonly changes: ChangeBus,
  ) {}

  /** A flag's configuration in one environment (defaults when never written: disabled, nothing configured). */
  async getEnvironmentConfig(actor: Actor, projectRef: ProjectRef, flagKey: string, environment: EnvironmentRef): Promise<EnvironmentConfig> {
    const located = await this.locateByKey(this.db, actor, projectRef, flagKey, environment, 'flags:read', false);
    return this.read(this.db, located);
  }

  /** The same, naming the flag and environment by id (Flipswitch); `scope.projectRef` pins the project. */
  async getEnvironmentConfigById(actor: Actor, flagId: number, environmentId: number, scope: ByIdScope = {}): Promise<EnvironmentConfig> {
    const located = await this.locateById(this.db, actor, flagId, environmentId, 'flags:read', false, scope.projectRef);
    return this.read(this.db, located);
  }

  /** Changes enabled/offVariation/defaultServe/targets/prerequisites (absent = unchanged, null = cleared). */
  async updateEnvironmentConfig(
    actor: Actor,
    projectRef: ProjectRef,
    flagKey: string,
    environment: EnvironmentRef,
    changes: EnvironmentConfigChanges,
    options: WriteOptions = {},
  ): Promise<EnvironmentConfig> {
    return this.write(options, (db) => this.locateByKey(db, actor, projectRef, flagKey, environment, 'flags:write', true), actor, (ctx) => {
      const path = envPath(ctx.flag.key, ctx.environment.key);
      const mappings: PathMapping[] = [{ engine: path, request: '' }];
      const next: FlagEnvironmentState = { ...ctx.current };
      if (changes.enabled !== undefined) next.enabled = changes.enabled;
      if (changes.offVariation !== undefined) next.offVariation = changes.offVariation;
      if (changes.defaultServe !== undefined) {
        if (changes.defaultServe === null) next.defaultServe = null;
        else {
          const n = normalizeServe(changes.defaultServe, `${path}.defaultServe`, 'defaultServe');
          next.defaultServe = n.serve;
          mappings.push(...n.mappings);
        }
      }
      if (changes.targets !== undefined) next.targets = changes.targets ?? [];
      if (changes.prerequisites !== undefined) next.prerequisites = changes.prerequisites ?? [];
      const before: Record<string, unknown> = {};
      const after: Record<string, unknown> = {};
      for (const field of ['enabled', 'offVariation', 'defaultServe', 'targets', 'prerequisites'] as const) {
        if (!same(ctx.current[field], next[field])) {
          before[field] = ctx.current[field];
          after[field] = next[field];
        }
      }
      const changed = Object.keys(after);
      if (changed.length === 0) return { state: ctx.current, rules: ctx.rules, mappings, audit: null };
      const action = changed.length === 1 && changed[0] === 'enabled' ? (next.enabled ? 'flag.enabled' : 'flag.disabled') : 'flag.environment_updated';
      return { state: next, rules: ctx.rules, mappings, audit: { action, before, after: { environment: ctx.environment.key, ...after } } };
    });
  }

  /** Turns the flag on or off in one environment; a no-op (nothing written) when it already is. */
  async setEnabled(
    actor: Actor,
    projectRef: ProjectRef,
    flagKey: string,
    environment: EnvironmentRef,
    enabled: boolean,
    options: WriteOptions = {},
  ): Promise<EnvironmentConfig> {
    return this.updateEnvironmentConfig(actor, projectRef, flagKey, environment, { enabled }, options);
  }

  /**
   * Replaces `enabled`, the default serve (`rollout` or `defaultVariation`) and the ordered rules of
   * a flag in one environment in one transaction. On any validation failure nothing changes.
   * `options.projectRef` pins the project the flag must belong to.
   */
  async replaceRuleSet(actor: Actor, flagId: number, environmentId: number, input: RuleSetInput, options: WriteOptions & ByIdScope = {}): Promise<EnvironmentConfig> {
    input.rules.forEach((r, i) => {
      checkConditions(r.conditions, `rules[${i}].conditions`);
      checkDescription(r.description, `rules[${i}].description`);
    });
    return this.write(options, (db) => this.locateById(db, actor, flagId, environmentId, 'flags:write', true, options.projectRef), actor, (ctx) => {
      const path = envPath(ctx.flag.key, ctx.environment.key);
      const mappings: PathMapping[] = [{ engine: path, request: '' }];
      const next: FlagEnvironmentState = { ...ctx.current, enabled: input.enabled };
      if (input.rollout) {
        next.defaultServe = { rollout: input.rollout };
        mappings.push({ engine: `${path}.defaultServe.rollout`, request: 'rollout' }, { engine: `${path}.defaultServe`, request: 'rollout' });
      } else if (input.defaultVariation !== undefined && input.defaultVariation !== null) {
        next.defaultServe = { variation: input.defaultVariation };
        mappings.push({ engine: `${path}.defaultServe.variation`, request: 'defaultVariation' }, { engine: `${path}.defaultServe`, request: 'defaultVariation' });
      } else next.defaultServe = null;
      const currentById = new Map(ctx.rules.map((r) => [r.id, r]));
      const used = new Set<number>();
      const touched = new Set<number>();
      const rules = input.rules.map((r, i): Rule => {
        const n = normalizeServe(r.serve, `${path}.rules[${i}].serve`, `rules[${i}].serve`);
        mappings.push(...n.mappings);
        const existing = r.id !== undefined && !used.has(r.id) ? currentById.get(r.id) : undefined;
        const content = { description: r.description ?? null, conditions: r.conditions ?? [], segments: r.segments ?? [], serve: n.serve };
        if (existing) {
          used.add(existing.id);
          const changed = !same(ruleFields({ ...existing, priority: 0 }), ruleFields({ ...existing, ...content, priority: 0 }));
          if (changed) touched.add(existing.id);
          return { ...existing, ...content };
        }
        const id = newId();
        touched.add(id);
        return { id, flagId: ctx.flag.id, environmentId: ctx.environment.id, priority: i + 1, ...content, createdAt: ctx.now, updatedAt: ctx.now };
      });
      const ordered = withPriorities(rules, ctx.now, touched);
      const before: Record<string, unknown> = {};
      const after: Record<string, unknown> = {};
      if (ctx.current.enabled !== next.enabled) {
        before.enabled = ctx.current.enabled;
        after.enabled = next.enabled;
      }
      if (!same(ctx.current.defaultServe, next.defaultServe)) {
        before.defaultServe = ctx.current.defaultServe;
        after.defaultServe = next.defaultServe;
      }
      const view = (list: Rule[]) => list.map((r) => ({ ruleId: engineRuleId(r.id), ...ruleFields(r) }));
      if (!same(view(ctx.rules), view(ordered))) {
        before.rules = view(ctx.rules);
        after.rules = view(ordered);
      }
      if (Object.keys(after).length === 0) return { state: ctx.current, rules: ctx.rules, mappings, audit: null };
      return { state: next, rules: ordered, mappings, audit: { action: 'flag.rules_replaced', before, after: { environment: ctx.environment.key, ...after } } };
    });
  }

  /** Rules of the project, optionally of one flag and/or environment, by flag key, environment and priority. */
  async listRules(
    actor: Actor,
    projectRef: ProjectRef,
    filter: { flag?: string; environment?: EnvironmentRef },
    page?: PageRequest,
  ): Promise<Page<RuleView>> {
    const bounds = pageOf(page);
    const { project } = await this.projectAccess.require(actor, projectRef, 'flags:read');
    const where: { flagId?: number; environmentId?: number } = {};
    if (filter.flag !== undefined) {
      const flag = await this.store.findFlagByKey(this.db, project.id, filter.flag);
      if (!flag) return { items: [], total: 0 };
      where.flagId = flag.id;
    }
    if (filter.environment !== undefined) {
      const env = await this.store.findEnvironment(this.db, project.id, filter.environment);
      if (!env) return { items: [], total: 0 };
      where.environmentId = env.id;
    }
    return this.store.listProjectRules(this.db, project.id, where, bounds);
  }

  /** One rule, with the version of its flag's configuration in its environment. */
  async getRule(actor: Actor, projectRef: ProjectRef, ruleId: number): Promise<RuleWithVersion> {
    const { project } = await this.projectAccess.require(actor, projectRef, 'flags:read');
    const rule = await this.store.findRule(this.db, project.id, ruleId);
    if (!rule) throw new NotFoundError('Rule');
    const state = await this.store.findFlagEnvironment(this.db, rule.flagId, rule.environmentId);
    return { rule, version: state?.version ?? 0 };
  }

  /** Adds a rule at `priority` (1-based; default last). */
  async createRule(actor: Actor, projectRef: ProjectRef, input: NewRule, options: WriteOptions = {}): Promise<RuleWithVersion> {
    checkConditions(input.conditions, 'conditions');
    checkPriority(input.priority);
    checkDescription(input.description);
    let createdId = 0;
    const config = await this.write(options, (db) => this.locateByKey(db, actor, projectRef, input.flagKey, input.environment, 'flags:write', true, { flag: 'flag', environment: 'environment' }), actor, (ctx) => {
      const index = Math.min(input.priority === undefined ? ctx.rules.length : input.priority - 1, ctx.rules.length);
      const path = `${envPath(ctx.flag.key, ctx.environment.key)}.rules[${index}]`;
      const n = normalizeServe(input.serve, `${path}.serve`, 'serve');
      createdId = newId();
      const rule: Rule = {
        id: createdId,
        flagId: ctx.flag.id,
        environmentId: ctx.environment.id,
        priority: index + 1,
        description: input.description ?? null,
        conditions: input.conditions ?? [],
        segments: input.segments ?? [],
        serve: n.serve,
        createdAt: ctx.now,
        updatedAt: ctx.now,
      };
      const list = [...ctx.rules];
      list.splice(index, 0, rule);
      const rules = withPriorities(list, ctx.now, new Set());
      return {
        state: ctx.current,
        rules,
        mappings: [{ engine: path, request: '' }, ...n.mappings],
        audit: { action: 'rule.created', before: null, after: { environment: ctx.environment.key, ruleId: engineRuleId(rule.id), ...ruleFields(rule) } },
      };
    });
    return { rule: config.rules.find((r) => r.id === createdId)!, version: config.version };
  }

  /** Changes a rule (absent = unchanged; `description: null` clears it); `priority` moves it. */
  async updateRule(actor: Actor, projectRef: ProjectRef, ruleId: number, changes: RuleChanges, options: WriteOptions = {}): Promise<RuleWithVersion> {
    checkConditions(changes.conditions, 'conditions');
    checkPriority(changes.priority);
    checkDescription(changes.description);
    const config = await this.write(options, (db) => this.locateByRule(db, actor, projectRef, ruleId), actor, (ctx) => {
      const index = ctx.rules.findIndex((r) => r.id === ruleId);
      if (index < 0) throw new NotFoundError('Rule');
      const old = ctx.rules[index]!;
      const updated: Rule = { ...old };
      const mappings: PathMapping[] = [];
      if (changes.conditions !== undefined) updated.conditions = changes.conditions;
      if (changes.segments !== undefined) updated.segments = changes.segments;
      if (changes.description !== undefined) updated.description = changes.description;
      const list = ctx.rules.filter((r) => r.id !== ruleId);
      const target = changes.priority === undefined ? index : Math.min(changes.priority - 1, list.length);
      const path = `${envPath(ctx.flag.key, ctx.environment.key)}.rules[${target}]`;
      mappings.push({ engine: path, request: '' });
      if (changes.serve !== undefined) {
        const n = normalizeServe(changes.serve, `${path}.serve`, 'serve');
        updated.serve = n.serve;
        mappings.push(...n.mappings);
      }
      list.splice(target, 0, updated);
      const content = !same(ruleFields({ ...old, priority: 0 }), ruleFields({ ...updated, priority: 0 }));
      const rules = withPriorities(list, ctx.now, content ? new Set([ruleId]) : new Set());
      const moved = rules[target]!;
      const before: Record<string, unknown> = {};
      const after: Record<string, unknown> = {};
      const oldFields = ruleFields(old);
      const newFields = ruleFields(moved);
      for (const k of Object.keys(newFields)) {
        if (!same(oldFields[k], newFields[k])) {
          before[k] = oldFields[k];
          after[k] = newFields[k];
        }
      }
      if (Object.keys(after).length === 0) return { state: ctx.current, rules: ctx.rules, mappings, audit: null };
      return {
        state: ctx.current,
        rules,
        mappings,
        audit: { action: 'rule.updated', before: { ruleId: engineRuleId(ruleId), ...before }, after: { environment: ctx.environment.key, ruleId: engineRuleId(ruleId), ...after } },
      };
    });
    const rule = config.rules.find((r) => r.id === ruleId);
    if (!rule) throw new NotFoundError('Rule');
    return { rule, version: config.version };
  }

  /** Deletes a rule; the rules after it move up. */
  async deleteRule(actor: Actor, projectRef: ProjectRef, ruleId: number, options: WriteOptions = {}): Promise<void> {
    await this.write(options, (db) => this.locateByRule(db, actor, projectRef, ruleId), actor, (ctx) => {
      const old = ctx.rules.find((r) => r.id === ruleId);
      if (!old) throw new NotFoundError('Rule');
      const rules = withPriorities(ctx.rules.filter((r) => r.id !== ruleId), ctx.now, new Set());
      return {
        state: ctx.current,
        rules,
        mappings: [],
        audit: { action: 'rule.deleted', before: { ruleId: engineRuleId(ruleId), ...ruleFields(old) }, after: { environment: ctx.environment.key, ruleId: engineRuleId(ruleId) } },
      };
    });
  }

  /**
   * Puts a flag's rules in one environment in the given order. `ruleIds` must name every one of
   * them exactly once (422 otherwise).
   */
  async reorderRules(
    actor: Actor,
    projectRef: ProjectRef,
    input: { flagKey: string; environment: EnvironmentRef; ruleIds: number[] },
    options: WriteOptions = {},
  ): Promise<EnvironmentConfig> {
    return this.write(options, (db) => this.locateByKey(db, actor, projectRef, input.flagKey, input.environment, 'flags:write', true, { flag: 'flag', environment: 'environment' }), actor, (ctx) => {
      const byId = new Map(ctx.rules.map((r) => [r.id, r]));
      const seen = new Set<number>();
      const duplicates = input.ruleIds.filter((id) => (seen.has(id) ? true : (seen.add(id), false)));
      const unknown = input.ruleIds.filter((id) => !byId.has(id));
      const missing = ctx.rules.filter((r) => !seen.has(r.id)).map((r) => r.id);
      if (duplicates.length > 0 || unknown.length > 0 || missing.length > 0) {
        const parts = [
          missing.length > 0 ? `missing ${missing.map(engineRuleId).join(', ')}` : '',
          unknown.length > 0 ? `not rules of this flag in this environment: ${unknown.map(engineRuleId).join(', ')}` : '',
          duplicates.length > 0 ? `listed more than once: ${[...new Set(duplicates)].map(engineRuleId).join(', ')}` : '',
        ].filter(Boolean);
        throw new ValidationError('ruleIds must list every rule of the flag in the environment exactly once', {
          ruleIds: `must list each of the ${ctx.rules.length} rule(s) exactly once; ${parts.join('; ')}`,
        });
      }
      const rules = withPriorities(input.ruleIds.map((id) => byId.get(id)!), ctx.now, new Set());
      const beforeOrder = ctx.rules.map((r) => engineRuleId(r.id));
      const afterOrder = rules.map((r) => engineRuleId(r.id));
      if (same(beforeOrder, afterOrder)) return { state: ctx.current, rules: ctx.rules, mappings: [], audit: null };
      return {
        state: ctx.current,
        rules,
        mappings: [],
        audit: { action: 'rule.reordered', before: { ruleIds: beforeOrder }, after: { environment: ctx.environment.key, ruleIds: afterOrder } },
      };
    });
  }

  // -------------------------------------------------------------------------------------------

  private async read(db: Db, { project, flag, environment }: Located): Promise<EnvironmentConfig> {
    const state = (await this.store.findFlagEnvironment(db, flag.id, environment.id)) ?? emptyState(flag.id, environment.id);
    const rules = await this.store.listRules(db, flag.id, environment.id);
    return this.view(project, flag, environment, state, rules);
  }

  private view(project: Project, flag: TargetingFlag, environment: Environment, state: FlagEnvironmentState, rules: Rule[]): EnvironmentConfig {
    return {
      flagId: flag.id,
      flagKey: flag.key,
      flagDefaultVariation: flag.defaultVariation,
      projectId: project.id,
      environment: { id: environment.id, key: environment.key, name: environment.name },
      enabled: state.enabled,
      offVariation: state.offVariation,
      defaultServe: state.defaultServe,
      targets: state.targets,
      prerequisites: state.prerequisites,
      rules: rules.map((r) => ({ ...r, flagKey: flag.key, environmentKey: environment.key })),
      version: state.version,
      updatedAt: state.updatedAt,
    };
  }

  /**
   * Project, then flag, then environment, so each absence is reported for what it is. `fields`
   * names the body fields when the flag and environment came from the body (422, not 404).
   */
  private async locateByKey(
    db: Db,
    actor: Actor,
    projectRef: ProjectRef,
    flagKey: string,
    environmentRef: EnvironmentRef,
    permission: Permission,
    share: boolean,
    fields?: { flag: string; environment: string },
  ): Promise<Located> {
    const { project } = await this.projectAccess.require(actor, projectRef, permission, db);
    const flag = await this.store.findFlagByKey(db, project.id, flagKey, share);
    if (!flag) {
      if (fields) throw new ValidationError(`Flag "${flagKey}" does not exist in this project`, { [fields.flag]: 'no flag with this key in the project' });
      throw new NotFoundError('Flag');
    }
    const environment = await this.store.findEnvironment(db, project.id, environmentRef);
    if (!environment) {
      if (fields) throw new ValidationError(`Environment "${environmentRef}" does not exist in this project`, { [fields.environment]: 'no environment with this id or key in the project' });
      throw new NotFoundError('Environment');
    }
    return { project, flag, environment };
  }

  private async locateById(db: Db, actor: Actor, flagId: number, environmentId: number, permission: Permission, share: boolean, projectRef?: ProjectRef): Promise<Located> {
    if (projectRef !== undefined) {
      // The project first, so a missing or foreign project reads as such; then the flag within it.
      const { project } = await this.projectAccess.require(actor, projectRef, permission, db);
      const flag = await this.store.findFlagById(db, flagId, share);
      if (!flag || flag.projectId !== project.id) throw new NotFoundError('Flag');
      const environment = await this.store.findEnvironment(db, project.id, environmentId);
      if (!environment) throw new NotFoundError('Environment');
      return { project, flag, environment };
    }
    const flag = await this.store.findFlagById(db, flagId, share);
    if (!flag) throw new NotFoundError('Flag');
    let project: Project;
    try {
      ({ project } = await this.projectAccess.require(actor, flag.projectId, permission, db));
    } catch (e) {
      // Another organisation's flag looks exactly like a missing one.
      if (e instanceof NotFoundError) throw new NotFoundError('Flag');
      throw e;
    }
    const environment = await this.store.findEnvironment(db, project.id, environmentId);
    if (!environment) throw new NotFoundError('Environment');
    return { project, flag, environment };
  }

  private async locateByRule(db: Db, actor: Actor, projectRef: ProjectRef, ruleId: number): Promise<Located> {
    const { project } = await this.projectAccess.require(actor, projectRef, 'flags:write', db);
    const rule = await this.store.findRule(db, project.id, ruleId);
    if (!rule) throw new NotFoundError('Rule');
    const flag = await this.store.findFlagById(db, rule.flagId, true);
    const environment = await this.store.findEnvironment(db, project.id, rule.environmentId);
    if (!flag || !environment) throw new NotFoundError('Rule');
    return { project, flag, environment };
  }

  /**
   * One targeting write: locate, check the version, plan the change, validate it with the engine,
   * persist it with a bumped version and an audit event, commit, then publish. A concurrent write
   * that commits first makes this one start over (never lose an update); with `If-Match`, the
   * start-over then answers 412.
   */
  private async write(options: WriteOptions, locate: (db: Db) => Promise<Located>, actor: Actor, plan: (ctx: PlanContext) => Plan): Promise<EnvironmentConfig> {
    for (let attempt = 1; ; attempt++) {
      try {
        const { result, change } = await this.db.transaction().execute(async (trx) => {
          const located = await locate(trx);
          const { project, flag, environment } = located;
          const stored = await this.store.findFlagEnvironment(trx, flag.id, environment.id);
          const current = stored ?? emptyState(flag.id, environment.id);
          if (options.ifMatch !== undefined && options.ifMatch !== current.version) {
            throw new PreconditionFailedError(`The configuration of flag "${flag.key}" in "${environment.key}" has changed since version ${options.ifMatch} (now ${current.version})`, 'precondition_failed', { version: current.version });
          }
          const rules = await this.store.listRules(trx, flag.id, environment.id);
          const now = nowIso();
          const p = plan({ ...located, current, rules, now });
          if (p.audit === null) return { result: this.view(project, flag, environment, current, rules), change: null };

          // Referenced segments cannot be deleted under us; then the engine judges the result.
          await this.segments.shareLock(trx, project.id, segmentKeysOf(p.rules));
          const storedEnv = await this.store.loadEnvironment(trx, project.id, environment.id);
          const segments = await this.segments.listAll(trx, project.id);
          const after = configFor(flag.key, environment.key, storedEnv, segments, { flag, config: toEngineEnvironment(p.state, p.rules) });
          const before = configFor(flag.key, environment.key, storedEnv, segments, { flag, config: stored ? toEngineEnvironment(current, rules) : null });
          checkConfig(after, before, p.mappings);

          const next = { ...p.state, id: stored?.id ?? newId(), version: current.version + 1, updatedAt: now };
          if (stored) {
            if (!(await this.store.updateFlagEnvironment(trx, next, current.version))) throw new RetryWrite();
          } else {
            await this.store.insertFlagEnvironment(trx, next);
          }
          await this.syncRules(trx, rules, p.rules);
          await this.audit.record(trx, actor, {
            organizationId: project.organizationId,
            projectId: project.id,
            action: p.audit.action,
            resourceType: 'flag',
            resourceId: flag.id,
            before: p.audit.before,
            after: p.audit.after,
          });
          const change: ConfigChange = {
            organizationId: project.organizationId,
            projectId: project.id,
            environmentIds: [environment.id],
            entity: 'flag',
            action: 'updated',
            key: flag.key,
            actorUserId: actor.userId,
          };
          return { result: this.view(project, flag, environment, next, p.rules), change };
        });
        if (change) await this.changes.publish(change);
        return result;
      } catch (e) {
        if ((e instanceof RetryWrite || isUniqueViolation(e)) && attempt < MAX_ATTEMPTS) continue;
        if (e instanceof RetryWrite) throw new PreconditionFailedError('The configuration kept changing while it was being written; try again');
        throw e;
      }
    }
  }

  private async syncRules(db: Db, before: readonly Rule[], after: readonly Rule[]): Promise<void> {
    const old = new Map(before.map((r) => [r.id, r]));
    const keep = new Set(after.map((r) => r.id));
    for (const r of before) if (!keep.has(r.id)) await this.store.deleteRule(db, r.id);
    for (const r of after) {
      const prior = old.get(r.id);
      if (!prior) await this.store.insertRule(db, r);
      else if (!same(ruleFields(prior), ruleFields(r))) await this.store.updateRule(db, r);
    }
  }
}
