import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { ApiKeyScope } from './api-key-format.js';

type Db = Kysely<Database> | Transaction<Database>;

/** An environment-scoped API key as stored: never the secret, only its SHA-256. */
export interface ApiKey {
  id: number;
  organizationId: number;
  projectId: number;
  environmentId: number;
  name: string;
  scope: ApiKeyScope;
  /** The key's first characters, shown in lists. */
  prefix: string;
  /** SHA-256 (hex) of the secret. */
  keyHash: string;
  createdBy: number | null;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

/** Which keys of a project a list shows. */
export interface ApiKeyListQuery {
  environmentId?: number;
  limit: number;
  offset: number;
}

/** Storage of API keys. Decides nothing about permissions. */
export interface ApiKeyStore {
  insert(db: Db, key: ApiKey): Promise<void>;
  /** The key with this id, if it belongs to `projectId`. */
  findInProject(db: Db, projectId: number, id: number): Promise<ApiKey | null>;
  findById(db: Db, id: number): Promise<ApiKey | null>;
  /** A page of a project's keys, newest first, and how many there are in all. */
  listInProject(db: Db, projectId: number, query: ApiKeyListQuery): Promise<{ items: ApiKey[]; total: number }>;
  /** Every key of a project (revoked ones too). */
  listAllInProject(db: Db, projectId: number): Promise<ApiKey[]>;
  /** Every key of every organisation (revoked ones too): what the in-memory key map loads at start. */
  listAll(db: Db): Promise<ApiKey[]>;
  /** Sets `revoked_at` unless already set; true when this call revoked it. */
  revoke(db: Db, id: number, at: string): Promise<boolean>;
  /** Moves `last_used_at` forward (never back) for each key; batched writes of the key map. */
  touchLastUsed(db: Db, uses: ReadonlyArray<{ id: number; at: string }>): Promise<void>;
}

type Row = Database['api_keys'];

/** Maps an `api_keys` row to the domain type. */
export function toApiKey(r: Row): ApiKey {
  return {
    id: r.id,
    organizationId: r.organization_id,
    projectId: r.project_id,
    environmentId: r.environment_id,
    name: r.name,
    scope: r.scope as ApiKeyScope,
    prefix: r.prefix,
    keyHash: r.key_hash,
    createdBy: r.created_by,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    lastUsedAt: r.last_used_at,
    revokedAt: r.revoked_at,
  };
}

/** Kysely implementation of `ApiKeyStore`. */
export class KyselyApiKeyStore implements ApiKeyStore {
  async insert(db: Db, k: ApiKey): Promise<void> {
    await db
      .insertInto('api_keys')
      .values({
        id: k.id,
        organization_id: k.organizationId,
        project_id: k.projectId,
        environment_id: k.environmentId,
        name: k.name,
        scope: k.scope,
        prefix: k.prefix,
        key_hash: k.keyHash,
        created_by: k.createdBy,
        created_at: k.createdAt,
        expires_at: k.expiresAt,
        last_used_at: k.lastUsedAt,
        revoked_at: k.revokedAt,
      })
      .execute();
  }

  async findInProject(db: Db, projectId: number, id: number): Promise<ApiKey | null> {
    const row = await db.selectFrom('api_keys').selectAll().where('id', '=', id).where('project_id', '=', projectId).executeTakeFirst();
    return row ? toApiKey(row) : null;
  }

  async findById(db: Db, id: number): Promise<ApiKey | null> {
    const row = await db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toApiKey(row) : null;
  }

  async listInProject(db: Db, projectId: number, q: ApiKeyListQuery): Promise<{ items: ApiKey[]; total: number }> {
    let base = db.selectFrom('api_keys').where('project_id', '=', projectId);
    if (q.environmentId !== undefined) base = base.where('environment_id', '=', q.environmentId);
    const rows = await base.selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').limit(q.limit).offset(q.offset).execute();
    const count = await base.select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow();
    return { items: rows.map(toApiKey), total: Number(count.n) };
  }

  async listAllInProject(db: Db, projectId: number): Promise<ApiKey[]> {
    const rows = await db.selectFrom('api_keys').selectAll().where('project_id', '=', projectId).execute();
    return rows.map(toApiKey);
  }

  async listAll(db: Db): Promise<ApiKey[]> {
    const rows = await db.selectFrom('api_keys').selectAll().execute();
    return rows.map(toApiKey);
  }

  async revoke(db: Db, id: number, at: string): Promise<boolean> {
    const result = await db.updateTable('api_keys').set({ revoked_at: at }).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async touchLastUsed(db: Db, uses: ReadonlyArray<{ id: number; at: string }>): Promise<void> {
    for (const use of uses) {
      await db
        .updateTable('api_keys')
        .set({ last_used_at: use.at })
        .where('id', '=', use.id)
        .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', use.at)]))
        .execute();
    }
  }
}
