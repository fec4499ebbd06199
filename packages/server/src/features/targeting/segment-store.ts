import type { ConditionConfig } from '@switchyard/engine';
import type { Kysely, Transaction } from 'kysely';
import type { Dialect } from '../../db/connect.js';
import type { Database } from '../../db/schema.js';

type Db = Kysely<Database> | Transaction<Database>;

/** A reusable audience of a project: explicit include/exclude lists, then conditions. */
export interface Segment {
  id: number;
  projectId: number;
  /** `[A-Za-z0-9._-]{1,200}`, unique within the project; rules refer to it, so it never changes. */
  key: string;
  name: string;
  description: string | null;
  conditions: ConditionConfig[];
  included: string[];
  excluded: string[];
  version: number;
  createdAt: string;
  updatedAt: string;
}

/** Storage of segments. Decides nothing about permissions. */
export interface SegmentStore {
  list(db: Db, projectId: number, page: { limit: number; offset: number }): Promise<{ items: Segment[]; total: number }>;
  /** Every segment of the project, by key. */
  listAll(db: Db, projectId: number): Promise<Segment[]>;
  /** By id (`seg_1`, `1`) or key; an id wins over an equal key. `lock` takes `FOR UPDATE` on PostgreSQL. */
  find(db: Db, projectId: number, ref: string | number, lock?: boolean): Promise<Segment | null>;
  /** Locks (`FOR SHARE`, PostgreSQL) the segments with these keys so none is deleted before the caller commits. */
  shareLock(db: Db, projectId: number, keys: readonly string[]): Promise<void>;
  insert(db: Db, segment: Segment): Promise<void>;
  /** Writes the segment if its version is still `expectedVersion`; false when someone else changed it. */
  update(db: Db, segment: Segment, expectedVersion: number): Promise<boolean>;
  delete(db: Db, id: number): Promise<void>;
}

type SegmentRow = Database['segments'];

function toSegment(r: SegmentRow): Segment {
  return {
    id: r.id,
    projectId: r.project_id,
    key: r.key,
    name: r.name,
    description: r.description,
    conditions: JSON.parse(r.conditions) as ConditionConfig[],
    included: JSON.parse(r.included) as string[],
    excluded: JSON.parse(r.excluded) as string[],
    version: r.version,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function columns(s: Segment) {
  return {
    name: s.name,
    description: s.description,
    conditions: JSON.stringify(s.conditions),
    included: JSON.stringify(s.included),
    excluded: JSON.stringify(s.excluded),
    version: s.version,
    updated_at: s.updatedAt,
  };
}

/** Kysely implementation of `SegmentStore`. */
export class KyselySegmentStore implements SegmentStore {
  /** @param dialect - row locks are taken on PostgreSQL only; SQLite serialises writers. */
  constructor(private readonly dialect: Dialect) {}

  async list(db: Db, projectId: number, page: { limit: number; offset: number }): Promise<{ items: Segment[]; total: number }> {
    const count = await db
      .selectFrom('segments')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('project_id', '=', projectId)
      .executeTakeFirstOrThrow();
    const rows = await db
      .selectFrom('segments')
      .selectAll()
      .where('project_id', '=', projectId)
      .orderBy('key', 'asc')
      .limit(page.limit)
      .offset(page.offset)
      .execute();
    return { items: rows.map(toSegment), total: Number(count.n) };
  }

  async listAll(db: Db, projectId: number): Promise<Segment[]> {
    const rows = await db.selectFrom('segments').selectAll().where('project_id', '=', projectId).orderBy('key', 'asc').execute();
    return rows.map(toSegment);
  }

  async find(db: Db, projectId: number, ref: string | number, lock = false): Promise<Segment | null> {
    const forUpdate = lock && this.dialect === 'postgres';
    const digits = typeof ref === 'number' ? String(ref) : ref.startsWith('seg_') ? ref.slice(4) : ref;
    if (/^[1-9]\d{0,15}$/.test(digits) && Number.isSafeInteger(Number(digits))) {
      let q = db.selectFrom('segments').selectAll().where('id', '=', Number(digits)).where('project_id', '=', projectId);
      if (forUpdate) q = q.forUpdate();
      const row = await q.executeTakeFirst();
      if (row) return toSegment(row);
    }
    if (typeof ref !== 'string') return null;
    let q = db.selectFrom('segments').selectAll().where('project_id', '=', projectId).where('key', '=', ref);
    if (forUpdate) q = q.forUpdate();
    const row = await q.executeTakeFirst();
    return row ? toSegment(row) : null;
  }

  async shareLock(db: Db, projectId: number, keys: readonly string[]): Promise<void> {
    if (this.dialect !== 'postgres' || keys.length === 0) return;
    await db.selectFrom('segments').select('id').where('project_id', '=', projectId).where('key', 'in', [...keys]).forShare().execute();
  }

  async insert(db: Db, s: Segment): Promise<void> {
    await db
      .insertInto('segments')
      .values({ id: s.id, project_id: s.projectId, key: s.key, created_at: s.createdAt, ...columns(s) })
      .execute();
  }

  async update(db: Db, s: Segment, expectedVersion: number): Promise<boolean> {
    const r = await db.updateTable('segments').set(columns(s)).where('id', '=', s.id).where('version', '=', expectedVersion).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async delete(db: Db, id: number): Promise<void> {
    await db.deleteFrom('segments').where('id', '=', id).execute();
  }
}
