import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../domain/ids.js';
import { authHeader, signUp, type SignedUpUser } from '../../testing/auth.js';
import { createApiKey, evaluateWith } from '../../testing/evaluation-fixtures.js';
import { createTestApp, type TestApp } from '../../testing/test-app.js';
import { testDialects } from '../../testing/test-database.js';

/** A small sandbox plan, so each limit is reached in a few requests. */
const plans = {
  sandbox: { limits: { flags: 2, environments: 3, members: 2, apiKeys: 1, evaluationsPerMonth: 3, apiRequestsPerMinute: 500, evaluationRequestsPerMinute: 900 } },
};

describe.each(testDialects())('plan limits and features (billing on) on %s', (dialect) => {
  let t: TestApp;
  const flagsUrl = '/api/v1/projects/default/flags';
  const createFlag = (user: SignedUpUser, payload: Record<string, unknown>) => t.app.inject({ method: 'POST', url: flagsUrl, headers: authHeader(user.accessToken), payload });

  beforeAll(async () => {
    t = await createTestApp(dialect, {
      STRIPE_SECRET_KEY: 'sk_test_quota',
      SWITCHYARD_PLANS: JSON.stringify(plans),
      SWITCHYARD_EVALUATION_OVERAGE_GRACE_PERCENT: '100',
      SWITCHYARD_RATE_LIMIT_PER_MINUTE: '1000',
    });
  });
  afterAll(async () => t?.close());

  it('refuses the flag past the plan limit with 403 quota_exceeded naming it; archived flags do not count', async () => {
    const admin = await signUp(t.app);
    for (const key of ['one', 'two']) expect((await createFlag(admin, { key, type: 'boolean' })).statusCode).toBe(200);
    const third = await createFlag(admin, { key: 'three', type: 'boolean' });
    expect(third.statusCode).toBe(403);
    expect(third.json()).toMatchObject({ code: 'quota_exceeded', details: { limit: 'flags', current: 2, allowed: 2, plan: 'sandbox' } });
    expect(await t.database.handle.db.selectFrom('flags').select('key').where('key', '=', 'three').execute()).toEqual([]);
    expect((await t.app.inject({ method: 'POST', url: `${flagsUrl}/one/archive`, headers: authHeader(admin.accessToken) })).statusCode).toBeLessThan(300);
    expect((await createFlag(admin, { key: 'three', type: 'boolean' })).statusCode).toBe(200);
    const usage = await t.app.inject({ method: 'GET', url: '/api/v1/usage', headers: authHeader(admin.accessToken) });
    expect(usage.json()).toMatchObject({ plan: 'sandbox', flags: { used: 2, limit: 2 }, apiKeys: { limit: 1 }, members: { used: 1, limit: 2 }, evaluations: { limit: 3 } });
  });

  it('serialises checks on one organisation: a second transaction waits for the first and sees what it created', async () => {
    const admin = await signUp(t.app);
    expect((await createFlag(admin, { key: 'first', type: 'boolean' })).statusCode).toBe(200);
    const db = t.database.handle.db;
    const project = await db.selectFrom('projects').select('id').where('organization_id', '=', admin.organizationId).executeTakeFirstOrThrow();
    const { entitlements } = t.app.services;
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const hasLock = new Promise<void>((resolve) => (locked = resolve));
    const first = db.transaction().execute(async (trx) => {
      await entitlements.requireWithinLimit(admin.organizationId, 'flags', trx);
      const now = new Date().toISOString();
      await trx.insertInto('flags').values({ id: newId(), project_id: Number(project.id), key: 'second', name: 'second', description: null, type: 'boolean', default_variation: 'off', tags: '[]', status: 'active', metadata: null, version: 1, created_by: null, created_at: now, updated_at: now, archived_at: null }).execute();
      locked();
      await held;
    });
    await hasLock;
    const second = db.transaction().execute((trx) => entitlements.requireWithinLimit(admin.organizationId, 'flags', trx));
    const outcome = second.then(() => 'allowed', (err: { code?: string }) => err.code);
    await new Promise((resolve) => setTimeout(resolve, 100));
    release();
    await first;
    expect(await outcome).toBe('quota_exceeded');
  });

  it('refuses multivariate flags (a third variation, at creation or added) on a plan without them: 403 feature_not_in_plan', async () => {
    const admin = await signUp(t.app);
    const variations = ['red', 'green', 'blue'].map((v) => ({ key: v, name: v, value: v }));
    const res = await createFlag(admin, { key: 'colour', type: 'string', variations, defaultValue: 'red' });
    expect(res.statusCode, res.body).toBe(403);
    expect(res.json()).toMatchObject({ code: 'feature_not_in_plan', details: { feature: 'multivariate', plan: 'sandbox' } });
    expect((await createFlag(admin, { key: 'colour', type: 'string', variations: variations.slice(0, 2), defaultValue: 'red' })).statusCode).toBe(200);
    const added = await t.app.inject({ method: 'POST', url: `${flagsUrl}/colour/variations`, headers: authHeader(admin.accessToken), payload: { key: 'blue', name: 'blue', value: 'blue' } });
    expect(added.statusCode).toBe(403);
    expect(added.json().code).toBe('feature_not_in_plan');
    const check = await t.app.inject({ method: 'GET', url: '/api/v1/billing/features/multivariate/check', headers: authHeader(admin.accessToken) });
    expect(check.json()).toEqual({ hasAccess: false });
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/billing/features/experiments/check', headers: authHeader(admin.accessToken) })).json()).toEqual({ hasAccess: false });
  });

  it('limits API keys, members (pending invitations hold a place) and environments per project', async () => {
    const admin = await signUp(t.app);
    await createApiKey(t.app, admin.accessToken, 'default', { environment: 'production', scope: 'server' });
    const key = await t.app.inject({ method: 'POST', url: '/api/v1/projects/default/api-keys', headers: authHeader(admin.accessToken), payload: { name: 'second', environment: 'production', scope: 'sdk' } });
    expect(key.statusCode).toBe(403);
    expect(key.json()).toMatchObject({ code: 'quota_exceeded', details: { limit: 'apiKeys', current: 1, allowed: 1 } });

    const invite = (email: string) => t.app.inject({ method: 'POST', url: '/api/v1/invitations', headers: authHeader(admin.accessToken), payload: { email, role: 'developer' } });
    expect((await invite('first@example.test')).statusCode).toBeLessThan(300);
    const second = await invite('second@example.test');
    expect(second.statusCode).toBe(403);
    expect(second.json()).toMatchObject({ code: 'quota_exceeded', details: { limit: 'members', current: 2, allowed: 2 } });

    // The default project has development, staging and production: the sandbox's three.
    const env = await t.app.inject({ method: 'POST', url: '/api/v1/projects/default/environments', headers: authHeader(admin.accessToken), payload: { key: 'qa', name: 'QA' } });
    expect(env.statusCode).toBe(403);
    expect(env.json()).toMatchObject({ code: 'quota_exceeded', details: { limit: 'environments', current: 3, allowed: 3 } });
  });

  it("rate-limits by the plan: management and evaluation in separate buckets, each with the plan's limit", async () => {
    const admin = await signUp(t.app);
    const management = await t.app.inject({ method: 'GET', url: '/api/v1/projects', headers: authHeader(admin.accessToken) });
    expect(management.headers['ratelimit-limit']).toBe('500');
    const key = await createApiKey(t.app, admin.accessToken, 'default', { environment: 'production', scope: 'server' });
    await createFlag(admin, { key: 'rl', type: 'boolean' });
    const first = await evaluateWith(t.app, key.key, { flagKey: 'rl' });
    expect(first.statusCode, first.body).toBe(200);
    expect(first.headers['ratelimit-limit']).toBe('900');
    expect(first.headers['ratelimit-remaining']).toBe('899');
    const again = await t.app.inject({ method: 'GET', url: '/api/v1/projects', headers: authHeader(admin.accessToken) });
    expect(again.headers['ratelimit-remaining']).toBe(String(500 - 2 - 2));
  });

  it('serves evaluations past the monthly limit within the grace (state over), then refuses them with 403 quota_exceeded', async () => {
    const admin = await signUp(t.app);
    const key = await createApiKey(t.app, admin.accessToken, 'default', { environment: 'production', scope: 'server' });
    await createFlag(admin, { key: 'metered', type: 'boolean' });
    const { entitlements } = t.app.services;
    for (let i = 0; i < 4; i++) expect((await evaluateWith(t.app, key.key, { flagKey: 'metered' })).statusCode).toBe(200);
    // Past the limit of 3: flagged, still served (the grace is 100%: up to 6).
    expect(await entitlements.evaluationQuota(admin.organizationId)).toEqual({ used: 4, allowed: 3, hardLimit: 6, state: 'over' });
    for (let i = 0; i < 2; i++) expect((await evaluateWith(t.app, key.key, { flagKey: 'metered' })).statusCode).toBe(200);
    expect((await entitlements.evaluationQuota(admin.organizationId)).state).toBe('exhausted');
    const refused = await evaluateWith(t.app, key.key, { flagKey: 'metered' });
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ code: 'quota_exceeded', details: { limit: 'evaluationsPerMonth', allowed: 3, hardLimit: 6 } });
  });
});

describe.each(testDialects())('plans with billing off on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect, { SWITCHYARD_PLANS: JSON.stringify(plans), SWITCHYARD_EVALUATION_RATE_LIMIT_PER_MINUTE: '7000' });
  });
  afterAll(async () => t?.close());

  it('limits nothing: every organisation is self-hosted', async () => {
    const admin = await signUp(t.app);
    for (const key of ['a', 'b', 'c']) expect((await t.app.inject({ method: 'POST', url: '/api/v1/projects/default/flags', headers: authHeader(admin.accessToken), payload: { key, type: 'boolean' } })).statusCode).toBe(200);
    const colours = ['red', 'green', 'blue'].map((v) => ({ key: v, name: v, value: v }));
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/projects/default/flags', headers: authHeader(admin.accessToken), payload: { key: 'colour', type: 'string', variations: colours, defaultValue: 'red' } })).statusCode).toBe(200);
    const usage = await t.app.inject({ method: 'GET', url: '/api/v1/usage', headers: authHeader(admin.accessToken) });
    expect(usage.json()).toMatchObject({ plan: 'self-hosted', flags: { used: 4, limit: null } });
  });

  it('gives evaluation its own bucket at SWITCHYARD_EVALUATION_RATE_LIMIT_PER_MINUTE', async () => {
    const admin = await signUp(t.app);
    const key = await createApiKey(t.app, admin.accessToken, 'default', { environment: 'production', scope: 'server' });
    const res = await evaluateWith(t.app, key.key, { flagKey: 'missing' });
    expect(res.headers['ratelimit-limit']).toBe('7000');
    expect(res.headers['ratelimit-remaining']).toBe('6999');
    const management = await t.app.inject({ method: 'GET', url: '/api/v1/projects', headers: authHeader(admin.accessToken) });
    expect(management.headers['ratelimit-limit']).toBe('600');
  });
});
