import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey } from '../../features/api-keys/api-key-format.js';
import { as, expectProblem, flipswitchCast, type FlipswitchCast } from '../../testing/flipswitch-fixtures.js';
import { createTestApp, type TestApp } from '../../testing/test-app.js';
import { testDialects } from '../../testing/test-database.js';

describe.each(testDialects())('Flipswitch segments, API keys and audit log on %s', (dialect) => {
  let t: TestApp;
  let c: FlipswitchCast;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    c = await flipswitchCast(t.app);
  });
  afterAll(async () => t?.close());

  const db = () => t.database.handle.db;
  const req = (method: 'GET' | 'POST' | 'PUT', url: string, who: { accessToken: string } | null, payload?: Record<string, unknown>) =>
    t.app.inject({ method, url: `/api/admin${url}`, ...(who ? { headers: as(who) } : {}), ...(payload !== undefined ? { payload } : {}) });
  const segments = (projectId = c.projectId) => `/projects/${projectId}/segments`;
  const keys = (envId: number, projectId = c.projectId) => `/projects/${projectId}/environments/${envId}/api-keys`;

  it('segments: create (201) with key, name, conditions; list for members', async () => {
    const res = await req('POST', segments(), c.projectAdmin, { key: 'beta-users', name: 'Beta Users', conditions: [{ attribute: 'email', operator: 'ENDS_WITH', value: '@beta.company.com' }] });
    expect(res.statusCode, res.body).toBe(201);
    const body = res.json();
    expect(body).toEqual({ id: expect.any(Number), key: 'beta-users', name: 'Beta Users', description: null, conditions: [{ attribute: 'email', operator: 'ENDS_WITH', value: '@beta.company.com' }] });
    const row = await db().selectFrom('segments').selectAll().where('id', '=', body.id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ key: 'beta-users', project_id: c.projectId });
    const list = await req('GET', segments(), c.viewer);
    expect(list.statusCode).toBe(200);
    expect(list.json()).toEqual([body]);
    // Rules can use it.
    const flag = await req('POST', `/projects/${c.projectId}/flags`, c.owner, { key: 'beta-banner', name: 'Beta banner', type: 'boolean' });
    const put = await req('PUT', `/projects/${c.projectId}/flags/${flag.json().id}/environments/${c.environments.production}/rules`, c.owner, {
      enabled: true,
      rules: [{ conditions: [{ operator: 'IN_SEGMENT', value: 'beta-users' }], variant: 'on' }],
    });
    expect(put.statusCode, put.body).toBe(200);
  });

  it('segments: 422 naming the field, 409 for a taken key, 403 for view-only members, 404 across organisations, 401', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ key: 'bad key!', name: 'B' }, 'key'],
      [{ key: 'no-name' }, 'name'],
      [{ key: 'blank', name: '  ' }, 'name'],
      [{ key: 'bad-op', name: 'B', conditions: [{ attribute: 'a', operator: 'SOUNDS_LIKE', value: 'x' }] }, 'conditions[0].operator'],
      [{ key: 'bad-shape', name: 'B', conditions: [{ attribute: 'a' }] }, 'conditions.0.operator'],
    ];
    for (const [payload, field] of cases) {
      const body = expectProblem(await req('POST', segments(), c.owner, payload), 422, 'validation_failed');
      expect(Object.keys(body.errors ?? {}), JSON.stringify(payload)).toEqual([field]);
    }
    expectProblem(await req('POST', segments(), c.owner, { key: 'beta-users', name: 'Again' }), 409, 'segment_exists');
    expectProblem(await req('POST', segments(), c.viewer, { key: 'viewer-seg', name: 'V' }), 403, 'forbidden');
    expectProblem(await req('POST', segments(c.strangerProjectId), c.owner, { key: 'theirs', name: 'T' }), 404);
    expectProblem(await req('GET', segments(c.strangerProjectId), c.owner), 404);
    expectProblem(await req('GET', segments(), null), 401);
    expectProblem(await req('POST', segments(), null, { key: 'anon', name: 'A' }), 401);
    expect(await db().selectFrom('segments').select('key').where('key', 'in', ['bad-op', 'viewer-seg', 'theirs', 'anon', 'blank']).execute()).toEqual([]);
  });

  it('API keys: create returns the key once (201, stored hashed); list shows {id, name, prefix, createdAt} of that environment only', async () => {
    const env = c.environments.production!;
    const res = await req('POST', keys(env), c.projectAdmin, { name: 'Production Key' });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    const created = res.json();
    expect(created).toEqual({ id: expect.any(Number), name: 'Production Key', key: expect.any(String), createdAt: expect.any(String) });
    const row = await db().selectFrom('api_keys').selectAll().where('id', '=', created.id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ environment_id: env, project_id: c.projectId, key_hash: hashApiKey(created.key), scope: 'sdk' });
    expect(created.key.startsWith(row.prefix)).toBe(true);
    await req('POST', keys(c.environments.staging!), c.owner, { name: 'Staging Key' });

    const list = await req('GET', keys(env), c.viewer);
    expect(list.statusCode).toBe(200);
    expect(list.json()).toEqual([{ id: created.id, name: 'Production Key', prefix: row.prefix, createdAt: created.createdAt }]);
    expect(list.body).not.toContain(created.key);
    // The key works for evaluation in its environment.
    const evaluated = await t.app.inject({ method: 'POST', url: '/api/v1/evaluate', headers: { 'x-api-key': created.key }, payload: { flagKey: 'beta-banner', context: { targetingKey: 'u1' } } });
    expect(evaluated.statusCode, evaluated.body).toBe(200);
  });

  it('API keys: 403 for view-only members creating, 404 for another organisation’s project or environment, 422 naming the field, 401', async () => {
    const env = c.environments.production!;
    expectProblem(await req('POST', keys(env), c.viewer, { name: 'Viewer key' }), 403, 'forbidden');
    expectProblem(await req('POST', keys(c.strangerEnvironmentId, c.strangerProjectId), c.owner, { name: 'Theirs' }), 404);
    expectProblem(await req('POST', keys(c.strangerEnvironmentId), c.owner, { name: 'Foreign env' }), 404, 'not_found');
    expectProblem(await req('GET', keys(c.strangerEnvironmentId), c.owner), 404);
    expectProblem(await req('GET', keys(env), c.stranger), 404);
    expect(Object.keys(expectProblem(await req('POST', keys(env), c.owner, { name: '' }), 422).errors ?? {})).toEqual(['name']);
    expect(Object.keys(expectProblem(await req('POST', keys(env), c.owner, {}), 422).errors ?? {})).toEqual(['name']);
    expect(Object.keys(expectProblem(await req('POST', keys(env), c.owner, { name: 'k', scope: 'server' }), 422).errors ?? {})).toEqual(['scope']);
    expectProblem(await req('POST', keys(env), null, { name: 'Anon' }), 401);
    expectProblem(await req('GET', keys(env), null), 401);
    expect(await db().selectFrom('api_keys').select('name').where('name', 'in', ['Viewer key', 'Theirs', 'Foreign env', 'Anon']).execute()).toEqual([]);
  });

  it('audit log: newest first, FLAG_UPDATED-style actions, user-… ids and names, details {flagKey, changes}', async () => {
    const flag = await req('POST', `/projects/${c.projectId}/flags`, c.projectAdmin, { key: 'dark-mode', name: 'Dark Mode', type: 'boolean' });
    const flagId = flag.json().id as number;
    await req('PUT', `/projects/${c.projectId}/flags/${flagId}/environments/${c.environments.production}/rules`, c.projectAdmin, { enabled: true, rules: [] });
    await req('PUT', `/projects/${c.projectId}/flags/${flagId}`, c.owner, { name: 'Dark Theme' });
    const res = await t.app.inject({ method: 'GET', url: `/api/admin/projects/${c.projectId}/audit-log?flagId=${flagId}`, headers: as(c.viewer) });
    expect(res.statusCode, res.body).toBe(200);
    const entries = res.json() as Array<Record<string, unknown>>;
    expect(entries.map((e) => e.action)).toEqual(['FLAG_UPDATED', 'FLAG_RULES_REPLACED', 'FLAG_CREATED']);
    expect(res.headers['x-total-count']).toBe('3');
    expect(entries[0]).toEqual({
      id: expect.any(Number),
      action: 'FLAG_UPDATED',
      userId: `user-${c.owner.userId}`,
      userName: 'Olive Owner',
      resourceType: 'flag',
      resourceId: String(flagId),
      details: { flagKey: 'dark-mode', changes: ['name: Dark Mode -> Dark Theme'] },
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/),
    });
    expect(entries[1]).toMatchObject({ userId: `user-${c.projectAdmin.userId}`, details: { flagKey: 'dark-mode', environment: 'production', changes: ['enabled: false -> true'] } });
  });

  it('audit log: limit (default 50) and offset page it; userId filters by user; bad values are 400 naming the parameter', async () => {
    const url = `/api/admin/projects/${c.projectId}/audit-log`;
    const all = await t.app.inject({ method: 'GET', url: `${url}?limit=1000`, headers: as(c.owner) });
    const total = Number(all.headers['x-total-count']);
    const everything = all.json() as Array<{ id: number; userId: string | null }>;
    expect(everything).toHaveLength(total);
    // Enough events for the default limit to matter.
    for (let i = everything.length; i <= 50; i++) await req('PUT', `/projects/${c.projectId}`, c.owner, { description: `rev ${i}` });
    const defaulted = await t.app.inject({ method: 'GET', url, headers: as(c.owner) });
    expect(defaulted.json()).toHaveLength(50);
    expect(Number(defaulted.headers['x-total-count'])).toBeGreaterThan(50);
    const page = await t.app.inject({ method: 'GET', url: `${url}?limit=2&offset=1`, headers: as(c.owner) });
    expect((page.json() as Array<{ id: number }>).map((e) => e.id)).toEqual((defaulted.json() as Array<{ id: number }>).slice(1, 3).map((e) => e.id));
    for (const userId of [`user-${c.projectAdmin.userId}`, String(c.projectAdmin.userId)]) {
      const mine = await t.app.inject({ method: 'GET', url: `${url}?userId=${userId}&limit=1000`, headers: as(c.owner) });
      const items = mine.json() as Array<{ userId: string }>;
      expect(items.length).toBeGreaterThan(0);
      expect(new Set(items.map((e) => e.userId))).toEqual(new Set([`user-${c.projectAdmin.userId}`]));
    }
    for (const q of ['flagId=12345', 'flagId=9999999999999999', 'userId=user-9999999999999999', 'userId=12345']) {
      expect((await t.app.inject({ method: 'GET', url: `${url}?${q}`, headers: as(c.owner) })).json(), q).toEqual([]);
    }
    for (const [query, param] of [['limit=0', 'limit'], ['limit=abc', 'limit'], ['limit=1001', 'limit'], ['offset=-1', 'offset'], ['flagId=dark-mode', 'flagId'], ['userId=usr_1', 'userId'], ['color=red', 'color']] as const) {
      const body = expectProblem(await t.app.inject({ method: 'GET', url: `${url}?${query}`, headers: as(c.owner) }), 400, 'bad_request');
      expect(Object.keys(body.errors ?? {}), query).toEqual([param]);
    }
  });

  it('audit log: project members read it; another organisation’s project is 404; no token 401', async () => {
    expect((await req('GET', `/projects/${c.projectId}/audit-log`, c.viewer)).statusCode).toBe(200);
    expectProblem(await req('GET', `/projects/${c.projectId}/audit-log`, c.stranger), 404);
    expectProblem(await req('GET', `/projects/${c.strangerProjectId}/audit-log`, c.owner), 404);
    expectProblem(await req('GET', `/projects/${c.projectId}/audit-log`, null), 401);
  });
});
