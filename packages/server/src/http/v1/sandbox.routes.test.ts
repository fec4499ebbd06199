import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inviteAndJoin, type JoinedUser } from '../../testing/access-fixtures.js';
import { authHeader, signUp, type SignedUpUser } from '../../testing/auth.js';
import { createTestApp, type TestApp } from '../../testing/test-app.js';
import { testDialects } from '../../testing/test-database.js';
import { demoFlags } from '../../features/engagement/sandbox-service.js';

describe.each(testDialects())('/api/v1/sandbox on %s', (dialect) => {
  let t: TestApp;
  let alice: SignedUpUser;
  let sandboxId: string;
  let viewer: JoinedUser;
  let stranger: SignedUpUser;

  beforeAll(async () => {
    t = await createTestApp(dialect, { SWITCHYARD_SANDBOX_DAYS: '3' });
    alice = await signUp(t.app);
    stranger = await signUp(t.app);
    const created = await t.app.inject({ method: 'POST', url: '/api/v1/tenants', headers: authHeader(alice.accessToken), payload: { name: 'Playground', isSandbox: true } });
    expect(created.statusCode).toBe(201);
    sandboxId = created.json().id as string;
    viewer = await inviteAndJoin(t.app, { accessToken: alice.accessToken, organizationId: Number(sandboxId.replace('tenant_', '')) }, 'viewer');
  });
  afterAll(async () => t.close());

  const get = (path: string, user: { accessToken: string }, tenant: string | number | null = sandboxId) => t.app.inject({ method: 'GET', url: `/api/v1/sandbox/${path}`, headers: authHeader(user.accessToken, tenant ?? undefined) });
  const post = (path: string, user: { accessToken: string }, payload?: Record<string, unknown>, tenant: string | number | null = sandboxId) =>
    t.app.inject({ method: 'POST', url: `/api/v1/sandbox/${path}`, headers: authHeader(user.accessToken, tenant ?? undefined), ...(payload ? { payload } : {}) });
  const flagKeys = async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/flags', headers: authHeader(alice.accessToken, sandboxId) });
    expect(res.statusCode).toBe(200);
    return (res.json() as Array<{ key: string }>).map((f) => f.key).sort();
  };

  it('a tenant created with isSandbox: true is seeded with demo flags and expires after SWITCHYARD_SANDBOX_DAYS', async () => {
    const status = await get('status', alice);
    expect(status.statusCode).toBe(200);
    const body = status.json();
    expect(body).toMatchObject({ active: true, isSandbox: true });
    expect(Math.abs(Date.parse(body.expiresAt) - (Date.now() + 3 * 86_400_000))).toBeLessThan(120_000);
    expect(await flagKeys()).toEqual(demoFlags.map((f) => f.key).sort());
    // Evaluation knows the demo flags at once: demo-user-1 is a target of the new checkout.
    const evaluate = (targetingKey: string) => t.app.inject({ method: 'POST', url: '/api/v1/flags/demo-new-checkout/evaluate', headers: authHeader(alice.accessToken, sandboxId), payload: { targetingKey } });
    expect((await evaluate('demo-user-1')).json()).toMatchObject({ enabled: true, value: true, reason: 'TARGET_MATCH' });
    expect((await evaluate('someone-else')).json()).toMatchObject({ value: false });
    const audit = await t.database.handle.db.selectFrom('audit_events').select('action').where('organization_id', '=', Number(sandboxId.replace('tenant_', ''))).where('action', '=', 'sandbox.seeded').execute();
    expect(audit).toHaveLength(1);
  });

  it('indicators count flags in use and evaluations; demo-data names the demo flags and users', async () => {
    const indicators = await get('indicators', alice);
    expect(indicators.statusCode).toBe(200);
    expect(indicators.json().flagsUsed).toBe(demoFlags.length);
    expect(indicators.json().evaluations).toBeGreaterThanOrEqual(2);
    const demo = await get('demo-data', viewer);
    expect(demo.statusCode).toBe(200);
    expect(demo.json()).toEqual({ flags: demoFlags.map((f) => f.key), users: ['demo-user-1', 'demo-user-2', 'demo-user-3'] });
  });

  it('an ordinary tenant is no sandbox: inactive, and cleanup is refused with 409', async () => {
    expect((await get('status', alice, alice.organizationId)).json()).toEqual({ active: false, isSandbox: false, expiresAt: null });
    const cleanup = await post('cleanup/tenant', alice, undefined, alice.organizationId);
    expect(cleanup.statusCode).toBe(409);
    expect(cleanup.json().code).toBe('not_sandbox');
  });

  it('cleanup resets the sandbox to its demo state (403 for a viewer)', async () => {
    const h = authHeader(alice.accessToken, sandboxId);
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/flags', headers: h, payload: { key: 'my-experiment', name: 'Mine', type: 'boolean' } })).statusCode).toBe(201);
    expect((await t.app.inject({ method: 'DELETE', url: '/api/v1/flags/demo-banner-text', headers: h })).statusCode).toBe(204);
    const project = await t.app.inject({ method: 'POST', url: '/api/v1/projects', headers: h, payload: { name: 'Scratch' } });
    expect(project.statusCode).toBe(201);
    expect(await flagKeys()).toEqual(['demo-max-items', 'demo-new-checkout', 'my-experiment']);
    const before = (await get('status', alice)).json().expiresAt;

    expect((await post('cleanup/tenant', viewer)).statusCode).toBe(403);
    const reset = await post('cleanup/tenant', alice);
    expect(reset.statusCode).toBe(200);
    expect(reset.json()).toEqual({ success: true });
    expect(await flagKeys()).toEqual(demoFlags.map((f) => f.key).sort());
    const projects = (await t.app.inject({ method: 'GET', url: '/api/v1/projects', headers: h })).json() as Array<{ name: string }>;
    expect(projects.map((p) => p.name)).not.toContain('Scratch');
    expect((await get('status', alice)).json().expiresAt).toBe(before);
    const evaluate = await t.app.inject({ method: 'POST', url: '/api/v1/flags/demo-banner-text/evaluate', headers: h, payload: { targetingKey: 'demo-user-2' } });
    expect(evaluate.json()).toMatchObject({ value: 'Happy holidays!', reason: 'TARGET_MATCH' });
  });

  it('an expired sandbox reports active: false', async () => {
    const id = Number(sandboxId.replace('tenant_', ''));
    const created = await t.app.inject({ method: 'POST', url: '/api/v1/tenants', headers: authHeader(alice.accessToken), payload: { name: 'Old playground', isSandbox: true } });
    const oldId = created.json().id as string;
    await t.database.handle.db.updateTable('organizations').set({ sandbox_expires_at: '2020-01-01T00:00:00.000Z' }).where('id', '=', Number(oldId.replace('tenant_', ''))).execute();
    expect((await get('status', alice, oldId)).json()).toEqual({ active: false, isSandbox: true, expiresAt: '2020-01-01T00:00:00.000Z' });
    expect((await get('status', alice, id)).json().active).toBe(true);
  });

  it('subscribe stores {email, name}; again updates the name; bad email 422', async () => {
    const res = await post('subscribe', viewer, { email: 'Fan@Example.com', name: 'John Doe' });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ success: true, email: 'fan@example.com', name: 'John Doe', subscribedAt: expect.any(String) });
    expect((await post('subscribe', viewer, { email: 'fan@example.com', name: 'Johnny' })).statusCode).toBe(200);
    const rows = await t.database.handle.db.selectFrom('sandbox_subscriptions').selectAll().execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ email: 'fan@example.com', name: 'Johnny', organization_id: Number(sandboxId.replace('tenant_', '')), user_id: viewer.userId });
    const bad = await post('subscribe', viewer, { email: 'nope', name: 'x' });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().errors).toHaveProperty('email');
    expect((await post('subscribe', viewer, { name: 'x' })).statusCode).toBe(422);
  });

  it('X-Tenant-ID is required (400 tenant_required); another tenant is 404; no token is 401', async () => {
    for (const path of ['status', 'indicators', 'demo-data']) {
      const missing = await get(path, alice, null);
      expect(missing.statusCode, path).toBe(400);
      expect(missing.json().code).toBe('tenant_required');
      expect((await get(path, stranger)).statusCode, path).toBe(404);
      expect((await t.app.inject({ method: 'GET', url: `/api/v1/sandbox/${path}`, headers: { 'x-tenant-id': sandboxId } })).statusCode).toBe(401);
    }
    expect((await post('cleanup/tenant', stranger)).statusCode).toBe(404);
    expect((await post('subscribe', stranger, { email: 'a@b.c' })).statusCode).toBe(404);
    expect((await post('cleanup/tenant', alice, undefined, null)).json().code).toBe('tenant_required');
  });
});
