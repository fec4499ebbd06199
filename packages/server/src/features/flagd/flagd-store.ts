import type { FlagType, JsonValue } from '@switchyard/engine';
import type { Kysely, Transaction } from 'kysely';
import type { Dialect } from '../../db/connect.js';
import type { Database } from '../../db/schema.js';
import { newId } from '../../domain/ids.js';
import type { DesiredFlag } from './flagd-service.js';

type Db = Kysely<Database> | Transaction<Database>;

/** A stored flag seen through flagd's eyes in one environment. */
export interface StoredFlagdFlag {
  id: number;
  key: string;
  type: FlagType;
  status: string;
  variations: Record<string, JsonValue>;
  defaultVariant: string | null;
  enabled: boolean;
  targeting: JsonValue | null;
  metadata: Record<string, string | number | boolean> | null;
}

/** Reads and writes flags the way a flagd import stores them. */
export interface FlagdStore {
  /** The flag `key` of the project (archived included) with its configuration in the environment; null when none. */
  find(db: Db, projectId: number, environmentId: number, key: string): Promise<StoredFlagdFlag | null>;
  /** Creates or replaces the flag and its configuration in the environment; returns the flag id. */
  write(db: Db, projectId: number, environmentId: number, flag: DesiredFlag, existing: StoredFlagdFlag | null, userId: number | null, now: string): Promise<number>;
}

const parse = <T>(text: string | null, fallback: T): T => (text === null || text === '' ? fallback : (JSON.parse(text) as T));

/** `FlagdStore` over Kysely. */
export class KyselyFlagdStore implements FlagdStore {
  constructor(private readonly dialect: Dialect) {}

  async find(db: Db, projectId: number, environmentId: number, key: string): Promise<StoredFlagdFlag | null> {
    // PostgreSQL: lock the flag row so a concurrent write waits (SQLite writers are serialised anyway).
    let q = db.selectFrom('flags').selectAll().where('project_id', '=', projectId).where('key', '=', key);
    if (this.dialect === 'postgres') q = q.forUpdate();
    const flag = await q.executeTakeFirst();
    if (!flag) return null;
    const variations = await db.selectFrom('variations').select(['key', 'value']).where('flag_id', '=', flag.id).orderBy('position').orderBy('id').execute();
    const fe = await db.selectFrom('flag_environments').selectAll().where('flag_id', '=', flag.id).where('environment_id', '=', environmentId).executeTakeFirst();
    const rules = await db.selectFrom('rules').select('id').where('flag_id', '=', flag.id).where('environment_id', '=', environmentId).execute();
    const native = fe !== undefined && (fe.flagd !== 1 || rules.length > 0 || fe.off_variation !== null || fe.targets !== '[]' || fe.prerequisites !== '[]' || fe.default_serve !== null);
    return {
      id: flag.id,
      key: flag.key,
      type: flag.type as FlagType,
      status: flag.status,
      variations: Object.fromEntries(variations.map((v) => [v.key, parse<JsonValue>(v.value, null)])),
      // Anything configured natively counts as different from any document (so it is replaced).
      defaultVariant: fe === undefined || native ? `\u0000native` : fe.default_variation,
      enabled: fe?.enabled === 1,
      targeting: fe ? parse<JsonValue | null>(fe.targeting, null) : null,
      metadata: parse<Record<string, string | number | boolean> | null>(flag.metadata, null),
    };
  }

  async write(db: Db, projectId: number, environmentId: number, f: DesiredFlag, existing: StoredFlagdFlag | null, userId: number | null, now: string): Promise<number> {
    const keys = Object.keys(f.variations);
    // The flag's own default (other environments, and where this one has none): the document's, else the current one if kept, else the first variant.
    const defaultVariation = f.defaultVariant ?? (existing && Object.hasOwn(f.variations, existing.defaultVariant ?? '') ? existing.defaultVariant! : keys[0]!);
    const metadata = f.metadata === null ? null : JSON.stringify(f.metadata);
    let flagId: number;
    if (!existing) {
      flagId = newId();
      await db
        .insertInto('flags')
        .values({ id: flagId, project_id: projectId, key: f.key, name: f.key, description: null, type: f.type, default_variation: defaultVariation, tags: '[]', status: 'active', metadata, version: 1, created_by: userId, created_at: now, updated_at: now, archived_at: null })
        .execute();
    } else {
      flagId = existing.id;
      await db
        .updateTable('flags')
        .set((eb) => ({ default_variation: defaultVariation, metadata, status: 'active', archived_at: null, version: eb('version', '+', 1), updated_at: now }))
        .where('id', '=', flagId)
        .execute();
      await db.deleteFrom('variations').where('flag_id', '=', flagId).execute();
    }
    let position = 0;
    for (const k of keys) {
      await db
        .insertInto('variations')
        .values({ id: newId(), flag_id: flagId, key: k, name: k, value: JSON.stringify(f.variations[k]), description: null, weight: 0, position: position++, created_at: now, updated_at: now })
        .execute();
    }
    await db.deleteFrom('rules').where('flag_id', '=', flagId).where('environment_id', '=', environmentId).execute();
    const row = {
      enabled: f.enabled ? 1 : 0,
      off_variation: null,
      default_serve: null,
      targets: '[]',
      prerequisites: '[]',
      targeting: f.targeting === null ? null : JSON.stringify(f.targeting),
      flagd: 1,
      default_variation: f.defaultVariant,
      updated_at: now,
    };
    const fe = await db.selectFrom('flag_environments').select(['id', 'version']).where('flag_id', '=', flagId).where('environment_id', '=', environmentId).executeTakeFirst();
    if (fe) await db.updateTable('flag_environments').set({ ...row, version: fe.version + 1 }).where('id', '=', fe.id).execute();
    else await db.insertInto('flag_environments').values({ id: newId(), flag_id: flagId, environment_id: environmentId, ...row, version: 1 }).execute();
    return flagId;
  }
}
