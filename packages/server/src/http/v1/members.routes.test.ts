import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inviteAndJoin, type JoinedUser } from '../../testing/access-fixtures.js';
import { authHeader, signUp, type SignedUpUser } from '../../testing/auth.js';
import { createTestApp, type TestApp } from '../../testing/test-app.js';
import { testDialects } from '../../testing/test-database.js';

describe.each(testDialects())('/api/v1/members on %s', (dialect) => {
  let t: TestApp;
  let admin: SignedUpUser;
  let viewer: JoinedUser;
  let developer: JoinedUser;
  let stranger: SignedUpUser;

  beforeAll(async () => {
    t = await createTestApp(dialect);
    admin = await signUp(t.app, { name: 'Ada Admin' });
    viewer = await inviteAndJoin(t.app, admin, 'viewer');
    developer = await inviteAndJoin(t.app, admin, 'developer');
    stranger = await signUp(t.app);
  });
  afterAll(async () => t.close());

  const as = (user: { accessToken: string }) => authHeader(user.accessToken);
  const audit = (action: string) =>
    t.database.handle.db.selectFrom('audit_events').selectAll().where('organization_id', '=', admin.organizationId).where('action', '=', action).execute();

  it('GET lists members with email, name, role and joined time; paged with X-Total-Count', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/members', headers: as(viewer) });
    expect(res.statusCode).toBe(200);
    expect(res.headers['x-total-count']).toBe('3');
    const body = res.json();
    expect(body[0]).toEqual({
      userId: `usr_${admin.userId}`,
      email: admin.email,
      name: 'Ada Admin',
      role: 'admin',
      joinedAt: expect.any(String),
      updatedAt: expect.any(String),
      lastAccessedAt: null,
    });
    expect(body.map((m: { role: string }) => m.role)).toEqual(['admin', 'viewer', 'developer']);
    const page = await t.app.inject({ method: 'GET', url: '/api/v1/members?limit=1&offset=2', headers: as(viewer) });
    expect(page.json().map((m: { userId: string }) => m.userId)).toEqual([`usr_${developer.userId}`]);
  });

  it('GET refuses bad paging with 400 naming the parameter', async () => {
    for (const q of ['limit=0', 'limit=1001', 'limit=abc', 'offset=-1', 'limit=1.5']) {
      const res = await t.app.inject({ method: 'GET', url: `/api/v1/members?${q}`, headers: as(admin) });
      expect(res.statusCode, q).toBe(400);
      expect(Object.keys(res.json().errors)).toEqual([q.split('=')[0]]);
    }
  });

  it('answers 401 without a token', async () => {
    for (const [method, url] of [['GET', '/api/v1/members'], ['GET', `/api/v1/members/${viewer.userId}`], ['PATCH', `/api/v1/members/${viewer.userId}`], ['DELETE', `/api/v1/members/${viewer.userId}`]] as const) {
      const res = await t.app.inject({ method, url, ...(method === 'PATCH' ? { payload: { role: 'viewer' } } : {}) });
      expect(res.statusCode, `${method} ${url}`).toBe(401);
    }
  });

  it('GET one member; 404 for someone of another organisation', async () => {
    const res = await t.app.inject({ method: 'GET', url: `/api/v1/members/usr_${developer.userId}`, headers: as(viewer) });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ email: developer.email, role: 'developer' });
    const other = await t.app.inject({ method: 'GET', url: `/api/v1/members/usr_${stranger.userId}`, headers: as(admin) });
    expect(other.statusCode).toBe(404);
  });

  it('PATCH changes a role (audited); 403 for a viewer; 404 across organisations; 422 naming the field', async () => {
    const member = await inviteAndJoin(t.app, admin, 'viewer');
    const url = `/api/v1/members/usr_${member.userId}`;
    const ok = await t.app.inject({ method: 'PATCH', url, headers: as(admin), payload: { role: 'developer' } });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ userId: `usr_${member.userId}`, role: 'developer' });
    const events = await audit('member.role_changed');
    expect(events.some((e) => e.resource_id === String(member.userId) && JSON.parse(e.after!).role === 'developer')).toBe(true);

    const byViewer = await t.app.inject({ method: 'PATCH', url, headers: as(viewer), payload: { role: 'viewer' } });
    expect(byViewer.statusCode).toBe(403);
    const byStranger = await t.app.inject({ method: 'PATCH', url, headers: as(stranger), payload: { role: 'viewer' } });
    expect(byStranger.statusCode).toBe(404);
    const unknownRole = await t.app.inject({ method: 'PATCH', url, headers: as(admin), payload: { role: 'overlord' } });
    expect(unknownRole.statusCode).toBe(422);
    expect(unknownRole.json().errors).toHaveProperty('role');
    const missing = await t.app.inject({ method: 'PATCH', url, headers: as(admin), payload: {} });
    expect(missing.statusCode).toBe(422);
    expect(missing.json().errors).toHaveProperty('role');
  });

  it('never demotes or removes the last admin (409 last_admin)', async () => {
    const url = `/api/v1/members/usr_${admin.userId}`;
    const demote = await t.app.inject({ method: 'PATCH', url, headers: as(admin), payload: { role: 'viewer' } });
    expect(demote.statusCode).toBe(409);
    expect(demote.json()).toMatchObject({ code: 'last_admin' });
    const leave = await t.app.inject({ method: 'DELETE', url, headers: as(admin) });
    expect(leave.statusCode).toBe(409);
    expect(leave.json()).toMatchObject({ code: 'last_admin' });
  });

  it('DELETE removes a member (audited) or lets one leave; 403 for a viewer removing someone; 404 across organisations', async () => {
    const a = await inviteAndJoin(t.app, admin, 'viewer');
    const b = await inviteAndJoin(t.app, admin, 'viewer');
    const byViewer = await t.app.inject({ method: 'DELETE', url: `/api/v1/members/usr_${b.userId}`, headers: as(a) });
    expect(byViewer.statusCode).toBe(403);
    const byStranger = await t.app.inject({ method: 'DELETE', url: `/api/v1/members/usr_${b.userId}`, headers: as(stranger) });
    expect(byStranger.statusCode).toBe(404);

    const leave = await t.app.inject({ method: 'DELETE', url: `/api/v1/members/usr_${a.userId}`, headers: as(a) });
    expect(leave.statusCode).toBe(200);
    expect(leave.json()).toEqual({ success: true, id: `usr_${a.userId}` });
    const removed = await t.app.inject({ method: 'DELETE', url: `/api/v1/members/usr_${b.userId}`, headers: as(admin) });
    expect(removed.statusCode).toBe(200);
    expect((await audit('member.left')).map((e) => e.resource_id)).toContain(String(a.userId));
    expect((await audit('member.removed')).map((e) => e.resource_id)).toContain(String(b.userId));

    // Gone members no longer reach the organisation.
    const after = await t.app.inject({ method: 'GET', url: '/api/v1/members', headers: authHeader(a.accessToken, admin.organizationId) });
    expect(after.statusCode).toBe(404);
    const again = await t.app.inject({ method: 'DELETE', url: `/api/v1/members/usr_${b.userId}`, headers: as(admin) });
    expect(again.statusCode).toBe(404);
  });
});
