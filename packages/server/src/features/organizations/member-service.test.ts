import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../../domain/errors.js';
import { createServiceFixture, userActor, type ServiceFixture } from '../../testing/access-fixtures.js';
import { testDialects } from '../../testing/test-database.js';

describe.each(testDialects())('MemberService on %s', (dialect) => {
  let f: ServiceFixture;
  beforeAll(async () => {
    f = await createServiceFixture(dialect);
  });
  afterAll(async () => f.destroy());

  const auditActions = async (organizationId: number) =>
    (await f.db.selectFrom('audit_events').select('action').where('organization_id', '=', organizationId).orderBy('created_at').execute()).map((a) => a.action);

  it('lists members with email, name and role, oldest first, paged', async () => {
    const owner = await f.newOwner();
    const dev = await f.newUser();
    await f.addMember(owner.organizationId, dev.userId, 'developer');
    const page = await f.services.members.list(owner.actor, owner.organizationId);
    expect(page.total).toBe(2);
    expect(page.items.map((m) => [m.userId, m.email, m.role])).toEqual([
      [owner.userId, owner.email, 'admin'],
      [dev.userId, dev.email, 'developer'],
    ]);
    const second = await f.services.members.list(owner.actor, owner.organizationId, { limit: 1, offset: 1 });
    expect(second).toMatchObject({ total: 2, items: [{ userId: dev.userId }] });
    await expect(f.services.members.list(owner.actor, owner.organizationId, { limit: 0 })).rejects.toBeInstanceOf(ValidationError);
  });

  it('changes a role (built in or custom), audited with before and after', async () => {
    const owner = await f.newOwner();
    const u = await f.newUser();
    await f.addMember(owner.organizationId, u.userId, 'viewer');
    const changed = await f.services.members.changeRole(owner.actor, owner.organizationId, u.userId, 'developer');
    expect(changed.role).toBe('developer');
    await f.services.roles.create(owner.actor, owner.organizationId, { key: 'auditor', name: 'Auditor', permissions: ['audit:read'] });
    await f.services.members.changeRole(owner.actor, owner.organizationId, u.userId, 'auditor');
    const stored = await f.db.selectFrom('memberships').select('role').where('organization_id', '=', owner.organizationId).where('user_id', '=', u.userId).executeTakeFirstOrThrow();
    expect(stored.role).toBe('auditor');
    const rows = await f.db.selectFrom('audit_events').selectAll().where('organization_id', '=', owner.organizationId).where('action', '=', 'member.role_changed').orderBy('created_at').execute();
    expect(rows.map((r) => [JSON.parse(r.before!).role, JSON.parse(r.after!).role, r.resource_id])).toEqual([
      ['viewer', 'developer', String(u.userId)],
      ['developer', 'auditor', String(u.userId)],
    ]);
    await expect(f.services.members.changeRole(owner.actor, owner.organizationId, u.userId, 'nope')).rejects.toMatchObject({ fields: { role: expect.any(String) } });
  });

  it('never demotes or removes the last admin, but allows it once another admin exists', async () => {
    const owner = await f.newOwner();
    const err = await f.services.members.changeRole(owner.actor, owner.organizationId, owner.userId, 'viewer').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect((err as ConflictError).code).toBe('last_admin');
    await expect(f.services.members.remove(owner.actor, owner.organizationId, owner.userId)).rejects.toMatchObject({ code: 'last_admin' });

    const second = await f.newUser();
    await f.addMember(owner.organizationId, second.userId, 'admin');
    await f.services.members.changeRole(owner.actor, owner.organizationId, owner.userId, 'viewer');
    await expect(f.services.members.changeRole(userActor(second.userId), owner.organizationId, second.userId, 'viewer')).rejects.toMatchObject({ code: 'last_admin' });
  });

  it('keeps an admin when every admin demotes another at the same time', async () => {
    const owner = await f.newOwner();
    const admins = [owner.userId];
    for (let i = 0; i < 4; i++) {
      const u = await f.newUser();
      await f.addMember(owner.organizationId, u.userId, 'admin');
      admins.push(u.userId);
    }
    // Open the pool's connections first, so the five transactions really run side by side.
    await Promise.all(admins.map(() => f.db.selectFrom('organizations').select('id').execute()));
    // A ring: each admin demotes the next one, all at once.
    const results = await Promise.allSettled(
      admins.map((id, i) => f.services.members.changeRole(userActor(id), owner.organizationId, admins[(i + 1) % admins.length]!, 'viewer')),
    );
    const left = await f.db.selectFrom('memberships').select('user_id').where('organization_id', '=', owner.organizationId).where('role', '=', 'admin').execute();
    expect(left.length).toBeGreaterThanOrEqual(1);
    expect(results.filter((r) => r.status === 'fulfilled').length).toBe(admins.length - left.length);
  });

  it('lets anyone leave, and needs members:write to remove someone else', async () => {
    const owner = await f.newOwner();
    const a = await f.newUser();
    const b = await f.newUser();
    await f.addMember(owner.organizationId, a.userId, 'viewer');
    await f.addMember(owner.organizationId, b.userId, 'developer');
    await expect(f.services.members.remove(userActor(a.userId), owner.organizationId, b.userId)).rejects.toBeInstanceOf(ForbiddenError);
    await f.services.members.remove(userActor(a.userId), owner.organizationId, a.userId);
    await f.services.members.remove(owner.actor, owner.organizationId, b.userId);
    const left = await f.db.selectFrom('memberships').select('user_id').where('organization_id', '=', owner.organizationId).execute();
    expect(left.map((m) => m.user_id)).toEqual([owner.userId]);
    const actions = await auditActions(owner.organizationId);
    expect(actions).toContain('member.left');
    expect(actions).toContain('member.removed');
    await expect(f.services.members.remove(owner.actor, owner.organizationId, b.userId)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('does not let a member manage someone holding more than they do', async () => {
    const owner = await f.newOwner();
    await f.services.roles.create(owner.actor, owner.organizationId, { key: 'people', name: 'People', permissions: ['members:read', 'members:write'] });
    const hr = await f.newUser();
    const viewer = await f.newUser();
    await f.addMember(owner.organizationId, hr.userId, 'people');
    await f.addMember(owner.organizationId, viewer.userId, 'viewer');
    const hrActor = userActor(hr.userId);
    // Promoting to admin, demoting the admin, or removing the admin would all be escalation.
    await expect(f.services.members.changeRole(hrActor, owner.organizationId, viewer.userId, 'admin')).rejects.toMatchObject({ code: 'permission_escalation' });
    await expect(f.services.members.changeRole(hrActor, owner.organizationId, owner.userId, 'viewer')).rejects.toMatchObject({ code: 'permission_escalation' });
    await expect(f.services.members.remove(hrActor, owner.organizationId, owner.userId)).rejects.toMatchObject({ code: 'permission_escalation' });
  });

  it('answers members of another organisation as not found', async () => {
    const a = await f.newOwner();
    const b = await f.newOwner();
    await expect(f.services.members.list(a.actor, b.organizationId)).rejects.toBeInstanceOf(NotFoundError);
    await expect(f.services.members.changeRole(a.actor, a.organizationId, b.userId, 'viewer')).rejects.toBeInstanceOf(NotFoundError);
    await expect(f.services.members.remove(a.actor, b.organizationId, b.userId)).rejects.toBeInstanceOf(NotFoundError);
  });
});
