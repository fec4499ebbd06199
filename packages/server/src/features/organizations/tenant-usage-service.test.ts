import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ForbiddenError, NotFoundError } from '../../domain/errors.js';
import { EvaluationCounters } from '../../evaluation/evaluation-counters.js';
import { KyselyFlagStore } from '../flags/flag-store.js';
import { KyselyProjectStore } from '../projects/project-store.js';
import { createServiceFixture, type ServiceFixture } from '../../testing/access-fixtures.js';
import { testDialects } from '../../testing/test-database.js';
import { KyselyOrganizationStore } from './organization-store.js';
import { TenantUsageService } from './tenant-usage-service.js';

describe.each(testDialects())('TenantUsageService (%s)', (dialect) => {
  let f: ServiceFixture;
  let owner: Awaited<ReturnType<ServiceFixture['newOwner']>>;
  let other: Awaited<ReturnType<ServiceFixture['newOwner']>>;

  beforeAll(async () => {
    f = await createServiceFixture(dialect);
    owner = await f.newOwner();
    other = await f.newOwner();
  });
  afterAll(async () => f?.destroy());

  it('counts flags that are not archived, members, and evaluations of the current UTC month only (stored and in memory)', async () => {
    const web = await f.services.projects.create(owner.actor, { name: 'Web' });
    await f.services.flags.create(owner.actor, 'default', { key: 'a', type: 'boolean' });
    await f.services.flags.create(owner.actor, web.id, { key: 'b', type: 'boolean' });
    await f.services.flags.create(owner.actor, web.id, { key: 'c', type: 'boolean' });
    await f.services.flags.archive(owner.actor, { projectRef: web.id, flagKey: 'c' });
    await f.services.flags.create(other.actor, 'default', { key: 'theirs', type: 'boolean' });
    const member = await f.newUser();
    await f.addMember(owner.organizationId, member.userId, 'viewer');

    // A clock in late February 2031, shared by the counters and the service.
    let now = Date.UTC(2031, 1, 27, 12);
    const counters = new EvaluationCounters(f.db, () => now);
    const usage = new TenantUsageService(f.db, f.services.access, new KyselyOrganizationStore(), new KyselyProjectStore(), new KyselyFlagStore(), counters, () => now);
    const env = await f.db.selectFrom('environments').select(['id', 'project_id']).where('project_id', '=', web.id).where('key', '=', 'production').executeTakeFirstOrThrow();
    const scope = { environmentId: env.id, projectId: env.project_id, organizationId: owner.organizationId };
    counters.add(scope, 'b', 'on', 7); // February
    await counters.flush();
    now = Date.UTC(2031, 2, 15, 12);
    counters.add(scope, 'b', 'on', 5);
    await counters.flush();
    counters.add(scope, 'b', 'off', 2); // not flushed yet
    const theirs = await f.db.selectFrom('environments').innerJoin('projects', 'projects.id', 'environments.project_id').select(['environments.id as id', 'projects.id as projectId']).where('projects.organization_id', '=', other.organizationId).where('environments.key', '=', 'production').executeTakeFirstOrThrow();
    counters.add({ environmentId: theirs.id, projectId: theirs.projectId, organizationId: other.organizationId }, 'theirs', 'on', 100);

    expect(await usage.usage(owner.actor, owner.organizationId)).toEqual({ flags: 2, evaluations: 7, users: 2, period: { from: '2031-03-01', to: '2031-03-15' } });
  });

  it('needs usage:read in the organisation; another organisation is absent', async () => {
    await expect(f.services.tenantUsage.usage(other.actor, owner.organizationId)).rejects.toBeInstanceOf(NotFoundError);
    await f.services.roles.create(owner.actor, owner.organizationId, { key: 'reader', name: 'Reader', permissions: ['organization:read'] });
    const reader = await f.newUser();
    await f.addMember(owner.organizationId, reader.userId, 'reader');
    await expect(f.services.tenantUsage.usage({ ...reader.actor, organizationId: owner.organizationId }, owner.organizationId)).rejects.toBeInstanceOf(ForbiddenError);
  });
});
