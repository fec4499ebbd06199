import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inviteAndJoin, type JoinedUser } from '../../testing/access-fixtures.js';
import { authHeader, signUp, type SignedUpUser } from '../../testing/auth.js';
import { createTestApp, type TestApp } from '../../testing/test-app.js';
import { testDialects } from '../../testing/test-database.js';

describe.each(testDialects())('/api/v1/roles on %s', (dialect) => {
  let t: TestApp;
  let admin: SignedUpUser;
  let viewer: JoinedUser;
  let stranger: SignedUpUser;

  beforeAll(async () => {
    t = await createTestApp(dialect);
    admin = await signUp(t.app);
    viewer = await inviteAndJoin(t.app, admin, 'viewer');
    stranger = await signUp(t.app);
  });
  afterAll(async () => t.close());

  const as = (user: { accessToken: string }) => authHeader(user.accessToken);
  const create = (user: { accessToken: string }, payload: Record<string, unknown>) =>
    t.app.inject({ method: 'POST', url: '/api/v1/roles', headers: as(user), payload });

  it('GET lists the built-in roles with their permission sets', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/roles', headers: as(viewer) });
    expect(res.statusCode).toBe(200);
    const roles = res.json() as Array<{ key: string; id: string | null; builtIn: boolean; permissions: string[] }>;
    expect(roles.slice(0, 3).map((r) => [r.key, r.id, r.builtIn])).toEqual([['admin', null, true], ['developer', null, true], ['viewer', null, true]]);
    expect(roles[1]!.permissions).toContain('flags:write');
    expect(roles[2]!.permissions).not.toContain('flags:write');
  });

  it('answers 401 without a token', async () => {
    for (const [method, url] of [['GET', '/api/v1/roles'], ['POST', '/api/v1/roles'], ['GET', '/api/v1/roles/admin'], ['PATCH', '/api/v1/roles/x'], ['DELETE', '/api/v1/roles/x']] as const) {
      const res = await t.app.inject({ method, url, ...(method === 'POST' || method === 'PATCH' ? { payload: {} } : {}) });
      expect(res.statusCode, `${method} ${url}`).toBe(401);
    }
  });

  it('POST creates a custom role (audited) that can be read by id and key', async () => {
    const res = await create(admin, { key: 'release-manager', name: 'Release manager', description: 'Ships flags', permissions: ['flags:write', 'flags:read'] });
    expect(res.statusCode).toBe(200);
    const role = res.json();
    expect(role).toMatchObject({ id: expect.stringMatching(/^role_\d+$/), key: 'release-manager', builtIn: false, permissions: ['flags:read', 'flags:write'] });
    const byId = await t.app.inject({ method: 'GET', url: `/api/v1/roles/${role.id}`, headers: as(viewer) });
    expect(byId.json()).toMatchObject({ key: 'release-manager', description: 'Ships flags' });
    const byKey = await t.app.inject({ method: 'GET', url: '/api/v1/roles/release-manager', headers: as(viewer) });
    expect(byKey.json().id).toBe(role.id);
    const events = await t.database.handle.db.selectFrom('audit_events').select('action').where('organization_id', '=', admin.organizationId).where('action', '=', 'role.created').execute();
    expect(events).toHaveLength(1);
  });

  it('POST refuses bad input with 422 naming the field, and duplicates with 409', async () => {
    const badPermission = await create(admin, { key: 'x', name: 'X', permissions: ['flags:fly'] });
    expect(badPermission.statusCode).toBe(422);
    expect(Object.keys(badPermission.json().errors)[0]).toMatch(/^permissions/);
    const badKey = await create(admin, { key: 'Not Kebab', name: 'X', permissions: [] });
    expect(badKey.statusCode).toBe(422);
    expect(badKey.json().errors).toHaveProperty('key');
    const noName = await create(admin, { key: 'x', permissions: [] });
    expect(noName.statusCode).toBe(422);
    expect(noName.json().errors).toHaveProperty('name');
    await create(admin, { key: 'dup', name: 'Dup', permissions: [] });
    const dup = await create(admin, { key: 'dup', name: 'Dup', permissions: [] });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().code).toBe('role_exists');
  });

  it('POST/PATCH/DELETE: 403 for a viewer; 404 for another organisation’s role', async () => {
    expect((await create(viewer, { key: 'mine', name: 'Mine', permissions: [] })).statusCode).toBe(403);
    const theirs = (await create(stranger, { key: 'theirs', name: 'Theirs', permissions: [] })).json();
    expect((await t.app.inject({ method: 'GET', url: `/api/v1/roles/${theirs.id}`, headers: as(admin) })).statusCode).toBe(404);
    expect((await t.app.inject({ method: 'PATCH', url: `/api/v1/roles/${theirs.id}`, headers: as(admin), payload: { name: 'Hijacked' } })).statusCode).toBe(404);
    expect((await t.app.inject({ method: 'DELETE', url: `/api/v1/roles/${theirs.id}`, headers: as(admin) })).statusCode).toBe(404);
    expect((await t.app.inject({ method: 'DELETE', url: '/api/v1/roles/theirs', headers: as(admin) })).statusCode).toBe(404);
    const ours = (await create(admin, { key: 'ours', name: 'Ours', permissions: [] })).json();
    expect((await t.app.inject({ method: 'PATCH', url: `/api/v1/roles/${ours.id}`, headers: as(viewer), payload: { name: 'V' } })).statusCode).toBe(403);
    expect((await t.app.inject({ method: 'DELETE', url: `/api/v1/roles/${ours.id}`, headers: as(viewer) })).statusCode).toBe(403);
  });

  it('PATCH updates a custom role; built-in roles are fixed (409)', async () => {
    const role = (await create(admin, { key: 'qa', name: 'QA', description: 'Testers', permissions: ['flags:read'] })).json();
    const res = await t.app.inject({ method: 'PATCH', url: `/api/v1/roles/${role.id}`, headers: as(admin), payload: { description: null, permissions: ['projects:read'] } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ name: 'QA', description: null, permissions: ['projects:read'] });
    const bad = await t.app.inject({ method: 'PATCH', url: `/api/v1/roles/${role.id}`, headers: as(admin), payload: { name: '' } });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().errors).toHaveProperty('name');
    const builtIn = await t.app.inject({ method: 'PATCH', url: '/api/v1/roles/admin', headers: as(admin), payload: { name: 'Boss' } });
    expect(builtIn.statusCode).toBe(409);
    expect(builtIn.json().code).toBe('role_built_in');
  });

  it('DELETE is refused while a member holds the role, and works once nobody does', async () => {
    const role = (await create(admin, { key: 'support', name: 'Support', permissions: ['members:read'] })).json();
    const member = await inviteAndJoin(t.app, admin, 'support');
    const refused = await t.app.inject({ method: 'DELETE', url: `/api/v1/roles/${role.id}`, headers: as(admin) });
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toMatchObject({ code: 'role_in_use', details: { members: 1 } });
    // The custom role really grants its permissions: members:read yes, flags:read no.
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/members', headers: as(member) })).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/roles', headers: as(member) })).statusCode).toBe(403);
    await t.app.inject({ method: 'PATCH', url: `/api/v1/members/usr_${member.userId}`, headers: as(admin), payload: { role: 'viewer' } });
    const ok = await t.app.inject({ method: 'DELETE', url: `/api/v1/roles/${role.id}`, headers: as(admin) });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ success: true, id: role.id });
    expect((await t.app.inject({ method: 'GET', url: `/api/v1/roles/${role.id}`, headers: as(admin) })).statusCode).toBe(404);
  });
});
