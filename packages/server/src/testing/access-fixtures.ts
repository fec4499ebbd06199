import type { Kysely } from 'kysely';
import { createServices, type Services } from '../composition.js';
import { loadConfig, type Config } from '../config.js';
import type { Dialect } from '../db/connect.js';
import type { Database } from '../db/schema.js';
import type { Actor } from '../domain/actor.js';
import { newId } from '../domain/ids.js';
import { createTestDatabase, type TestDatabase } from './test-database.js';

/** Services over a fresh database, for service tests that need no HTTP. */
export interface ServiceFixture {
  services: Services;
  db: Kysely<Database>;
  config: Config;
  database: TestDatabase;
  /** A new account (password `password123`) and a user actor for it, acting in `organizationId`. */
  newUser(email?: string, organizationId?: number | null): Promise<{ userId: number; email: string; actor: Actor }>;
  /** A new account that owns (admins) a new organisation. */
  newOwner(email?: string): Promise<{ userId: number; email: string; actor: Actor; organizationId: number }>;
  /** Makes `userId` a member of `organizationId` directly (no invitation). */
  addMember(organizationId: number, userId: number, role: string): Promise<void>;
  destroy(): Promise<void>;
}

let counter = 0;

/** The actor a user token for `userId` in `organizationId` would give. */
export function userActor(userId: number, organizationId: number | null = null, scopes: readonly string[] | null = null): Actor {
  return { kind: 'user', userId, credentialId: null, organizationId, role: null, platformRole: null, scopes, sessionId: null };
}

/** Builds the real services over a new, migrated database of `dialect`. */
export async function createServiceFixture(dialect: Dialect, env: Record<string, string> = {}): Promise<ServiceFixture> {
  const database = await createTestDatabase(dialect);
  const config = { ...loadConfig({ LOG_LEVEL: 'silent', ...env }), database: database.target };
  const services = createServices(config, database.handle);
  await services.tokens.ready();
  const db = database.handle.db;
  const newUser: ServiceFixture['newUser'] = async (email, organizationId = null) => {
    const address = email ?? `user${++counter}-${Date.now()}@example.com`;
    const user = await services.accounts.createAccount({ email: address, password: 'password123', name: null, emailVerified: true });
    return { userId: user.id, email: user.email, actor: userActor(user.id, organizationId) };
  };
  return {
    services,
    db,
    config,
    database,
    newUser,
    async newOwner(email) {
      const u = await newUser(email);
      const org = await services.organizations.createWithOwner(u.actor, { name: `Org of ${u.email}` }, u.userId);
      return { ...u, actor: userActor(u.userId, org.id), organizationId: org.id };
    },
    async addMember(organizationId, userId, role) {
      const now = new Date().toISOString();
      await db
        .insertInto('memberships')
        .values({ id: newId(), organization_id: organizationId, user_id: userId, role, created_at: now, updated_at: now, last_accessed_at: null })
        .execute();
    },
    destroy: () => database.destroy(),
  };
}
