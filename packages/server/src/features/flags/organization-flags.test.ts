import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../domain/actor.js';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../../domain/errors.js';
import { createServiceFixture, userActor, type ServiceFixture } from '../../testing/access-fixtures.js';
import { testDialects } from '../../testing/test-database.js';

/** A machine credential of `organizationId` holding exactly `scopes` (what the OAuth client identifier gives). */
function clientActor(organizationId: number, scopes: string[]): Actor {
  return { kind: 'client', userId: null, credentialId: 1, organizationId, role: null, platformRole: null, scopes, sessionId: null };
}

describe.each(testDialects())('FlagService at organisation level: IntelliToggle tenant flags (%s)', (dialect) => {
  let f: ServiceFixture;
  let owner: Awaited<ReturnType<ServiceFixture['newOwner']>>;
  let other: Awaited<ReturnType<ServiceFixture['newOwner']>>;
  /** A member whose organisation role reads nothing, but who is a member of project "web". */
  let webOnly: Actor;

  beforeAll(async () => {
    f = await createServiceFixture(dialect);
    owner = await f.newOwner();
    other = await f.newOwner();
    await f.services.projects.create(owner.actor, { name: 'Web' });
    await f.services.projects.create(owner.actor, { name: 'Mobile' });
    await f.services.flags.create(owner.actor, 'default', { key: 'checkout', type: 'boolean' });
    await f.services.flags.create(owner.actor, 'web', { key: 'banner', type: 'string', defaultValue: 'blue' });
    await f.services.flags.create(owner.actor, 'web', { key: 'shared', type: 'boolean' });
    await f.services.flags.create(owner.actor, 'mobile', { key: 'shared', type: 'boolean' });
    await f.services.flags.create(other.actor, 'default', { key: 'checkout', type: 'boolean' });
    await f.services.roles.create(owner.actor, owner.organizationId, { key: 'auditor', name: 'Auditor', permissions: ['organization:read'] });
    const u = await f.newUser();
    await f.addMember(owner.organizationId, u.userId, 'auditor');
    await f.services.projectMembers.add(owner.actor, 'web', { userId: u.userId, role: 'member' });
    webOnly = userActor(u.userId, owner.organizationId);
  });
  afterAll(async () => f?.destroy());

  it('names a flag by key alone when exactly one visible project has it; none is 404; another organisation’s is absent', async () => {
    const flags = f.services.flags;
    expect((await flags.get(owner.actor, { organizationFlagKey: 'banner' })).flag).toMatchObject({ key: 'banner', type: 'string' });
    const mine = await flags.get(owner.actor, { organizationFlagKey: 'checkout' });
    const theirs = await flags.get(other.actor, { organizationFlagKey: 'checkout' });
    expect(mine.flag.id).not.toBe(theirs.flag.id);
    await expect(flags.get(owner.actor, { organizationFlagKey: 'missing' })).rejects.toBeInstanceOf(NotFoundError);
    // An outsider acting in the owner's organisation is not a member: absent.
    await expect(flags.get(userActor(other.userId, owner.organizationId), { organizationFlagKey: 'banner' })).rejects.toBeInstanceOf(NotFoundError);
  });

  it('a key in several visible projects is 409 flag_key_ambiguous naming them; a caller who sees one of them gets that one', async () => {
    const err = await f.services.flags.get(owner.actor, { organizationFlagKey: 'shared' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect(err).toMatchObject({ code: 'flag_key_ambiguous', details: { flagKey: 'shared', projects: [{ key: 'web', name: 'Web' }, { key: 'mobile', name: 'Mobile' }] } });
    const seen = await f.services.flags.get(webOnly, { organizationFlagKey: 'shared' });
    expect(seen.flag.projectId).toBe((await f.services.projects.get(owner.actor, 'web')).id);
    // The project member reads but does not write there.
    await expect(f.services.flags.update(webOnly, { organizationFlagKey: 'shared' }, { name: 'x' })).rejects.toBeInstanceOf(ForbiddenError);
    await expect(f.services.flags.get(webOnly, { organizationFlagKey: 'checkout' })).rejects.toBeInstanceOf(NotFoundError);
  });

  it('writes through the organisation key: update, variations, archive, delete — with the same rules as by project', async () => {
    const flags = f.services.flags;
    const ref = { organizationFlagKey: 'banner' };
    expect((await flags.update(owner.actor, ref, { name: 'Banner' })).flag.name).toBe('Banner');
    const { variation } = await flags.addVariation(owner.actor, ref, { name: 'Red', value: 'red' });
    expect((await flags.updateVariation(owner.actor, ref, `var_${variation.id}`, { weight: 10 })).variation.weight).toBe(10);
    await flags.deleteVariation(owner.actor, ref, variation.id);
    expect((await flags.listVariations(owner.actor, ref)).items.map((v) => v.key)).toEqual(['default']);
    const history = await f.services.auditQuery.flagHistory(owner.actor, ref);
    expect(history.items.map((e) => e.action)).toEqual(['variation.deleted', 'variation.updated', 'variation.created', 'flag.updated', 'flag.created']);
    const viewer = await f.newUser();
    await f.addMember(owner.organizationId, viewer.userId, 'viewer');
    await expect(flags.delete(userActor(viewer.userId, owner.organizationId), ref)).rejects.toBeInstanceOf(ForbiddenError);
  });

  it('listInOrganization covers every project the caller can read, paged, with enabled per project environment', async () => {
    const flags = f.services.flags;
    await f.services.targeting.setEnabled(owner.actor, 'web', 'banner', 'staging', true);
    const all = await flags.listInOrganization(owner.actor, { environment: 'staging' });
    expect(all.total).toBe(4);
    expect(all.items.map((v) => [v.flag.key, v.enabled, v.environment?.key])).toEqual([
      ['checkout', false, 'staging'],
      ['banner', true, 'staging'],
      ['shared', false, 'staging'],
      ['shared', false, 'staging'],
    ]);
    expect((await flags.listInOrganization(owner.actor, { limit: 2, offset: 1 })).items.map((v) => v.flag.key)).toEqual(['banner', 'shared']);
    expect((await flags.listInOrganization(owner.actor, { search: 'BAN' })).items.map((v) => v.flag.key)).toEqual(['banner']);
    expect((await flags.listInOrganization(webOnly)).items.map((v) => v.flag.key)).toEqual(['banner', 'shared']);
    await expect(flags.listInOrganization(owner.actor, { environment: 'moon' })).rejects.toBeInstanceOf(NotFoundError);
    await expect(flags.listInOrganization(clientActor(owner.organizationId, ['flags:evaluate']))).rejects.toBeInstanceOf(ForbiddenError);
    expect((await flags.listInOrganization(clientActor(owner.organizationId, ['flags:read']))).total).toBe(4);
    await expect(flags.listInOrganization(userActor(other.userId, owner.organizationId))).rejects.toBeInstanceOf(NotFoundError);
  });

  it('createInOrganization puts a flag in the default project, or in projectRef; a project the caller cannot see is 422 naming projectId', async () => {
    const flags = f.services.flags;
    const inDefault = await flags.createInOrganization(owner.actor, { key: 'fresh', type: 'boolean' });
    const defaultProject = await f.services.projects.get(owner.actor, 'default');
    expect(inDefault.flag.projectId).toBe(defaultProject.id);
    const inMobile = await flags.createInOrganization(owner.actor, { key: 'fresh', type: 'boolean' }, { projectRef: 'mobile' });
    expect(inMobile.flag.projectId).toBe((await f.services.projects.get(owner.actor, 'mobile')).id);
    const otherProject = await f.services.projects.get(other.actor, 'default');
    for (const projectRef of [`proj_${otherProject.id}`, 'nowhere']) {
      const err = await flags.createInOrganization(owner.actor, { key: 'x', type: 'boolean' }, { projectRef }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).fields).toEqual({ projectId: expect.any(String) });
    }
    await expect(flags.createInOrganization(webOnly, { key: 'y', type: 'boolean' }, { projectRef: 'web' })).rejects.toBeInstanceOf(ForbiddenError);
    await expect(flags.createInOrganization(userActor(other.userId, owner.organizationId), { key: 'z', type: 'boolean' })).rejects.toBeInstanceOf(NotFoundError);
    expect(await f.db.selectFrom('flags').select('key').where('key', 'in', ['x', 'y', 'z']).execute()).toEqual([]);
  });
});
