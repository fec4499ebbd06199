import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ForbiddenError, NotFoundError, ValidationError } from '../../domain/errors.js';
import { createServiceFixture, userActor, type ServiceFixture } from '../../testing/access-fixtures.js';
import { testDialects } from '../../testing/test-database.js';

describe.each(testDialects())('OrganizationService on %s', (dialect) => {
  let f: ServiceFixture;
  beforeAll(async () => {
    f = await createServiceFixture(dialect);
  });
  afterAll(async () => f.destroy());

  it('creates the organisation with its creator as admin, the default environments and the default project', async () => {
    const u = await f.newUser();
    const { organization, role } = await f.services.organizations.create(u.actor, { name: '  Acme  ', contactName: 'Jane' });
    expect(role).toBe('admin');
    expect(organization).toMatchObject({ name: 'Acme', contactName: 'Jane', primaryEmail: null, isSandbox: false });

    const membership = await f.db.selectFrom('memberships').selectAll().where('organization_id', '=', organization.id).execute();
    expect(membership.map((m) => [m.user_id, m.role])).toEqual([[u.userId, 'admin']]);
    const templates = await f.db.selectFrom('organization_environments').selectAll().where('organization_id', '=', organization.id).orderBy('position').execute();
    expect(templates.map((t) => t.key)).toEqual(['development', 'staging', 'production']);
    const projects = await f.db.selectFrom('projects').selectAll().where('organization_id', '=', organization.id).execute();
    expect(projects).toHaveLength(1);
    expect(projects[0]).toMatchObject({ key: 'default', is_default: 1 });
    const envs = await f.db.selectFrom('environments').selectAll().where('project_id', '=', projects[0]!.id).orderBy('position').execute();
    expect(envs.map((e) => [e.key, e.position])).toEqual([['development', 0], ['staging', 1], ['production', 2]]);
    const audit = await f.db.selectFrom('audit_events').select(['action', 'actor_id']).where('organization_id', '=', organization.id).execute();
    expect(audit.map((a) => a.action).sort()).toEqual(['member.added', 'organization.created']);
    expect(audit.every((a) => a.actor_id === u.userId)).toBe(true);
  });

  it('refuses a second default project for one organisation (the database enforces it)', async () => {
    const owner = await f.newOwner();
    const now = new Date().toISOString();
    await expect(
      f.db.insertInto('projects').values({ id: 99, organization_id: owner.organizationId, key: 'other', name: 'Other', description: null, color: null, is_default: 1, created_at: now, updated_at: now }).execute(),
    ).rejects.toThrow();
  });

  it('rolls everything back when creation fails part way', async () => {
    const before = await f.db.selectFrom('organizations').select('id').execute();
    // A user that does not exist breaks the membership's foreign key after the organisation row.
    await expect(f.services.organizations.createWithOwner(userActor(1), { name: 'Ghost' }, 1)).rejects.toThrow();
    expect(await f.db.selectFrom('organizations').select('id').execute()).toHaveLength(before.length);
    expect(await f.db.selectFrom('projects').select('id').where('name', '=', 'Ghost').execute()).toHaveLength(0);
  });

  it('validates name, primaryEmail and contactName with the field named', async () => {
    const u = await f.newUser();
    await expect(f.services.organizations.create(u.actor, { name: '   ' })).rejects.toMatchObject({ fields: { name: expect.any(String) } });
    await expect(f.services.organizations.create(u.actor, { name: 'A', primaryEmail: 'nope' })).rejects.toMatchObject({ fields: { primaryEmail: expect.any(String) } });
    await expect(f.services.organizations.create(u.actor, { name: 'A', contactName: 'x'.repeat(201) })).rejects.toBeInstanceOf(ValidationError);
  });

  it('only lets a person create an organisation', async () => {
    const client = { ...userActor(5), kind: 'client' as const, userId: null };
    await expect(f.services.organizations.create(client, { name: 'Bots' })).rejects.toBeInstanceOf(ForbiddenError);
  });

  it('lists the organisations the user belongs to, with their role, oldest first', async () => {
    const owner = await f.newOwner();
    const second = await f.services.organizations.create(owner.actor, { name: 'Second' });
    const list = await f.services.organizations.listMine(owner.actor);
    expect(list.map((o) => [o.organization.id, o.role])).toEqual([[owner.organizationId, 'admin'], [second.organization.id, 'admin']]);
  });

  it('patches: absent leaves a field, null clears it, and only changed fields are audited', async () => {
    const owner = await f.newOwner();
    await f.services.organizations.update(owner.actor, owner.organizationId, { primaryEmail: 'Billing@Acme.test', contactName: 'Jo' });
    const r1 = await f.services.organizations.update(owner.actor, owner.organizationId, { contactName: null });
    expect(r1.organization).toMatchObject({ primaryEmail: 'billing@acme.test', contactName: null, name: `Org of ${owner.email}` });
    const stored = await f.db.selectFrom('organizations').selectAll().where('id', '=', owner.organizationId).executeTakeFirstOrThrow();
    expect(stored).toMatchObject({ primary_email: 'billing@acme.test', contact_name: null });
    const audit = await f.db
      .selectFrom('audit_events')
      .select(['before', 'after'])
      .where('organization_id', '=', owner.organizationId)
      .where('action', '=', 'organization.updated')
      .orderBy('created_at')
      .execute();
    expect(audit.map((a) => JSON.parse(a.after!))).toEqual([{ primaryEmail: 'billing@acme.test', contactName: 'Jo' }, { contactName: null }]);
  });

  it('lets only a member with organization:write change it; others do not see it', async () => {
    const owner = await f.newOwner();
    const stranger = await f.newOwner();
    const dev = await f.newUser();
    await f.addMember(owner.organizationId, dev.userId, 'developer');
    await expect(f.services.organizations.update(userActor(dev.userId), owner.organizationId, { name: 'X' })).rejects.toBeInstanceOf(ForbiddenError);
    await expect(f.services.organizations.update(stranger.actor, owner.organizationId, { name: 'X' })).rejects.toBeInstanceOf(NotFoundError);
    await expect(f.services.organizations.get(stranger.actor, owner.organizationId)).rejects.toBeInstanceOf(NotFoundError);
    await expect(f.services.organizations.get(userActor(dev.userId), owner.organizationId)).resolves.toMatchObject({ role: 'developer' });
  });

  it('deletes an organisation with everything in it, keeping an audit record outside it', async () => {
    const owner = await f.newOwner();
    const dev = await f.newUser();
    await f.addMember(owner.organizationId, dev.userId, 'developer');
    await expect(f.services.organizations.delete(userActor(dev.userId), owner.organizationId)).rejects.toBeInstanceOf(ForbiddenError);
    await f.services.roles.create(owner.actor, owner.organizationId, { key: 'ops', name: 'Ops', permissions: ['flags:read'] });
    await f.services.invitations.create(owner.actor, owner.organizationId, { email: 'new@example.com', role: 'viewer' });
    const projectIds = (await f.db.selectFrom('projects').select('id').where('organization_id', '=', owner.organizationId).execute()).map((p) => p.id);

    await f.services.organizations.delete(owner.actor, owner.organizationId);

    const id = owner.organizationId;
    expect(await f.db.selectFrom('organizations').select('id').where('id', '=', id).execute()).toHaveLength(0);
    for (const table of ['memberships', 'roles', 'invitations', 'projects', 'organization_environments'] as const) {
      expect(await f.db.selectFrom(table).select('id').where('organization_id', '=', id).execute(), table).toHaveLength(0);
    }
    expect(await f.db.selectFrom('environments').select('id').where('project_id', 'in', projectIds).execute()).toHaveLength(0);
    const trail = await f.db.selectFrom('audit_events').selectAll().where('action', '=', 'organization.deleted').where('resource_id', '=', String(id)).execute();
    expect(trail).toHaveLength(1);
    expect(trail[0]).toMatchObject({ organization_id: null, actor_id: owner.userId });
    await expect(f.services.organizations.get(owner.actor, id)).rejects.toBeInstanceOf(NotFoundError);
  });
});
