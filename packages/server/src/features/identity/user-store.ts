import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';

type Db = Kysely<Database> | Transaction<Database>;

/** Platform-wide roles, independent of any organisation. */
export type PlatformRole = 'viewer' | 'admin' | 'super_user';

/** `deactivated` users cannot sign in and their tokens stop working at once. */
export type UserStatus = 'active' | 'deactivated';

/** An account. The password hash never leaves the identity slice. */
export interface User {
  id: number;
  /** Normalised: trimmed and lower-cased. */
  email: string;
  name: string | null;
  emailVerified: boolean;
  platformRole: PlatformRole | null;
  status: UserStatus;
  createdAt: string;
  updatedAt: string;
  lastLoginAt: string | null;
}

/** A user together with the stored password hash, for the one place that checks passwords. */
export interface UserWithPassword extends User {
  passwordHash: string | null;
}

/** Reads and writes accounts. Decides nothing. */
export interface UserStore {
  insert(db: Db, user: UserWithPassword): Promise<void>;
  findById(db: Db, id: number): Promise<User | null>;
  /** `email` must already be normalised. */
  findByEmailWithPassword(db: Db, email: string): Promise<UserWithPassword | null>;
  recordLogin(db: Db, id: number, at: string): Promise<void>;
  setStatus(db: Db, id: number, status: UserStatus, at: string): Promise<void>;
  setPasswordHash(db: Db, id: number, passwordHash: string | null, at: string): Promise<void>;
  setEmailVerified(db: Db, id: number, at: string): Promise<void>;
}

type UserRow = Database['users'];

function toUserWithPassword(r: UserRow): UserWithPassword {
  return {
    id: r.id,
    email: r.email,
    name: r.name,
    emailVerified: r.email_verified === 1,
    platformRole: r.platform_role as PlatformRole | null,
    status: r.status as UserStatus,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    lastLoginAt: r.last_login_at,
    passwordHash: r.password_hash,
  };
}

/** Drops the password hash. */
export function withoutPassword(u: UserWithPassword): User {
  const { passwordHash: _passwordHash, ...user } = u;
  return user;
}

/** Kysely implementation of `UserStore`. */
export class KyselyUserStore implements UserStore {
  async insert(db: Db, u: UserWithPassword): Promise<void> {
    await db
      .insertInto('users')
      .values({
        id: u.id,
        email: u.email,
        name: u.name,
        password_hash: u.passwordHash,
        email_verified: u.emailVerified ? 1 : 0,
        platform_role: u.platformRole,
        status: u.status,
        created_at: u.createdAt,
        updated_at: u.updatedAt,
        last_login_at: u.lastLoginAt,
      })
      .execute();
  }

  async findById(db: Db, id: number): Promise<User | null> {
    const row = await db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? withoutPassword(toUserWithPassword(row)) : null;
  }

  async findByEmailWithPassword(db: Db, email: string): Promise<UserWithPassword | null> {
    const row = await db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();
    return row ? toUserWithPassword(row) : null;
  }

  async recordLogin(db: Db, id: number, at: string): Promise<void> {
    await db.updateTable('users').set({ last_login_at: at }).where('id', '=', id).execute();
  }

  async setStatus(db: Db, id: number, status: UserStatus, at: string): Promise<void> {
    await db.updateTable('users').set({ status, updated_at: at }).where('id', '=', id).execute();
  }

  async setPasswordHash(db: Db, id: number, passwordHash: string | null, at: string): Promise<void> {
    await db.updateTable('users').set({ password_hash: passwordHash, updated_at: at }).where('id', '=', id).execute();
  }

  async setEmailVerified(db: Db, id: number, at: string): Promise<void> {
    await db.updateTable('users').set({ email_verified: 1, updated_at: at }).where('id', '=', id).execute();
  }
}
