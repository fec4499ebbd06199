import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inviteAndJoin, type JoinedUser } from '../../testing/access-fixtures.js';
import { authHeader, signUp, type SignedUpUser } from '../../testing/auth.js';
import { createTestApp, type TestApp } from '../../testing/test-app.js';
import { testDialects } from '../../testing/test-database.js';

describe.each(testDialects())('IntelliToggle tenant routes /api/v1/tenants on %s', (dialect) => {
  let t: TestApp;
  let admin: SignedUpUser;
  let viewer: JoinedUser;
  let developer: JoinedUser;
  let stranger: SignedUpUser;
  let tenant: string;

  beforeAll(async () => {
    t = await createTestApp(dialect);
    admin = await signUp(t.app, { name: 'Ada Admin', organizationName: 'Acme Corporation' });
    viewer = await inviteAndJoin(t.app, admin, 'viewer');
    developer = await inviteAndJoin(t.app, admin, 'developer');
    stranger = await signUp(t.app);
    tenant = `tenant_${admin.organizationId}`;
  });
  afterAll(async () => t?.close());

  const db = () => t.database.handle.db;
  type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';
  const inject = (method: Method, url: string, headers: Record<string, string>, payload?: unknown) =>
    t.app.inject({ method, url, headers, ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}) });
  /** As `user`, with X-Tenant-ID naming admin's tenant (GET /tenants/{id} requires it). */
  const h = (user: { accessToken: string }, tenantHeader: string | null = tenant) => authHeader(user.accessToken, tenantHeader ?? undefined);
  const audit = (organizationId: number | null, action: string) =>
    db().selectFrom('audit_events').selectAll().where((eb) => (organizationId === null ? eb('organization_id', 'is', null) : eb('organization_id', '=', organizationId))).where('action', '=', action).execute();

  const routes = (id: string): Array<[Method, string, unknown?]> => [
    ['GET', `/api/v1/tenants/${id}`],
    ['PATCH', `/api/v1/tenants/${id}`, { name: 'X' }],
    ['DELETE', `/api/v1/tenants/${id}`],
    ['GET', `/api/v1/tenants/${id}/usage`],
    ['GET', `/api/v1/tenants/${id}/environments`],
    ['POST', `/api/v1/tenants/${id}/environments`, { environment: 'qa' }],
    ['DELETE', `/api/v1/tenants/${id}/environments/qa`],
    ['GET', `/api/v1/tenants/${id}/users`],
    ['POST', `/api/v1/tenants/${id}/users`, { email: 'x@example.test', role: 'viewer' }],
    ['DELETE', `/api/v1/tenants/${id}/users/usr_1`],
  ];

  it('answers 401 without a token on every route', async () => {
    for (const [method, url, payload] of [['GET', '/api/v1/tenants'], ['POST', '/api/v1/tenants', { name: 'X' }], ...routes(tenant)] as Array<[Method, string, unknown?]>) {
      const res = await inject(method, url, { 'x-tenant-id': tenant }, payload ?? (method === 'POST' || method === 'PATCH' ? {} : undefined));
      expect(res.statusCode, `${method} ${url}`).toBe(401);
    }
  });

  it('is 404 for a tenant you do not belong to (with or without X-Tenant-ID), on every route', async () => {
    for (const [method, url, payload] of routes(tenant)) {
      // Without X-Tenant-ID, GET /tenants/{id} asks for it first (whatever the tenant); the rest look absent.
      const res = await inject(method, url, h(stranger, null), payload);
      expect(res.statusCode, `${method} ${url}`).toBe(method === 'GET' && url === `/api/v1/tenants/${tenant}` ? 400 : 404);
      const named = await inject(method, url, h(stranger), payload);
      expect(named.statusCode, `${method} ${url}`).toBe(404);
    }
    for (const [method, url, payload] of routes('tenant_999999')) expect((await inject(method, url, authHeader(admin.accessToken, 'tenant_999999'), payload)).statusCode, `${method} ${url}`).toBe(404);
    // Nothing of admin's tenant changed.
    expect((await db().selectFrom('organizations').select('name').where('id', '=', admin.organizationId).executeTakeFirstOrThrow()).name).toBe('Acme Corporation');
  });

  it('GET /tenants: mine, with the documented shape (subscription {plan, status}) and my role', async () => {
    const res = await inject('GET', '/api/v1/tenants', authHeader(viewer.accessToken));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual([
      {
        id: tenant,
        name: 'Acme Corporation',
        primaryEmail: admin.email,
        contactName: 'Ada Admin',
        isSandbox: false,
        sandboxExpiresAt: null,
        subscription: { plan: 'self-hosted', status: 'active' },
        role: 'viewer',
        createdAt: expect.stringMatching(/Z$/),
        updatedAt: expect.stringMatching(/Z$/),
      },
    ]);
  });

  it('POST /tenants: 201, the creator is its admin, with default environments and project; audited; bad input 422 naming the field', async () => {
    const res = await inject('POST', '/api/v1/tenants', authHeader(developer.accessToken), { name: 'Beta Inc', primaryEmail: 'Admin@Beta.test', contactName: 'John Doe', isSandbox: false });
    expect(res.statusCode, res.body).toBe(201);
    const body = res.json();
    expect(body).toMatchObject({ id: expect.stringMatching(/^tenant_\d+$/), name: 'Beta Inc', primaryEmail: 'admin@beta.test', contactName: 'John Doe', isSandbox: false, subscription: { plan: 'self-hosted', status: 'active' }, role: 'admin' });
    const id = Number(body.id.slice(7));
    expect(await db().selectFrom('memberships').select(['user_id', 'role']).where('organization_id', '=', id).execute()).toEqual([{ user_id: developer.userId, role: 'admin' }]);
    expect((await db().selectFrom('organization_environments').select('key').where('organization_id', '=', id).orderBy('position').execute()).map((e) => e.key)).toEqual(['development', 'staging', 'production']);
    expect(await db().selectFrom('projects').select('is_default').where('organization_id', '=', id).execute()).toEqual([{ is_default: 1 }]);
    expect(await audit(id, 'organization.created')).toHaveLength(1);
    const mine = await inject('GET', '/api/v1/tenants', authHeader(developer.accessToken));
    expect(mine.json().map((x: { id: string; role: string }) => [x.id, x.role])).toEqual([[tenant, 'developer'], [body.id, 'admin']]);

    const sandbox = await inject('POST', '/api/v1/tenants', authHeader(developer.accessToken), { name: 'Playground', isSandbox: true });
    expect(sandbox.statusCode, sandbox.body).toBe(201);
    expect(sandbox.json().isSandbox).toBe(true);
    expect((await db().selectFrom('organizations').select('is_sandbox').where('id', '=', Number(sandbox.json().id.slice(7))).executeTakeFirstOrThrow()).is_sandbox).toBe(1);

    const noName = await inject('POST', '/api/v1/tenants', authHeader(developer.accessToken), { primaryEmail: 'a@b.test' });
    expect(noName.statusCode).toBe(422);
    expect(noName.json().errors).toEqual({ name: 'is required' });
    const badEmail = await inject('POST', '/api/v1/tenants', authHeader(developer.accessToken), { name: 'Gamma', primaryEmail: 'not-an-email' });
    expect(badEmail.statusCode).toBe(422);
    expect(badEmail.json().errors).toEqual({ primaryEmail: expect.any(String) });
    const badSandbox = await inject('POST', '/api/v1/tenants', authHeader(developer.accessToken), { name: 'Gamma', isSandbox: 'yes' });
    expect(badSandbox.statusCode).toBe(422);
    expect(badSandbox.json().errors).toHaveProperty('isSandbox');
    expect(await db().selectFrom('organizations').select('id').where('name', '=', 'Gamma').execute()).toEqual([]);
  });

  it('GET /tenants/{tenantId}: needs X-Tenant-ID naming it (400 tenant_required / tenant_mismatch), 200 with the shape', async () => {
    const res = await inject('GET', `/api/v1/tenants/${tenant}`, h(viewer));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id: tenant, name: 'Acme Corporation', subscription: { plan: 'self-hosted', status: 'active' }, role: 'viewer', createdAt: expect.any(String) });
    const missing = await inject('GET', `/api/v1/tenants/${tenant}`, h(viewer, null));
    expect(missing.statusCode).toBe(400);
    expect(missing.json()).toMatchObject({ code: 'tenant_required', errors: { 'x-tenant-id': 'is required' } });
    // The developer belongs to both; the header and the path must agree.
    const other = (await inject('GET', '/api/v1/tenants', authHeader(developer.accessToken))).json()[1].id as string;
    const mismatch = await inject('GET', `/api/v1/tenants/${other}`, h(developer));
    expect(mismatch.statusCode).toBe(400);
    expect(mismatch.json().code).toBe('tenant_mismatch');
    expect((await inject('GET', `/api/v1/tenants/${other}`, h(developer, other))).json()).toMatchObject({ id: other, role: 'admin' });
    // Elsewhere X-Tenant-ID is optional.
    expect((await inject('GET', `/api/v1/tenants/${tenant}/environments`, h(viewer, null))).statusCode).toBe(200);
  });

  it('PATCH /tenants/{tenantId}: changes what is given, stored and audited; viewers 403; bad input 422', async () => {
    const res = await inject('PATCH', `/api/v1/tenants/${tenant}`, h(admin), { name: 'Acme Corp', primaryEmail: 'newemail@acme.com', contactName: 'Jane Smith' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ id: tenant, name: 'Acme Corp', primaryEmail: 'newemail@acme.com', contactName: 'Jane Smith' });
    expect(await db().selectFrom('organizations').select(['name', 'primary_email', 'contact_name']).where('id', '=', admin.organizationId).executeTakeFirstOrThrow()).toEqual({ name: 'Acme Corp', primary_email: 'newemail@acme.com', contact_name: 'Jane Smith' });
    expect(await audit(admin.organizationId, 'organization.updated')).toHaveLength(1);
    const denied = await inject('PATCH', `/api/v1/tenants/${tenant}`, h(viewer), { name: 'Viewer Corp' });
    expect(denied.statusCode).toBe(403);
    const bad = await inject('PATCH', `/api/v1/tenants/${tenant}`, h(admin), { name: '' });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().errors).toEqual({ name: expect.any(String) });
    expect((await db().selectFrom('organizations').select('name').where('id', '=', admin.organizationId).executeTakeFirstOrThrow()).name).toBe('Acme Corp');
  });

  it('GET /tenants/{tenantId}/usage: {flags, evaluations, users} — flags not archived, evaluations this month, members', async () => {
    const project = '/api/v1/projects/default';
    for (const key of ['a', 'b', 'c']) await inject('POST', `${project}/flags`, authHeader(admin.accessToken), { key, type: 'boolean' });
    await inject('POST', `${project}/flags/c/archive`, authHeader(admin.accessToken));
    const apiKey = (await inject('POST', `${project}/api-keys`, authHeader(admin.accessToken), { name: 'k', environment: 'production', scope: 'server' })).json().key as string;
    for (let i = 0; i < 3; i++) await t.app.inject({ method: 'POST', url: '/api/v1/evaluate', headers: { 'x-api-key': apiKey }, payload: { flagKey: 'a', context: {} } });
    await inject('POST', '/api/v1/flags/b/evaluate', h(viewer), { targetingKey: 'u' });
    await t.app.services.evaluationCounters.flush();
    // Last month's counts are not this month's.
    const lastMonth = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), 0)).toISOString().slice(0, 10);
    const env = await db().selectFrom('environments').innerJoin('projects', 'projects.id', 'environments.project_id').select(['environments.id as id', 'projects.id as projectId']).where('projects.organization_id', '=', admin.organizationId).where('environments.key', '=', 'production').where('projects.is_default', '=', 1).executeTakeFirstOrThrow();
    await db().insertInto('evaluation_counts').values({ environment_id: env.id, flag_key: 'a', variation: 'off', day: lastMonth, organization_id: admin.organizationId, project_id: env.projectId, count: 1000 }).execute();

    const res = await inject('GET', `/api/v1/tenants/${tenant}/usage`, h(viewer, null));
    expect(res.statusCode, res.body).toBe(200);
    const today = new Date().toISOString().slice(0, 10);
    expect(res.json()).toEqual({ flags: 2, evaluations: 4, users: 3, period: { from: `${today.slice(0, 7)}-01`, to: today } });
    // Counts still in memory count too.
    await inject('POST', '/api/v1/flags/b/evaluate', h(viewer), { targetingKey: 'u' });
    expect((await inject('GET', `/api/v1/tenants/${tenant}/usage`, h(viewer, null))).json().evaluations).toBe(5);
  });

  it('environments: GET names; POST adds to the tenant and every project (201), 409 when present, 422 naming environment; DELETE removes everywhere (204), refused when a project would have none', async () => {
    const list = await inject('GET', `/api/v1/tenants/${tenant}/environments`, h(viewer, null));
    expect(list.statusCode).toBe(200);
    expect(list.json()).toEqual(['development', 'staging', 'production']);
    const mobile = await inject('POST', '/api/v1/projects', authHeader(admin.accessToken), { name: 'Mobile' });
    const mobileId = Number(mobile.json().id.slice(5));
    const projectEnvs = async () => {
      const rows = await db().selectFrom('environments').innerJoin('projects', 'projects.id', 'environments.project_id').select(['projects.key as project', 'environments.key as env']).where('projects.organization_id', '=', admin.organizationId).orderBy('projects.key').orderBy('environments.position').execute();
      const out: Record<string, string[]> = {};
      for (const r of rows) (out[r.project] ??= []).push(r.env);
      return out;
    };

    expect((await inject('POST', `/api/v1/tenants/${tenant}/environments`, h(viewer, null), { environment: 'qa' })).statusCode).toBe(403);
    const added = await inject('POST', `/api/v1/tenants/${tenant}/environments`, h(developer, null), { environment: 'qa' });
    expect(added.statusCode, added.body).toBe(201);
    expect(added.json()).toEqual(['development', 'staging', 'production', 'qa']);
    expect(await projectEnvs()).toEqual({ default: ['development', 'staging', 'production', 'qa'], mobile: ['development', 'staging', 'production', 'qa'] });
    expect(await audit(admin.organizationId, 'organization.environment_added')).toHaveLength(1);
    expect(await audit(admin.organizationId, 'environment.created')).toHaveLength(2);
    // The new environment is evaluable at once (its snapshot exists).
    expect((await inject('POST', '/api/v1/flags/a/evaluate', h(viewer), { environment: 'qa' })).json()).toMatchObject({ environment: 'qa', reason: 'OFF' });
    // A project created later gets it too.
    await inject('POST', '/api/v1/projects', authHeader(admin.accessToken), { name: 'Later' });
    expect((await projectEnvs()).later).toEqual(['development', 'staging', 'production', 'qa']);

    const again = await inject('POST', `/api/v1/tenants/${tenant}/environments`, h(admin, null), { environment: 'qa' });
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('environment_exists');
    const bad = await inject('POST', `/api/v1/tenants/${tenant}/environments`, h(admin, null), { environment: 'q a' });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().errors).toEqual({ environment: expect.any(String) });
    const missing = await inject('POST', `/api/v1/tenants/${tenant}/environments`, h(admin, null), {});
    expect(missing.statusCode).toBe(422);
    expect(missing.json().errors).toEqual({ environment: 'is required' });

    expect((await inject('DELETE', `/api/v1/tenants/${tenant}/environments/qa`, h(viewer, null))).statusCode).toBe(403);
    const removed = await inject('DELETE', `/api/v1/tenants/${tenant}/environments/qa`, h(admin, null));
    expect(removed.statusCode, removed.body).toBe(204);
    expect(removed.body).toBe('');
    expect(await projectEnvs()).toEqual({ default: ['development', 'staging', 'production'], later: ['development', 'staging', 'production'], mobile: ['development', 'staging', 'production'] });
    expect((await inject('GET', `/api/v1/tenants/${tenant}/environments`, h(admin, null))).json()).toEqual(['development', 'staging', 'production']);
    expect(await audit(admin.organizationId, 'organization.environment_removed')).toHaveLength(1);
    expect((await inject('DELETE', `/api/v1/tenants/${tenant}/environments/qa`, h(admin, null))).statusCode).toBe(404);

    // Mobile is left with only "production": removing it everywhere would strand Mobile, so nothing changes.
    for (const key of ['development', 'staging']) {
      const envId = (await db().selectFrom('environments').select('id').where('project_id', '=', mobileId).where('key', '=', key).executeTakeFirstOrThrow()).id;
      expect((await inject('DELETE', `/api/v1/projects/mobile/environments/env_${envId}`, authHeader(admin.accessToken))).statusCode).toBe(200);
    }
    const stranded = await inject('DELETE', `/api/v1/tenants/${tenant}/environments/production`, h(admin, null));
    expect(stranded.statusCode).toBe(409);
    expect(stranded.json()).toMatchObject({ code: 'last_environment', details: { environment: 'production', projects: ['mobile'] } });
    expect((await projectEnvs()).default).toEqual(['development', 'staging', 'production']);
    expect((await inject('GET', `/api/v1/tenants/${tenant}/environments`, h(admin, null))).json()).toContain('production');
  });

  it('users: GET the documented shape; POST adds an account (201 active) or invites an unknown email (201 invited, mailed); 409, 422 naming role/email; viewers 403', async () => {
    const list = await inject('GET', `/api/v1/tenants/${tenant}/users`, h(viewer, null));
    expect(list.statusCode).toBe(200);
    expect(list.headers['x-total-count']).toBe('3');
    expect(list.json()[0]).toEqual({ userId: `usr_${admin.userId}`, email: admin.email, displayName: 'Ada Admin', role: 'admin', lastAccessedAt: null, createdAt: expect.stringMatching(/Z$/) });

    const existing = await signUp(t.app, { name: 'Bo Existing' });
    const added = await inject('POST', `/api/v1/tenants/${tenant}/users`, h(admin, null), { email: existing.email, role: 'developer' });
    expect(added.statusCode, added.body).toBe(201);
    expect(added.json()).toEqual({ userId: `usr_${existing.userId}`, email: existing.email, displayName: 'Bo Existing', role: 'developer', status: 'active', invitationId: null, invitationExpiresAt: null, lastAccessedAt: null, createdAt: expect.any(String) });
    expect(await db().selectFrom('memberships').select('role').where('organization_id', '=', admin.organizationId).where('user_id', '=', existing.userId).executeTakeFirst()).toEqual({ role: 'developer' });
    expect((await audit(admin.organizationId, 'member.added')).some((a) => a.resource_id === String(existing.userId))).toBe(true);

    const invited = await inject('POST', `/api/v1/tenants/${tenant}/users`, h(admin, null), { email: 'NewUser@Example.test', role: 'viewer' });
    expect(invited.statusCode, invited.body).toBe(201);
    expect(invited.json()).toMatchObject({ userId: null, email: 'newuser@example.test', role: 'viewer', status: 'invited', invitationId: expect.stringMatching(/^inv_\d+$/), invitationExpiresAt: expect.any(String) });
    expect(await db().selectFrom('mail_outbox').select('to_address').where('to_address', '=', 'newuser@example.test').execute()).toHaveLength(1);

    const twice = await inject('POST', `/api/v1/tenants/${tenant}/users`, h(admin, null), { email: existing.email, role: 'viewer' });
    expect(twice.statusCode).toBe(409);
    expect(twice.json().code).toBe('already_member');
    const badRole = await inject('POST', `/api/v1/tenants/${tenant}/users`, h(admin, null), { email: 'x@example.test', role: 'owner' });
    expect(badRole.statusCode).toBe(422);
    expect(Object.keys(badRole.json().errors)).toEqual(['role']);
    const badEmail = await inject('POST', `/api/v1/tenants/${tenant}/users`, h(admin, null), { email: 'nope', role: 'viewer' });
    expect(badEmail.statusCode).toBe(422);
    expect(badEmail.json().errors).toEqual({ email: expect.any(String) });
    expect((await inject('POST', `/api/v1/tenants/${tenant}/users`, h(viewer, null), { email: 'y@example.test', role: 'viewer' })).statusCode).toBe(403);
    // A developer cannot hand out admin.
    const escalate = await inject('POST', `/api/v1/tenants/${tenant}/users`, h(developer, null), { email: 'z@example.test', role: 'admin' });
    expect(escalate.statusCode).toBe(403);
  });

  it('DELETE /tenants/{tenantId}/users/{userId}: 204, gone; viewers 403; never the last admin (409)', async () => {
    const users = (await inject('GET', `/api/v1/tenants/${tenant}/users`, h(admin, null))).json() as Array<{ userId: string; email: string }>;
    const bo = users.find((u) => u.userId !== `usr_${admin.userId}` && u.userId !== `usr_${viewer.userId}` && u.userId !== `usr_${developer.userId}`)!;
    expect((await inject('DELETE', `/api/v1/tenants/${tenant}/users/${bo.userId}`, h(viewer, null))).statusCode).toBe(403);
    const res = await inject('DELETE', `/api/v1/tenants/${tenant}/users/${bo.userId}`, h(admin, null));
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
    expect(await db().selectFrom('memberships').select('id').where('organization_id', '=', admin.organizationId).where('user_id', '=', Number(bo.userId.slice(4))).execute()).toEqual([]);
    expect((await inject('DELETE', `/api/v1/tenants/${tenant}/users/${bo.userId}`, h(admin, null))).statusCode).toBe(404);
    const last = await inject('DELETE', `/api/v1/tenants/${tenant}/users/usr_${admin.userId}`, h(admin, null));
    expect(last.statusCode).toBe(409);
    expect(last.json().code).toBe('last_admin');
    expect((await inject('DELETE', `/api/v1/tenants/${tenant}/users/not-an-id`, h(admin, null))).statusCode).toBe(404);
  });

  it('DELETE /tenants/{tenantId}: viewers 403; admins 204, the tenant and its memberships gone, the deletion audited outside it', async () => {
    const created = await inject('POST', '/api/v1/tenants', authHeader(admin.accessToken), { name: 'Doomed' });
    const id = created.json().id as string;
    const numeric = Number(id.slice(7));
    await inject('POST', `/api/v1/tenants/${id}/users`, authHeader(admin.accessToken), { email: viewer.email, role: 'viewer' });
    expect((await inject('DELETE', `/api/v1/tenants/${id}`, authHeader(viewer.accessToken))).statusCode).toBe(403);
    const res = await inject('DELETE', `/api/v1/tenants/${id}`, authHeader(admin.accessToken));
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
    expect(await db().selectFrom('organizations').select('id').where('id', '=', numeric).execute()).toEqual([]);
    expect(await db().selectFrom('memberships').select('id').where('organization_id', '=', numeric).execute()).toEqual([]);
    expect((await audit(null, 'organization.deleted')).some((a) => a.resource_id === String(numeric))).toBe(true);
    expect((await inject('GET', `/api/v1/tenants/${id}`, h(admin, id))).statusCode).toBe(404);
  });
});
