import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ForbiddenError, NotFoundError, ValidationError } from '../../domain/errors.js';
import { createServiceFixture, userActor, type ServiceFixture } from '../../testing/access-fixtures.js';
import { defaultProjectOf } from '../../testing/targeting-fixtures.js';
import { testDialects } from '../../testing/test-database.js';
import { hashApiKey } from './api-key-format.js';

describe.each(testDialects())('ApiKeyService per environment (%s)', (dialect) => {
  let f: ServiceFixture;
  let owner: Awaited<ReturnType<ServiceFixture['newOwner']>>;
  let other: Awaited<ReturnType<ServiceFixture['newOwner']>>;
  let project: { id: number; environments: Record<string, number> };

  beforeAll(async () => {
    f = await createServiceFixture(dialect);
    owner = await f.newOwner();
    other = await f.newOwner();
    project = await defaultProjectOf(f.db, owner.organizationId);
  });
  afterAll(async () => f?.destroy());

  it('createInEnvironment stores only the hash, audits it; an environment the project lacks is not found (not a bad field)', async () => {
    const production = project.environments.production!;
    const { key, secret } = await f.services.apiKeys.createInEnvironment(owner.actor, project.id, production, { name: 'Production Key', scope: 'sdk', expiresAt: null });
    expect(key).toMatchObject({ environmentId: production, environmentKey: 'production', name: 'Production Key', scope: 'sdk' });
    expect(secret.startsWith(key.prefix)).toBe(true);
    const row = await f.db.selectFrom('api_keys').selectAll().where('id', '=', key.id).executeTakeFirstOrThrow();
    expect(row.key_hash).toBe(hashApiKey(secret));
    expect(JSON.stringify(row)).not.toContain(secret);
    expect(await f.db.selectFrom('audit_events').select('action').where('resource_id', '=', String(key.id)).execute()).toEqual([{ action: 'api_key.created' }]);

    const foreignEnv = (await defaultProjectOf(f.db, other.organizationId)).environments.production!;
    await expect(f.services.apiKeys.createInEnvironment(owner.actor, project.id, foreignEnv, { name: 'x', scope: 'sdk', expiresAt: null })).rejects.toThrow('Environment not found');
    await expect(f.services.apiKeys.createInEnvironment(other.actor, project.id, production, { name: 'x', scope: 'sdk', expiresAt: null })).rejects.toThrow('Project not found');
    await expect(f.services.apiKeys.createInEnvironment(owner.actor, project.id, production, { name: ' ', scope: 'sdk', expiresAt: null })).rejects.toBeInstanceOf(ValidationError);
    // The body-named form still reports the environment as a bad field.
    await expect(f.services.apiKeys.create(owner.actor, project.id, { name: 'x', environment: foreignEnv, scope: 'sdk', expiresAt: null })).rejects.toBeInstanceOf(ValidationError);
  });

  it('listInEnvironment lists that environment’s keys for anyone who may read the project; writing still needs api_keys:write', async () => {
    const staging = project.environments.staging!;
    const a = await f.services.apiKeys.createInEnvironment(owner.actor, project.id, staging, { name: 'Staging A', scope: 'sdk', expiresAt: null });
    const b = await f.services.apiKeys.createInEnvironment(owner.actor, project.id, staging, { name: 'Staging B', scope: 'server', expiresAt: null });
    const viewer = await f.newUser();
    await f.addMember(owner.organizationId, viewer.userId, 'viewer');
    const actor = userActor(viewer.userId, owner.organizationId);
    const page = await f.services.apiKeys.listInEnvironment(actor, project.id, staging);
    expect(page.total).toBe(2);
    expect(page.items.map((k) => k.id).sort()).toEqual([a.key.id, b.key.id].sort());
    expect((await f.services.apiKeys.listInEnvironment(actor, project.id, staging, { limit: 1 })).items).toHaveLength(1);
    await expect(f.services.apiKeys.list(actor, project.id)).rejects.toBeInstanceOf(ForbiddenError);
    await expect(f.services.apiKeys.createInEnvironment(actor, project.id, staging, { name: 'nope', scope: 'sdk', expiresAt: null })).rejects.toBeInstanceOf(ForbiddenError);
    await expect(f.services.apiKeys.listInEnvironment(other.actor, project.id, staging)).rejects.toBeInstanceOf(NotFoundError);
    await expect(f.services.apiKeys.listInEnvironment(owner.actor, project.id, 12345)).rejects.toThrow('Environment not found');
  });
});
