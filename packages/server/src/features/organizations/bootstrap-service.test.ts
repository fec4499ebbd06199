import { afterEach, describe, expect, it } from 'vitest';
import { createServices } from '../../composition.js';
import { loadConfig } from '../../config.js';
import { openDatabase } from '../../db/connect.js';
import { createTestDatabase, testDialects, type TestDatabase } from '../../testing/test-database.js';

const adminEnv = { SWITCHYARD_ADMIN_EMAIL: 'Root@Example.com', SWITCHYARD_ADMIN_PASSWORD: 'correct-horse', LOG_LEVEL: 'silent' };

describe.each(testDialects())('BootstrapService on %s', (dialect) => {
  let database: TestDatabase | null = null;
  afterEach(async () => {
    await database?.destroy();
    database = null;
  });

  const servicesFor = (db: TestDatabase, env: Record<string, string>, handle = db.handle) =>
    createServices({ ...loadConfig(env), database: db.target }, handle);

  const counts = async (db: TestDatabase) => ({
    users: (await db.handle.db.selectFrom('users').select('id').execute()).length,
    organizations: (await db.handle.db.selectFrom('organizations').select('id').execute()).length,
    projects: (await db.handle.db.selectFrom('projects').select('id').execute()).length,
    environments: (await db.handle.db.selectFrom('environments').select('id').execute()).length,
  });

  it('does nothing without SWITCHYARD_ADMIN_EMAIL', async () => {
    database = await createTestDatabase(dialect);
    await expect(servicesFor(database, { LOG_LEVEL: 'silent' }).bootstrap.run()).resolves.toEqual({ status: 'disabled' });
    expect(await counts(database)).toEqual({ users: 0, organizations: 0, projects: 0, environments: 0 });
  });

  it('creates the admin (platform admin), the organisation and its default project, once', async () => {
    database = await createTestDatabase(dialect);
    const services = servicesFor(database, { ...adminEnv, SWITCHYARD_ADMIN_ORG: 'Acme' });
    const outcome = await services.bootstrap.run();
    expect(outcome).toMatchObject({ status: 'created', email: 'root@example.com' });

    const user = await database.handle.db.selectFrom('users').selectAll().executeTakeFirstOrThrow();
    expect(user).toMatchObject({ email: 'root@example.com', platform_role: 'admin', email_verified: 1 });
    const org = await database.handle.db.selectFrom('organizations').selectAll().executeTakeFirstOrThrow();
    expect(org.name).toBe('Acme');
    const membership = await database.handle.db.selectFrom('memberships').selectAll().executeTakeFirstOrThrow();
    expect(membership).toMatchObject({ user_id: user.id, organization_id: org.id, role: 'admin' });
    const project = await database.handle.db.selectFrom('projects').selectAll().executeTakeFirstOrThrow();
    expect(project).toMatchObject({ organization_id: org.id, key: 'default', is_default: 1 });
    const envs = await database.handle.db.selectFrom('environments').select('key').where('project_id', '=', project.id).orderBy('position').execute();
    expect(envs.map((e) => e.key)).toEqual(['development', 'staging', 'production']);
    // The configured password signs in.
    await services.tokens.ready();
    await expect(services.accounts.login({ email: 'root@example.com', password: 'correct-horse' })).resolves.toMatchObject({ activeOrganizationId: org.id });

    // A restart finds the user and changes nothing.
    await expect(servicesFor(database, { ...adminEnv, SWITCHYARD_ADMIN_ORG: 'Acme' }).bootstrap.run()).resolves.toEqual({ status: 'exists', email: 'root@example.com' });
    expect(await counts(database)).toEqual({ users: 1, organizations: 1, projects: 1, environments: 3 });
  });

  it('makes the admin a super_user when the email is in ADMIN_SUPER_USER_EMAILS, and names the organisation "Default"', async () => {
    database = await createTestDatabase(dialect);
    await servicesFor(database, { ...adminEnv, ADMIN_SUPER_USER_EMAILS: 'other@example.com, root@example.com' }).bootstrap.run();
    const user = await database.handle.db.selectFrom('users').selectAll().executeTakeFirstOrThrow();
    expect(user.platform_role).toBe('super_user');
    const org = await database.handle.db.selectFrom('organizations').selectAll().executeTakeFirstOrThrow();
    expect(org.name).toBe('Default');
  });

  it('creates exactly one admin when two instances start at the same time', async () => {
    database = await createTestDatabase(dialect);
    const second = openDatabase(database.target);
    try {
      const a = servicesFor(database, adminEnv);
      const b = servicesFor(database, adminEnv, second);
      const outcomes = await Promise.all([a.bootstrap.run(), b.bootstrap.run()]);
      expect(outcomes.map((o) => o.status).sort()).toEqual(['created', 'exists']);
      expect(await counts(database)).toEqual({ users: 1, organizations: 1, projects: 1, environments: 3 });
    } finally {
      await second.close();
    }
  });
});
