import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';

type Db = Kysely<Database> | Transaction<Database>;

/** Any JSON value, as variation values are. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export const flagTypes = ['boolean', 'string', 'number', 'json'] as const;
/** The value type every variation of a flag has. */
export type FlagType = (typeof flagTypes)[number];

export const flagStatuses = ['active', 'inactive', 'archived'] as const;
/** `inactive` flags serve their off variation everywhere; `archived` ones are absent from evaluation. */
export type FlagStatus = (typeof flagStatuses)[number];

/** A feature flag of a project (without its variations). */
export interface Flag {
  id: number;
  projectId: number;
  key: string;
  name: string;
  description: string | null;
  type: FlagType;
  /** Key of the variation whose value is the flag's default value. */
  defaultVariation: string;
  tags: string[];
  status: FlagStatus;
  metadata: Record<string, string | number | boolean> | null;
  /** Bumped on every change to the flag or its variations. */
  version: number;
  createdBy: number | null;
  createdAt: string;
  updatedAt: string;
  archivedAt: string | null;
}

/** One variation of a flag. */
export interface Variation {
  id: number;
  flagId: number;
  /** Immutable handle rules, targets and the engine use. */
  key: string;
  name: string;
  value: JsonValue;
  description: string | null;
  weight: number | null;
  position: number;
  createdAt: string;
  updatedAt: string;
}

/** A flag with its variations in position order. */
export interface FlagWithVariations extends Flag {
  variations: Variation[];
}

/** Flag fields a write may change; absent ones stay as they are. */
export interface FlagChanges {
  name?: string;
  description?: string | null;
  defaultVariation?: string;
  tags?: string[];
  status?: FlagStatus;
  metadata?: Record<string, string | number | boolean> | null;
  archivedAt?: string | null;
  updatedAt: string;
}

/** Variation fields a write may change. */
export interface VariationChanges {
  name?: string;
  value?: JsonValue;
  description?: string | null;
  weight?: number | null;
  updatedAt: string;
}

/** List filters; `search` matches key, name or description case-insensitively. */
export interface FlagFilter {
  tag?: string;
  status?: FlagStatus;
  search?: string;
}

/** Where a variation is in use, so deleting it can be refused with each use named. */
export interface VariationUsage {
  kind: 'default_variation' | 'off_variation' | 'default_serve' | 'rule' | 'target' | 'prerequisite';
  /** Environment key, for per-environment uses. */
  environment: string | null;
  /** The rule id, for `rule`. */
  ruleId: number | null;
  /** The flag that has it as a prerequisite, for `prerequisite`. */
  flagKey: string | null;
}

/** Reads and writes flags and their variations. Decides nothing about permissions. */
export interface FlagStore {
  insertFlag(db: Db, flag: Flag): Promise<void>;
  insertVariation(db: Db, variation: Variation): Promise<void>;
  findById(db: Db, id: number): Promise<Flag | null>;
  /** The flag of `projectId` with this key. */
  findByKey(db: Db, projectId: number, key: string): Promise<Flag | null>;
  /** Flags of a project, oldest first, with the total matching the filter. */
  list(db: Db, projectId: number, filter: FlagFilter, page: { limit: number; offset: number }): Promise<{ items: Flag[]; total: number }>;
  /** Flags of several projects (an organisation's, as IntelliToggle lists them), oldest first, with the total. */
  listInProjects(db: Db, projectIds: readonly number[], filter: FlagFilter, page: { limit: number; offset: number }): Promise<{ items: Flag[]; total: number }>;
  /** The flags with this key in any of the projects (keys are unique per project only), oldest first. */
  findByKeyInProjects(db: Db, projectIds: readonly number[], key: string): Promise<Flag[]>;
  /** Every flag of a project (for snapshots), oldest first. */
  listAll(db: Db, projectId: number): Promise<Flag[]>;
  /** Variations of one flag in position order. */
  listVariations(db: Db, flagId: number): Promise<Variation[]>;
  /** Variations of many flags, by flag id, each in position order. */
  listVariationsOf(db: Db, flagIds: readonly number[]): Promise<Map<number, Variation[]>>;
  /** Flags per project that are not archived. */
  countByProject(db: Db, projectIds: readonly number[]): Promise<Map<number, number>>;
  /** The keys of those of `ids` that still exist, by id (audit entries name their flag). */
  keysByIds(db: Db, ids: readonly number[]): Promise<Map<number, string>>;
  /**
   * Applies `changes` and bumps the version, only if the flag is still at `expectedVersion`.
   * Returns false when it is not (someone else wrote first, or the flag is gone).
   */
  updateFlag(db: Db, id: number, expectedVersion: number, changes: FlagChanges): Promise<boolean>;
  /**
   * Locks the flag's row for the rest of the transaction (PostgreSQL; SQLite transactions are
   * serial anyway), so reads after it see the latest committed state and no one else writes it
   * until commit. False when the flag is gone. Other slices writing a flag's configuration
   * (rules, targets) take it too, so variation-in-use checks cannot race them.
   */
  lock(db: Db, id: number): Promise<boolean>;
  deleteFlag(db: Db, id: number): Promise<void>;
  updateVariation(db: Db, id: number, changes: VariationChanges): Promise<void>;
  deleteVariation(db: Db, id: number): Promise<void>;
  /** Every place the flag's variation `key` is used: the flag's own config and other flags' prerequisites. */
  findVariationUsages(db: Db, flag: Flag, key: string): Promise<VariationUsage[]>;
  /** The other flags (and environments) of the project that have `flag` as a prerequisite. */
  findPrerequisiteDependents(db: Db, flag: Flag): Promise<Array<{ flagKey: string; environment: string }>>;
  /** Whether any flag_environments row of the flag in `environmentId` is enabled. */
  enabledIn(db: Db, flagIds: readonly number[], environmentId: number): Promise<Set<number>>;
}

type FlagRow = Database['flags'];
type VariationRow = Database['variations'];

function parseJson<T>(text: string | null, fallback: T): T {
  if (text === null) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

/** Maps a `flags` row to the domain type. */
export function toFlag(r: FlagRow): Flag {
  return {
    id: r.id,
    projectId: r.project_id,
    key: r.key,
    name: r.name,
    description: r.description,
    type: r.type as FlagType,
    defaultVariation: r.default_variation,
    tags: parseJson<string[]>(r.tags, []),
    status: r.status as FlagStatus,
    metadata: parseJson<Flag['metadata']>(r.metadata, null),
    version: r.version,
    createdBy: r.created_by,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    archivedAt: r.archived_at,
  };
}

/** Maps a `variations` row to the domain type. */
export function toVariation(r: VariationRow): Variation {
  return {
    id: r.id,
    flagId: r.flag_id,
    key: r.key,
    name: r.name,
    value: parseJson<JsonValue>(r.value, null),
    description: r.description,
    weight: r.weight,
    position: r.position,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/** The variation keys a JSON engine ServeConfig names (`{variation}` or `{rollout: {variations}}`). */
export function serveVariations(serve: unknown): string[] {
  if (!serve || typeof serve !== 'object') return [];
  const s = serve as { variation?: unknown; rollout?: { variations?: unknown } };
  if (typeof s.variation === 'string') return [s.variation];
  const list = s.rollout?.variations;
  if (!Array.isArray(list)) return [];
  return list.flatMap((v: unknown) => (v && typeof v === 'object' && typeof (v as { variation?: unknown }).variation === 'string' ? [(v as { variation: string }).variation] : []));
}

function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** Kysely implementation of `FlagStore`. */
export class KyselyFlagStore implements FlagStore {
  async insertFlag(db: Db, f: Flag): Promise<void> {
    await db
      .insertInto('flags')
      .values({
        id: f.id,
        project_id: f.projectId,
        key: f.key,
        name: f.name,
        description: f.description,
        type: f.type,
        default_variation: f.defaultVariation,
        tags: JSON.stringify(f.tags),
        status: f.status,
        metadata: f.metadata === null ? null : JSON.stringify(f.metadata),
        version: f.version,
        created_by: f.createdBy,
        created_at: f.createdAt,
        updated_at: f.updatedAt,
        archived_at: f.archivedAt,
      })
      .execute();
  }

  async insertVariation(db: Db, v: Variation): Promise<void> {
    await db
      .insertInto('variations')
      .values({
        id: v.id,
        flag_id: v.flagId,
        key: v.key,
        name: v.name,
        value: JSON.stringify(v.value),
        description: v.description,
        weight: v.weight,
        position: v.position,
        created_at: v.createdAt,
        updated_at: v.updatedAt,
      })
      .execute();
  }

  async findById(db: Db, id: number): Promise<Flag | null> {
    const row = await db.selectFrom('flags').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toFlag(row) : null;
  }

  async findByKey(db: Db, projectId: number, key: string): Promise<Flag | null> {
    const row = await db.selectFrom('flags').selectAll().where('project_id', '=', projectId).where('key', '=', key).executeTakeFirst();
    return row ? toFlag(row) : null;
  }

  async list(db: Db, projectId: number, filter: FlagFilter, page: { limit: number; offset: number }): Promise<{ items: Flag[]; total: number }> {
    return this.listInProjects(db, [projectId], filter, page);
  }

  async findByKeyInProjects(db: Db, projectIds: readonly number[], key: string): Promise<Flag[]> {
    if (projectIds.length === 0) return [];
    const rows = await db.selectFrom('flags').selectAll().where('project_id', 'in', projectIds).where('key', '=', key).orderBy('created_at', 'asc').orderBy('id', 'asc').execute();
    return rows.map(toFlag);
  }

  async listInProjects(db: Db, projectIds: readonly number[], filter: FlagFilter, page: { limit: number; offset: number }): Promise<{ items: Flag[]; total: number }> {
    if (projectIds.length === 0) return { items: [], total: 0 };
    let q = projectIds.length === 1 ? db.selectFrom('flags').where('project_id', '=', projectIds[0]!) : db.selectFrom('flags').where('project_id', 'in', projectIds);
    if (filter.status !== undefined) q = q.where('status', '=', filter.status);
    if (filter.tag !== undefined) {
      // Tags are a JSON array of strings; the encoded element (quotes included) is an exact match.
      // Matched case-insensitively on both dialects (SQLite's LIKE is, PostgreSQL's is not).
      const needle = `%${escapeLike(JSON.stringify(filter.tag).toLowerCase())}%`;
      q = q.where(sql<boolean>`lower(tags) like ${needle} escape '\\'`);
    }
    if (filter.search !== undefined && filter.search !== '') {
      const needle = `%${escapeLike(filter.search.toLowerCase())}%`;
      q = q.where((eb) =>
        eb.or([
          eb(sql`lower(key)`, 'like', sql`${needle} escape '\\'`),
          eb(sql`lower(name)`, 'like', sql`${needle} escape '\\'`),
          eb(sql`lower(coalesce(description, ''))`, 'like', sql`${needle} escape '\\'`),
        ]),
      );
    }
    const [rows, count] = await Promise.all([
      q.selectAll().orderBy('created_at', 'asc').orderBy('id', 'asc').limit(page.limit).offset(page.offset).execute(),
      q.select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { items: rows.map(toFlag), total: Number(count.n) };
  }

  async listAll(db: Db, projectId: number): Promise<Flag[]> {
    const rows = await db.selectFrom('flags').selectAll().where('project_id', '=', projectId).orderBy('created_at', 'asc').orderBy('id', 'asc').execute();
    return rows.map(toFlag);
  }

  async listVariations(db: Db, flagId: number): Promise<Variation[]> {
    const rows = await db.selectFrom('variations').selectAll().where('flag_id', '=', flagId).orderBy('position', 'asc').orderBy('id', 'asc').execute();
    return rows.map(toVariation);
  }

  async listVariationsOf(db: Db, flagIds: readonly number[]): Promise<Map<number, Variation[]>> {
    const out = new Map<number, Variation[]>(flagIds.map((id) => [id, []]));
    if (flagIds.length === 0) return out;
    const rows = await db
      .selectFrom('variations')
      .selectAll()
      .where('flag_id', 'in', [...flagIds])
      .orderBy('flag_id', 'asc')
      .orderBy('position', 'asc')
      .orderBy('id', 'asc')
      .execute();
    for (const r of rows) out.get(r.flag_id)?.push(toVariation(r));
    return out;
  }

  async keysByIds(db: Db, ids: readonly number[]): Promise<Map<number, string>> {
    if (ids.length === 0) return new Map();
    const rows = await db.selectFrom('flags').select(['id', 'key']).where('id', 'in', [...new Set(ids)]).execute();
    return new Map(rows.map((r) => [r.id, r.key]));
  }

  async countByProject(db: Db, projectIds: readonly number[]): Promise<Map<number, number>> {
    const out = new Map<number, number>(projectIds.map((id) => [id, 0]));
    if (projectIds.length === 0) return out;
    const rows = await db
      .selectFrom('flags')
      .select(['project_id', (eb) => eb.fn.countAll<number | string>().as('n')])
      .where('project_id', 'in', [...projectIds])
      .where('status', '!=', 'archived')
      .groupBy('project_id')
      .execute();
    for (const r of rows) out.set(r.project_id, Number(r.n));
    return out;
  }

  async updateFlag(db: Db, id: number, expectedVersion: number, c: FlagChanges): Promise<boolean> {
    const result = await db
      .updateTable('flags')
      .set((eb) => ({
        ...(c.name !== undefined ? { name: c.name } : {}),
        ...(c.description !== undefined ? { description: c.description } : {}),
        ...(c.defaultVariation !== undefined ? { default_variation: c.defaultVariation } : {}),
        ...(c.tags !== undefined ? { tags: JSON.stringify(c.tags) } : {}),
        ...(c.status !== undefined ? { status: c.status } : {}),
        ...(c.metadata !== undefined ? { metadata: c.metadata === null ? null : JSON.stringify(c.metadata) } : {}),
        ...(c.archivedAt !== undefined ? { archived_at: c.archivedAt } : {}),
        updated_at: c.updatedAt,
        version: eb('version', '+', 1),
      }))
      .where('id', '=', id)
      .where('version', '=', expectedVersion)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async lock(db: Db, id: number): Promise<boolean> {
    const result = await db
      .updateTable('flags')
      .set((eb) => ({ version: eb.ref('version') }))
      .where('id', '=', id)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async deleteFlag(db: Db, id: number): Promise<void> {
    await db.deleteFrom('flags').where('id', '=', id).execute();
  }

  async updateVariation(db: Db, id: number, c: VariationChanges): Promise<void> {
    await db
      .updateTable('variations')
      .set({
        ...(c.name !== undefined ? { name: c.name } : {}),
        ...(c.value !== undefined ? { value: JSON.stringify(c.value) } : {}),
        ...(c.description !== undefined ? { description: c.description } : {}),
        ...(c.weight !== undefined ? { weight: c.weight } : {}),
        updated_at: c.updatedAt,
      })
      .where('id', '=', id)
      .execute();
  }

  async deleteVariation(db: Db, id: number): Promise<void> {
    await db.deleteFrom('variations').where('id', '=', id).execute();
  }

  async findVariationUsages(db: Db, flag: Flag, key: string): Promise<VariationUsage[]> {
    const out: VariationUsage[] = [];
    const use = (kind: VariationUsage['kind'], environment: string | null = null, ruleId: number | null = null, flagKey: string | null = null) =>
      out.push({ kind, environment, ruleId, flagKey });
    if (flag.defaultVariation === key) use('default_variation');
    const envs = await db
      .selectFrom('flag_environments')
      .innerJoin('environments', 'environments.id', 'flag_environments.environment_id')
      .select(['environments.key as env', 'flag_environments.off_variation', 'flag_environments.default_serve', 'flag_environments.targets'])
      .where('flag_environments.flag_id', '=', flag.id)
      .orderBy('environments.position', 'asc')
      .execute();
    for (const e of envs) {
      if (e.off_variation === key) use('off_variation', e.env);
      if (serveVariations(parseJson<unknown>(e.default_serve, null)).includes(key)) use('default_serve', e.env);
      const targets = parseJson<unknown>(e.targets, []);
      if (Array.isArray(targets) && targets.some((t: unknown) => t && typeof t === 'object' && (t as { variation?: unknown }).variation === key)) use('target', e.env);
    }
    const rules = await db
      .selectFrom('rules')
      .innerJoin('environments', 'environments.id', 'rules.environment_id')
      .select(['rules.id', 'rules.serve', 'environments.key as env'])
      .where('rules.flag_id', '=', flag.id)
      .orderBy('environments.position', 'asc')
      .orderBy('rules.priority', 'asc')
      .execute();
    for (const r of rules) if (serveVariations(parseJson<unknown>(r.serve, null)).includes(key)) use('rule', r.env, r.id);
    for (const d of await this.prerequisitesOn(db, flag)) if (d.variation === key) use('prerequisite', d.environment, null, d.flagKey);
    return out;
  }

  async findPrerequisiteDependents(db: Db, flag: Flag): Promise<Array<{ flagKey: string; environment: string }>> {
    const seen = new Set<string>();
    const out: Array<{ flagKey: string; environment: string }> = [];
    for (const d of await this.prerequisitesOn(db, flag)) {
      const id = `${d.flagKey}\u0000${d.environment}`;
      if (seen.has(id)) continue;
      seen.add(id);
      out.push({ flagKey: d.flagKey, environment: d.environment });
    }
    return out;
  }

  /** Prerequisites of other flags that name `flag`; they name it by key, so only its project's flags can. */
  private async prerequisitesOn(db: Db, flag: Flag): Promise<Array<{ flagKey: string; environment: string; variation: unknown }>> {
    const rows = await db
      .selectFrom('flag_environments')
      .innerJoin('flags', 'flags.id', 'flag_environments.flag_id')
      .innerJoin('environments', 'environments.id', 'flag_environments.environment_id')
      .select(['flags.key as flagKey', 'environments.key as env', 'flag_environments.prerequisites'])
      .where('flags.project_id', '=', flag.projectId)
      .where('flags.id', '!=', flag.id)
      .where('flag_environments.prerequisites', '!=', '[]')
      .orderBy('flags.key', 'asc')
      .execute();
    const out: Array<{ flagKey: string; environment: string; variation: unknown }> = [];
    for (const r of rows) {
      const list = parseJson<unknown>(r.prerequisites, []);
      if (!Array.isArray(list)) continue;
      for (const x of list) {
        if (x && typeof x === 'object' && (x as { flag?: unknown }).flag === flag.key) out.push({ flagKey: r.flagKey, environment: r.env, variation: (x as { variation?: unknown }).variation });
      }
    }
    return out;
  }

  async enabledIn(db: Db, flagIds: readonly number[], environmentId: number): Promise<Set<number>> {
    if (flagIds.length === 0) return new Set();
    const rows = await db
      .selectFrom('flag_environments')
      .select('flag_id')
      .where('environment_id', '=', environmentId)
      .where('flag_id', 'in', [...flagIds])
      .where('enabled', '=', 1)
      .execute();
    return new Set(rows.map((r) => r.flag_id));
  }
}
