import type { ConditionConfig, FlagType, JsonValue, PrerequisiteConfig, ServeConfig, TargetConfig } from '@switchyard/engine';
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { Dialect } from '../../db/connect.js';
import type { Database } from '../../db/schema.js';
import type { Environment } from '../projects/project-store.js';
import { toEnvironment } from '../projects/project-store.js';

type Db = Kysely<Database> | Transaction<Database>;

/** A flag as targeting needs it: its identity, type and variation values (by key, in position order). */
export interface TargetingFlag {
  id: number;
  projectId: number;
  key: string;
  type: FlagType;
  /** Key of the variation whose value is the flag's default value. */
  defaultVariation: string;
  /** `active`, `inactive` or `archived`. */
  status: string;
  variations: Record<string, JsonValue>;
}

/**
 * How one environment serves one flag, as stored in `flag_environments`. The structured parts are
 * exactly the engine's configuration types, so the snapshot builder passes them through.
 */
export interface FlagEnvironmentState {
  /** Null when no row exists yet (the flag is disabled there and nothing is configured). */
  id: number | null;
  flagId: number;
  environmentId: number;
  enabled: boolean;
  /** Null: the flag's default variation. */
  offVariation: string | null;
  /** Null: the flag's default variation. */
  defaultServe: ServeConfig | null;
  targets: TargetConfig[];
  prerequisites: PrerequisiteConfig[];
  /** flagd JSONLogic used instead of rules (not written by the targeting API); null when absent. */
  targeting: JsonValue | null;
  /** 0 when no row exists yet; the ETag / If-Match value of the flag's configuration in this environment. */
  version: number;
  updatedAt: string | null;
}

/** One ordered targeting rule of a flag in one environment. */
export interface Rule {
  id: number;
  flagId: number;
  environmentId: number;
  /** 1-based position among the flag's rules in the environment; dense after every write. */
  priority: number;
  description: string | null;
  conditions: ConditionConfig[];
  segments: string[];
  serve: ServeConfig;
  createdAt: string;
  updatedAt: string;
}

/** A rule with the keys that name its flag and environment on the wire. */
export interface RuleView extends Rule {
  flagKey: string;
  environmentKey: string;
}

/** A rule that refers to a segment, for the segment-in-use refusal. */
export interface RuleReference {
  ruleId: number;
  flagId: number;
  flagKey: string;
  environmentId: number;
  environmentKey: string;
}

/** One flag's stored configuration in one environment, as the validator reads it. */
export interface FlagEnvironmentSnapshot {
  flag: TargetingFlag;
  state: FlagEnvironmentState | null;
  rules: Rule[];
}

/** Storage of per-environment flag configuration and rules. Decides nothing about permissions. */
export interface TargetingStore {
  /** The flag of `projectId` with this key; `share` locks its row against concurrent flag writes (PostgreSQL). */
  findFlagByKey(db: Db, projectId: number, key: string, share?: boolean): Promise<TargetingFlag | null>;
  findFlagById(db: Db, id: number, share?: boolean): Promise<TargetingFlag | null>;
  /** An environment of the project by id (`env_1`, `1`) or key; an id wins over an equal key. */
  findEnvironment(db: Db, projectId: number, ref: string | number): Promise<Environment | null>;
  findFlagEnvironment(db: Db, flagId: number, environmentId: number): Promise<FlagEnvironmentState | null>;
  /** Inserts the row (version 1). A concurrent insert fails with a unique violation. */
  insertFlagEnvironment(db: Db, state: FlagEnvironmentState & { id: number }): Promise<void>;
  /** Writes the row if its version is still `expectedVersion`; false when someone else changed it. */
  updateFlagEnvironment(db: Db, state: FlagEnvironmentState & { id: number }, expectedVersion: number): Promise<boolean>;
  /** A flag's rules in one environment, by priority. */
  listRules(db: Db, flagId: number, environmentId: number): Promise<Rule[]>;
  /** Rules of the project (optionally of one flag and/or environment), by flag key, environment position, priority. */
  listProjectRules(
    db: Db,
    projectId: number,
    filter: { flagId?: number; environmentId?: number },
    page: { limit: number; offset: number },
  ): Promise<{ items: RuleView[]; total: number }>;
  findRule(db: Db, projectId: number, ruleId: number): Promise<RuleView | null>;
  insertRule(db: Db, rule: Rule): Promise<void>;
  updateRule(db: Db, rule: Rule): Promise<void>;
  deleteRule(db: Db, ruleId: number): Promise<void>;
  /** Every non-archived flag of the project with its configuration and rules in one environment. */
  loadEnvironment(db: Db, projectId: number, environmentId: number): Promise<Map<string, FlagEnvironmentSnapshot>>;
  /** Rules anywhere in the project whose segment list or IN_SEGMENT/NOT_IN_SEGMENT conditions name `segmentKey`. */
  rulesUsingSegment(db: Db, projectId: number, segmentKey: string): Promise<RuleReference[]>;
}

type FlagEnvRow = Selectable<Database['flag_environments']>;
type RuleRow = Database['rules'];

function parse<T>(text: string | null, fallback: T): T {
  return text === null ? fallback : (JSON.parse(text) as T);
}

function toState(r: FlagEnvRow): FlagEnvironmentState {
  return {
    id: r.id,
    flagId: r.flag_id,
    environmentId: r.environment_id,
    enabled: r.enabled === 1,
    offVariation: r.off_variation,
    defaultServe: parse<ServeConfig | null>(r.default_serve, null),
    targets: parse<TargetConfig[]>(r.targets, []),
    prerequisites: parse<PrerequisiteConfig[]>(r.prerequisites, []),
    targeting: parse<JsonValue | null>(r.targeting, null),
    version: r.version,
    updatedAt: r.updated_at,
  };
}

function toRule(r: RuleRow): Rule {
  return {
    id: r.id,
    flagId: r.flag_id,
    environmentId: r.environment_id,
    priority: r.priority,
    description: r.description,
    conditions: parse<ConditionConfig[]>(r.conditions, []),
    segments: parse<string[]>(r.segments, []),
    serve: JSON.parse(r.serve) as ServeConfig,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function stateColumns(s: FlagEnvironmentState) {
  return {
    enabled: s.enabled ? 1 : 0,
    off_variation: s.offVariation,
    default_serve: s.defaultServe === null ? null : JSON.stringify(s.defaultServe),
    targets: JSON.stringify(s.targets),
    prerequisites: JSON.stringify(s.prerequisites),
    targeting: s.targeting === null ? null : JSON.stringify(s.targeting),
    version: s.version,
    updated_at: s.updatedAt ?? new Date().toISOString(),
  };
}

function ruleColumns(r: Rule) {
  return {
    priority: r.priority,
    description: r.description,
    conditions: JSON.stringify(r.conditions),
    segments: JSON.stringify(r.segments),
    serve: JSON.stringify(r.serve),
    updated_at: r.updatedAt,
  };
}

function parseNumericRef(prefix: string, raw: string | number): number | null {
  if (typeof raw === 'number') return Number.isSafeInteger(raw) && raw > 0 ? raw : null;
  const digits = raw.startsWith(`${prefix}_`) ? raw.slice(prefix.length + 1) : raw;
  if (!/^[1-9]\d{0,15}$/.test(digits)) return null;
  const n = Number(digits);
  return Number.isSafeInteger(n) ? n : null;
}

function usesSegment(rule: Rule, key: string): boolean {
  if (rule.segments.includes(key)) return true;
  return rule.conditions.some((c) => {
    if (c.operator !== 'IN_SEGMENT' && c.operator !== 'NOT_IN_SEGMENT') return false;
    return c.value === key || (Array.isArray(c.value) && c.value.includes(key));
  });
}

/** Kysely implementation of `TargetingStore`. */
export class KyselyTargetingStore implements TargetingStore {
  /** @param dialect - row locks (`FOR SHARE`) are taken on PostgreSQL only; SQLite serialises writers. */
  constructor(private readonly dialect: Dialect) {}

  private async flagWhere(db: Db, where: { id?: number; projectId?: number; key?: string }, share: boolean): Promise<TargetingFlag | null> {
    let q = db.selectFrom('flags').select(['id', 'project_id', 'key', 'type', 'default_variation', 'status']);
    if (where.id !== undefined) q = q.where('id', '=', where.id);
    if (where.projectId !== undefined) q = q.where('project_id', '=', where.projectId);
    if (where.key !== undefined) q = q.where('key', '=', where.key);
    if (share && this.dialect === 'postgres') q = q.forShare();
    const row = await q.executeTakeFirst();
    if (!row) return null;
    const variations = await db
      .selectFrom('variations')
      .select(['key', 'value'])
      .where('flag_id', '=', row.id)
      .orderBy('position', 'asc')
      .orderBy('id', 'asc')
      .execute();
    return {
      id: row.id,
      projectId: row.project_id,
      key: row.key,
      type: row.type as FlagType,
      defaultVariation: row.default_variation,
      status: row.status,
      variations: Object.fromEntries(variations.map((v) => [v.key, JSON.parse(v.value) as JsonValue])),
    };
  }

  findFlagByKey(db: Db, projectId: number, key: string, share = false): Promise<TargetingFlag | null> {
    return this.flagWhere(db, { projectId, key }, share);
  }

  findFlagById(db: Db, id: number, share = false): Promise<TargetingFlag | null> {
    return this.flagWhere(db, { id }, share);
  }

  async findEnvironment(db: Db, projectId: number, ref: string | number): Promise<Environment | null> {
    const id = parseNumericRef('env', ref);
    if (id !== null) {
      const byId = await db.selectFrom('environments').selectAll().where('id', '=', id).where('project_id', '=', projectId).executeTakeFirst();
      if (byId) return toEnvironment(byId);
    }
    if (typeof ref !== 'string') return null;
    const byKey = await db.selectFrom('environments').selectAll().where('project_id', '=', projectId).where('key', '=', ref).executeTakeFirst();
    return byKey ? toEnvironment(byKey) : null;
  }

  async findFlagEnvironment(db: Db, flagId: number, environmentId: number): Promise<FlagEnvironmentState | null> {
    const row = await db
      .selectFrom('flag_environments')
      .selectAll()
      .where('flag_id', '=', flagId)
      .where('environment_id', '=', environmentId)
      .executeTakeFirst();
    return row ? toState(row) : null;
  }

  async insertFlagEnvironment(db: Db, s: FlagEnvironmentState & { id: number }): Promise<void> {
    await db
      .insertInto('flag_environments')
      .values({ id: s.id, flag_id: s.flagId, environment_id: s.environmentId, ...stateColumns(s) })
      .execute();
  }

  async updateFlagEnvironment(db: Db, s: FlagEnvironmentState & { id: number }, expectedVersion: number): Promise<boolean> {
    const result = await db
      .updateTable('flag_environments')
      .set(stateColumns(s))
      .where('id', '=', s.id)
      .where('version', '=', expectedVersion)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async listRules(db: Db, flagId: number, environmentId: number): Promise<Rule[]> {
    const rows = await db
      .selectFrom('rules')
      .selectAll()
      .where('flag_id', '=', flagId)
      .where('environment_id', '=', environmentId)
      .orderBy('priority', 'asc')
      .orderBy('id', 'asc')
      .execute();
    return rows.map(toRule);
  }

  async listProjectRules(
    db: Db,
    projectId: number,
    filter: { flagId?: number; environmentId?: number },
    page: { limit: number; offset: number },
  ): Promise<{ items: RuleView[]; total: number }> {
    let base = db
      .selectFrom('rules')
      .innerJoin('flags', 'flags.id', 'rules.flag_id')
      .innerJoin('environments', 'environments.id', 'rules.environment_id')
      .where('flags.project_id', '=', projectId);
    if (filter.flagId !== undefined) base = base.where('rules.flag_id', '=', filter.flagId);
    if (filter.environmentId !== undefined) base = base.where('rules.environment_id', '=', filter.environmentId);
    const count = await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const rows = await base
      .selectAll('rules')
      .select(['flags.key as flag_key', 'environments.key as environment_key'])
      .orderBy('flags.key', 'asc')
      .orderBy('environments.position', 'asc')
      .orderBy('environments.id', 'asc')
      .orderBy('rules.priority', 'asc')
      .orderBy('rules.id', 'asc')
      .limit(page.limit)
      .offset(page.offset)
      .execute();
    return {
      items: rows.map((r) => ({ ...toRule(r), flagKey: r.flag_key, environmentKey: r.environment_key })),
      total: Number(count.n),
    };
  }

  async findRule(db: Db, projectId: number, ruleId: number): Promise<RuleView | null> {
    const r = await db
      .selectFrom('rules')
      .innerJoin('flags', 'flags.id', 'rules.flag_id')
      .innerJoin('environments', 'environments.id', 'rules.environment_id')
      .selectAll('rules')
      .select(['flags.key as flag_key', 'environments.key as environment_key'])
      .where('rules.id', '=', ruleId)
      .where('flags.project_id', '=', projectId)
      .executeTakeFirst();
    return r ? { ...toRule(r), flagKey: r.flag_key, environmentKey: r.environment_key } : null;
  }

  async insertRule(db: Db, r: Rule): Promise<void> {
    await db
      .insertInto('rules')
      .values({ id: r.id, flag_id: r.flagId, environment_id: r.environmentId, created_at: r.createdAt, ...ruleColumns(r) })
      .execute();
  }

  async updateRule(db: Db, r: Rule): Promise<void> {
    await db.updateTable('rules').set(ruleColumns(r)).where('id', '=', r.id).execute();
  }

  async deleteRule(db: Db, ruleId: number): Promise<void> {
    await db.deleteFrom('rules').where('id', '=', ruleId).execute();
  }

  async loadEnvironment(db: Db, projectId: number, environmentId: number): Promise<Map<string, FlagEnvironmentSnapshot>> {
    const flags = await db
      .selectFrom('flags')
      .select(['id', 'project_id', 'key', 'type', 'default_variation', 'status'])
      .where('project_id', '=', projectId)
      .where('status', '!=', 'archived')
      .execute();
    const out = new Map<string, FlagEnvironmentSnapshot>();
    if (flags.length === 0) return out;
    const variations = await db
      .selectFrom('variations')
      .innerJoin('flags', 'flags.id', 'variations.flag_id')
      .select(['variations.flag_id', 'variations.key', 'variations.value'])
      .where('flags.project_id', '=', projectId)
      .orderBy('variations.position', 'asc')
      .orderBy('variations.id', 'asc')
      .execute();
    const states = await db
      .selectFrom('flag_environments')
      .innerJoin('flags', 'flags.id', 'flag_environments.flag_id')
      .selectAll('flag_environments')
      .where('flags.project_id', '=', projectId)
      .where('flag_environments.environment_id', '=', environmentId)
      .execute();
    const rules = await db
      .selectFrom('rules')
      .innerJoin('flags', 'flags.id', 'rules.flag_id')
      .selectAll('rules')
      .where('flags.project_id', '=', projectId)
      .where('rules.environment_id', '=', environmentId)
      .orderBy('rules.priority', 'asc')
      .orderBy('rules.id', 'asc')
      .execute();
    const byId = new Map<number, FlagEnvironmentSnapshot>();
    for (const f of flags) {
      const snap: FlagEnvironmentSnapshot = {
        flag: { id: f.id, projectId: f.project_id, key: f.key, type: f.type as FlagType, defaultVariation: f.default_variation, status: f.status, variations: {} },
        state: null,
        rules: [],
      };
      byId.set(f.id, snap);
      out.set(f.key, snap);
    }
    for (const v of variations) {
      const snap = byId.get(v.flag_id);
      if (snap) snap.flag.variations[v.key] = JSON.parse(v.value) as JsonValue;
    }
    for (const s of states) {
      const snap = byId.get(s.flag_id);
      if (snap) snap.state = toState(s);
    }
    for (const r of rules) byId.get(r.flag_id)?.rules.push(toRule(r));
    return out;
  }

  async rulesUsingSegment(db: Db, projectId: number, segmentKey: string): Promise<RuleReference[]> {
    // Conditions are JSON text: narrow with LIKE on both columns, then decide on the parsed rule.
    // Segment keys hold no `%` or quote; a `_` in one only widens the LIKE, which the filter corrects.
    const needle = `%${JSON.stringify(segmentKey)}%`;
    const rows = await db
      .selectFrom('rules')
      .innerJoin('flags', 'flags.id', 'rules.flag_id')
      .innerJoin('environments', 'environments.id', 'rules.environment_id')
      .selectAll('rules')
      .select(['flags.key as flag_key', 'environments.key as environment_key'])
      .where('flags.project_id', '=', projectId)
      .where((eb) => eb.or([eb('rules.segments', 'like', eb.val(needle)), eb('rules.conditions', 'like', eb.val(needle))]))
      .orderBy('flags.key', 'asc')
      .orderBy('environments.position', 'asc')
      .orderBy('rules.priority', 'asc')
      .execute();
    return rows
      .map((r) => ({ rule: toRule(r), flagKey: r.flag_key, environmentKey: r.environment_key }))
      .filter((x) => usesSegment(x.rule, segmentKey))
      .map((x) => ({ ruleId: x.rule.id, flagId: x.rule.flagId, flagKey: x.flagKey, environmentId: x.rule.environmentId, environmentKey: x.environmentKey }));
  }
}
