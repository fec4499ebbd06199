import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemActor, type Actor } from '../../domain/actor.js';
import { ForbiddenError, NotFoundError, UnauthorizedError } from '../../domain/errors.js';
import { createServiceFixture, userActor, type ServiceFixture } from '../../testing/access-fixtures.js';
import { testDialects } from '../../testing/test-database.js';
import { scopePermissions } from './access-service.js';
import { builtInRole, permissions } from './permissions.js';

describe('built-in roles', () => {
  it('admin holds every permission, developer manages flags and projects, viewer only reads', () => {
    expect(builtInRole('admin')!.permissions).toEqual([...permissions]);
    const developer = builtInRole('developer')!.permissions;
    expect(developer).toEqual(expect.arrayContaining(['flags:write', 'projects:write', 'environments:write', 'segments:write', 'api_keys:write']));
    expect(developer).not.toEqual(expect.arrayContaining(['members:write']));
    expect(developer.some((p) => ['members:write', 'roles:write', 'invitations:write', 'organization:write', 'organization:delete', 'billing:write', 'mail:read'].includes(p))).toBe(false);
    const viewer = builtInRole('viewer')!.permissions;
    expect(viewer.every((p) => p.endsWith(':read') || p === 'flags:evaluate')).toBe(true);
    expect(viewer).toContain('flags:read');
  });

  it('a write scope also grants the matching read; unknown scopes grant nothing', () => {
    expect(scopePermissions('flags:write')).toEqual(['flags:write', 'flags:read']);
    expect(scopePermissions('flags:evaluate')).toEqual(['flags:evaluate']);
    expect(scopePermissions('openid')).toEqual([]);
  });
});

describe.each(testDialects())('AccessService.require on %s', (dialect) => {
  let f: ServiceFixture;
  let owner: Awaited<ReturnType<ServiceFixture['newOwner']>>;
  let other: Awaited<ReturnType<ServiceFixture['newOwner']>>;
  let viewer: { userId: number; actor: Actor };

  beforeAll(async () => {
    f = await createServiceFixture(dialect);
    owner = await f.newOwner();
    other = await f.newOwner();
    const v = await f.newUser();
    await f.addMember(owner.organizationId, v.userId, 'viewer');
    viewer = { userId: v.userId, actor: userActor(v.userId, owner.organizationId) };
  });
  afterAll(async () => f.destroy());

  it('grants a member what the role holds', async () => {
    const grant = await f.services.access.require(owner.actor, owner.organizationId, 'organization:delete');
    expect(grant).toMatchObject({ organizationId: owner.organizationId, userId: owner.userId, role: 'admin' });
    await expect(f.services.access.require(viewer.actor, owner.organizationId, 'flags:read')).resolves.toMatchObject({ role: 'viewer' });
  });

  it('refuses a member without the permission with ForbiddenError naming it', async () => {
    const err = await f.services.access.require(viewer.actor, owner.organizationId, 'flags:write').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ForbiddenError);
    expect((err as ForbiddenError).details).toEqual({ permission: 'flags:write' });
  });

  it('answers a non-member, and a missing organisation, with NotFoundError', async () => {
    await expect(f.services.access.require(owner.actor, other.organizationId, 'organization:read')).rejects.toBeInstanceOf(NotFoundError);
    await expect(f.services.access.require(owner.actor, 123456789, 'organization:read')).rejects.toBeInstanceOf(NotFoundError);
    await expect(f.services.access.require(owner.actor, null, 'organization:read')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('lets token scopes narrow, never widen', async () => {
    const scoped = userActor(owner.userId, owner.organizationId, ['flags:read']);
    await expect(f.services.access.require(scoped, owner.organizationId, 'flags:read')).resolves.toBeDefined();
    await expect(f.services.access.require(scoped, owner.organizationId, 'flags:write')).rejects.toBeInstanceOf(ForbiddenError);
    const widened = userActor(viewer.userId, owner.organizationId, ['flags:write']);
    await expect(f.services.access.require(widened, owner.organizationId, 'flags:write')).rejects.toBeInstanceOf(ForbiddenError);
  });

  it('grants a custom role exactly its permissions', async () => {
    await f.services.roles.create(owner.actor, owner.organizationId, { key: 'flag-editor', name: 'Flag editor', permissions: ['flags:read', 'flags:write'] });
    const u = await f.newUser();
    await f.addMember(owner.organizationId, u.userId, 'flag-editor');
    const actor = userActor(u.userId, owner.organizationId);
    await expect(f.services.access.require(actor, owner.organizationId, 'flags:write')).resolves.toMatchObject({ role: 'flag-editor' });
    await expect(f.services.access.require(actor, owner.organizationId, 'projects:read')).rejects.toBeInstanceOf(ForbiddenError);
  });

  it('gives a machine credential its scopes in its own organisation only', async () => {
    const client: Actor = { ...systemActor, kind: 'client', credentialId: 7, organizationId: owner.organizationId, scopes: ['flags:evaluate'] };
    await expect(f.services.access.require(client, owner.organizationId, 'flags:evaluate')).resolves.toMatchObject({ userId: null });
    await expect(f.services.access.require(client, owner.organizationId, 'flags:read')).rejects.toBeInstanceOf(ForbiddenError);
    await expect(f.services.access.require(client, other.organizationId, 'flags:evaluate')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('gives an API key nothing organisation-wide (it is bound to one environment)', async () => {
    const key: Actor = { ...systemActor, kind: 'api_key', credentialId: 9, organizationId: owner.organizationId, scopes: ['flags:evaluate'] };
    await expect(f.services.access.require(key, owner.organizationId, 'flags:evaluate')).rejects.toBeInstanceOf(ForbiddenError);
    await expect(f.services.access.require(key, owner.organizationId, 'projects:read')).rejects.toBeInstanceOf(ForbiddenError);
    await expect(f.services.access.require(key, other.organizationId, 'flags:evaluate')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('lets the system act anywhere that exists, and refuses a user actor without a user', async () => {
    await expect(f.services.access.require(systemActor, other.organizationId, 'organization:delete')).resolves.toBeDefined();
    await expect(f.services.access.require(systemActor, 42, 'organization:read')).rejects.toBeInstanceOf(NotFoundError);
    await expect(f.services.access.require({ ...owner.actor, userId: null }, owner.organizationId, 'organization:read')).rejects.toBeInstanceOf(UnauthorizedError);
  });

  it('refuses to hand out permissions the actor lacks', async () => {
    const u = await f.newUser();
    await f.addMember(owner.organizationId, u.userId, 'developer');
    const grant = await f.services.access.require(userActor(u.userId, owner.organizationId), owner.organizationId, 'flags:read');
    expect(() => f.services.access.assertCanGrant(grant, ['flags:write'])).not.toThrow();
    expect(() => f.services.access.assertCanGrant(grant, ['members:write'])).toThrow(ForbiddenError);
  });

  it('orders platform roles viewer < admin < super_user', () => {
    const admin = { ...owner.actor, platformRole: 'admin' };
    expect(() => f.services.access.requirePlatformRole(admin, 'admin')).not.toThrow();
    expect(() => f.services.access.requirePlatformRole(admin, 'super_user')).toThrow(ForbiddenError);
    expect(() => f.services.access.requirePlatformRole(owner.actor, 'viewer')).toThrow(ForbiddenError);
  });
});
