import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../../domain/errors.js';
import { createServiceFixture, userActor, type ServiceFixture } from '../../testing/access-fixtures.js';
import { testDialects } from '../../testing/test-database.js';

describe.each(testDialects())('RoleService on %s', (dialect) => {
  let f: ServiceFixture;
  beforeAll(async () => {
    f = await createServiceFixture(dialect);
  });
  afterAll(async () => f.destroy());

  it('lists the built-in roles first, then custom ones, each with its permissions', async () => {
    const owner = await f.newOwner();
    await f.services.roles.create(owner.actor, owner.organizationId, { key: 'release-manager', name: 'Release manager', description: 'Ships', permissions: ['flags:write', 'flags:read'] });
    const list = await f.services.roles.list(owner.actor, owner.organizationId);
    expect(list.map((r) => [r.key, r.builtIn])).toEqual([['admin', true], ['developer', true], ['viewer', true], ['release-manager', false]]);
    // Stored in vocabulary order, whatever order they were given in.
    expect(list[3]!.permissions).toEqual(['flags:read', 'flags:write']);
    const stored = await f.db.selectFrom('roles').selectAll().where('organization_id', '=', owner.organizationId).executeTakeFirstOrThrow();
    expect(JSON.parse(stored.permissions)).toEqual(['flags:read', 'flags:write']);
    const audit = await f.db.selectFrom('audit_events').selectAll().where('organization_id', '=', owner.organizationId).where('action', '=', 'role.created').execute();
    expect(audit).toHaveLength(1);
  });

  it('validates key, name and permissions against the vocabulary, naming the field', async () => {
    const owner = await f.newOwner();
    const create = (input: { key: string; name: string; permissions: string[] }) => f.services.roles.create(owner.actor, owner.organizationId, input);
    await expect(create({ key: 'Bad Key', name: 'x', permissions: [] })).rejects.toMatchObject({ fields: { key: expect.any(String) } });
    await expect(create({ key: 'role_1', name: 'x', permissions: [] })).rejects.toBeInstanceOf(ValidationError);
    await expect(create({ key: 'ok', name: ' ', permissions: [] })).rejects.toMatchObject({ fields: { name: expect.any(String) } });
    const err = await create({ key: 'ok', name: 'Ok', permissions: ['flags:read', 'flags:fly'] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).fields.permissions).toMatch(/flags:fly/);
  });

  it('refuses duplicate and built-in keys with 409 role_exists', async () => {
    const owner = await f.newOwner();
    await f.services.roles.create(owner.actor, owner.organizationId, { key: 'ops', name: 'Ops', permissions: [] });
    await expect(f.services.roles.create(owner.actor, owner.organizationId, { key: 'ops', name: 'Ops', permissions: [] })).rejects.toMatchObject({ code: 'role_exists' });
    await expect(f.services.roles.create(owner.actor, owner.organizationId, { key: 'viewer', name: 'V', permissions: [] })).rejects.toMatchObject({ code: 'role_exists' });
  });

  it('updates with PATCH semantics and refuses to change built-in roles', async () => {
    const owner = await f.newOwner();
    const role = await f.services.roles.create(owner.actor, owner.organizationId, { key: 'qa', name: 'QA', description: 'Testers', permissions: ['flags:read'] });
    const updated = await f.services.roles.update(owner.actor, owner.organizationId, { id: role.id }, { description: null, permissions: ['flags:read', 'projects:read'] });
    expect(updated).toMatchObject({ key: 'qa', name: 'QA', description: null, permissions: ['projects:read', 'flags:read'] });
    const got = await f.services.roles.get(owner.actor, owner.organizationId, { key: 'qa' });
    expect(got).toMatchObject({ description: null, permissions: ['projects:read', 'flags:read'] });
    await expect(f.services.roles.update(owner.actor, owner.organizationId, { key: 'admin' }, { name: 'Boss' })).rejects.toMatchObject({ code: 'role_built_in' });
    await expect(f.services.roles.delete(owner.actor, owner.organizationId, { key: 'viewer' })).rejects.toBeInstanceOf(ConflictError);
  });

  it('refuses to delete a role a member holds or a pending invitation grants', async () => {
    const owner = await f.newOwner();
    const role = await f.services.roles.create(owner.actor, owner.organizationId, { key: 'support', name: 'Support', permissions: ['members:read'] });
    const u = await f.newUser();
    await f.addMember(owner.organizationId, u.userId, 'support');
    await expect(f.services.roles.delete(owner.actor, owner.organizationId, { id: role.id })).rejects.toMatchObject({ code: 'role_in_use', details: { members: 1, invitations: 0 } });
    await f.services.members.changeRole(owner.actor, owner.organizationId, u.userId, 'viewer');
    const inv = await f.services.invitations.create(owner.actor, owner.organizationId, { email: 'support@example.com', role: 'support' });
    await expect(f.services.roles.delete(owner.actor, owner.organizationId, { id: role.id })).rejects.toMatchObject({ code: 'role_in_use', details: { invitations: 1 } });
    await f.services.invitations.revoke(owner.actor, owner.organizationId, inv.id);
    await f.services.roles.delete(owner.actor, owner.organizationId, { id: role.id });
    expect(await f.db.selectFrom('roles').select('id').where('id', '=', role.id).execute()).toHaveLength(0);
    const actions = (await f.db.selectFrom('audit_events').select('action').where('organization_id', '=', owner.organizationId).execute()).map((a) => a.action);
    expect(actions).toContain('role.deleted');
  });

  it('needs roles:write to change roles, and never grants more than the actor holds', async () => {
    const owner = await f.newOwner();
    const dev = await f.newUser();
    await f.addMember(owner.organizationId, dev.userId, 'developer');
    await expect(f.services.roles.list(userActor(dev.userId), owner.organizationId)).resolves.toHaveLength(3);
    await expect(f.services.roles.create(userActor(dev.userId), owner.organizationId, { key: 'x', name: 'X', permissions: [] })).rejects.toBeInstanceOf(ForbiddenError);
    await f.services.roles.create(owner.actor, owner.organizationId, { key: 'role-admin', name: 'Role admin', permissions: ['roles:read', 'roles:write'] });
    const ra = await f.newUser();
    await f.addMember(owner.organizationId, ra.userId, 'role-admin');
    await expect(
      f.services.roles.create(userActor(ra.userId), owner.organizationId, { key: 'everything', name: 'All', permissions: ['members:write'] }),
    ).rejects.toMatchObject({ code: 'permission_escalation' });
  });

  it('hides another organisation’s roles', async () => {
    const a = await f.newOwner();
    const b = await f.newOwner();
    const role = await f.services.roles.create(b.actor, b.organizationId, { key: 'secret', name: 'Secret', permissions: [] });
    await expect(f.services.roles.get(a.actor, a.organizationId, { id: role.id })).rejects.toBeInstanceOf(NotFoundError);
    await expect(f.services.roles.get(a.actor, b.organizationId, { id: role.id })).rejects.toBeInstanceOf(NotFoundError);
    await expect(f.services.roles.delete(a.actor, a.organizationId, { key: 'secret' })).rejects.toBeInstanceOf(NotFoundError);
  });
});
