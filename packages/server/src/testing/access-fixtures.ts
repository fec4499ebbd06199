import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { createServices, type Services } from '../composition.js';
import { loadConfig, type Config } from '../config.js';
import { testConfigEnv } from './test-config.js';
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
  const config = { ...loadConfig({ LOG_LEVEL: 'silent', ...testConfigEnv, ...env }), database: database.target };
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

/** A user who joined an organisation through an invitation, as HTTP tests use them. */
export interface JoinedUser {
  accessToken: string;
  refreshToken: string;
  userId: number;
  email: string;
  password: string;
}

/**
 * Over HTTP, exactly as clients do: `admin` invites a new email as `role`, the token is read from
 * the organisation's mail outbox, and the invitee accepts it, creating their account.
 */
export async function inviteAndJoin(app: FastifyInstance, admin: { accessToken: string; organizationId: number }, role: string): Promise<JoinedUser> {
  const email = `invitee-${randomBytes(5).toString('hex')}@example.test`;
  const headers = { authorization: `Bearer ${admin.accessToken}`, 'x-tenant-id': String(admin.organizationId) };
  const invited = await app.inject({ method: 'POST', url: '/api/v1/invitations', headers, payload: { email, role } });
  if (invited.statusCode !== 200) throw new Error(`invite failed: ${invited.statusCode} ${invited.body}`);
  const token = await invitationTokenFromOutbox(app, admin, email);
  const password = `pw-${randomBytes(5).toString('hex')}`;
  const accepted = await app.inject({ method: 'POST', url: '/api/v1/invitations/accept', payload: { token, password } });
  if (accepted.statusCode !== 200) throw new Error(`accept failed: ${accepted.statusCode} ${accepted.body}`);
  const data = accepted.json().data as { accessToken: string; refreshToken: string; user: { uid: string } };
  return { accessToken: data.accessToken, refreshToken: data.refreshToken, userId: Number(data.user.uid.replace(/^usr_/, '')), email, password };
}

/** The token in the newest invitation mail to `email`, read through `GET /api/v1/mail-outbox`. */
export async function invitationTokenFromOutbox(app: FastifyInstance, admin: { accessToken: string; organizationId: number }, email: string): Promise<string> {
  const res = await app.inject({
    method: 'GET',
    url: '/api/v1/mail-outbox',
    headers: { authorization: `Bearer ${admin.accessToken}`, 'x-tenant-id': String(admin.organizationId) },
  });
  if (res.statusCode !== 200) throw new Error(`outbox failed: ${res.statusCode} ${res.body}`);
  const mail = (res.json() as Array<{ to: string; textBody: string }>).find((m) => m.to === email);
  const token = mail && /[?&]token=([A-Za-z0-9_-]+)/.exec(mail.textBody)?.[1];
  if (!token) throw new Error(`no invitation mail to ${email}`);
  return token;
}
