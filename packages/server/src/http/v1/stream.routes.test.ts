import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authHeader, signUp, type SignedUpUser } from '../../testing/auth.js';
import { createApiKey, evaluateWith } from '../../testing/evaluation-fixtures.js';
import { openSse, type SseConnection } from '../../testing/sse-client.js';
import { createTestApp, type TestApp } from '../../testing/test-app.js';
import { testDialects } from '../../testing/test-database.js';

type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

describe.each(testDialects())('GET /api/v1/stream and /api/v1/sdk/config on %s', (dialect) => {
  let t: TestApp;
  let base: string;
  let admin: SignedUpUser;
  let sdk: { id: string; key: string };
  let serverKey: string;
  const open: SseConnection[] = [];

  const ok = async (method: Method, url: string, payload?: unknown) => {
    const res = await t.app.inject({ method, url, headers: authHeader(admin.accessToken), ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}) });
    if (res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
    return res;
  };
  const stream = async (headers: Record<string, string>, query = '') => {
    const c = await openSse(`${base}/api/v1/stream${query}`, headers);
    open.push(c);
    return c;
  };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- event data is read loosely in assertions
  const json = (e: { data: string }) => JSON.parse(e.data) as Record<string, any>;

  beforeAll(async () => {
    t = await createTestApp(dialect, { SWITCHYARD_STREAM_HEARTBEAT_MS: '150' });
    base = await t.app.listen({ host: '127.0.0.1', port: 0 });
    admin = await signUp(t.app);
    await ok('POST', '/api/v1/projects/default/flags', { key: 'checkout', type: 'boolean', defaultValue: false });
    sdk = await createApiKey(t.app, admin.accessToken, 'default', { environment: 'production', scope: 'sdk' });
    serverKey = (await createApiKey(t.app, admin.accessToken, 'default', { environment: 'production', scope: 'server' })).key;
  });
  afterAll(async () => {
    for (const c of open) c.close();
    await t?.close();
  });

  it('opens with the SSE headers and a put of the whole configuration, then patches a changed flag', async () => {
    const c = await stream({ 'x-api-key': sdk.key });
    expect(c.status).toBe(200);
    expect(c.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(c.headers['cache-control']).toBe('no-cache');
    expect(c.headers['x-accel-buffering']).toBe('no');
    const put = await c.next();
    expect(put.event).toBe('put');
    const config = json(put);
    expect(config).toMatchObject({ environment: 'production', revision: expect.any(Number), digest: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(put.id).toBe(String(config.revision));
    expect(config.flags.checkout).toMatchObject({ type: 'boolean', environments: { production: { enabled: false } } });
    expect(Object.keys(config.flags.checkout.environments)).toEqual(['production']);

    await ok('POST', '/api/v1/projects/default/flags/checkout/environments/production/enable');
    // The write's response comes after the patch was written: it is there (or on its way) now.
    const patch = await c.next();
    expect(patch.event).toBe('patch');
    const change = json(patch);
    expect(change).toMatchObject({ kind: 'flag', key: 'checkout', revision: config.revision + 1, flag: { environments: { production: { enabled: true } } } });
    expect(patch.id).toBe(String(config.revision + 1));
    // Exactly one event for one change, and what evaluation serves agrees.
    await new Promise((r) => setTimeout(r, 100));
    expect(c.events.map((e) => e.event)).toEqual(['put', 'patch']);
    const evaluated = await evaluateWith(t.app, sdk.key, { flagKey: 'checkout', context: { targetingKey: 'u1' } });
    expect(evaluated.json()).toMatchObject({ flagKey: 'checkout', enabled: true });
  });

  it('sends a patch when a flag is created, a delete when it is archived or deleted, and patches for segments', async () => {
    const c = await stream({ 'x-api-key': sdk.key });
    await c.next((e) => e.event === 'put');
    await ok('POST', '/api/v1/projects/default/flags', { key: 'banner', type: 'string', variations: [{ key: 'a', value: 'a' }, { key: 'b', value: 'b' }], defaultValue: 'a' });
    expect(json(await c.next())).toMatchObject({ kind: 'flag', key: 'banner', flag: { type: 'string' } });
    await ok('POST', '/api/v1/projects/default/flags/banner/archive');
    const archived = await c.next();
    expect(archived.event).toBe('delete');
    expect(json(archived)).toEqual({ kind: 'flag', key: 'banner', revision: expect.any(Number), digest: expect.any(String) });
    await ok('POST', '/api/v1/projects/default/flags/banner/restore');
    expect((await c.next()).event).toBe('patch');
    await ok('DELETE', '/api/v1/projects/default/flags/banner');
    expect(json(await c.next((e) => e.event === 'delete'))).toMatchObject({ kind: 'flag', key: 'banner' });

    await ok('POST', '/api/v1/projects/default/segments', { key: 'beta', name: 'Beta', included: ['u-1'] });
    const segment = await c.next();
    expect(segment.event).toBe('patch');
    expect(json(segment)).toMatchObject({ kind: 'segment', key: 'beta', segment: { included: ['u-1'] } });
    await ok('DELETE', '/api/v1/projects/default/segments/beta');
    expect(json(await c.next((e) => e.event === 'delete'))).toMatchObject({ kind: 'segment', key: 'beta' });
    const ids = c.events.map((e) => Number(e.id));
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('resumes from Last-Event-ID without a put when the gap is held, and sends a fresh put otherwise', async () => {
    const first = await stream({ 'x-api-key': sdk.key });
    const put = await first.next();
    first.close();
    await ok('POST', '/api/v1/projects/default/flags/checkout/environments/production/disable');
    await ok('POST', '/api/v1/projects/default/flags/checkout/environments/production/enable');

    const resumed = await stream({ 'x-api-key': sdk.key, 'last-event-id': put.id! });
    const a = await resumed.next();
    const b = await resumed.next();
    expect([a.event, b.event]).toEqual(['patch', 'patch']);
    expect(json(a).flag.environments.production.enabled).toBe(false);
    expect(json(b).flag.environments.production.enabled).toBe(true);
    expect(Number(b.id)).toBe(Number(put.id) + 2);

    // Already current: nothing is resent, and the next change arrives as a patch.
    const current = await stream({ 'x-api-key': sdk.key, 'last-event-id': b.id! });
    await new Promise((r) => setTimeout(r, 100));
    expect(current.events).toEqual([]);
    await ok('POST', '/api/v1/projects/default/flags/checkout/environments/production/disable');
    expect((await current.next()).event).toBe('patch');

    // A gap the server does not hold (or an id it cannot read): a fresh put.
    for (const id of ['123456789', 'garbage', '0']) {
      const fresh = await stream({ 'x-api-key': sdk.key, 'last-event-id': id });
      expect((await fresh.next()).event).toBe('put');
      fresh.close();
    }
  });

  it('sends a heartbeat comment on the configured interval', async () => {
    const c = await stream({ 'x-api-key': sdk.key });
    await c.next();
    await c.waitRaw((raw) => raw.includes(': heartbeat\n\n'), 2000);
  });

  it('refuses a server key (403), a missing or unknown key (401), as problem+json before the stream opens', async () => {
    const server = await stream({ 'x-api-key': serverKey });
    expect(server.status).toBe(403);
    expect(server.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(JSON.parse(await server.body())).toMatchObject({ status: 403, code: 'api_key_scope' });
    const none = await stream({});
    expect(none.status).toBe(401);
    const unknown = await stream({ 'x-api-key': 'sy_sdk_definitely-not-a-key' });
    expect(unknown.status).toBe(401);
  });

  it('follows an environment with a bearer token plus project and environment (flags:read), 404 across organisations', async () => {
    const c = await stream(authHeader(admin.accessToken), '?project=default&environment=production');
    expect(c.status).toBe(200);
    expect(json(await c.next())).toMatchObject({ environment: 'production' });
    const missing = await stream(authHeader(admin.accessToken));
    expect(missing.status).toBe(422);
    expect(JSON.parse(await missing.body()).errors).toMatchObject({ project: expect.any(String), environment: expect.any(String) });
    const other = await signUp(t.app);
    const projects = await t.app.inject({ method: 'GET', url: '/api/v1/projects', headers: authHeader(admin.accessToken) });
    const projectId = (projects.json().data ?? projects.json().items ?? projects.json())[0]?.id as string;
    const foreign = await stream(authHeader(other.accessToken), `?project=${projectId}&environment=production`);
    expect(foreign.status).toBe(404);
    const noEnv = await stream(authHeader(admin.accessToken), '?project=default&environment=nope');
    expect(noEnv.status).toBe(404);
  });

  it('closes a revoked key\'s streams at once', async () => {
    const key = await createApiKey(t.app, admin.accessToken, 'default', { environment: 'production', scope: 'stream' });
    const c = await stream({ 'x-api-key': key.key });
    await c.next();
    const other = await stream({ 'x-api-key': sdk.key });
    await other.next();
    await ok('POST', `/api/v1/projects/default/api-keys/${key.id}/revoke`);
    await c.closed(1000);
    expect(other.ended).toBe(false);
    const again = await stream({ 'x-api-key': key.key });
    expect(again.status).toBe(401);
  });

  it('serves the same configuration at /sdk/config with a strong ETag, 304 on If-None-Match', async () => {
    const get = (headers: Record<string, string>) => t.app.inject({ method: 'GET', url: '/api/v1/sdk/config', headers });
    const first = await get({ 'x-api-key': sdk.key });
    expect(first.statusCode).toBe(200);
    const config = first.json();
    expect(first.headers.etag).toBe(`"${config.digest}"`);
    expect(config).toMatchObject({ environment: 'production', flags: { checkout: expect.any(Object) } });
    const c = await stream({ 'x-api-key': sdk.key });
    expect(json(await c.next())).toEqual(config);

    const same = await get({ 'x-api-key': sdk.key, 'if-none-match': first.headers.etag as string });
    expect(same.statusCode).toBe(304);
    expect(same.body).toBe('');
    await ok('POST', '/api/v1/projects/default/flags/checkout/environments/production/enable');
    const changed = await get({ 'x-api-key': sdk.key, 'if-none-match': first.headers.etag as string });
    expect(changed.statusCode).toBe(200);
    expect(changed.headers.etag).not.toBe(first.headers.etag);
    expect(changed.json().revision).toBeGreaterThan(config.revision);

    expect((await get({ 'x-api-key': serverKey })).statusCode).toBe(403);
    expect((await get({})).statusCode).toBe(401);
    const bearer = await get(authHeader(admin.accessToken));
    expect(bearer.statusCode).toBe(422);
  });

  it('CORS: browsers on another origin may preflight, stream and poll, and read ETag', async () => {
    const origin = 'https://app.example.test';
    for (const url of ['/api/v1/stream', '/api/v1/sdk/config']) {
      const pre = await t.app.inject({
        method: 'OPTIONS',
        url,
        headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'x-api-key, last-event-id, if-none-match' },
      });
      expect(pre.statusCode).toBe(204);
      expect(pre.headers['access-control-allow-origin']).toBe(origin);
      expect(pre.headers['access-control-allow-methods']).toBe('GET, OPTIONS');
      const allowed = String(pre.headers['access-control-allow-headers']).toLowerCase().split(', ');
      expect(allowed).toEqual(expect.arrayContaining(['x-api-key', 'last-event-id', 'if-none-match', 'authorization']));
    }
    const config = await t.app.inject({ method: 'GET', url: '/api/v1/sdk/config', headers: { origin, 'x-api-key': sdk.key } });
    expect(config.statusCode).toBe(200);
    expect(config.headers['access-control-allow-origin']).toBe(origin);
    expect(config.headers.vary).toMatch(/Origin/);
    expect(String(config.headers['access-control-expose-headers'])).toMatch(/\bETag\b/);
    // Refusals carry the headers too, so a browser script can read the status and body.
    const refused = await t.app.inject({ method: 'GET', url: '/api/v1/sdk/config', headers: { origin } });
    expect(refused.statusCode).toBe(401);
    expect(refused.headers['access-control-allow-origin']).toBe(origin);
    const c = await stream({ origin, 'x-api-key': sdk.key });
    expect(c.status).toBe(200);
    expect(c.headers['access-control-allow-origin']).toBe(origin);
    expect((await c.next()).event).toBe('put');
  });
});

describe.each(testDialects())('stream shutdown on %s', (dialect) => {
  it('sends every stream a retry hint and ends it when the server shuts down', async () => {
    const t = await createTestApp(dialect);
    try {
      const base = await t.app.listen({ host: '127.0.0.1', port: 0 });
      const admin = await signUp(t.app);
      const key = await createApiKey(t.app, admin.accessToken, 'default', { environment: 'production', scope: 'sdk' });
      const streams = await Promise.all([openSse(`${base}/api/v1/stream`, { 'x-api-key': key.key }), openSse(`${base}/api/v1/stream`, { 'x-api-key': key.key })]);
      await Promise.all(streams.map((s) => s.next()));
      const closing = t.app.close();
      for (const s of streams) {
        await s.closed(2000);
        expect(s.raw).toMatch(/\nretry: \d+\n\n$/);
      }
      await closing;
    } finally {
      await t.database.destroy();
    }
  });
});
