import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Type } from 'typebox';
import { authHeader, signUp, type SignedUpUser } from '../../testing/auth.js';
import { createCustomApp } from '../../testing/custom-app.js';
import type { TestApp } from '../../testing/test-app.js';
import { testDialects } from '../../testing/test-database.js';

describe.each(testDialects())('legacy aliases on %s', (dialect) => {
  let t: TestApp;
  let user: SignedUpUser;

  beforeAll(async () => {
    t = await createCustomApp(dialect, {
      // Registered after every real route: aliases cover routes added later too.
      extend: (app) => {
        app.get('/api/v1/oauth/test-late', { schema: { operationId: 'testLateOauth', tags: ['test'], response: { 200: Type.Object({ late: Type.Boolean() }) } } }, async () => ({ late: true }));
      },
    });
    user = await signUp(t.app);
  });
  afterAll(async () => t.close());

  const successor = (path: string) => `<${path}>; rel="successor-version"`;

  it('/api/… answers like /api/v1/… with Deprecation and a Link to the versioned path (query kept)', async () => {
    const versioned = await t.app.inject({ method: 'GET', url: '/api/v1/projects?limit=1', headers: authHeader(user.accessToken) });
    const legacy = await t.app.inject({ method: 'GET', url: '/api/projects?limit=1', headers: authHeader(user.accessToken) });
    expect(legacy.statusCode).toBe(200);
    expect(legacy.json()).toEqual(versioned.json());
    expect(legacy.headers['x-total-count']).toBe(versioned.headers['x-total-count']);
    expect(legacy.headers.deprecation).toBe('true');
    expect(legacy.headers.link).toBe(successor('/api/v1/projects'));
    expect(versioned.headers.deprecation).toBeUndefined();
    // Rate limited like the versioned route.
    expect(legacy.headers['ratelimit-limit']).toBeDefined();
  });

  it('/auth/… and /oauth/… stand for /api/v1/auth/… and /api/v1/oauth/…', async () => {
    const login = await t.app.inject({ method: 'POST', url: '/auth/login', payload: { email: user.email, password: user.password } });
    expect(login.statusCode).toBe(200);
    expect(login.json().data.accessToken).toEqual(expect.any(String));
    expect(login.headers.link).toBe(successor('/api/v1/auth/login'));
    const late = await t.app.inject({ method: 'GET', url: '/oauth/test-late' });
    expect(late.statusCode).toBe(200);
    expect(late.json()).toEqual({ late: true });
    expect(late.headers.deprecation).toBe('true');
    expect(late.headers.link).toBe(successor('/api/v1/oauth/test-late'));
  });

  it('errors on an alias are the versioned route’s: 401, 422, 405 with Allow', async () => {
    const anon = await t.app.inject({ method: 'GET', url: '/api/projects' });
    expect(anon.statusCode).toBe(401);
    expect(anon.headers.deprecation).toBe('true');
    const bad = await t.app.inject({ method: 'POST', url: '/api/projects', headers: authHeader(user.accessToken), payload: { color: 'red' } });
    expect(bad.statusCode).toBe(422);
    const wrongMethod = await t.app.inject({ method: 'PUT', url: '/api/projects', headers: authHeader(user.accessToken), payload: {} });
    expect(wrongMethod.statusCode).toBe(405);
    expect(wrongMethod.headers.allow).toContain('GET');
  });

  it('never shadows /api/admin/… (Flipswitch): /api/admin/users is not /api/v1/admin/users', async () => {
    for (const url of ['/api/admin/me', '/api/admin/users', '/api/admin/tenants', '/api/admin']) {
      const res = await t.app.inject({ method: 'GET', url, headers: authHeader(user.accessToken) });
      expect(res.headers.deprecation, url).toBeUndefined();
      expect(res.headers.link, url).toBeUndefined();
    }
    expect(t.app.services.config).toBeDefined();
  });

  it('long path parameters (device tokens) alias too, and a wrong method on them is a 405', async () => {
    const token = `fcm-${'b'.repeat(160)}`;
    const registered = await t.app.inject({ method: 'POST', url: '/api/notifications/device-tokens', headers: authHeader(user.accessToken), payload: { deviceToken: token, deviceType: 'web' } });
    expect(registered.statusCode).toBe(201);
    const wrong = await t.app.inject({ method: 'GET', url: `/api/v1/notifications/device-tokens/${token}`, headers: authHeader(user.accessToken) });
    expect(wrong.statusCode).toBe(405);
    const del = await t.app.inject({ method: 'DELETE', url: `/api/notifications/device-tokens/${token}`, headers: authHeader(user.accessToken) });
    expect(del.statusCode).toBe(204);
    expect(del.headers.link).toBe(successor(`/api/v1/notifications/device-tokens/${token}`));
  });

  it('unknown legacy paths are plain 404s, and aliases are not OpenAPI operations', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/no-such-thing' });
    expect(res.statusCode).toBe(404);
    expect(res.headers.deprecation).toBeUndefined();
    const doc = (await t.app.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json();
    const paths = Object.keys(doc.paths as Record<string, unknown>);
    expect(paths).toContain('/api/v1/projects');
    expect(paths.filter((p) => /^\/(api\/(?!v1\/|admin\/)|auth\/|oauth\/)/.test(p))).toEqual([]);
  });
});
