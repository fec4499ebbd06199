import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigChange } from '../../evaluation/change-bus.js';
import { inviteAndJoin, type JoinedUser } from '../../testing/access-fixtures.js';
import { authHeader, signUp, type SignedUpUser } from '../../testing/auth.js';
import { createTestApp, type TestApp } from '../../testing/test-app.js';
import { testDialects } from '../../testing/test-database.js';

describe.each(testDialects())('/api/v1/projects on %s', (dialect) => {
  let t: TestApp;
  let admin: SignedUpUser;
  let viewer: JoinedUser;
  let developer: JoinedUser;
  let stranger: SignedUpUser;
  const published: ConfigChange[] = [];

  beforeAll(async () => {
    t = await createTestApp(dialect);
    admin = await signUp(t.app, { name: 'Ada Admin' });
    viewer = await inviteAndJoin(t.app, admin, 'viewer');
    developer = await inviteAndJoin(t.app, admin, 'developer');
    stranger = await signUp(t.app);
    t.app.services.changes.subscribe((c) => {
      published.push(c);
    });
  });
  afterAll(async () => t?.close());

  const as = (user: { accessToken: string }) => authHeader(user.accessToken);
  const db = () => t.database.handle.db;
  const create = (user: { accessToken: string }, payload: Record<string, unknown>) => t.app.inject({ method: 'POST', url: '/api/v1/projects', headers: as(user), payload });

  it('answers 401 without a token, before validating the body', async () => {
    for (const [method, url] of [['GET', '/api/v1/projects'], ['POST', '/api/v1/projects'], ['GET', '/api/v1/projects/default'], ['PATCH', '/api/v1/projects/default'], ['DELETE', '/api/v1/projects/default'], ['GET', '/api/v1/projects/default/environments'], ['GET', '/api/v1/projects/default/members']] as const) {
      const res = await t.app.inject({ method, url, ...(method === 'POST' || method === 'PATCH' ? { payload: { bogus: 1 } } : {}) });
      expect(res.statusCode, `${method} ${url}`).toBe(401);
    }
  });

  it('lists the default project with flagCount, key and organisation; X-Total-Count', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/projects', headers: as(viewer) });
    expect(res.statusCode).toBe(200);
    expect(res.headers['x-total-count']).toBe('1');
    expect(res.json()).toEqual([
      {
        id: expect.stringMatching(/^proj_\d+$/),
        key: 'default',
        name: 'Default',
        description: expect.any(String),
        color: '#6366f1',
        flagCount: 0,
        isDefault: true,
        organizationId: `tenant_${admin.organizationId}`,
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
      },
    ]);
  });

  it('creates a project with a key from its name and the organisation’s environments; audited and published', async () => {
    const res = await create(admin, { name: 'Mobile App Features', description: 'Feature flags for mobile', color: '#6366F1' });
    expect(res.statusCode).toBe(201);
    const p = res.json();
    expect(p).toMatchObject({ key: 'mobile-app-features', name: 'Mobile App Features', description: 'Feature flags for mobile', color: '#6366f1', flagCount: 0, isDefault: false });
    const envs = await t.app.inject({ method: 'GET', url: `/api/v1/projects/${p.id}/environments`, headers: as(viewer) });
    expect(envs.json().map((e: { key: string; color: string | null }) => [e.key, e.color])).toEqual([
      ['development', '#22c55e'],
      ['staging', '#f59e0b'],
      ['production', '#ef4444'],
    ]);
    const events = await db().selectFrom('audit_events').selectAll().where('action', '=', 'project.created').where('resource_id', '=', p.id.slice(5)).execute();
    expect(events).toHaveLength(1);
    expect(JSON.parse(events[0]!.after!)).toMatchObject({ key: 'mobile-app-features', environments: ['development', 'staging', 'production'] });
    expect(published).toContainEqual(expect.objectContaining({ entity: 'project', action: 'created', key: 'mobile-app-features', projectId: Number(p.id.slice(5)) }));
    // Get by id, bare number and key.
    for (const ref of [p.id, p.id.slice(5), 'mobile-app-features']) {
      const got = await t.app.inject({ method: 'GET', url: `/api/v1/projects/${ref}`, headers: as(viewer) });
      expect(got.statusCode, ref).toBe(200);
      expect(got.json().id).toBe(p.id);
    }
  });

  it('refuses a taken key with 409 naming it, and bad keys, names and colours with 422 naming the field', async () => {
    const first = await create(admin, { name: 'Checkout', key: 'checkout' });
    expect(first.statusCode).toBe(201);
    for (const payload of [{ name: 'Checkout' }, { name: 'Other', key: 'checkout' }]) {
      const res = await create(admin, payload);
      expect(res.statusCode).toBe(409);
      expect(res.json()).toMatchObject({ code: 'project_key_taken', details: { key: 'checkout' } });
      expect(res.json().message).toContain('checkout');
    }
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ name: 'X', key: 'Not Kebab' }, 'key'],
      [{ name: 'X', key: '123' }, 'key'],
      [{ name: 'X', color: 'red' }, 'color'],
      [{ name: 'X', color: '#12345' }, 'color'],
      [{ name: '   ' }, 'name'],
      [{ name: 'X', extra: true }, 'extra'],
      [{}, 'name'],
    ];
    for (const [payload, field] of cases) {
      const res = await create(admin, payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(422);
      expect(Object.keys(res.json().errors ?? {}), JSON.stringify(payload)).toContain(field);
    }
    // Names that slug to digits or nothing still get a usable key.
    expect((await create(admin, { name: '2024' })).json().key).toBe('project-2024');
    expect((await create(admin, { name: '!!!' })).json().key).toBe('project');
  });

  it('a viewer reads but cannot create, change or delete (403); another organisation sees 404', async () => {
    expect((await create(viewer, { name: 'Nope' })).statusCode).toBe(403);
    expect((await t.app.inject({ method: 'PATCH', url: '/api/v1/projects/checkout', headers: as(viewer), payload: { name: 'x' } })).statusCode).toBe(403);
    expect((await t.app.inject({ method: 'DELETE', url: '/api/v1/projects/checkout', headers: as(viewer) })).statusCode).toBe(403);
    const mine = (await t.app.inject({ method: 'GET', url: '/api/v1/projects/checkout', headers: as(admin) })).json();
    for (const [method, url] of [['GET', `/api/v1/projects/${mine.id}`], ['PATCH', `/api/v1/projects/${mine.id}`], ['DELETE', `/api/v1/projects/${mine.id}`], ['GET', `/api/v1/projects/${mine.id}/environments`], ['GET', `/api/v1/projects/${mine.id}/members`]] as const) {
      const res = await t.app.inject({ method, url, headers: as(stranger), ...(method === 'PATCH' ? { payload: { name: 'x' } } : {}) });
      expect(res.statusCode, `${method} ${url}`).toBe(404);
      expect(res.json().code).toBe('not_found');
    }
    // The stranger's list holds only their own default project.
    const list = await t.app.inject({ method: 'GET', url: '/api/v1/projects', headers: as(stranger) });
    expect(list.json().map((p: { organizationId: string }) => p.organizationId)).toEqual([`tenant_${stranger.organizationId}`]);
  });

  it('PATCH: absent = unchanged, null = cleared; audited with the changed fields only', async () => {
    const p = (await create(developer, { name: 'Patchable', description: 'd', color: '#000000' })).json();
    const res = await t.app.inject({ method: 'PATCH', url: `/api/v1/projects/${p.id}`, headers: as(developer), payload: { description: null } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ name: 'Patchable', description: null, color: '#000000', key: 'patchable' });
    const renamed = await t.app.inject({ method: 'PATCH', url: `/api/v1/projects/${p.id}`, headers: as(developer), payload: { name: 'Renamed', color: null } });
    expect(renamed.json()).toMatchObject({ name: 'Renamed', description: null, color: null, key: 'patchable' });
    const rows = await db().selectFrom('audit_events').selectAll().where('action', '=', 'project.updated').where('resource_id', '=', p.id.slice(5)).orderBy('created_at').execute();
    expect(rows.map((r) => JSON.parse(r.after!))).toEqual([{ description: null }, { name: 'Renamed', color: null }]);
    expect((await t.app.inject({ method: 'PATCH', url: `/api/v1/projects/${p.id}`, headers: as(developer), payload: { key: 'new-key' } })).statusCode).toBe(422);
    expect((await t.app.inject({ method: 'PATCH', url: `/api/v1/projects/${p.id}`, headers: as(developer), payload: { color: 'blue' } })).json().errors).toHaveProperty('color');
  });

  it('DELETE removes a project (200 {success, id}, then 404) but refuses the default project (409 default_project)', async () => {
    const refused = await t.app.inject({ method: 'DELETE', url: '/api/v1/projects/default', headers: as(admin) });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().code).toBe('default_project');
    const p = (await create(admin, { name: 'Doomed' })).json();
    const res = await t.app.inject({ method: 'DELETE', url: `/api/v1/projects/${p.id}`, headers: as(admin) });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ success: true, id: p.id });
    expect((await t.app.inject({ method: 'GET', url: `/api/v1/projects/${p.id}`, headers: as(admin) })).statusCode).toBe(404);
    expect(await db().selectFrom('environments').selectAll().where('project_id', '=', Number(p.id.slice(5))).execute()).toEqual([]);
    expect(published).toContainEqual(expect.objectContaining({ entity: 'project', action: 'deleted', key: 'doomed' }));
  });

  it('pages the list and refuses bad paging with 400 naming the parameter', async () => {
    const all = await t.app.inject({ method: 'GET', url: '/api/v1/projects', headers: as(admin) });
    const total = Number(all.headers['x-total-count']);
    expect(total).toBeGreaterThan(3);
    const page = await t.app.inject({ method: 'GET', url: '/api/v1/projects?limit=2&offset=1', headers: as(admin) });
    expect(page.headers['x-total-count']).toBe(String(total));
    expect(page.json().map((p: { id: string }) => p.id)).toEqual(all.json().slice(1, 3).map((p: { id: string }) => p.id));
    for (const q of ['limit=0', 'limit=1001', 'limit=abc', 'offset=-1', 'offset=1.5']) {
      const res = await t.app.inject({ method: 'GET', url: `/api/v1/projects?${q}`, headers: as(admin) });
      expect(res.statusCode, q).toBe(400);
      expect(Object.keys(res.json().errors)).toEqual([q.split('=')[0]]);
    }
  });

  describe('members', () => {
    it('a viewer made project admin may manage that project only; roles change and go; audited', async () => {
      const p = (await create(admin, { name: 'Team Project' })).json();
      const url = `/api/v1/projects/${p.id}/members`;
      const envBody = { key: 'qa', name: 'QA' };
      expect((await t.app.inject({ method: 'POST', url: `/api/v1/projects/${p.id}/environments`, headers: as(viewer), payload: envBody })).statusCode).toBe(403);

      const added = await t.app.inject({ method: 'POST', url, headers: as(admin), payload: { userId: `usr_${viewer.userId}`, role: 'admin' } });
      expect(added.statusCode).toBe(200);
      expect(added.json()).toEqual({ userId: `usr_${viewer.userId}`, email: viewer.email, name: null, role: 'admin', projectId: p.id, createdAt: expect.any(String), updatedAt: expect.any(String) });
      expect((await t.app.inject({ method: 'POST', url: `/api/v1/projects/${p.id}/environments`, headers: as(viewer), payload: envBody })).statusCode).toBe(200);
      // Not in another project.
      expect((await t.app.inject({ method: 'POST', url: '/api/v1/projects/default/environments', headers: as(viewer), payload: envBody })).statusCode).toBe(403);

      const list = await t.app.inject({ method: 'GET', url, headers: as(developer) });
      expect(list.headers['x-total-count']).toBe('1');
      expect(list.json().map((m: { userId: string }) => m.userId)).toEqual([`usr_${viewer.userId}`]);

      const twice = await t.app.inject({ method: 'POST', url, headers: as(admin), payload: { email: viewer.email, role: 'member' } });
      expect(twice.statusCode).toBe(409);
      expect(twice.json().code).toBe('already_project_member');

      const demoted = await t.app.inject({ method: 'PATCH', url: `${url}/usr_${viewer.userId}`, headers: as(admin), payload: { role: 'member' } });
      expect(demoted.statusCode).toBe(200);
      expect(demoted.json().role).toBe('member');
      expect((await t.app.inject({ method: 'POST', url: `/api/v1/projects/${p.id}/environments`, headers: as(viewer), payload: { key: 'qa2' } })).statusCode).toBe(403);
      expect((await t.app.inject({ method: 'PATCH', url: `${url}/${viewer.userId}`, headers: as(admin), payload: { role: 'owner' } })).json().errors).toHaveProperty('role');

      const removed = await t.app.inject({ method: 'DELETE', url: `${url}/${viewer.userId}`, headers: as(admin) });
      expect(removed.statusCode).toBe(200);
      expect(removed.json()).toEqual({ success: true, id: `usr_${viewer.userId}` });
      expect((await t.app.inject({ method: 'GET', url: `${url}/${viewer.userId}`, headers: as(admin) })).statusCode).toBe(404);
      const actions = (await db().selectFrom('audit_events').select('action').where('project_id', '=', Number(p.id.slice(5))).where('resource_type', '=', 'project_member').execute()).map((r) => r.action).sort();
      expect(actions).toEqual(['project_member.added', 'project_member.removed', 'project_member.role_changed']);
    });

    it('only organisation members can be added (422 naming the field); a viewer cannot add (403)', async () => {
      const url = '/api/v1/projects/default/members';
      const outsider = await t.app.inject({ method: 'POST', url, headers: as(admin), payload: { userId: `usr_${stranger.userId}`, role: 'member' } });
      expect(outsider.statusCode).toBe(422);
      expect(outsider.json().errors).toHaveProperty('userId');
      const byEmail = await t.app.inject({ method: 'POST', url, headers: as(admin), payload: { email: stranger.email, role: 'member' } });
      expect(byEmail.json().errors).toHaveProperty('email');
      expect((await t.app.inject({ method: 'POST', url, headers: as(admin), payload: { userId: 'nope', role: 'member' } })).json().errors).toHaveProperty('userId');
      expect((await t.app.inject({ method: 'POST', url, headers: as(admin), payload: { role: 'member' } })).statusCode).toBe(422);
      expect((await t.app.inject({ method: 'POST', url, headers: as(viewer), payload: { userId: String(developer.userId), role: 'member' } })).statusCode).toBe(403);
    });
  });

  describe('environments', () => {
    it('creates, updates and deletes environments; keys validated and unique; changes published', async () => {
      const p = (await create(admin, { name: 'Envs' })).json();
      const url = `/api/v1/projects/${p.id}/environments`;
      const res = await t.app.inject({ method: 'POST', url, headers: as(developer), payload: { key: 'eu.prod_1', name: 'EU production', color: '#ABCDEF' } });
      expect(res.statusCode).toBe(200);
      const env = res.json();
      expect(env).toEqual({ id: expect.stringMatching(/^env_\d+$/), key: 'eu.prod_1', name: 'EU production', color: '#abcdef', position: 3, projectId: p.id, createdAt: expect.any(String), updatedAt: expect.any(String) });
      expect(published).toContainEqual({ organizationId: admin.organizationId, projectId: Number(p.id.slice(5)), environmentIds: [Number(env.id.slice(4))], entity: 'environment', action: 'created', key: 'eu.prod_1' });

      const dup = await t.app.inject({ method: 'POST', url, headers: as(developer), payload: { key: 'eu.prod_1' } });
      expect(dup.statusCode).toBe(409);
      expect(dup.json()).toMatchObject({ code: 'environment_key_taken', details: { key: 'eu.prod_1' } });
      for (const key of ['has space', '', 'x'.repeat(201), 'ünï']) {
        const bad = await t.app.inject({ method: 'POST', url, headers: as(developer), payload: { key } });
        expect(bad.statusCode, key).toBe(422);
        expect(bad.json().errors, key).toHaveProperty('key');
      }
      expect((await t.app.inject({ method: 'POST', url, headers: as(developer), payload: { key: 'ok', color: 'green' } })).json().errors).toHaveProperty('color');
      expect((await t.app.inject({ method: 'POST', url, headers: as(viewer), payload: { key: 'v' } })).statusCode).toBe(403);

      const patched = await t.app.inject({ method: 'PATCH', url: `${url}/eu.prod_1`, headers: as(developer), payload: { color: null } });
      expect(patched.statusCode).toBe(200);
      expect(patched.json()).toMatchObject({ key: 'eu.prod_1', name: 'EU production', color: null });
      expect((await t.app.inject({ method: 'GET', url: `${url}/${env.id}`, headers: as(viewer) })).json().color).toBeNull();

      expect((await t.app.inject({ method: 'DELETE', url: `${url}/${env.id}`, headers: as(developer) })).statusCode).toBe(200);
      expect((await t.app.inject({ method: 'GET', url: `${url}/${env.id}`, headers: as(developer) })).statusCode).toBe(404);
      expect(published).toContainEqual(expect.objectContaining({ entity: 'environment', action: 'deleted', key: 'eu.prod_1' }));
      const actions = (await db().selectFrom('audit_events').select('action').where('resource_id', '=', env.id.slice(4)).execute()).map((r) => r.action).sort();
      expect(actions).toEqual(['environment.created', 'environment.deleted', 'environment.updated']);
    });

    it('refuses deleting the last environment (409 last_environment)', async () => {
      const p = (await create(admin, { name: 'Shrinking' })).json();
      const url = `/api/v1/projects/${p.id}/environments`;
      expect((await t.app.inject({ method: 'DELETE', url: `${url}/development`, headers: as(admin) })).statusCode).toBe(200);
      expect((await t.app.inject({ method: 'DELETE', url: `${url}/staging`, headers: as(admin) })).statusCode).toBe(200);
      const last = await t.app.inject({ method: 'DELETE', url: `${url}/production`, headers: as(admin) });
      expect(last.statusCode).toBe(409);
      expect(last.json()).toMatchObject({ code: 'last_environment', details: { key: 'production' } });
      expect((await t.app.inject({ method: 'GET', url, headers: as(admin) })).json().map((e: { key: string }) => e.key)).toEqual(['production']);
      const paged = await t.app.inject({ method: 'GET', url: `${url}?limit=1&offset=1`, headers: as(admin) });
      expect(paged.json()).toEqual([]);
      expect(paged.headers['x-total-count']).toBe('1');
      expect((await t.app.inject({ method: 'GET', url: `${url}?limit=0`, headers: as(admin) })).statusCode).toBe(400);
    });

    it('another organisation’s environment is 404', async () => {
      const res = await t.app.inject({ method: 'PATCH', url: '/api/v1/projects/default/environments/production', headers: as(stranger), payload: { name: 'x' } });
      expect(res.statusCode).toBe(200); // their own default project: same key, their organisation
      const mine = (await t.app.inject({ method: 'GET', url: '/api/v1/projects/default', headers: as(admin) })).json();
      const cross = await t.app.inject({ method: 'PATCH', url: `/api/v1/projects/${mine.id}/environments/production`, headers: as(stranger), payload: { name: 'x' } });
      expect(cross.statusCode).toBe(404);
      const ours = await t.app.inject({ method: 'GET', url: '/api/v1/projects/default/environments/production', headers: as(admin) });
      expect(ours.json().name).toBe('Production');
    });
  });
});
