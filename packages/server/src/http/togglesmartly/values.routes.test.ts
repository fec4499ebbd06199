import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { authHeader, signUp, type SignedUpUser } from '../../testing/auth.js';
import { createCountingTestApp, createApiKey, type CountingTestApp } from '../../testing/evaluation-fixtures.js';
import { testDialects } from '../../testing/test-database.js';

const url = '/api/v1/feature-flags/get-values';

const messages = {
  200: 'Feature flags retrieved successfully.',
  400: 'Invalid request. Please check your input.',
  401: 'Invalid or expired API key.',
  404: 'No feature flags found matching the provided criteria.',
  429: 'Rate limit exceeded. Please try again later.',
  500: 'An internal server error occurred while retrieving feature flags.',
} as const;

/** Every error answer is exactly `{status, message, data: []}` with the documented message. */
function expectError(res: LightMyRequestResponse, status: keyof typeof messages | 405 | 503) {
  expect(res.statusCode, res.body).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  const body = res.json();
  expect(Object.keys(body).sort()).toEqual(['data', 'message', 'status']);
  expect(body.status).toBe(status);
  expect(body.data).toEqual([]);
  if (status in messages) expect(body.message).toBe(messages[status as keyof typeof messages]);
  expect(res.body).not.toMatch(/\bat .+:\d+:\d+/);
  return body as { status: number; message: string; data: [] };
}

describe.each(testDialects())('ToggleSmartly get-values on %s', (dialect) => {
  let t: CountingTestApp;
  let admin: SignedUpUser;
  let production: string;
  let staging: string;
  let ip = 0;
  // Each test talks from its own address, so the per-IP limit of one never reaches another.
  const from = () => `10.0.${Math.floor(++ip / 250)}.${ip % 250}`;
  const project = '/api/v1/projects/default';

  const post = (payload: unknown, remoteAddress = from()) => t.app.inject({ method: 'POST', url, payload: payload as Record<string, unknown>, remoteAddress });
  const as = () => authHeader(admin.accessToken);
  const ok = async (method: 'POST' | 'PUT' | 'PATCH', path: string, payload?: Record<string, unknown>) => {
    const res = await t.app.inject({ method, url: path, headers: as(), ...(payload ? { payload } : {}) });
    expect(res.statusCode, res.body).toBeLessThan(300);
    return res;
  };

  beforeAll(async () => {
    t = await createCountingTestApp(dialect);
    admin = await signUp(t.app);
    await ok('POST', `${project}/flags`, { key: 'enable_new_feature', type: 'boolean', defaultValue: false });
    await ok('POST', `${project}/flags/enable_new_feature/environments/production/enable`);
    await ok('PUT', `${project}/flags/enable_new_feature/environments/production`, { defaultServe: { variation: 'on' } });
    await ok('POST', `${project}/flags`, { key: 'show_banner', type: 'string', defaultValue: 'Welcome to our new site!' });
    await ok('POST', `${project}/flags`, { key: 'max_items_per_page', type: 'number', defaultValue: 25 });
    await ok('POST', `${project}/flags/max_items_per_page/environments/production/enable`);
    await ok('POST', `${project}/flags`, { key: 'layout', type: 'json', defaultValue: { columns: 2, dense: true } });
    await ok('POST', `${project}/flags`, { key: 'json_text', type: 'json', defaultValue: 'plain' });
    // A rollout needs a targeting key; with no context it falls through to the default variation.
    await ok('POST', `${project}/flags`, { key: 'rollout', type: 'boolean', defaultValue: false });
    await ok('POST', `${project}/flags/rollout/environments/production/enable`);
    await ok('PUT', `${project}/flags/rollout/environments/production`, { defaultServe: { rollout: { variations: [{ variation: 'on', weight: 100 }, { variation: 'off', weight: 0 }] } } });
    await ok('POST', `${project}/flags`, { key: 'sleeping', type: 'boolean', defaultValue: true, status: 'inactive' });
    await ok('POST', `${project}/flags`, { key: 'gone', type: 'boolean', defaultValue: true });
    await ok('PATCH', `${project}/flags/gone`, { status: 'archived' });
    production = (await createApiKey(t.app, admin.accessToken, 'default', { environment: 'production', scope: 'server', format: 'togglesmartly' })).key;
    staging = (await createApiKey(t.app, admin.accessToken, 'default', { environment: 'staging', scope: 'sdk' })).key;
  });
  afterAll(async () => t?.close());

  it('issues keys in the documented akey-<uuid>-<random> format on request', () => {
    expect(production).toMatch(/^akey-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}-[a-z0-9]{12}$/);
    expect(staging).toMatch(/^sy_sdk_/);
  });

  it("answers the active flags' values in the key's environment as strings, in the order asked", async () => {
    const res = await post({
      api_key: production,
      feature_flag_keys: ['enable_new_feature', 'show_banner', 'max_items_per_page', 'layout', 'json_text', 'rollout', 'sleeping', 'gone', 'nope', 'show_banner'],
      env: ['production', 'staging'],
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.json()).toEqual({
      status: 200,
      message: messages[200],
      data: [
        { featureFlagKey: 'enable_new_feature', env: 'production', value: 'true' },
        // Disabled in production: its off variation, which is the default value.
        { featureFlagKey: 'show_banner', env: 'production', value: 'Welcome to our new site!' },
        { featureFlagKey: 'max_items_per_page', env: 'production', value: '25' },
        { featureFlagKey: 'layout', env: 'production', value: '{"columns":2,"dense":true}' },
        { featureFlagKey: 'json_text', env: 'production', value: '"plain"' },
        { featureFlagKey: 'rollout', env: 'production', value: 'false' },
      ],
    });
  });

  it('a key for one environment cannot read another: left out, and 404 when nothing remains', async () => {
    const own = await post({ api_key: staging, feature_flag_keys: ['enable_new_feature'] });
    expect(own.statusCode, own.body).toBe(200);
    expect(own.json().data).toEqual([{ featureFlagKey: 'enable_new_feature', env: 'staging', value: 'false' }]);
    expectError(await post({ api_key: staging, feature_flag_keys: ['enable_new_feature'], env: ['production'] }), 404);
    expectError(await post({ api_key: production, feature_flag_keys: ['enable_new_feature'], env: ['staging'] }), 404);
    expectError(await post({ api_key: production, feature_flag_keys: ['enable_new_feature'], env: [] }), 404);
  });

  it("another organisation's key reads nothing of this one", async () => {
    const other = await signUp(t.app);
    const key = (await createApiKey(t.app, other.accessToken, 'default', { environment: 'production', scope: 'server' })).key;
    expectError(await post({ api_key: key, feature_flag_keys: ['enable_new_feature', 'show_banner'] }), 404);
  });

  it('404 when no flag is found, or none is active', async () => {
    expectError(await post({ api_key: production, feature_flag_keys: ['nope'] }), 404);
    expectError(await post({ api_key: production, feature_flag_keys: ['sleeping', 'gone'] }), 404);
  });

  it('401 for an unknown, revoked or stream-scope key', async () => {
    expectError(await post({ api_key: 'akey-12345678-1234-1234-1234-123456789012-abc123xyz789', feature_flag_keys: ['show_banner'] }), 401);
    const stream = await createApiKey(t.app, admin.accessToken, 'default', { environment: 'production', scope: 'stream' });
    expectError(await post({ api_key: stream.key, feature_flag_keys: ['show_banner'] }), 401);
    const doomed = await createApiKey(t.app, admin.accessToken, 'default', { environment: 'production', scope: 'server' });
    expect((await post({ api_key: doomed.key, feature_flag_keys: ['show_banner'] })).statusCode).toBe(200);
    await ok('POST', `${project}/api-keys/${doomed.id}/revoke`);
    expectError(await post({ api_key: doomed.key, feature_flag_keys: ['show_banner'] }), 401);
  });

  it('400 for every malformed request, in the same body', async () => {
    expectError(await post({ feature_flag_keys: ['show_banner'] }), 400);
    expectError(await post({ api_key: production }), 400);
    expectError(await post({ api_key: production, feature_flag_keys: [] }), 400);
    expectError(await post({ api_key: production, feature_flag_keys: 'show_banner' }), 400);
    expectError(await post({ api_key: production, feature_flag_keys: [1] }), 400);
    expectError(await post({ api_key: production, feature_flag_keys: ['show_banner'], env: 'production' }), 400);
    expectError(await post([1, 2]), 400);
    const raw = (payload: string, type?: string) =>
      t.app.inject({ method: 'POST', url, payload, remoteAddress: from(), headers: type ? { 'content-type': type } : {} });
    expectError(await raw('{"api_key": "x",', 'application/json'), 400);
    expectError(await raw('', 'application/json'), 400);
    expectError(await raw('api_key=x', 'application/x-www-form-urlencoded'), 400);
    expectError(await raw('{"api_key":"x","feature_flag_keys":["a"]}', 'text/plain'), 400);
    expectError(await raw(JSON.stringify({ api_key: production, feature_flag_keys: ['x'.repeat(1024 * 1024)] }), 'application/json'), 400);
  });

  it('unknown paths and other methods answer in the same body (404, 405 with Allow)', async () => {
    expectError(await t.app.inject({ method: 'POST', url: '/api/v1/feature-flags/get-value', payload: {} }), 404);
    const get = await t.app.inject({ method: 'GET', url });
    expectError(get, 405);
    expect(get.headers.allow).toBe('POST');
  });

  it('500 in the same body, with nothing of the error in it', async () => {
    const service = t.app.services.flagValues;
    const original = service.values.bind(service);
    service.values = () => {
      throw new Error('db password=hunter2');
    };
    try {
      const res = await post({ api_key: production, feature_flag_keys: ['show_banner'] });
      expectError(res, 500);
      expect(res.body).not.toContain('hunter2');
    } finally {
      service.values = original;
    }
  });

  it('100 requests a minute per key: the 101st is 429 with the documented body, wherever it comes from', async () => {
    const key = (await createApiKey(t.app, admin.accessToken, 'default', { environment: 'production', scope: 'server' })).key;
    for (let i = 0; i < 100; i++) {
      const res = await post({ api_key: key, feature_flag_keys: ['show_banner'] });
      expect(res.statusCode).toBe(200);
    }
    const limited = await post({ api_key: key, feature_flag_keys: ['show_banner'] });
    expectError(limited, 429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    // Another key from the same client is not limited.
    expect((await post({ api_key: staging, feature_flag_keys: ['show_banner'] })).statusCode).toBe(200);
  });

  it('1,000 requests a minute per client IP, counted before the body is read; the app-wide limit does not apply', async () => {
    const address = '192.0.2.77';
    for (let i = 0; i < 1000; i++) {
      const res = await post({ api_key: `unknown-${i}`, feature_flag_keys: ['show_banner'] }, address);
      expect(res.statusCode).toBe(401);
    }
    expectError(await post({ api_key: production, feature_flag_keys: ['show_banner'] }, address), 429);
    expectError(await t.app.inject({ method: 'POST', url, payload: '{', headers: { 'content-type': 'application/json' }, remoteAddress: address }), 429);
    expect((await post({ api_key: production, feature_flag_keys: ['show_banner'] })).statusCode).toBe(200);
  });

  it('reads only memory: no database query per request', async () => {
    await t.app.services.evaluationCounters.stop();
    await t.app.services.apiKeyMap.stop();
    t.queries.reset();
    for (let i = 0; i < 5; i++) expect((await post({ api_key: production, feature_flag_keys: ['enable_new_feature', 'layout'] })).statusCode).toBe(200);
    expect((await post({ api_key: production, feature_flag_keys: ['nope'] })).statusCode).toBe(404);
    expect((await post({ api_key: 'wrong', feature_flag_keys: ['nope'] })).statusCode).toBe(401);
    expect(t.queries.seen).toEqual([]);
  });

  it('counts what it serves as evaluations', async () => {
    const before = t.app.services.evaluationCounters.unflushed().filter((r) => r.flagKey === 'max_items_per_page').reduce((n, r) => n + r.count, 0);
    expect((await post({ api_key: production, feature_flag_keys: ['max_items_per_page'] })).statusCode).toBe(200);
    const after = t.app.services.evaluationCounters.unflushed().filter((r) => r.flagKey === 'max_items_per_page').reduce((n, r) => n + r.count, 0);
    expect(after).toBe(before + 1);
  });

  it('changes made through the API are served by the next request', async () => {
    await ok('POST', `${project}/flags/show_banner/environments/production/enable`);
    await ok('PATCH', `${project}/flags/show_banner`, { status: 'inactive' });
    expectError(await post({ api_key: production, feature_flag_keys: ['show_banner'] }), 404);
    await ok('PATCH', `${project}/flags/show_banner`, { status: 'active' });
    expect((await post({ api_key: production, feature_flag_keys: ['show_banner'] })).json().data).toEqual([
      { featureFlagKey: 'show_banner', env: 'production', value: 'Welcome to our new site!' },
    ]);
  });
});
