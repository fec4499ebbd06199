import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';

type Db = Kysely<Database> | Transaction<Database>;

/** An OAuth2 client as stored: never the secret, only its SHA-256. */
export interface OAuthClient {
  id: number;
  organizationId: number;
  name: string;
  /** The scopes it was granted, in the vocabulary's order. */
  scopes: string[];
  /** SHA-256 (hex) of the secret. */
  secretHash: string;
  createdBy: number | null;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

/** Storage of OAuth clients. Decides nothing about permissions. */
export interface OAuthClientStore {
  insert(db: Db, client: OAuthClient): Promise<void>;
  findById(db: Db, id: number): Promise<OAuthClient | null>;
  /** The client with this id, if it belongs to `organizationId`. */
  findInOrganization(db: Db, organizationId: number, id: number): Promise<OAuthClient | null>;
  /** A page of an organisation's clients, newest first, and how many there are in all. */
  listInOrganization(db: Db, organizationId: number, page: { limit: number; offset: number }): Promise<{ items: OAuthClient[]; total: number }>;
  /** Sets `revoked_at` unless already set; true when this call revoked it. */
  revoke(db: Db, id: number, at: string): Promise<boolean>;
  touchLastUsed(db: Db, id: number, at: string): Promise<void>;
  /** What every request with a machine token checks: the client's state, in one primary-key read. */
  findState(db: Db, id: number): Promise<{ organizationId: number; revokedAt: string | null; scopes: string[] } | null>;
}

type Row = Database['oauth_clients'];

function parseScopes(raw: string): string[] {
  try {
    const parsed: unknown = JSON.parse(raw);
    return Array.isArray(parsed) ? parsed.filter((s): s is string => typeof s === 'string') : [];
  } catch {
    return [];
  }
}

function toClient(r: Row): OAuthClient {
  return {
    id: r.id,
    organizationId: r.organization_id,
    name: r.name,
    scopes: parseScopes(r.scopes),
    secretHash: r.secret_hash,
    createdBy: r.created_by,
    createdAt: r.created_at,
    lastUsedAt: r.last_used_at,
    revokedAt: r.revoked_at,
  };
}

/** Kysely implementation of `OAuthClientStore`. */
export class KyselyOAuthClientStore implements OAuthClientStore {
  async insert(db: Db, c: OAuthClient): Promise<void> {
    await db
      .insertInto('oauth_clients')
      .values({
        id: c.id,
        organization_id: c.organizationId,
        name: c.name,
        scopes: JSON.stringify(c.scopes),
        secret_hash: c.secretHash,
        created_by: c.createdBy,
        created_at: c.createdAt,
        last_used_at: c.lastUsedAt,
        revoked_at: c.revokedAt,
      })
      .execute();
  }

  async findById(db: Db, id: number): Promise<OAuthClient | null> {
    const row = await db.selectFrom('oauth_clients').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toClient(row) : null;
  }

  async findInOrganization(db: Db, organizationId: number, id: number): Promise<OAuthClient | null> {
    const row = await db
      .selectFrom('oauth_clients')
      .selectAll()
      .where('id', '=', id)
      .where('organization_id', '=', organizationId)
      .executeTakeFirst();
    return row ? toClient(row) : null;
  }

  async listInOrganization(db: Db, organizationId: number, page: { limit: number; offset: number }): Promise<{ items: OAuthClient[]; total: number }> {
    const rows = await db
      .selectFrom('oauth_clients')
      .selectAll()
      .where('organization_id', '=', organizationId)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(page.limit)
      .offset(page.offset)
      .execute();
    const count = await db
      .selectFrom('oauth_clients')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('organization_id', '=', organizationId)
      .executeTakeFirstOrThrow();
    return { items: rows.map(toClient), total: Number(count.n) };
  }

  async revoke(db: Db, id: number, at: string): Promise<boolean> {
    const result = await db
      .updateTable('oauth_clients')
      .set({ revoked_at: at })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async touchLastUsed(db: Db, id: number, at: string): Promise<void> {
    await db.updateTable('oauth_clients').set({ last_used_at: at }).where('id', '=', id).execute();
  }

  async findState(db: Db, id: number): Promise<{ organizationId: number; revokedAt: string | null; scopes: string[] } | null> {
    const row = await db
      .selectFrom('oauth_clients')
      .select(['organization_id', 'revoked_at', 'scopes'])
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? { organizationId: row.organization_id, revokedAt: row.revoked_at, scopes: parseScopes(row.scopes) } : null;
  }
}
