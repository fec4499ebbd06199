import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../../domain/errors.js';
import type { ConfigChange } from '../../evaluation/change-bus.js';
import { createServiceFixture, userActor, type ServiceFixture } from '../../testing/access-fixtures.js';
import { testDialects } from '../../testing/test-database.js';

describe.each(testDialects())('TenantEnvironmentService (%s)', (dialect) => {
  let f: ServiceFixture;
  let owner: Awaited<ReturnType<ServiceFixture['newOwner']>>;
  let other: Awaited<ReturnType<ServiceFixture['newOwner']>>;
  const published: ConfigChange[] = [];

  beforeAll(async () => {
    f = await createServiceFixture(dialect);
    owner = await f.newOwner();
    other = await f.newOwner();
    await f.services.projects.create(owner.actor, { name: 'Web' });
    f.services.changes.subscribe((c) => {
      published.push(c);
    });
  });
  afterAll(async () => f?.destroy());

  const envKeys = async (organizationId: number) => {
    const rows = await f.db
      .selectFrom('environments')
      .innerJoin('projects', 'projects.id', 'environments.project_id')
      .select(['projects.key as project', 'environments.key as env'])
      .where('projects.organization_id', '=', organizationId)
      .orderBy('projects.key')
      .orderBy('environments.position')
      .execute();
    const out: Record<string, string[]> = {};
    for (const r of rows) (out[r.project] ??= []).push(r.env);
    return out;
  };

  it('adds to the list and to every project, in one transaction, audited, then publishes one change per new environment', async () => {
    const envs = f.services.tenantEnvironments;
    published.length = 0;
    const change = await envs.add(owner.actor, owner.organizationId, 'qa');
    expect(change).toEqual({ environment: 'qa', projects: ['default', 'web'] });
    expect((await envs.list(owner.actor, owner.organizationId)).map((e) => e.key)).toEqual(['development', 'staging', 'production', 'qa']);
    expect(await envKeys(owner.organizationId)).toEqual({ default: ['development', 'staging', 'production', 'qa'], web: ['development', 'staging', 'production', 'qa'] });
    expect(published.map((c) => [c.entity, c.action, c.key])).toEqual([['environment', 'created', 'qa'], ['environment', 'created', 'qa']]);
    // The snapshot cache built them.
    const web = await f.services.projects.get(owner.actor, 'web');
    expect(f.services.snapshots.forProject(web.id).map((s) => s.environmentKey)).toContain('qa');
    await expect(envs.add(owner.actor, owner.organizationId, 'qa')).rejects.toBeInstanceOf(ConflictError);
    await expect(envs.add(owner.actor, owner.organizationId, 'bad key')).rejects.toBeInstanceOf(ValidationError);
    // Nothing of the other organisation changed.
    expect((await envKeys(other.organizationId)).default).toEqual(['development', 'staging', 'production']);
  });

  it('a project that already has the environment keeps its own', async () => {
    const envs = f.services.tenantEnvironments;
    const own = await f.services.environments.create(owner.actor, 'web', { key: 'perf', name: 'Performance', color: '#123456' });
    expect((await envs.add(owner.actor, owner.organizationId, 'perf')).projects).toEqual(['default']);
    const webPerf = await f.db.selectFrom('environments').select(['id', 'name']).where('project_id', '=', own.projectId).where('key', '=', 'perf').execute();
    expect(webPerf).toEqual([{ id: own.id, name: 'Performance' }]);
  });

  it('removes from the list and every project; refused without change when a project would be left with none; 404 when nowhere', async () => {
    const envs = f.services.tenantEnvironments;
    published.length = 0;
    expect(await envs.remove(owner.actor, owner.organizationId, 'perf')).toEqual({ environment: 'perf', projects: ['default', 'web'] });
    expect(published.map((c) => [c.action, c.key])).toEqual([['deleted', 'perf'], ['deleted', 'perf']]);
    await expect(envs.remove(owner.actor, owner.organizationId, 'perf')).rejects.toBeInstanceOf(NotFoundError);

    const lonely = await f.services.projects.create(owner.actor, { name: 'Lonely' });
    for (const key of ['development', 'staging', 'qa']) await f.services.environments.delete(owner.actor, lonely.id, key);
    const before = await envKeys(owner.organizationId);
    const err = await envs.remove(owner.actor, owner.organizationId, 'production').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect(err).toMatchObject({ code: 'last_environment', details: { environment: 'production', projects: ['lonely'] } });
    expect(await envKeys(owner.organizationId)).toEqual(before);
    expect((await envs.list(owner.actor, owner.organizationId)).map((e) => e.key)).toContain('production');
    const audits = await f.db.selectFrom('audit_events').select('action').where('organization_id', '=', owner.organizationId).where('action', 'like', 'organization.environment_%').execute();
    expect(audits.map((a) => a.action).sort()).toEqual(['organization.environment_added', 'organization.environment_added', 'organization.environment_removed']);
  });

  it('needs projects:read to list and environments:write to change; another organisation is absent', async () => {
    const envs = f.services.tenantEnvironments;
    const viewer = await f.newUser();
    await f.addMember(owner.organizationId, viewer.userId, 'viewer');
    const actor = userActor(viewer.userId, owner.organizationId);
    expect((await envs.list(actor, owner.organizationId)).length).toBeGreaterThan(0);
    await expect(envs.add(actor, owner.organizationId, 'x')).rejects.toBeInstanceOf(ForbiddenError);
    await expect(envs.remove(actor, owner.organizationId, 'qa')).rejects.toBeInstanceOf(ForbiddenError);
    await expect(envs.list(other.actor, owner.organizationId)).rejects.toBeInstanceOf(NotFoundError);
    await expect(envs.add(other.actor, owner.organizationId, 'x')).rejects.toBeInstanceOf(NotFoundError);
    await expect(envs.remove(other.actor, owner.organizationId, 'qa')).rejects.toBeInstanceOf(NotFoundError);
  });
});
