import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { as, expectProblem, flipswitchCast, type FlipswitchCast } from '../../testing/flipswitch-fixtures.js';
import { createTestApp, type TestApp } from '../../testing/test-app.js';
import { testDialects } from '../../testing/test-database.js';

describe.each(testDialects())('Flipswitch /api/admin: me, logout, auth, errors and not-found on %s', (dialect) => {
  let t: TestApp;
  let c: FlipswitchCast;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    c = await flipswitchCast(t.app);
  });
  afterAll(async () => t?.close());

  it('GET /me answers {id: user-…, email, name, organizationId: org-…}', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/admin/me', headers: as(c.owner) });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ id: `user-${c.owner.userId}`, email: c.owner.email, name: 'Olive Owner', organizationId: `org-${c.owner.organizationId}` });
    const viewer = await t.app.inject({ method: 'GET', url: '/api/admin/me', headers: as(c.viewer) });
    expect(viewer.json()).toMatchObject({ id: `user-${c.viewer.userId}`, email: c.viewer.email, organizationId: `org-${c.owner.organizationId}` });
  });

  it('every route needs a user bearer token: none, a bad one, or an API key are 401 problems', async () => {
    expectProblem(await t.app.inject({ method: 'GET', url: '/api/admin/me' }), 401, 'unauthorized');
    expectProblem(await t.app.inject({ method: 'GET', url: '/api/admin/me', headers: { authorization: 'Bearer nonsense.token.here' } }), 401, 'invalid_token');
    expectProblem(await t.app.inject({ method: 'GET', url: '/api/admin/projects', headers: { authorization: 'Basic abc' } }), 401, 'invalid_token');
    const key = await t.app.inject({ method: 'POST', url: `/api/admin/projects/${c.projectId}/environments/${c.environments.production}/api-keys`, headers: as(c.owner), payload: { name: 'k' } });
    expect(key.statusCode).toBe(201);
    expectProblem(await t.app.inject({ method: 'GET', url: '/api/admin/projects', headers: { authorization: `Bearer ${key.json().key}` } }), 401, 'unauthorized');
    // Before the body is looked at: an anonymous write learns nothing from a 422.
    expectProblem(await t.app.inject({ method: 'POST', url: '/api/admin/projects', payload: { key: 'Not Kebab' } }), 401);
    expectProblem(await t.app.inject({ method: 'POST', url: '/api/admin/logout' }), 401);
  });

  it('unknown paths under /api/admin are Flipswitch 404 problems; a known path with another method is 405 with Allow', async () => {
    const missing = expectProblem(await t.app.inject({ method: 'GET', url: '/api/admin/nothing-here', headers: as(c.owner) }), 404, 'not_found');
    expect(missing.detail).toContain('/api/admin/nothing-here');
    expectProblem(await t.app.inject({ method: 'GET', url: '/api/admin/projects/1/nothing' }), 404, 'not_found');
    const wrong = await t.app.inject({ method: 'DELETE', url: `/api/admin/projects/${c.projectId}`, headers: as(c.owner) });
    expectProblem(wrong, 405, 'method_not_allowed');
    expect(wrong.headers.allow).toBe('GET, HEAD, PUT');
    // Path ids are positive integers: anything else is a 400 naming the parameter; a huge one names nothing.
    const bad = expectProblem(await t.app.inject({ method: 'GET', url: '/api/admin/projects/shop', headers: as(c.owner) }), 400, 'bad_request');
    expect(Object.keys(bad.errors ?? {})).toEqual(['projectId']);
    expectProblem(await t.app.inject({ method: 'GET', url: '/api/admin/projects/0', headers: as(c.owner) }), 400, 'bad_request');
    expectProblem(await t.app.inject({ method: 'GET', url: '/api/admin/projects/9999999999999999', headers: as(c.owner) }), 404, 'not_found');
    // Malformed JSON is this surface's problem too.
    const malformed = await t.app.inject({ method: 'POST', url: '/api/admin/projects', headers: { ...as(c.owner), 'content-type': 'application/json' }, payload: '{"key":' });
    expectProblem(malformed, 400, 'malformed_json');
  });

  it('legacy /api/… aliases do not shadow /api/admin: /me and /projects answer in Flipswitch shape, undeprecated', async () => {
    const me = await t.app.inject({ method: 'GET', url: '/api/admin/me', headers: as(c.owner) });
    expect(me.statusCode).toBe(200);
    expect(Object.keys(me.json()).sort()).toEqual(['email', 'id', 'name', 'organizationId']);
    expect(me.headers.deprecation).toBeUndefined();
    const projects = await t.app.inject({ method: 'GET', url: '/api/admin/projects', headers: as(c.owner) });
    expect(projects.statusCode).toBe(200);
    const list = projects.json() as Array<Record<string, unknown>>;
    expect(list.length).toBeGreaterThan(0);
    for (const p of list) {
      expect(Object.keys(p).sort()).toEqual(['description', 'id', 'key', 'name', 'organizationId']);
      expect(typeof p.id).toBe('number');
      expect(p.organizationId).toBe(`org-${c.owner.organizationId}`);
    }
    expect(projects.headers.deprecation).toBeUndefined();
    // And a missing /api/admin path is ours, not rewritten to some /api/v1 route.
    expect(expectProblem(await t.app.inject({ method: 'GET', url: '/api/admin/auth/me', headers: as(c.owner) }), 404).detail).toContain('/api/admin/auth/me');
  });

  it('every /api/admin route is in the OpenAPI document with an operationId', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json();
    const admin = Object.entries(doc.paths as Record<string, Record<string, { operationId?: string }>>).filter(([p]) => p.startsWith('/api/admin/'));
    const ops = admin.flatMap(([p, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${p}`)).sort();
    expect(ops).toEqual(
      [
        'GET /api/admin/me',
        'POST /api/admin/logout',
        'GET /api/admin/projects',
        'POST /api/admin/projects',
        'GET /api/admin/projects/{projectId}',
        'PUT /api/admin/projects/{projectId}',
        'GET /api/admin/projects/{projectId}/environments',
        'POST /api/admin/projects/{projectId}/environments',
        'GET /api/admin/projects/{projectId}/flags',
        'POST /api/admin/projects/{projectId}/flags',
        'PUT /api/admin/projects/{projectId}/flags/{flagId}',
        'GET /api/admin/projects/{projectId}/flags/{flagId}/environments/{envId}/rules',
        'PUT /api/admin/projects/{projectId}/flags/{flagId}/environments/{envId}/rules',
        'GET /api/admin/projects/{projectId}/segments',
        'POST /api/admin/projects/{projectId}/segments',
        'GET /api/admin/projects/{projectId}/environments/{envId}/api-keys',
        'POST /api/admin/projects/{projectId}/environments/{envId}/api-keys',
        'GET /api/admin/projects/{projectId}/audit-log',
      ].sort(),
    );
    for (const [, methods] of admin) for (const op of Object.values(methods)) expect(op.operationId).toMatch(/^flipswitch[A-Z]\w+$/);
  });

  it('POST /logout ends the session: 204, then the same token is 401', async () => {
    const login = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: c.viewer.email, password: c.viewer.password } });
    expect(login.statusCode).toBe(200);
    const token = login.json().data.accessToken as string;
    expect((await t.app.inject({ method: 'GET', url: '/api/admin/me', headers: { authorization: `Bearer ${token}` } })).statusCode).toBe(200);
    const out = await t.app.inject({ method: 'POST', url: '/api/admin/logout', headers: { authorization: `Bearer ${token}` } });
    expect(out.statusCode).toBe(204);
    expect(out.body).toBe('');
    expectProblem(await t.app.inject({ method: 'GET', url: '/api/admin/me', headers: { authorization: `Bearer ${token}` } }), 401, 'invalid_token');
    // Another session of the same user is untouched.
    expect((await t.app.inject({ method: 'GET', url: '/api/admin/me', headers: as(c.viewer) })).statusCode).toBe(200);
  });
});
