import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inviteAndJoin, type JoinedUser } from '../../testing/access-fixtures.js';
import { authHeader, signUp, type SignedUpUser } from '../../testing/auth.js';
import { createTestApp, type TestApp } from '../../testing/test-app.js';
import { testDialects } from '../../testing/test-database.js';

describe.each(testDialects())('/api/v1/organizations on %s', (dialect) => {
  let t: TestApp;
  let admin: SignedUpUser;
  let viewer: JoinedUser;
  let stranger: SignedUpUser;

  beforeAll(async () => {
    t = await createTestApp(dialect);
    admin = await signUp(t.app, { organizationName: 'Acme' });
    viewer = await inviteAndJoin(t.app, admin, 'viewer');
    stranger = await signUp(t.app, { organizationName: 'Elsewhere' });
  });
  afterAll(async () => t.close());

  const as = (user: { accessToken: string }) => authHeader(user.accessToken);

  it('GET lists the organisations I belong to, with my role', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/organizations', headers: as(viewer) });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual([
      expect.objectContaining({ id: `tenant_${admin.organizationId}`, name: 'Acme', role: 'viewer', isSandbox: false, plan: 'self-hosted' }),
    ]);
  });

  it('answers 401 without a token on every route', async () => {
    const id = `tenant_${admin.organizationId}`;
    for (const [method, url] of [['GET', '/api/v1/organizations'], ['POST', '/api/v1/organizations'], ['GET', `/api/v1/organizations/${id}`], ['PATCH', `/api/v1/organizations/${id}`], ['DELETE', `/api/v1/organizations/${id}`]] as const) {
      const res = await t.app.inject({ method, url, ...(method === 'POST' || method === 'PATCH' ? { payload: { name: 'x' } } : {}) });
      expect(res.statusCode, `${method} ${url}`).toBe(401);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
  });

  it('POST creates an organisation I administer, with the default environments and project', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/organizations', headers: as(viewer), payload: { name: 'Side project', contactName: 'Vee' } });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ name: 'Side project', contactName: 'Vee', primaryEmail: null, role: 'admin' });
    const id = Number(body.id.replace('tenant_', ''));
    const envs = await t.database.handle.db
      .selectFrom('projects as p')
      .innerJoin('environments as e', 'e.project_id', 'p.id')
      .select(['p.key as project', 'e.key as env'])
      .where('p.organization_id', '=', id)
      .orderBy('e.position')
      .execute();
    expect(envs).toEqual([
      { project: 'default', env: 'development' },
      { project: 'default', env: 'staging' },
      { project: 'default', env: 'production' },
    ]);
    const mine = await t.app.inject({ method: 'GET', url: '/api/v1/organizations', headers: as(viewer) });
    expect(mine.json().map((o: { id: string }) => o.id)).toEqual([`tenant_${admin.organizationId}`, body.id]);
  });

  it('POST refuses bad input with 422 naming the field', async () => {
    const missing = await t.app.inject({ method: 'POST', url: '/api/v1/organizations', headers: as(admin), payload: {} });
    expect(missing.statusCode).toBe(422);
    expect(missing.json()).toMatchObject({ code: 'validation_failed', errors: { name: expect.any(String) } });
    const email = await t.app.inject({ method: 'POST', url: '/api/v1/organizations', headers: as(admin), payload: { name: 'X', primaryEmail: 'nope' } });
    expect(email.statusCode).toBe(422);
    expect(email.json().errors).toHaveProperty('primaryEmail');
    const extra = await t.app.inject({ method: 'POST', url: '/api/v1/organizations', headers: as(admin), payload: { name: 'X', plan: 'enterprise' } });
    expect(extra.statusCode).toBe(422);
  });

  it('GET one answers my organisation, and 404 for another one or a malformed id', async () => {
    const mine = await t.app.inject({ method: 'GET', url: `/api/v1/organizations/tenant_${admin.organizationId}`, headers: as(admin) });
    expect(mine.statusCode).toBe(200);
    expect(mine.json()).toMatchObject({ name: 'Acme', role: 'admin' });
    const theirs = await t.app.inject({ method: 'GET', url: `/api/v1/organizations/tenant_${stranger.organizationId}`, headers: as(admin) });
    expect(theirs.statusCode).toBe(404);
    expect(theirs.json()).toMatchObject({ code: 'not_found' });
    const absent = await t.app.inject({ method: 'GET', url: '/api/v1/organizations/tenant_12345', headers: as(admin) });
    expect(absent.statusCode).toBe(404);
    expect(absent.json().message).toBe(theirs.json().message);
    const garbage = await t.app.inject({ method: 'GET', url: '/api/v1/organizations/usr_1', headers: as(admin) });
    expect(garbage.statusCode).toBe(404);
  });

  it('PATCH changes given fields, clears nulls, keeps absent ones', async () => {
    const url = `/api/v1/organizations/${admin.organizationId}`;
    const first = await t.app.inject({ method: 'PATCH', url, headers: as(admin), payload: { primaryEmail: 'Ops@Acme.test', contactName: 'Ada' } });
    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({ name: 'Acme', primaryEmail: 'ops@acme.test', contactName: 'Ada' });
    const second = await t.app.inject({ method: 'PATCH', url, headers: as(admin), payload: { name: 'Acme Inc', contactName: null } });
    expect(second.json()).toMatchObject({ name: 'Acme Inc', primaryEmail: 'ops@acme.test', contactName: null });
    const read = await t.app.inject({ method: 'GET', url, headers: as(viewer) });
    expect(read.json()).toMatchObject({ name: 'Acme Inc', primaryEmail: 'ops@acme.test', contactName: null });
  });

  it('PATCH: 403 for a viewer, 404 across organisations, 422 naming the field', async () => {
    const url = `/api/v1/organizations/${admin.organizationId}`;
    const viewerRes = await t.app.inject({ method: 'PATCH', url, headers: as(viewer), payload: { name: 'Mine now' } });
    expect(viewerRes.statusCode).toBe(403);
    expect(viewerRes.json()).toMatchObject({ code: 'forbidden', details: { permission: 'organization:write' } });
    const strangerRes = await t.app.inject({ method: 'PATCH', url, headers: as(stranger), payload: { name: 'Mine now' } });
    expect(strangerRes.statusCode).toBe(404);
    const bad = await t.app.inject({ method: 'PATCH', url, headers: as(admin), payload: { name: '' } });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().errors).toHaveProperty('name');
    const cleared = await t.app.inject({ method: 'PATCH', url, headers: as(admin), payload: { name: null } });
    expect(cleared.statusCode).toBe(422);
    expect(cleared.json().errors).toHaveProperty('name');
  });

  it('DELETE: 403 for a viewer, 404 across organisations; an admin deletes it with everything in it', async () => {
    const doomed = await signUp(t.app, { organizationName: 'Doomed' });
    const member = await inviteAndJoin(t.app, doomed, 'developer');
    const url = `/api/v1/organizations/tenant_${doomed.organizationId}`;
    expect((await t.app.inject({ method: 'DELETE', url, headers: as(member) })).statusCode).toBe(403);
    expect((await t.app.inject({ method: 'DELETE', url, headers: as(admin) })).statusCode).toBe(404);
    const res = await t.app.inject({ method: 'DELETE', url, headers: as(doomed) });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ success: true, id: `tenant_${doomed.organizationId}` });
    expect((await t.app.inject({ method: 'GET', url, headers: as(doomed) })).statusCode).toBe(404);
    const db = t.database.handle.db;
    expect(await db.selectFrom('memberships').select('id').where('organization_id', '=', doomed.organizationId).execute()).toHaveLength(0);
    expect(await db.selectFrom('projects').select('id').where('organization_id', '=', doomed.organizationId).execute()).toHaveLength(0);
    const mine = await t.app.inject({ method: 'GET', url: '/api/v1/organizations', headers: as(member) });
    expect(mine.json()).toEqual([]);
  });
});
