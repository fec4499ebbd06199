import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inviteAndJoin } from '../../testing/access-fixtures.js';
import { authHeader, signUp, type SignedUpUser } from '../../testing/auth.js';
import { createApiKey, evaluateWith } from '../../testing/evaluation-fixtures.js';
import { defaultProjectOf } from '../../testing/targeting-fixtures.js';
import { createTestApp, type TestApp } from '../../testing/test-app.js';
import { testDialects } from '../../testing/test-database.js';

describe.each(testDialects())('GET /api/v1/usage on %s', (dialect) => {
  let t: TestApp;
  let admin: SignedUpUser;
  let serverKey: string;
  const project = '/api/v1/projects/default';
  const today = new Date().toISOString().slice(0, 10);

  const usage = (token: string, query = '', headers: Record<string, string> = {}) =>
    t.app.inject({ method: 'GET', url: `/api/v1/usage${query}`, headers: { ...authHeader(token), ...headers } });

  beforeAll(async () => {
    t = await createTestApp(dialect);
    admin = await signUp(t.app);
    for (const key of ['checkout', 'banner']) {
      const res = await t.app.inject({ method: 'POST', url: `${project}/flags`, headers: authHeader(admin.accessToken), payload: { key, type: 'boolean', defaultValue: false } });
      expect(res.statusCode, res.body).toBeLessThan(300);
    }
    serverKey = (await createApiKey(t.app, admin.accessToken, 'default', { environment: 'production', scope: 'server' })).key;
    const staging = await createApiKey(t.app, admin.accessToken, 'default', { environment: 'staging', scope: 'server' });
    for (let i = 0; i < 3; i++) expect((await evaluateWith(t.app, serverKey, { flagKey: 'checkout', context: { targetingKey: `u${i}` } })).statusCode).toBe(200);
    // Written to the database in a batch; the next ones stay in memory — the report adds both.
    await t.app.services.evaluationCounters.flush();
    expect((await evaluateWith(t.app, serverKey, { flagKey: 'banner' })).statusCode).toBe(200);
    expect((await evaluateWith(t.app, staging.key, { flagKey: 'checkout' })).statusCode).toBe(200);
    // A revoked key no longer counts against the plan.
    const revoked = await createApiKey(t.app, admin.accessToken, 'default', { environment: 'staging', scope: 'sdk' });
    expect((await t.app.inject({ method: 'DELETE', url: `${project}/api-keys/${revoked.id}`, headers: authHeader(admin.accessToken) })).statusCode).toBe(200);
  });
  afterAll(async () => t?.close());

  it('reports evaluations per day, flag and environment (stored and in memory) and resource counts, unlimited on self-hosted', async () => {
    const res = await usage(admin.accessToken);
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body.organizationId).toBe(`tenant_${admin.organizationId}`);
    expect(body.plan).toBe('self-hosted');
    expect(body.period).toEqual({ from: `${today.slice(0, 7)}-01`, to: today });
    expect(body.evaluations).toMatchObject({ used: 5, limit: null, limitPeriod: 'month' });
    expect(body.evaluations.byDay.at(-1)).toEqual({ day: today, count: 5 });
    expect(body.evaluations.byDay).toHaveLength(Number(today.slice(8, 10)));
    expect(body.evaluations.byFlag).toEqual([
      { projectId: expect.stringMatching(/^proj_/), projectKey: 'default', flagKey: 'checkout', count: 4 },
      { projectId: expect.stringMatching(/^proj_/), projectKey: 'default', flagKey: 'banner', count: 1 },
    ]);
    // Both boolean flags off everywhere: every evaluation served `off`.
    expect(body.evaluations.byFlagVariation).toEqual([
      { projectId: expect.stringMatching(/^proj_/), projectKey: 'default', flagKey: 'checkout', count: 4, variations: [{ variation: 'off', count: 4 }] },
      { projectId: expect.stringMatching(/^proj_/), projectKey: 'default', flagKey: 'banner', count: 1, variations: [{ variation: 'off', count: 1 }] },
    ]);
    expect(body.evaluations.byEnvironment).toEqual([
      { environmentId: expect.stringMatching(/^env_/), environment: 'production', projectId: expect.any(String), projectKey: 'default', count: 4 },
      { environmentId: expect.stringMatching(/^env_/), environment: 'staging', projectId: expect.any(String), projectKey: 'default', count: 1 },
    ]);
    expect(body.flags).toEqual({ used: 2, limit: null });
    expect(body.members).toEqual({ used: 1, limit: null });
    expect(body.apiKeys).toEqual({ used: 2, limit: null });
    expect(body.projects).toEqual({ used: 1, limit: null });
  });

  it('filters by day with from/to (inclusive)', async () => {
    const { environments, id: projectId } = await defaultProjectOf(t.database.handle.db, admin.organizationId);
    await t.database.handle.db
      .insertInto('evaluation_counts')
      .values({ environment_id: environments.production!, flag_key: 'checkout', variation: 'off', day: '2024-01-15', organization_id: admin.organizationId, project_id: projectId, count: 7 })
      .execute();
    const jan = (await usage(admin.accessToken, '?from=2024-01-01&to=2024-01-31')).json();
    expect(jan.evaluations.used).toBe(7);
    expect(jan.evaluations.byDay).toHaveLength(31);
    expect(jan.evaluations.byDay[14]).toEqual({ day: '2024-01-15', count: 7 });
    const one = (await usage(admin.accessToken, '?from=2024-01-16&to=2024-01-16')).json();
    expect(one.evaluations).toMatchObject({ used: 0, byDay: [{ day: '2024-01-16', count: 0 }], byFlag: [], byEnvironment: [], byFlagVariation: [] });
  });

  it('refuses bad periods: 400 for malformed days or unknown parameters, 422 for an inverted or too long period', async () => {
    for (const q of ['?from=2024-13-01', '?to=yesterday', '?from=2024-02-30', '?days=3']) {
      const res = await usage(admin.accessToken, q);
      expect(res.statusCode, q).toBe(400);
      expect(res.json().code).toBe('bad_request');
    }
    const inverted = await usage(admin.accessToken, '?from=2024-02-01&to=2024-01-01');
    expect(inverted.statusCode).toBe(422);
    expect(inverted.json().errors).toEqual({ from: 'must not be after to' });
    const long = await usage(admin.accessToken, '?from=2022-01-01&to=2024-01-01');
    expect(long.statusCode).toBe(422);
    expect(long.json().errors.from).toMatch(/366 days/);
  });

  it('401 without a token; 403 for a member whose role lacks usage:read', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/usage' })).statusCode).toBe(401);
    const role = await t.app.inject({ method: 'POST', url: '/api/v1/roles', headers: authHeader(admin.accessToken), payload: { key: 'flag-reader', name: 'Flag reader', permissions: ['flags:read'] } });
    expect(role.statusCode, role.body).toBe(200);
    const reader = await inviteAndJoin(t.app, admin, 'flag-reader');
    const res = await usage(reader.accessToken, '', { 'x-tenant-id': String(admin.organizationId) });
    expect(res.statusCode, res.body).toBe(403);
    const viewer = await inviteAndJoin(t.app, admin, 'viewer');
    expect((await usage(viewer.accessToken, '', { 'x-tenant-id': String(admin.organizationId) })).statusCode).toBe(200);
  });

  it("never shows another organisation's usage: X-Tenant-ID of one you are not in is ignored", async () => {
    const other = await signUp(t.app);
    const res = await usage(other.accessToken, '', { 'x-tenant-id': String(admin.organizationId) });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ organizationId: `tenant_${other.organizationId}`, evaluations: { used: 0 }, flags: { used: 0 }, apiKeys: { used: 0 } });
  });
});

describe.each(testDialects())('GET /api/v1/projects/{project_id}/flags/{flag_key}/usage on %s', (dialect) => {
  let t: TestApp;
  let admin: SignedUpUser;
  let production: string;
  let staging: string;
  const project = '/api/v1/projects/default';
  const today = new Date().toISOString().slice(0, 10);

  const flagUsage = (token: string, path: string, headers: Record<string, string> = {}) =>
    t.app.inject({ method: 'GET', url: `${project}/flags/${path}`, headers: { ...authHeader(token), ...headers } });
  const served = (key: string, plan: string, targetingKey: string) => evaluateWith(t.app, key, { flagKey: 'checkout', context: { targetingKey, plan } });

  beforeAll(async () => {
    t = await createTestApp(dialect);
    admin = await signUp(t.app);
    const as = authHeader(admin.accessToken);
    const created = await t.app.inject({ method: 'POST', url: `${project}/flags`, headers: as, payload: { key: 'checkout', type: 'boolean', defaultValue: false } });
    expect(created.statusCode, created.body).toBeLessThan(300);
    // On in production, where plan "pro" is served `on` and everyone else the default `off`.
    const enabled = await t.app.inject({ method: 'PATCH', url: `${project}/flags/checkout/environments/production`, headers: as, payload: { enabled: true } });
    expect(enabled.statusCode, enabled.body).toBe(200);
    const rule = await t.app.inject({
      method: 'POST', url: `${project}/rules`, headers: as,
      payload: { flag: 'checkout', environment: 'production', conditions: [{ attribute: 'plan', operator: 'EQUALS', value: 'pro' }], serve: 'on' },
    });
    expect(rule.statusCode, rule.body).toBe(200);
    production = (await createApiKey(t.app, admin.accessToken, 'default', { environment: 'production', scope: 'server' })).key;
    staging = (await createApiKey(t.app, admin.accessToken, 'default', { environment: 'staging', scope: 'server' })).key;
    const results: unknown[] = [];
    for (let i = 0; i < 3; i++) results.push((await served(production, 'pro', `p${i}`)).json().variation);
    results.push((await served(production, 'free', 'f0')).json().variation);
    // Some counts are written in a batch, the rest stay in memory: the report adds both.
    await t.app.services.evaluationCounters.flush();
    results.push((await served(production, 'free', 'f1')).json().variation);
    results.push((await served(staging, 'pro', 'p0')).json().variation);
    expect(results).toEqual(['on', 'on', 'on', 'off', 'off', 'off']);
  });
  afterAll(async () => t?.close());

  it('counts per variation over the period, per day and per environment, in the flag\'s variation order', async () => {
    const res = await flagUsage(admin.accessToken, 'checkout/usage');
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({
      projectId: expect.stringMatching(/^proj_\d+$/),
      projectKey: 'default',
      flagKey: 'checkout',
      environment: null,
      period: { from: `${today.slice(0, 7)}-01`, to: today },
      used: 6,
      variations: [{ variation: 'on', count: 3 }, { variation: 'off', count: 3 }],
    });
    expect(body.byDay).toHaveLength(Number(today.slice(8, 10)));
    expect(body.byDay.at(-1)).toEqual({ day: today, count: 6, variations: [{ variation: 'on', count: 3 }, { variation: 'off', count: 3 }] });
    if (body.byDay.length > 1) expect(body.byDay[0]).toEqual({ day: `${today.slice(0, 7)}-01`, count: 0, variations: [{ variation: 'on', count: 0 }, { variation: 'off', count: 0 }] });
    expect(body.byEnvironment).toEqual([
      { environmentId: expect.stringMatching(/^env_\d+$/), environment: 'production', count: 5, variations: [{ variation: 'on', count: 3 }, { variation: 'off', count: 2 }] },
      { environmentId: expect.stringMatching(/^env_\d+$/), environment: 'staging', count: 1, variations: [{ variation: 'on', count: 0 }, { variation: 'off', count: 1 }] },
    ]);

    // The organisation's report carries the same per-variation numbers per flag (most served first, a tie by key).
    const org = (await t.app.inject({ method: 'GET', url: '/api/v1/usage', headers: authHeader(admin.accessToken) })).json();
    expect(org.evaluations.byFlagVariation).toEqual([
      { projectId: body.projectId, projectKey: 'default', flagKey: 'checkout', count: 6, variations: [{ variation: 'off', count: 3 }, { variation: 'on', count: 3 }] },
    ]);
    expect(org.evaluations.byFlag).toEqual([{ projectId: body.projectId, projectKey: 'default', flagKey: 'checkout', count: 6 }]);
  });

  it('limits to one environment by key or id; lists deleted variations after the flag\'s and errors (null) last', async () => {
    const prod = (await flagUsage(admin.accessToken, 'checkout/usage?environment=production')).json();
    expect(prod).toMatchObject({ environment: { environmentId: expect.stringMatching(/^env_/), environment: 'production' }, used: 5, variations: [{ variation: 'on', count: 3 }, { variation: 'off', count: 2 }] });
    expect(prod.byEnvironment).toHaveLength(1);
    const byId = await flagUsage(admin.accessToken, `checkout/usage?environment=${prod.environment.environmentId}`);
    expect(byId.json()).toMatchObject({ used: 5, environment: prod.environment });

    const { environments, id: projectId } = await defaultProjectOf(t.database.handle.db, admin.organizationId);
    const row = { environment_id: environments.staging!, flag_key: 'checkout', day: '2024-01-15', organization_id: admin.organizationId, project_id: projectId };
    await t.database.handle.db.insertInto('evaluation_counts').values([{ ...row, variation: '', count: 1 }, { ...row, variation: 'legacy', count: 2 }, { ...row, variation: 'on', count: 4 }]).execute();
    const jan = (await flagUsage(admin.accessToken, 'checkout/usage?from=2024-01-14&to=2024-01-15')).json();
    const order = [{ variation: 'on', count: 4 }, { variation: 'off', count: 0 }, { variation: 'legacy', count: 2 }, { variation: null, count: 1 }];
    expect(jan).toMatchObject({ period: { from: '2024-01-14', to: '2024-01-15' }, used: 7, variations: order });
    expect(jan.byDay).toEqual([
      { day: '2024-01-14', count: 0, variations: order.map((v) => ({ ...v, count: 0 })) },
      { day: '2024-01-15', count: 7, variations: order },
    ]);
    const org = (await t.app.inject({ method: 'GET', url: '/api/v1/usage?from=2024-01-15&to=2024-01-15', headers: authHeader(admin.accessToken) })).json();
    expect(org.evaluations.byFlagVariation[0].variations).toEqual([{ variation: 'on', count: 4 }, { variation: 'legacy', count: 2 }, { variation: null, count: 1 }]);
  });

  it('refuses bad parameters: 400 naming the parameter, 422 for an inverted period, 404 for an unknown flag or environment', async () => {
    for (const [q, field] of [['from=2024-13-01', 'from'], ['to=yesterday', 'to'], ['days=3', 'days'], ['environment=', 'environment']] as const) {
      const res = await flagUsage(admin.accessToken, `checkout/usage?${q}`);
      expect(res.statusCode, q).toBe(400);
      expect(res.json().code, q).toBe('bad_request');
      expect(JSON.stringify(res.json().errors ?? res.json().details), q).toContain(field);
    }
    const inverted = await flagUsage(admin.accessToken, 'checkout/usage?from=2024-02-01&to=2024-01-01');
    expect(inverted.statusCode).toBe(422);
    expect(inverted.json().errors).toEqual({ from: 'must not be after to' });
    expect((await flagUsage(admin.accessToken, 'ghost/usage')).statusCode).toBe(404);
    expect((await flagUsage(admin.accessToken, 'checkout/usage?environment=qa')).statusCode).toBe(404);
  });

  it("401 without a token; 403 without usage:read; another organisation's project is 404, even with its X-Tenant-ID", async () => {
    expect((await t.app.inject({ method: 'GET', url: `${project}/flags/checkout/usage` })).statusCode).toBe(401);
    const role = await t.app.inject({ method: 'POST', url: '/api/v1/roles', headers: authHeader(admin.accessToken), payload: { key: 'flag-reader', name: 'Flag reader', permissions: ['flags:read'] } });
    expect(role.statusCode, role.body).toBe(200);
    const reader = await inviteAndJoin(t.app, admin, 'flag-reader');
    const refused = await flagUsage(reader.accessToken, 'checkout/usage', { 'x-tenant-id': String(admin.organizationId) });
    expect(refused.statusCode, refused.body).toBe(403);
    const viewer = await inviteAndJoin(t.app, admin, 'viewer');
    expect((await flagUsage(viewer.accessToken, 'checkout/usage', { 'x-tenant-id': String(admin.organizationId) })).json().used).toBe(6);

    const other = await signUp(t.app);
    const { id: theirs } = await defaultProjectOf(t.database.handle.db, admin.organizationId);
    for (const headers of [{}, { 'x-tenant-id': String(admin.organizationId) }]) {
      const res = await t.app.inject({ method: 'GET', url: `/api/v1/projects/proj_${theirs}/flags/checkout/usage`, headers: { ...authHeader(other.accessToken), ...headers } });
      expect(res.statusCode, res.body).toBe(404);
    }
    // Their own default project has no such flag: nothing of the first organisation's counts shows.
    expect((await flagUsage(other.accessToken, 'checkout/usage')).statusCode).toBe(404);
  });
});
