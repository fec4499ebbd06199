import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServiceFixture, type ServiceFixture } from '../../testing/access-fixtures.js';
import { testDialects } from '../../testing/test-database.js';
import type { ConfigChange } from '../../evaluation/change-bus.js';

describe.each(testDialects())('NotificationService flag-change notifications on %s', (dialect) => {
  let f: ServiceFixture;
  let owner: Awaited<ReturnType<ServiceFixture['newOwner']>>;
  let member: Awaited<ReturnType<ServiceFixture['newUser']>>;
  let projectId: number;

  beforeAll(async () => {
    f = await createServiceFixture(dialect);
    owner = await f.newOwner();
    member = await f.newUser();
    await f.addMember(owner.organizationId, member.userId, 'viewer');
    const project = await f.db.selectFrom('projects').select('id').where('organization_id', '=', owner.organizationId).executeTakeFirstOrThrow();
    projectId = project.id;
  });
  afterAll(async () => f.destroy());

  const change = (overrides: Partial<ConfigChange> & { remote?: boolean }): ConfigChange => ({
    organizationId: owner.organizationId,
    projectId,
    environmentIds: 'all',
    entity: 'flag',
    action: 'updated',
    key: 'some-flag',
    actorUserId: owner.userId,
    ...overrides,
  });
  const countFor = async (userId: number) => (await f.db.selectFrom('notifications').select('id').where('user_id', '=', userId).execute()).length;

  it('notifies readers of the project but the actor, in the background', async () => {
    f.services.notifications.onConfigChange(change({}));
    await f.services.notifications.idle();
    expect(await countFor(member.userId)).toBe(1);
    expect(await countFor(owner.userId)).toBe(0);
  });

  it('ignores non-flag changes and changes relayed from another instance', async () => {
    const before = await countFor(member.userId);
    f.services.notifications.onConfigChange(change({ entity: 'segment' }));
    f.services.notifications.onConfigChange(change({ entity: 'project', key: 'default' }));
    f.services.notifications.onConfigChange(change({ remote: true }));
    await f.services.notifications.idle();
    expect(await countFor(member.userId)).toBe(before);
  });

  it('a change without an actor (system) notifies every reader', async () => {
    const before = { owner: await countFor(owner.userId), member: await countFor(member.userId) };
    f.services.notifications.onConfigChange(change({ actorUserId: null, action: 'deleted' }));
    await f.services.notifications.idle();
    expect(await countFor(owner.userId)).toBe(before.owner + 1);
    expect(await countFor(member.userId)).toBe(before.member + 1);
  });
});
