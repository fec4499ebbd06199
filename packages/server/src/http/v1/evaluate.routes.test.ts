import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authHeader, signUp, type SignedUpUser } from '../../testing/auth.js';
import { createApiKey, createCountingTestApp, evaluateWith, type CountingTestApp } from '../../testing/evaluation-fixtures.js';
import { testDialects } from '../../testing/test-database.js';

describe.each(testDialects())('POST /api/v1/evaluate on %s', (dialect) => {
  let t: CountingTestApp;
  let admin: SignedUpUser;
  let serverKey: string;
  let sdkKey: string;
  let streamKey: string;
  let stagingKey: string;
  let ruleId: string;

  const as = () => authHeader(admin.accessToken);
  const api = (method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE', url: string, payload?: unknown) =>
    t.app.inject({ method, url, headers: as(), ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}) });
  const ok = async (method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE', url: string, payload?: unknown) => {
    const res = await api(method, url, payload);
    if (res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
    return res;
  };

  beforeAll(async () => {
    t = await createCountingTestApp(dialect);
    admin = await signUp(t.app);
    await ok('POST', '/api/v1/projects/default/flags', { key: 'checkout', type: 'boolean', defaultValue: false });
    await ok('POST', '/api/v1/projects/default/flags', {
      key: 'banner.color',
      type: 'string',
      variations: [
        { key: 'red', name: 'Red', value: 'red' },
        { key: 'blue', name: 'Blue', value: 'blue' },
      ],
      defaultValue: 'red',
    });
    await ok('POST', '/api/v1/projects/default/flags/checkout/environments/production/enable');
    const rule = await ok('POST', '/api/v1/projects/default/rules', {
      flag: 'checkout',
      environment: 'production',
      conditions: [{ attribute: 'plan', operator: 'EQUALS', value: 'pro' }],
      serve: 'on',
    });
    ruleId = rule.json().id;
    serverKey = (await createApiKey(t.app, admin.accessToken, 'default', { environment: 'production', scope: 'server' })).key;
    sdkKey = (await createApiKey(t.app, admin.accessToken, 'default', { environment: 'production', scope: 'sdk' })).key;
    streamKey = (await createApiKey(t.app, admin.accessToken, 'default', { environment: 'production', scope: 'stream' })).key;
    stagingKey = (await createApiKey(t.app, admin.accessToken, 'default', { environment: 'staging', scope: 'server' })).key;
  });
  afterAll(async () => t?.close());

  it('evaluates one flag: a rule match, the fallthrough, and the key fixes the environment', async () => {
    const pro = await evaluateWith(t.app, serverKey, { flagKey: 'checkout', context: { targetingKey: 'u1', plan: 'pro' } });
    expect(pro.statusCode).toBe(200);
    expect(pro.json()).toEqual({ flagKey: 'checkout', value: true, variation: 'on', reason: 'TARGETING_MATCH', kind: 'RULE_MATCH', enabled: true, ruleId });

    const free = await evaluateWith(t.app, sdkKey, { flagKey: 'checkout', context: { targetingKey: 'u2', plan: 'free' } });
    expect(free.json()).toEqual({ flagKey: 'checkout', value: false, variation: 'off', reason: 'DEFAULT', kind: 'FALLTHROUGH', enabled: true });

    // Staging never enabled the flag: its off (default) variation, reason DISABLED.
    const staging = await evaluateWith(t.app, stagingKey, { flagKey: 'checkout', context: { targetingKey: 'u1', plan: 'pro' } });
    expect(staging.json()).toEqual({ flagKey: 'checkout', value: false, variation: 'off', reason: 'DISABLED', kind: 'OFF', enabled: false });
  });

  it('evaluates every flag, or the named ones in the order asked, with errors in place', async () => {
    const all = await evaluateWith(t.app, serverKey, { context: { targetingKey: 'u1', plan: 'pro' } });
    expect(all.statusCode).toBe(200);
    const results = all.json().results as Array<{ flagKey: string }>;
    expect(results.map((r) => r.flagKey).sort()).toEqual(['banner.color', 'checkout']);

    const some = await evaluateWith(t.app, serverKey, { flagKeys: ['nope', 'checkout', 'banner.color'], context: { targetingKey: 'u1', plan: 'pro' } });
    expect(some.statusCode).toBe(200);
    expect(some.json().results).toEqual([
      { flagKey: 'nope', value: null, variation: null, reason: 'ERROR', kind: 'ERROR', enabled: false, errorCode: 'FLAG_NOT_FOUND', errorMessage: expect.any(String) },
      { flagKey: 'checkout', value: true, variation: 'on', reason: 'TARGETING_MATCH', kind: 'RULE_MATCH', enabled: true, ruleId },
      { flagKey: 'banner.color', value: 'red', variation: 'red', reason: 'DISABLED', kind: 'OFF', enabled: false },
    ]);
    const none = await evaluateWith(t.app, serverKey, { flagKeys: [] });
    expect(none.json()).toEqual({ results: [] });
  });

  it('answers 404 flag_not_found for one unknown flag', async () => {
    const res = await evaluateWith(t.app, serverKey, { flagKey: 'no-such-flag', context: {} });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ status: 404, code: 'flag_not_found' });
  });

  it('refuses bad input with 422 naming the field: >1000 keys, bad keys, both forms, deep contexts, a non-string targetingKey', async () => {
    const tooMany = await evaluateWith(t.app, serverKey, { flagKeys: Array.from({ length: 1001 }, (_, i) => `f${i}`) });
    expect(tooMany.statusCode).toBe(422);
    expect(Object.keys(tooMany.json().errors)).toContain('flagKeys');
    const thousand = await evaluateWith(t.app, serverKey, { flagKeys: Array.from({ length: 1000 }, (_, i) => `f${i}`) });
    expect(thousand.statusCode).toBe(200);
    expect(thousand.json().results).toHaveLength(1000);

    const badKey = await evaluateWith(t.app, serverKey, { flagKey: 'white space' });
    expect(badKey.statusCode).toBe(422);
    expect(Object.keys(badKey.json().errors)).toContain('flagKey');

    const both = await evaluateWith(t.app, serverKey, { flagKey: 'checkout', flagKeys: ['checkout'] });
    expect(both.statusCode).toBe(422);
    expect(both.json().errors).toMatchObject({ flagKey: expect.any(String), flagKeys: expect.any(String) });

    const nest = (levels: number): Record<string, unknown> => (levels <= 1 ? { leaf: 1 } : { n: nest(levels - 1) });
    const ten = await evaluateWith(t.app, serverKey, { flagKey: 'checkout', context: { targetingKey: 'u', ...nest(10) } });
    expect(ten.statusCode).toBe(200);
    const eleven = await evaluateWith(t.app, serverKey, { flagKey: 'checkout', context: { targetingKey: 'u', ...nest(11) } });
    expect(eleven.statusCode).toBe(422);
    expect(eleven.json().errors).toHaveProperty('context');
    const arrays = await evaluateWith(t.app, serverKey, { flagKeys: ['checkout'], context: { a: [[[[[[[[[[1]]]]]]]]]] } });
    expect(arrays.statusCode).toBe(422);

    const numericKey = await evaluateWith(t.app, serverKey, { flagKey: 'checkout', context: { targetingKey: 42 } });
    expect(numericKey.statusCode).toBe(422);
    expect(Object.keys(numericKey.json().errors)).toEqual(expect.arrayContaining([expect.stringMatching(/targetingKey/)]));
    // null is absent, as the engine (and the SDK) treat it: evaluated, not refused.
    const nullKey = await evaluateWith(t.app, serverKey, { flagKey: 'checkout', context: { targetingKey: null, plan: 'pro' } });
    expect(nullKey.statusCode).toBe(200);
    expect(nullKey.json()).toMatchObject({ flagKey: 'checkout', value: true, ruleId });
    const extra = await evaluateWith(t.app, serverKey, { flagKey: 'checkout', other: 1 });
    expect(extra.statusCode).toBe(422);
  });

  it('answers 401 without a usable key (before validating the body) and 403 for a stream key', async () => {
    for (const [key, code] of [
      [null, 'unauthorized'],
      ['sy_server_not-a-real-key-at-all-0000000000', 'invalid_api_key'],
      ['', 'invalid_api_key'],
    ] as const) {
      const res = await evaluateWith(t.app, key, { flagKey: 'white space' });
      expect(res.statusCode, String(key)).toBe(401);
      expect(res.json().code).toBe(code);
    }
    // A user's bearer token is not an API key.
    const user = await t.app.inject({ method: 'POST', url: '/api/v1/evaluate', headers: as(), payload: { flagKey: 'checkout' } });
    expect(user.statusCode).toBe(401);

    const stream = await evaluateWith(t.app, streamKey, { flagKey: 'checkout' });
    expect(stream.statusCode).toBe(403);
    expect(stream.json().code).toBe('api_key_scope');

    // OFREP-style bearer API keys are accepted too.
    const bearer = await t.app.inject({ method: 'POST', url: '/api/v1/evaluate', headers: { authorization: `Bearer ${serverKey}` }, payload: { flagKey: 'checkout' } });
    expect(bearer.statusCode).toBe(200);
  });

  it('issues no database query, single or bulk', async () => {
    // Timers would flush counters mid-measurement; stop them (they flush now) and count from here.
    await t.app.services.evaluationCounters.stop();
    await t.app.services.apiKeyMap.stop();
    t.queries.reset();
    for (let i = 0; i < 20; i++) {
      const one = await evaluateWith(t.app, serverKey, { flagKey: 'checkout', context: { targetingKey: `user-${i}`, plan: i % 2 ? 'pro' : 'free' } });
      expect(one.statusCode).toBe(200);
    }
    expect((await evaluateWith(t.app, sdkKey, { context: { targetingKey: 'x' } })).statusCode).toBe(200);
    expect((await evaluateWith(t.app, serverKey, { flagKey: 'missing' })).statusCode).toBe(404);
    expect((await evaluateWith(t.app, 'sy_server_wrong-wrong-wrong-wrong-wrong', { flagKey: 'checkout' })).statusCode).toBe(401);
    expect(t.queries.seen).toEqual([]);
    // The counter does see queries: a management read makes some.
    await ok('GET', '/api/v1/projects/default/api-keys');
    expect(t.queries.count).toBeGreaterThan(0);
  });

  it('sees a change made through the API on the very next evaluate after the write returns', async () => {
    const ctx = { targetingKey: 'u9', plan: 'pro', country: 'NL' };
    const value = async () => (await evaluateWith(t.app, serverKey, { flagKey: 'checkout', context: ctx })).json();
    expect((await value()).value).toBe(true);

    await ok('POST', '/api/v1/projects/default/flags/checkout/environments/production/disable');
    expect(await value()).toMatchObject({ value: false, reason: 'DISABLED', enabled: false });

    await ok('POST', '/api/v1/projects/default/flags/checkout/environments/production/enable');
    expect(await value()).toMatchObject({ value: true, ruleId });

    const nl = await ok('POST', '/api/v1/projects/default/rules', {
      flag: 'checkout',
      environment: 'production',
      conditions: [{ attribute: 'country', operator: 'EQUALS', value: 'NL' }],
      serve: 'off',
      priority: 1,
    });
    expect(await value()).toMatchObject({ value: false, variation: 'off', ruleId: nl.json().id, kind: 'RULE_MATCH' });

    await ok('DELETE', `/api/v1/projects/default/rules/${nl.json().id}`);
    expect(await value()).toMatchObject({ value: true, ruleId });

    // A new flag is there at once; an archived one is gone (404), and back when restored.
    await ok('POST', '/api/v1/projects/default/flags', { key: 'fresh', type: 'number', defaultValue: 7 });
    expect((await evaluateWith(t.app, serverKey, { flagKey: 'fresh' })).json()).toMatchObject({ value: 7, reason: 'DISABLED' });
    await ok('POST', '/api/v1/projects/default/flags/fresh/archive');
    expect((await evaluateWith(t.app, serverKey, { flagKey: 'fresh' })).statusCode).toBe(404);
    await ok('POST', '/api/v1/projects/default/flags/fresh/restore');
    expect((await evaluateWith(t.app, serverKey, { flagKey: 'fresh' })).statusCode).toBe(200);
  });

  it('serves an inactive flag its off variation everywhere (DISABLED)', async () => {
    await ok('POST', '/api/v1/projects/default/flags', { key: 'paused', type: 'boolean', defaultValue: true });
    await ok('POST', '/api/v1/projects/default/flags/paused/environments/production/enable');
    expect((await evaluateWith(t.app, serverKey, { flagKey: 'paused' })).json()).toMatchObject({ value: true, enabled: true });
    await ok('PATCH', '/api/v1/projects/default/flags/paused', { status: 'inactive' });
    expect((await evaluateWith(t.app, serverKey, { flagKey: 'paused' })).json()).toMatchObject({ reason: 'DISABLED', enabled: false });
  });

  it('revocation takes effect on the very next request', async () => {
    const created = await createApiKey(t.app, admin.accessToken, 'default', { environment: 'production', scope: 'server' });
    expect((await evaluateWith(t.app, created.key, { flagKey: 'checkout' })).statusCode).toBe(200);
    await ok('DELETE', `/api/v1/projects/default/api-keys/${created.id}`);
    const after = await evaluateWith(t.app, created.key, { flagKey: 'checkout' });
    expect(after.statusCode).toBe(401);
    expect(after.json().code).toBe('api_key_revoked');
  });

  it('refuses an expired key', async () => {
    const soon = new Date(Date.now() + 1500).toISOString();
    const created = await createApiKey(t.app, admin.accessToken, 'default', { environment: 'production', scope: 'sdk', expiresAt: soon });
    expect((await evaluateWith(t.app, created.key, { flagKey: 'checkout' })).statusCode).toBe(200);
    await new Promise((r) => setTimeout(r, Date.parse(soon) - Date.now() + 50));
    const after = await evaluateWith(t.app, created.key, { flagKey: 'checkout' });
    expect(after.statusCode).toBe(401);
    expect(after.json().code).toBe('api_key_expired');
  });

  it('keeps projects and organisations apart: a key only ever sees its own environment', async () => {
    // A second project of the same organisation with a flag of the same key, served differently.
    await ok('POST', '/api/v1/projects', { name: 'Second', key: 'second' });
    await ok('POST', '/api/v1/projects/second/flags', { key: 'checkout', type: 'boolean', defaultValue: true });
    await ok('POST', '/api/v1/projects/second/flags', { key: 'only-in-second', type: 'boolean', defaultValue: true });
    const secondKey = (await createApiKey(t.app, admin.accessToken, 'second', { environment: 'production', scope: 'server' })).key;
    const second = (await evaluateWith(t.app, secondKey, { flagKey: 'checkout', context: { plan: 'pro' } })).json();
    expect(second).toMatchObject({ value: true, reason: 'DISABLED' });
    expect(second).not.toHaveProperty('ruleId');
    expect((await evaluateWith(t.app, serverKey, { flagKey: 'only-in-second' })).statusCode).toBe(404);
    expect((await evaluateWith(t.app, secondKey, { flagKeys: ['banner.color'] })).json().results[0].errorCode).toBe('FLAG_NOT_FOUND');

    // Another organisation's key sees its own default project only.
    const other = await signUp(t.app);
    const otherKey = (await createApiKey(t.app, other.accessToken, 'default', { environment: 'production', scope: 'server' })).key;
    const theirs = await evaluateWith(t.app, otherKey, {});
    expect(theirs.json()).toEqual({ results: [] });
    expect((await evaluateWith(t.app, otherKey, { flagKey: 'checkout' })).statusCode).toBe(404);
  });

  it('counts evaluations per environment, flag and variation, flushed in batches that add up', async () => {
    const { evaluationCounters } = t.app.services;
    await evaluationCounters.flush();
    const before = await evaluationCounters.read({ organizationId: admin.organizationId, flagKey: 'checkout' });
    const sum = (rows: Array<{ variation: string; count: number }>, variation: string) => rows.filter((r) => r.variation === variation).reduce((n, r) => n + r.count, 0);
    for (let i = 0; i < 7; i++) await evaluateWith(t.app, serverKey, { flagKey: 'checkout', context: { targetingKey: `c${i}`, plan: 'pro' } });
    for (let i = 0; i < 3; i++) await evaluateWith(t.app, serverKey, { flagKey: 'checkout', context: { targetingKey: `c${i}`, plan: 'free' } });
    // Unflushed counts are part of what `read` answers.
    const pending = await evaluationCounters.read({ organizationId: admin.organizationId, flagKey: 'checkout' });
    expect(sum(pending, 'on') - sum(before, 'on')).toBe(7);
    expect(sum(pending, 'off') - sum(before, 'off')).toBe(3);

    expect(await evaluationCounters.flush()).toBeGreaterThan(0);
    for (let i = 0; i < 5; i++) await evaluateWith(t.app, serverKey, { flagKey: 'checkout', context: { targetingKey: `d${i}`, plan: 'pro' } });
    await evaluationCounters.flush();
    const stored = await t.database.handle.db
      .selectFrom('evaluation_counts')
      .selectAll()
      .where('organization_id', '=', admin.organizationId)
      .where('flag_key', '=', 'checkout')
      .execute();
    const storedOn = stored.filter((r) => r.variation === 'on').reduce((n, r) => n + Number(r.count), 0);
    expect(storedOn - sum(before, 'on')).toBe(12);
    const today = new Date().toISOString().slice(0, 10);
    expect(stored.every((r) => r.day === today)).toBe(true);
    // One row per (environment, flag, variation, day): the second flush added to the first.
    expect(new Set(stored.map((r) => `${r.environment_id}/${r.variation}/${r.day}`)).size).toBe(stored.length);
    const after = await evaluationCounters.read({ organizationId: admin.organizationId, flagKey: 'checkout' });
    expect(sum(after, 'on')).toBe(storedOn);
    // Another organisation reads none of it.
    expect(await evaluationCounters.read({ organizationId: admin.organizationId + 1, flagKey: 'checkout' })).toEqual([]);
  });
});
