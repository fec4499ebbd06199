import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ForbiddenError, NotFoundError, PreconditionFailedError } from '../../domain/errors.js';
import { createServiceFixture, userActor, type ServiceFixture } from '../../testing/access-fixtures.js';
import { testDialects } from '../../testing/test-database.js';

describe.each(testDialects())('FlagService by flag id (%s)', (dialect) => {
  let f: ServiceFixture;
  let owner: Awaited<ReturnType<ServiceFixture['newOwner']>>;
  let other: Awaited<ReturnType<ServiceFixture['newOwner']>>;
  let flagId: number;

  beforeAll(async () => {
    f = await createServiceFixture(dialect);
    owner = await f.newOwner();
    other = await f.newOwner();
    const view = await f.services.flags.create(owner.actor, 'default', { key: 'by-id', type: 'string', defaultValue: 'a' });
    flagId = view.flag.id;
  });
  afterAll(async () => f?.destroy());

  it('reads and writes a flag by id, as Flipswitch will; the same rules apply as by key', async () => {
    const flags = f.services.flags;
    expect((await flags.get(owner.actor, { flagId })).flag.key).toBe('by-id');
    const updated = await flags.update(owner.actor, { flagId }, { name: 'By id' }, { expectedVersion: 1 });
    expect(updated.flag).toMatchObject({ name: 'By id', version: 2 });
    await expect(flags.update(owner.actor, { flagId }, { name: 'Stale' }, { expectedVersion: 1 })).rejects.toBeInstanceOf(PreconditionFailedError);
    const { variation } = await flags.addVariation(owner.actor, { flagId }, { name: 'Second', value: 'b' });
    expect(variation.key).toBe('second');
    expect((await flags.listVariations(owner.actor, { projectRef: 'default', flagKey: 'by-id' })).items.map((v) => v.key)).toEqual(['default', 'second']);
    expect(await flags.listVariations(owner.actor, { flagId }, { limit: 1, offset: 1 })).toMatchObject({ items: [{ key: 'second' }], total: 2 });
  });

  it('a flag of another organisation is absent by id; a viewer may read but not write', async () => {
    await expect(f.services.flags.get(other.actor, { flagId })).rejects.toBeInstanceOf(NotFoundError);
    await expect(f.services.flags.requireFlag(other.actor, { flagId }, 'flags:read')).rejects.toThrow('Flag not found');
    await expect(f.services.flags.get(owner.actor, { flagId: 12345 })).rejects.toBeInstanceOf(NotFoundError);
    const viewer = await f.newUser();
    await f.addMember(owner.organizationId, viewer.userId, 'viewer');
    const actor = userActor(viewer.userId, owner.organizationId);
    expect((await f.services.flags.get(actor, { flagId })).flag.id).toBe(flagId);
    await expect(f.services.flags.archive(actor, { flagId })).rejects.toBeInstanceOf(ForbiddenError);
  });

  it('an id with a project names the flag only within that project', async () => {
    const flags = f.services.flags;
    const project = (await f.services.projects.list(owner.actor)).items.find((p) => p.key === 'default')!;
    expect((await flags.get(owner.actor, { flagId, projectRef: project.id })).flag.key).toBe('by-id');
    const second = await f.services.projects.create(owner.actor, { key: 'elsewhere', name: 'Elsewhere' });
    await expect(flags.get(owner.actor, { flagId, projectRef: second.id })).rejects.toThrow('Flag not found');
    await expect(flags.update(owner.actor, { flagId, projectRef: second.id }, { name: 'Moved?' })).rejects.toThrow('Flag not found');
    await expect(flags.get(owner.actor, { flagId, projectRef: 999 })).rejects.toThrow('Project not found');
    await expect(flags.get(other.actor, { flagId, projectRef: project.id })).rejects.toThrow('Project not found');
    expect((await flags.get(owner.actor, { flagId })).flag.name).not.toBe('Moved?');
  });

  it('audit entries of a flag carry its key, also once the flag is deleted', async () => {
    const created = await f.services.flags.create(owner.actor, 'default', { key: 'short-lived', type: 'boolean' });
    await f.services.flags.update(owner.actor, { flagId: created.flag.id }, { name: 'Short' });
    const live = await f.services.auditQuery.projectLog(owner.actor, 'default', { flag: `flag_${created.flag.id}` });
    expect(live.items.map((e) => [e.action, e.flagKey])).toEqual([['flag.updated', 'short-lived'], ['flag.created', 'short-lived']]);
    await f.services.flags.delete(owner.actor, { flagId: created.flag.id });
    const gone = await f.services.auditQuery.projectLog(owner.actor, 'default', { flag: `flag_${created.flag.id}` });
    expect(gone.items.map((e) => [e.action, e.flagKey])).toEqual([['flag.deleted', 'short-lived'], ['flag.updated', 'short-lived'], ['flag.created', 'short-lived']]);
    const projectEvent = (await f.services.auditQuery.projectLog(owner.actor, 'default', { action: 'project.created' })).items[0];
    expect(projectEvent?.flagKey ?? null).toBeNull();
  });

  it('history by id lists the flag’s own events and variation events, newest first', async () => {
    const page = await f.services.auditQuery.flagHistory(owner.actor, { flagId });
    expect(page.items.map((e) => e.action).sort()).toEqual(['flag.created', 'flag.updated', 'variation.created']);
    expect(page.total).toBe(3);
    const updated = page.items.find((e) => e.action === 'flag.updated')!;
    expect(updated.changes).toEqual({ name: { from: 'by-id', to: 'By id' } });
  });
});
