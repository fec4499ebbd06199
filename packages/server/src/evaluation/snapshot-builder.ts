import type { Kysely, Transaction } from 'kysely';
import type {
  ConditionConfig,
  FlagConfig,
  FlagEnvironmentConfig,
  FlagType,
  JsonValue,
  PrerequisiteConfig,
  RuleConfig,
  SegmentConfig,
  ServeConfig,
  SnapshotConfig,
  TargetConfig,
} from '@switchyard/engine';
import type { Dialect } from '../db/connect.js';
import type { Database } from '../db/schema.js';

/** One environment's evaluable configuration, as read from the database. */
export interface EnvironmentConfig {
  environmentId: number;
  environmentKey: string;
  /**
   * The engine configuration of this environment only: every non-archived flag of the project
   * with just this environment's entry, and the project's segments. What the snapshot is compiled
   * from, what its digest is taken of, and what a stream's `put` sends.
   */
  config: SnapshotConfig;
  /**
   * Keys of the flags whose status is `inactive` (they are in `config`, disabled everywhere):
   * surfaces that list only active flags (ToggleSmartly) filter on it.
   */
  inactiveFlags: string[];
}

/** A project's configuration for each of its environments (in position order). */
export interface ProjectConfig {
  projectId: number;
  organizationId: number;
  environments: EnvironmentConfig[];
}

/** The wire id of a rule (`rule_<id>`), which evaluation results report as `ruleId`. */
export function ruleIdOf(id: number): string {
  return `rule_${id}`;
}

function parse<T>(text: string | null, fallback: T): T {
  if (text === null || text === '') return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    // A value that is not JSON is handed to the engine as-is, which then reports the flag invalid.
    return text as unknown as T;
  }
}

function nonEmpty<T>(list: T[]): T[] | undefined {
  return Array.isArray(list) && list.length > 0 ? list : undefined;
}

/**
 * The read model of evaluation: turns the rows of one project (flags, variations,
 * flag_environments, rules, segments) into the engine's `SnapshotConfig`, one per environment.
 * Archived flags are left out (they are not found); `inactive` flags are disabled everywhere; a
 * flag without a row for an environment is disabled there.
 */
export class SnapshotBuilder {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: Dialect,
  ) {}

  /** Ids of every project, for loading all snapshots at start. */
  async projectIds(): Promise<number[]> {
    const rows = await this.db.selectFrom('projects').select('id').orderBy('id').execute();
    return rows.map((r) => r.id);
  }

  /** The project's configuration per environment, or null when the project no longer exists. */
  async build(projectId: number): Promise<ProjectConfig | null> {
    // One consistent view of the project's rows: a write committing half-way through the reads
    // must not produce a snapshot mixing before and after (its own rebuild follows anyway).
    let begin = this.db.transaction();
    if (this.dialect === 'postgres') begin = begin.setIsolationLevel('repeatable read');
    return begin.execute((trx) => this.read(trx, projectId));
  }

  private async read(db: Transaction<Database>, projectId: number): Promise<ProjectConfig | null> {
    const project = await db.selectFrom('projects').select(['id', 'organization_id']).where('id', '=', projectId).executeTakeFirst();
    if (!project) return null;
    // Sequential: a transaction holds one connection.
    const environments = await db.selectFrom('environments').select(['id', 'key']).where('project_id', '=', projectId).orderBy('position').orderBy('id').execute();
    const flags = await db
        .selectFrom('flags')
        .select(['id', 'key', 'type', 'default_variation', 'status', 'metadata'])
        .where('project_id', '=', projectId)
        .where('status', '!=', 'archived')
        .orderBy('key')
        .execute();
    const variations = await db
        .selectFrom('variations')
        .innerJoin('flags', 'flags.id', 'variations.flag_id')
        .select(['variations.flag_id', 'variations.key', 'variations.value'])
        .where('flags.project_id', '=', projectId)
        .orderBy('variations.flag_id')
        .orderBy('variations.position')
        .orderBy('variations.id')
        .execute();
    const flagEnvironments = await db
        .selectFrom('flag_environments')
        .innerJoin('flags', 'flags.id', 'flag_environments.flag_id')
        .select([
          'flag_environments.flag_id',
          'flag_environments.environment_id',
          'flag_environments.enabled',
          'flag_environments.off_variation',
          'flag_environments.default_serve',
          'flag_environments.targets',
          'flag_environments.prerequisites',
          'flag_environments.targeting',
          'flag_environments.flagd',
          'flag_environments.default_variation',
        ])
        .where('flags.project_id', '=', projectId)
        .execute();
    const rules = await db
        .selectFrom('rules')
        .innerJoin('flags', 'flags.id', 'rules.flag_id')
        .select(['rules.id', 'rules.flag_id', 'rules.environment_id', 'rules.description', 'rules.conditions', 'rules.segments', 'rules.serve'])
        .where('flags.project_id', '=', projectId)
        .orderBy('rules.priority')
        .orderBy('rules.id')
        .execute();
    const segments = await db.selectFrom('segments').select(['key', 'conditions', 'included', 'excluded']).where('project_id', '=', projectId).orderBy('key').execute();

    const segmentConfigs: Record<string, SegmentConfig> = {};
    for (const s of segments) {
      const included = nonEmpty(parse<string[]>(s.included, []));
      const excluded = nonEmpty(parse<string[]>(s.excluded, []));
      const conditions = nonEmpty(parse<ConditionConfig[]>(s.conditions, []));
      segmentConfigs[s.key] = { ...(included ? { included } : {}), ...(excluded ? { excluded } : {}), ...(conditions ? { conditions } : {}) };
    }

    const variationsByFlag = new Map<number, Record<string, JsonValue>>();
    for (const v of variations) {
      let map = variationsByFlag.get(v.flag_id);
      if (!map) variationsByFlag.set(v.flag_id, (map = {}));
      map[v.key] = parse<JsonValue>(v.value, null);
    }
    const feByFlagEnv = new Map<string, (typeof flagEnvironments)[number]>();
    for (const fe of flagEnvironments) feByFlagEnv.set(`${fe.flag_id}:${fe.environment_id}`, fe);
    const rulesByFlagEnv = new Map<string, RuleConfig[]>();
    for (const r of rules) {
      const k = `${r.flag_id}:${r.environment_id}`;
      let list = rulesByFlagEnv.get(k);
      if (!list) rulesByFlagEnv.set(k, (list = []));
      const conditions = nonEmpty(parse<ConditionConfig[]>(r.conditions, []));
      const segmentKeys = nonEmpty(parse<string[]>(r.segments, []));
      list.push({
        id: ruleIdOf(r.id),
        ...(r.description ? { description: r.description } : {}),
        ...(conditions ? { conditions } : {}),
        ...(segmentKeys ? { segments: segmentKeys } : {}),
        serve: parse<ServeConfig>(r.serve, { variation: '' }),
      });
    }

    const out: EnvironmentConfig[] = environments.map((env) => {
      const flagConfigs: Record<string, FlagConfig> = {};
      for (const f of flags) {
        const metadata = parse<Record<string, string | number | boolean> | null>(f.metadata, null);
        const fe = feByFlagEnv.get(`${f.id}:${env.id}`);
        let environment: FlagEnvironmentConfig;
        if (!fe) {
          environment = { enabled: false };
        } else {
          const targets = nonEmpty(parse<TargetConfig[]>(fe.targets, []));
          const prerequisites = nonEmpty(parse<PrerequisiteConfig[]>(fe.prerequisites, []));
          const targeting = parse<JsonValue | null>(fe.targeting, null);
          const ruleList = rulesByFlagEnv.get(`${f.id}:${env.id}`);
          const defaultServe = parse<ServeConfig | null>(fe.default_serve, null);
          environment = {
            // An inactive flag serves its off variation in every environment.
            enabled: fe.enabled === 1 && f.status === 'active',
            // flagd's semantics: a disabled flag serves nothing, and no defaultVariant means no default.
            ...(fe.off_variation !== null ? { offVariation: fe.off_variation } : fe.flagd === 1 ? { offVariation: null } : {}),
            ...(fe.default_variation !== null ? { defaultVariation: fe.default_variation } : fe.flagd === 1 ? { defaultVariation: null } : {}),
            ...(targets ? { targets } : {}),
            ...(prerequisites ? { prerequisites } : {}),
            ...(targeting !== null ? { targeting } : {}),
            ...(targeting === null && ruleList ? { rules: ruleList } : {}),
            ...(targeting === null && defaultServe !== null ? { defaultServe } : {}),
          };
        }
        flagConfigs[f.key] = {
          type: f.type as FlagType,
          variations: variationsByFlag.get(f.id) ?? {},
          defaultVariation: f.default_variation,
          ...(metadata !== null && typeof metadata === 'object' && Object.keys(metadata).length > 0 ? { metadata } : {}),
          environments: { [env.key]: environment },
        };
      }
      const config: SnapshotConfig = { flags: flagConfigs, ...(Object.keys(segmentConfigs).length > 0 ? { segments: segmentConfigs } : {}) };
      const inactiveFlags = flags.filter((f) => f.status === 'inactive').map((f) => f.key);
      return { environmentId: env.id, environmentKey: env.key, config, inactiveFlags };
    });
    return { projectId, organizationId: project.organization_id, environments: out };
  }
}
