import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';

type Db = Kysely<Database> | Transaction<Database>;

/** A key the server signs its access tokens with. The private half never leaves the server. */
export interface SigningKey {
  /** The JWT `kid`. */
  id: string;
  algorithm: string;
  publicJwk: string;
  privateJwk: string;
  createdAt: string;
  retiredAt: string | null;
}

/** Reads and writes signing keys. */
export interface SigningKeyStore {
  insert(db: Db, key: SigningKey): Promise<void>;
  /** Keys not retired, or retired after `retiredAfter` (their tokens may still be valid); oldest first. */
  listUsable(db: Db, retiredAfter: string): Promise<SigningKey[]>;
}

/** Kysely implementation of `SigningKeyStore`. */
export class KyselySigningKeyStore implements SigningKeyStore {
  async insert(db: Db, k: SigningKey): Promise<void> {
    await db
      .insertInto('signing_keys')
      .values({
        id: k.id,
        algorithm: k.algorithm,
        public_jwk: k.publicJwk,
        private_jwk: k.privateJwk,
        created_at: k.createdAt,
        retired_at: k.retiredAt,
      })
      .execute();
  }

  async listUsable(db: Db, retiredAfter: string): Promise<SigningKey[]> {
    const rows = await db
      .selectFrom('signing_keys')
      .selectAll()
      .where((eb) => eb.or([eb('retired_at', 'is', null), eb('retired_at', '>', retiredAfter)]))
      .orderBy('created_at', 'asc')
      .orderBy('id', 'asc')
      .execute();
    return rows.map((r) => ({
      id: r.id,
      algorithm: r.algorithm,
      publicJwk: r.public_jwk,
      privateJwk: r.private_jwk,
      createdAt: r.created_at,
      retiredAt: r.retired_at,
    }));
  }
}
