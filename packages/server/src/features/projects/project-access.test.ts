import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId, nowIso } from '../../domain/ids.js';
import { ForbiddenError, NotFoundError } from '../../domain/errors.js';
import { systemActor } from '../../domain/actor.js';
import { createServiceFixture, userActor, type ServiceFixture } from '../../testing/access-fixtures.js';
import { testDialects } from '../../testing/test-database.js';
import { KyselyProjectMemberStore } from './project-member-store.js';
import { KyselyProjectStore, type Project } from './project-store.js';

const projectStore = new KyselyProjectStore();
const memberStore = new KyselyProjectMemberStore();

describe.each(testDialects())('ProjectAccessService (%s)', (dialect) => {
  let f: ServiceFixture;
  let owner: Awaited<ReturnType<ServiceFixture['newOwner']>>;
  let other: Awaited<ReturnType<ServiceFixture['newOwner']>>;
  let defaultProject: Project;
  let second: Project;
  let otherProject: Project;

  async function addProject(organizationId: number, key: string): Promise<Project> {
    const now = nowIso();
    const p: Project = { id: newId(), organizationId, key, name: key, description: null, color: null, isDefault: false, createdAt: now, updatedAt: now };
    await projectStore.insertProject(f.db, p);
    return p;
  }

  async function addProjectMember(projectId: number, userId: number, role: 'admin' | 'member') {
    const now = nowIso();
    await memberStore.insert(f.db, { id: newId(), projectId, userId, role, createdAt: now, updatedAt: now });
  }

  beforeAll(async () => {
    f = await createServiceFixture(dialect);
    owner = await f.newOwner();
    other = await f.newOwner();
    defaultProject = (await projectStore.findDefaultProject(f.db, owner.organizationId))!;
    second = await addProject(owner.organizationId, 'second');
    otherProject = (await projectStore.findDefaultProject(f.db, other.organizationId))!;
  });
  afterAll(async () => f?.destroy());

  it('finds a project by proj_ id, bare id, number and key; an org admin is admin there', async () => {
    const pa = f.services.projectAccess;
    for (const ref of [`proj_${defaultProject.id}`, String(defaultProject.id), defaultProject.id, 'default']) {
      const { project, grant } = await pa.require(owner.actor, ref, 'flags:write');
      expect(project.id).toBe(defaultProject.id);
      expect(grant.projectRole).toBe('admin');
      expect(grant.organizationRole).toBe('admin');
      expect(grant.permissions.has('api_keys:write')).toBe(true);
    }
  });

  it('answers 404 for another organisation’s project, by id or key, even to a member of both', async () => {
    const pa = f.services.projectAccess;
    await expect(pa.require(owner.actor, otherProject.id, 'projects:read')).rejects.toBeInstanceOf(NotFoundError);
    await expect(pa.require(owner.actor, `proj_${otherProject.id}`, 'projects:read')).rejects.toThrow('Project not found');
    await expect(pa.require(owner.actor, 'no-such-project', 'projects:read')).rejects.toBeInstanceOf(NotFoundError);
    // A member of both organisations, acting in the other one, does not see this one's project.
    const both = await f.newUser();
    await f.addMember(owner.organizationId, both.userId, 'viewer');
    await f.addMember(other.organizationId, both.userId, 'viewer');
    const inOther = userActor(both.userId, other.organizationId);
    await expect(pa.require(inOther, defaultProject.id, 'projects:read')).rejects.toBeInstanceOf(NotFoundError);
    await expect(pa.require(inOther, otherProject.id, 'projects:read')).resolves.toMatchObject({ project: { id: otherProject.id } });
    // Someone outside the organisation altogether: also absence, named as the project.
    const stranger = await f.newUser(undefined, owner.organizationId);
    await expect(pa.require(stranger.actor, defaultProject.id, 'projects:read')).rejects.toThrow('Project not found');
  });

  it('a viewer reads but cannot write; a project admin role adds write in that project only', async () => {
    const pa = f.services.projectAccess;
    const viewer = await f.newUser(undefined, owner.organizationId);
    await f.addMember(owner.organizationId, viewer.userId, 'viewer');
    await expect(pa.require(viewer.actor, second.id, 'flags:read')).resolves.toMatchObject({ grant: { projectRole: null } });
    await expect(pa.require(viewer.actor, second.id, 'flags:write')).rejects.toBeInstanceOf(ForbiddenError);

    await addProjectMember(second.id, viewer.userId, 'admin');
    const { grant } = await pa.require(viewer.actor, second.id, 'flags:write');
    expect(grant.projectRole).toBe('admin');
    expect([...grant.permissions]).toEqual(expect.arrayContaining(['environments:write', 'segments:write', 'api_keys:write']));
    expect(grant.permissions.has('members:write')).toBe(false);
    await expect(pa.require(viewer.actor, defaultProject.id, 'flags:write')).rejects.toBeInstanceOf(ForbiddenError);

    // Token scopes narrow the project role's share too.
    const scoped = userActor(viewer.userId, owner.organizationId, ['flags:read']);
    await expect(pa.require(scoped, second.id, 'flags:write')).rejects.toBeInstanceOf(ForbiddenError);
    await expect(pa.require(scoped, second.id, 'flags:read')).resolves.toBeTruthy();
  });

  it('a project member role grants reading to a custom role that reads nothing', async () => {
    const pa = f.services.projectAccess;
    const now = nowIso();
    await f.db
      .insertInto('roles')
      .values({ id: newId(), organization_id: owner.organizationId, key: 'auditor', name: 'Auditor', description: null, permissions: JSON.stringify(['organization:read']), created_at: now, updated_at: now })
      .execute();
    const u = await f.newUser(undefined, owner.organizationId);
    await f.addMember(owner.organizationId, u.userId, 'auditor');
    await expect(pa.require(u.actor, second.id, 'projects:read')).rejects.toBeInstanceOf(ForbiddenError);
    expect(await pa.listAccessible(u.actor, 'projects:read')).toEqual([]);

    await addProjectMember(second.id, u.userId, 'member');
    const { grant } = await pa.require(u.actor, second.id, 'audit:read');
    expect(grant.projectRole).toBe('member');
    await expect(pa.require(u.actor, second.id, 'flags:write')).rejects.toBeInstanceOf(ForbiddenError);
    const listed = await pa.listAccessible(u.actor, 'projects:read');
    expect(listed.map((a) => a.project.id)).toEqual([second.id]);
  });

  it('lists every project of the organisation to an org admin, none of another', async () => {
    const listed = await f.services.projectAccess.listAccessible(owner.actor, 'projects:read');
    expect(listed.map((a) => a.project.id).sort()).toEqual([defaultProject.id, second.id].sort());
    await expect(f.services.projectAccess.listAccessible(userActor(owner.userId, other.organizationId), 'projects:read')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('the system may name any project by id', async () => {
    const { grant } = await f.services.projectAccess.require(systemActor, otherProject.id, 'flags:write');
    expect(grant.organizationId).toBe(other.organizationId);
    await expect(f.services.projectAccess.require(systemActor, 'default', 'flags:read')).rejects.toBeInstanceOf(NotFoundError);
  });
});
