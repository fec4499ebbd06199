import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inviteAndJoin, type JoinedUser } from '../../testing/access-fixtures.js';
import { authHeader, signUp } from '../../testing/auth.js';
import { createApiKey, evaluateWith } from '../../testing/evaluation-fixtures.js';
import { createTestApp, type TestApp } from '../../testing/test-app.js';
import { testDialects } from '../../testing/test-database.js';

const DAY = 86_400_000;

describe.each(testDialects())('account deletion on %s', (dialect) => {
  let t: TestApp;
  const url = '/api/v1/account-deletion';

  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(async () => t?.close());

  const as = (u: { accessToken: string }, tenant?: number) => authHeader(u.accessToken, tenant);
  const call = (u: { accessToken: string }, method: 'GET' | 'POST' | 'DELETE', path: string, payload?: unknown, tenant?: number) =>
    t.app.inject({ method, url: path, headers: as(u, tenant), ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}) });
  const login = (u: { email: string; password: string }) => t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: u.email, password: u.password } });
  const db = () => t.database.handle.db;

  it('request, see, refuse a second, cancel; login tells of it', async () => {
    const user = await signUp(t.app);
    const before = Date.now();
    const res = await call(user, 'POST', url, { scope: 'account' });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ id: expect.stringMatching(/^del_\d+$/), scope: 'account', status: 'pending', organizationId: null, cancelledAt: null });
    const lead = Date.parse(body.scheduledFor) - before;
    expect(lead).toBeGreaterThanOrEqual(14 * DAY - 1000);
    expect(lead).toBeLessThanOrEqual(14 * DAY + 5000);
    expect((await call(user, 'GET', url)).json()).toEqual(body);

    const again = await call(user, 'POST', url, {});
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ code: 'deletion_pending', details: { scheduledFor: body.scheduledFor } });

    const signedIn = await login(user);
    expect(signedIn.statusCode).toBe(200);
    expect(signedIn.json().data.pendingDeletion).toEqual({ scope: 'account', scheduledFor: body.scheduledFor, organizationId: null });

    const cancelled = await call(user, 'DELETE', url);
    expect(cancelled.statusCode).toBe(200);
    expect(cancelled.json()).toMatchObject({ id: body.id, status: 'cancelled', cancelledAt: expect.any(String) });
    expect((await call(user, 'GET', url)).statusCode).toBe(404);
    expect((await call(user, 'DELETE', url)).statusCode).toBe(404);
    expect((await login(user)).json().data.pendingDeletion).toBeNull();
    // Cancelled, it may be asked for again; nothing was erased meanwhile.
    expect((await t.app.services.accountDeletions.runDue(new Date(Date.now() + 30 * DAY))).completed).toEqual([]);
    expect((await call(user, 'POST', url)).statusCode).toBe(200);
    expect((await call(user, 'DELETE', url)).statusCode).toBe(200);
  });

  it("the last admin of an organisation with other members cannot delete the account; the organisation's deletion is for its admins", async () => {
    const admin = await signUp(t.app);
    const developer = await inviteAndJoin(t.app, admin, 'developer');
    const last = await call(admin, 'POST', url, { scope: 'account' });
    expect(last.statusCode).toBe(409);
    expect(last.json()).toMatchObject({ code: 'last_admin', details: { organizationIds: [`tenant_${admin.organizationId}`] } });

    expect((await call(developer, 'POST', url, { scope: 'organization' }, admin.organizationId)).statusCode).toBe(403);
    const org = await call(admin, 'POST', url, { scope: 'organization' });
    expect(org.statusCode, org.body).toBe(200);
    expect(org.json()).toMatchObject({ scope: 'organization', status: 'pending', organizationId: `tenant_${admin.organizationId}` });
    // Every member may see it, and is told at login; only an admin may cancel it.
    const seen = await call(developer, 'GET', `${url}?scope=organization`, undefined, admin.organizationId);
    expect(seen.statusCode).toBe(200);
    expect(seen.json().id).toBe(org.json().id);
    expect((await login(developer)).json().data.pendingDeletion).toMatchObject({ scope: 'organization', organizationId: `tenant_${admin.organizationId}` });
    expect((await call(developer, 'DELETE', `${url}?scope=organization`, undefined, admin.organizationId)).statusCode).toBe(403);
    // Another organisation's deletion is invisible: its X-Tenant-ID is ignored, its own has none.
    const stranger = await signUp(t.app);
    expect((await call(stranger, 'GET', `${url}?scope=organization`, undefined, admin.organizationId)).statusCode).toBe(404);
    expect((await call(stranger, 'DELETE', `${url}?scope=organization`, undefined, admin.organizationId)).statusCode).toBe(404);
    expect((await call(admin, 'DELETE', `${url}?scope=organization`)).json().status).toBe('cancelled');
  });

  it('401 without a token; bad input refused', async () => {
    for (const method of ['GET', 'POST', 'DELETE'] as const) expect((await t.app.inject({ method, url })).statusCode).toBe(401);
    const user = await signUp(t.app);
    expect((await call(user, 'POST', url, { scope: 'everything' })).statusCode).toBe(422);
    expect((await call(user, 'POST', url, { scope: 'account', extra: true })).statusCode).toBe(422);
    expect((await call(user, 'GET', `${url}?scope=everything`)).statusCode).toBe(400);
  });

  it('the job erases an organisation when its grace period ends, keeping one tombstone', async () => {
    const admin = await signUp(t.app);
    const member = await inviteAndJoin(t.app, admin, 'developer');
    const flag = await t.app.inject({ method: 'POST', url: '/api/v1/projects/default/flags', headers: as(admin), payload: { key: 'doomed', type: 'boolean', defaultValue: true } });
    expect(flag.statusCode).toBeLessThan(300);
    const key = await createApiKey(t.app, admin.accessToken, 'default', { environment: 'production', scope: 'server' });
    expect((await evaluateWith(t.app, key.key, { flagKey: 'doomed' })).statusCode).toBe(200);
    const requested = (await call(admin, 'POST', url, { scope: 'organization' })).json();
    const orgId = admin.organizationId;
    const jobs = t.app.services.accountDeletions;

    expect((await jobs.runDue(new Date(Date.parse(requested.scheduledFor) - 1000))).completed).toEqual([]);
    expect(await db().selectFrom('organizations').select('id').where('id', '=', orgId).executeTakeFirst()).toBeDefined();

    const run = await jobs.runDue(new Date(Date.parse(requested.scheduledFor) + 1000));
    expect(run.completed).toEqual([Number(requested.id.slice(4))]);
    expect(await db().selectFrom('organizations').select('id').where('id', '=', orgId).executeTakeFirst()).toBeUndefined();
    expect(await db().selectFrom('projects').select('id').where('organization_id', '=', orgId).execute()).toEqual([]);
    expect(await db().selectFrom('memberships').select('id').where('organization_id', '=', orgId).execute()).toEqual([]);
    expect(await db().selectFrom('mail_outbox').select('id').where('organization_id', '=', orgId).execute()).toEqual([]);
    // Its keys stop working at once; its members keep their accounts.
    expect((await evaluateWith(t.app, key.key, { flagKey: 'doomed' })).statusCode).toBe(401);
    expect((await login(member)).statusCode).toBe(200);
    // Only a tombstone remains of its history.
    expect(await db().selectFrom('audit_events').select('id').where('organization_id', '=', orgId).execute()).toEqual([]);
    const tombstone = await db().selectFrom('audit_events').selectAll().where('action', '=', 'organization.erased').where('resource_id', '=', String(orgId)).executeTakeFirstOrThrow();
    expect(tombstone).toMatchObject({ organization_id: null, actor_type: 'system', actor_id: null, resource_type: 'organization' });
    expect(tombstone.after).not.toContain(admin.email);
    const row = await db().selectFrom('deletion_requests').selectAll().where('id', '=', Number(requested.id.slice(4))).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'completed', requested_by: null });
  });

  it('the job erases an account: the user and their own organisation go, audit events elsewhere keep a tombstone', async () => {
    const admin = await signUp(t.app);
    const leaving: JoinedUser = await inviteAndJoin(t.app, admin, 'developer');
    const theirOwn = await t.app.inject({ method: 'POST', url: '/api/v1/organizations', headers: as(leaving), payload: { name: 'Solo' } });
    expect(theirOwn.statusCode, theirOwn.body).toBeLessThan(300);
    const soloId = Number(String(theirOwn.json().id).replace(/^tenant_/, ''));
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/projects/default/flags',
      headers: as(leaving, admin.organizationId),
      payload: { key: 'by-the-leaver', type: 'boolean', defaultValue: false, description: `made by ${leaving.email}` },
    });
    expect(created.statusCode, created.body).toBeLessThan(300);

    const requested = await call(leaving, 'POST', url, {});
    expect(requested.statusCode, requested.body).toBe(200);
    const run = await t.app.services.accountDeletions.runDue(new Date(Date.now() + 15 * DAY));
    expect(run.completed).toContain(Number(requested.json().id.slice(4)));

    expect(await db().selectFrom('users').select('id').where('id', '=', leaving.userId).executeTakeFirst()).toBeUndefined();
    expect((await login(leaving)).statusCode).toBe(401);
    expect((await call(leaving, 'GET', url)).statusCode).toBe(401);
    expect(await db().selectFrom('organizations').select('id').where('id', '=', soloId).executeTakeFirst()).toBeUndefined();
    expect(await db().selectFrom('invitations').select('id').where('email', '=', leaving.email).execute()).toEqual([]);
    expect(await db().selectFrom('mail_outbox').select('id').where('to_address', '=', leaving.email).execute()).toEqual([]);
    // The admin's organisation keeps its history, without who: no actor id, no email, no user id.
    const events = await db().selectFrom('audit_events').selectAll().where('organization_id', '=', admin.organizationId).execute();
    const text = JSON.stringify(events);
    expect(text).not.toContain(leaving.email);
    expect(text).not.toContain(String(leaving.userId));
    const flagEvent = events.find((e) => e.action === 'flag.created' && e.after?.includes('made by'));
    expect(flagEvent).toMatchObject({ actor_type: 'user', actor_id: null });
    expect(JSON.parse(flagEvent!.after!).description).toBe('made by [erased]');
    expect(events.some((e) => e.action === 'member.added' && e.resource_id === null)).toBe(true);
    expect(events.filter((e) => e.actor_id === admin.userId).length).toBeGreaterThan(0);
    const tombstone = await db().selectFrom('audit_events').selectAll().where('action', '=', 'account.erased').orderBy('created_at', 'desc').executeTakeFirstOrThrow();
    expect(tombstone).toMatchObject({ organization_id: null, actor_type: 'system', resource_id: null });
    const row = await db().selectFrom('deletion_requests').selectAll().where('id', '=', Number(requested.json().id.slice(4))).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'completed', subject_id: null, requested_by: null });
    // The admin is untouched.
    expect((await login(admin)).statusCode).toBe(200);
  });

  it('a request that became impossible during its grace period fails instead of orphaning an organisation', async () => {
    const admin = await signUp(t.app);
    const requested = (await call(admin, 'POST', url)).json();
    await inviteAndJoin(t.app, admin, 'viewer');
    const run = await t.app.services.accountDeletions.runDue(new Date(Date.now() + 15 * DAY));
    expect(run.failed).toContainEqual({ id: Number(requested.id.slice(4)), reason: 'last_admin' });
    expect((await login(admin)).statusCode).toBe(200);
    expect((await call(admin, 'GET', url)).statusCode).toBe(404);
  });

  it('SWITCHYARD_DELETION_GRACE_DAYS sets the grace period', async () => {
    const other = await createTestApp(dialect, { SWITCHYARD_DELETION_GRACE_DAYS: '3' });
    try {
      const user = await signUp(other.app);
      const res = await other.app.inject({ method: 'POST', url, headers: as(user) });
      expect(res.statusCode, res.body).toBe(200);
      const lead = Date.parse(res.json().scheduledFor) - Date.now();
      expect(lead).toBeGreaterThan(3 * DAY - 10_000);
      expect(lead).toBeLessThanOrEqual(3 * DAY);
    } finally {
      await other.close();
    }
  });
});
