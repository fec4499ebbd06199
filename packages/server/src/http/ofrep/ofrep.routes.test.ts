import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authHeader, type SignedUpUser } from '../../testing/auth.js';
import { ofrepFlagdDocument, seedOfrep } from '../../testing/ofrep-fixtures.js';
import { createTestApp, type TestApp } from '../../testing/test-app.js';
import { testDialects } from '../../testing/test-database.js';

describe.each(testDialects())('OFREP over HTTP on %s', (dialect) => {
  let t: TestApp;
  let serverKey: string;
  let sdkKey: string;
  let streamKey: string;
  let admin: SignedUpUser;

  const one = (key: string, payload: unknown, headers: Record<string, string> = { authorization: `Bearer ${serverKey}` }) =>
    t.app.inject({ method: 'POST', url: `/ofrep/v1/evaluate/flags/${encodeURIComponent(key)}`, headers, payload: payload as Record<string, unknown> });
  const bulk = (payload: unknown, headers: Record<string, string> = { 'x-api-key': sdkKey }) =>
    t.app.inject({ method: 'POST', url: '/ofrep/v1/evaluate/flags', headers, payload: payload as Record<string, unknown> });

  beforeAll(async () => {
    t = await createTestApp(dialect, { SWITCHYARD_RATE_LIMIT_PER_MINUTE: '1000' });
    ({ admin, serverKey, sdkKey, streamKey } = await seedOfrep(t));
  });
  afterAll(async () => t?.close());

  it('evaluates one flag: value, variant, reason and metadata; the key fixes the environment', async () => {
    const pro = await one('checkout', { context: { targetingKey: 'u1', plan: 'pro' } });
    expect(pro.statusCode).toBe(200);
    expect(pro.json()).toEqual({ key: 'checkout', value: true, variant: 'on', reason: 'TARGETING_MATCH' });
    const free = await one('checkout', { context: { targetingKey: 'u2' } }, { 'x-api-key': sdkKey });
    expect(free.json()).toEqual({ key: 'checkout', value: false, variant: 'off', reason: 'DEFAULT' });
    expect((await one('limit', { context: { plan: 'pro' } })).json()).toEqual({ key: 'limit', value: 100, variant: 'high', reason: 'TARGETING_MATCH', metadata: { team: 'growth' } });
    expect((await one('theme', { context: {} })).json()).toEqual({ key: 'theme', value: { bg: '#fff' }, variant: 'light', reason: 'STATIC' });
    // A native flag that is off serves its off variation.
    expect((await one('banner.color', { context: {} })).json()).toEqual({ key: 'banner.color', value: 'red', variant: 'red', reason: 'DISABLED' });
  });

  it('answers a value-less 200 where the flag defers to the code default', async () => {
    const disabled = await one('gone', { context: { targetingKey: 'u1' } });
    expect(disabled.statusCode).toBe(200);
    expect(disabled.json()).toEqual({ key: 'gone', reason: 'DISABLED' });
    const noDefault = await one('maybe', { context: { email: 'a@y.com' } });
    expect(noDefault.statusCode).toBe(200);
    expect(noDefault.json()).toEqual({ key: 'maybe', reason: 'DEFAULT' });
    expect((await one('maybe', { context: { email: 'a@x.com' } })).json()).toEqual({ key: 'maybe', value: 'B', variant: 'b', reason: 'TARGETING_MATCH' });
  });

  it('404 FLAG_NOT_FOUND; 400 INVALID_CONTEXT and PARSE_ERROR with the key', async () => {
    const missing = await one('no-such-flag', { context: {} });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({ key: 'no-such-flag', errorCode: 'FLAG_NOT_FOUND', errorDetails: "Flag 'no-such-flag' was not found" });
    const badKey = await one('checkout', { context: { targetingKey: 42 } });
    expect(badKey.statusCode).toBe(400);
    expect(badKey.json()).toMatchObject({ key: 'checkout', errorCode: 'INVALID_CONTEXT', errorDetails: expect.any(String) });
    const noContext = await one('checkout', {});
    expect(noContext.statusCode).toBe(400);
    expect(noContext.json()).toMatchObject({ key: 'checkout', errorCode: 'INVALID_CONTEXT' });
    let deep: Record<string, unknown> = {};
    const root = deep;
    for (let i = 0; i < 12; i++) deep = (deep['n'] = {}) as Record<string, unknown>;
    expect((await one('checkout', { context: root })).json()).toMatchObject({ key: 'checkout', errorCode: 'INVALID_CONTEXT' });
    const garbage = await t.app.inject({ method: 'POST', url: '/ofrep/v1/evaluate/flags/checkout', headers: { authorization: `Bearer ${serverKey}`, 'content-type': 'application/json' }, payload: '{"context": ' });
    expect(garbage.statusCode).toBe(400);
    expect(garbage.json()).toMatchObject({ key: 'checkout', errorCode: 'PARSE_ERROR' });
    const notObject = await one('checkout', [1, 2] as never);
    expect(notObject.statusCode).toBe(400);
    expect(notObject.json()).toMatchObject({ key: 'checkout', errorCode: 'PARSE_ERROR' });
  });

  it('401 without or with a bad key, 403 for a stream key or a key of another scope', async () => {
    const none = await one('checkout', { context: {} }, {});
    expect(none.statusCode).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Bearer');
    expect(none.json()).toEqual({ errorDetails: expect.any(String) });
    expect((await one('checkout', { context: {} }, { 'x-api-key': 'sy_nope' })).statusCode).toBe(401);
    expect((await bulk({ context: {} }, { authorization: 'Bearer not-a-key' })).statusCode).toBe(401);
    // A user's access token is not an API key.
    expect((await one('checkout', { context: {} }, { authorization: `Bearer ${admin.accessToken}` })).statusCode).toBe(401);
    const stream = await one('checkout', { context: {} }, { 'x-api-key': streamKey });
    expect(stream.statusCode).toBe(403);
    expect((await bulk({ context: {} }, { authorization: `Bearer ${streamKey}` })).statusCode).toBe(403);
  });

  it('bulk: every flag, value-less ones and disabled native ones included, with an ETag of the results', async () => {
    const res = await bulk({ context: { targetingKey: 'u1', plan: 'pro', email: 'a@y.com' } });
    expect(res.statusCode).toBe(200);
    const byKey = Object.fromEntries((res.json().flags as Array<{ key: string }>).map((f) => [f.key, f]));
    expect(byKey).toEqual({
      'banner.color': { key: 'banner.color', value: 'red', variant: 'red', reason: 'DISABLED' },
      checkout: { key: 'checkout', value: true, variant: 'on', reason: 'TARGETING_MATCH' },
      gone: { key: 'gone', reason: 'DISABLED' },
      limit: { key: 'limit', value: 100, variant: 'high', reason: 'TARGETING_MATCH', metadata: { team: 'growth' } },
      maybe: { key: 'maybe', reason: 'DEFAULT' },
      theme: { key: 'theme', value: { bg: '#fff' }, variant: 'light', reason: 'STATIC' },
    });
    const etag = res.headers.etag as string;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);

    const same = await bulk({ context: { targetingKey: 'u1', plan: 'pro', email: 'a@y.com' } }, { 'x-api-key': sdkKey, 'if-none-match': etag });
    expect(same.statusCode).toBe(304);
    expect(same.body).toBe('');
    expect(same.headers.etag).toBe(etag);
    // Another context that evaluates differently: a new body and tag, never a 304.
    const other = await bulk({ context: { targetingKey: 'u1', plan: 'free' } }, { 'x-api-key': sdkKey, 'if-none-match': etag });
    expect(other.statusCode).toBe(200);
    expect(other.headers.etag).not.toBe(etag);
    // Another context that evaluates the same: the same tag.
    const alike = await bulk({ context: { targetingKey: 'u9', plan: 'pro', email: 'b@y.com' } }, { 'x-api-key': sdkKey, 'if-none-match': `W/"x", ${etag}` });
    expect(alike.statusCode).toBe(304);
  });

  it('bulk: an unusable context is a 400 bulkEvaluationFailure; a missing targetingKey is not an error', async () => {
    const bad = await bulk({ context: { targetingKey: ['x'] } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toEqual({ errorCode: 'INVALID_CONTEXT', errorDetails: expect.any(String) });
    const parse = await t.app.inject({ method: 'POST', url: '/ofrep/v1/evaluate/flags', headers: { 'x-api-key': sdkKey, 'content-type': 'application/json' }, payload: 'nope' });
    expect(parse.statusCode).toBe(400);
    expect(parse.json()).toEqual({ errorCode: 'PARSE_ERROR', errorDetails: expect.any(String) });
    const anonymous = await bulk({ context: { plan: 'pro' } });
    expect(anonymous.statusCode).toBe(200);
  });

  it('a change is served by the next request and changes the bulk ETag', async () => {
    const before = await bulk({ context: {} });
    await t.app.inject({
      method: 'POST',
      url: '/api/v1/projects/default/environments/production/flagd',
      headers: authHeader(admin.accessToken),
      payload: { flags: { theme: { ...ofrepFlagdDocument.flags.theme, defaultVariant: 'dark' } } },
    });
    const after = await bulk({ context: {} }, { 'x-api-key': sdkKey, 'if-none-match': before.headers.etag as string });
    expect(after.statusCode).toBe(200);
    expect((after.json().flags as Array<{ key: string; value?: unknown }>).find((f) => f.key === 'theme')?.value).toEqual({ bg: '#000' });
    await t.app.inject({ method: 'POST', url: '/api/v1/projects/default/environments/production/flagd', headers: authHeader(admin.accessToken), payload: { flags: { theme: ofrepFlagdDocument.flags.theme } } });
  });

  it('CORS: preflight allows the headers browsers send; responses expose ETag', async () => {
    const pre = await t.app.inject({
      method: 'OPTIONS',
      url: '/ofrep/v1/evaluate/flags',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type, if-none-match, x-api-key' },
    });
    expect(pre.statusCode).toBe(204);
    expect(pre.headers['access-control-allow-origin']).toBe('https://app.example');
    const allowed = String(pre.headers['access-control-allow-headers']).toLowerCase();
    for (const h of ['authorization', 'x-api-key', 'content-type', 'if-none-match']) expect(allowed).toContain(h);
    expect(String(pre.headers['access-control-allow-methods'])).toContain('POST');
    const single = await t.app.inject({ method: 'OPTIONS', url: '/ofrep/v1/evaluate/flags/checkout', headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' } });
    expect(single.statusCode).toBe(204);
    const res = await bulk({ context: {} }, { 'x-api-key': sdkKey, origin: 'https://app.example' });
    expect(res.headers['access-control-allow-origin']).toBe('https://app.example');
    expect(String(res.headers['access-control-expose-headers'])).toContain('ETag');
  });

  it('answers unknown OFREP paths in its own shape', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/ofrep/v1/nothing', headers: { 'x-api-key': sdkKey }, payload: {} });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ errorDetails: expect.any(String) });
  });
});

describe.each(testDialects())('OFREP rate limit on %s', (dialect) => {
  let t: TestApp;
  let serverKey: string;
  beforeAll(async () => {
    // The management limit is low on purpose: OFREP is evaluation traffic and must not be counted there.
    t = await createTestApp(dialect, { SWITCHYARD_RATE_LIMIT_PER_MINUTE: '30', SWITCHYARD_EVALUATION_RATE_LIMIT_PER_MINUTE: '40' });
    ({ serverKey } = await seedOfrep(t));
  });
  afterAll(async () => t?.close());

  it('429 with Retry-After in whole seconds past the key\'s evaluation limit, which /api/v1/evaluate shares; preflights are free', async () => {
    for (let i = 0; i < 10; i++) {
      const pre = await t.app.inject({ method: 'OPTIONS', url: '/ofrep/v1/evaluate/flags/checkout', headers: { origin: 'https://a.example.test', 'access-control-request-method': 'POST' } });
      expect(pre.statusCode).toBe(204);
    }
    for (let i = 0; i < 20; i++) {
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/evaluate', headers: { 'x-api-key': serverKey }, payload: { flagKey: 'checkout', context: { targetingKey: 'u' } } });
      expect(res.statusCode).toBe(200);
    }
    const first = await t.app.inject({ method: 'POST', url: '/ofrep/v1/evaluate/flags/checkout', headers: { 'x-api-key': serverKey }, payload: { context: {} } });
    expect(first.statusCode).toBe(200);
    expect(first.headers['ratelimit-limit']).toBe('40');
    expect(first.headers['ratelimit-remaining']).toBe('19');
    let last;
    for (let i = 0; i < 41; i++) {
      last = await t.app.inject({ method: 'POST', url: '/ofrep/v1/evaluate/flags/checkout', headers: { 'x-api-key': serverKey }, payload: { context: {} } });
      if (last.statusCode === 429) break;
    }
    expect(last!.statusCode).toBe(429);
    expect(last!.headers['retry-after']).toMatch(/^[1-9]\d*$/);
    expect(last!.json()).toEqual({ errorDetails: expect.any(String) });
  });
});
