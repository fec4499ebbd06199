import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { as, expectProblem, flipswitchCast, type FlipswitchCast } from '../../testing/flipswitch-fixtures.js';
import { createTestApp, type TestApp } from '../../testing/test-app.js';
import { testDialects } from '../../testing/test-database.js';

describe.each(testDialects())('Flipswitch projects and environments on %s', (dialect) => {
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

  it('POST /projects creates a project with the organisation’s environments (201, integer id, org-… organisation), audited', async () => {
    const res = await req('POST', '/projects', c.owner, { key: 'my-app', name: 'My Application', description: 'Main application project' });
    expect(res.statusCode, res.body).toBe(201);
    const body = res.json();
    expect(body).toEqual({ id: expect.any(Number), key: 'my-app', name: 'My Application', description: 'Main application project', organizationId: `org-${c.owner.organizationId}` });
    expect(Number.isSafeInteger(body.id)).toBe(true);
    const row = await db().selectFrom('projects').selectAll().where('id', '=', body.id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ key: 'my-app', organization_id: c.owner.organizationId });
    const envs = await req('GET', `/projects/${body.id}/environments`, c.owner);
    expect((envs.json() as Array<{ key: string }>).map((e) => e.key)).toEqual(['development', 'staging', 'production']);
    expect(await db().selectFrom('audit_events').select('action').where('resource_id', '=', String(body.id)).execute()).toEqual([{ action: 'project.created' }]);
  });

  it('POST /projects refuses anything but a kebab-case key with 422 stating the rule; a taken key is 409', async () => {
    for (const key of ['My App', 'my_app', 'MyApp', '-app', 'app-', 'a--b', '', '123']) {
      const body = expectProblem(await req('POST', '/projects', c.owner, { key, name: 'X' }), 422, 'validation_failed');
      expect(Object.keys(body.errors ?? {}), key).toEqual(['key']);
      expect(body.detail).toMatch(/kebab-case/);
    }
    expect(Object.keys(expectProblem(await req('POST', '/projects', c.owner, { name: 'No key' }), 422).errors ?? {})).toEqual(['key']);
    expect(Object.keys(expectProblem(await req('POST', '/projects', c.owner, { key: 'no-name' }), 422).errors ?? {})).toEqual(['name']);
    expect(Object.keys(expectProblem(await req('POST', '/projects', c.owner, { key: 'x-y', name: 'X', color: '#fff' }), 422).errors ?? {})).toEqual(['color']);
    expectProblem(await req('POST', '/projects', c.owner, { key: 'shop', name: 'Again' }), 409, 'project_key_taken');
    expect(await db().selectFrom('projects').select('key').where('key', '=', 'my_app').execute()).toEqual([]);
  });

  it('creating a project is for organisation admins: a view-only member gets 403 and nothing is stored', async () => {
    const res = expectProblem(await req('POST', '/projects', c.viewer, { key: 'viewer-app', name: 'Nope' }), 403, 'forbidden');
    expect(res.details).toMatchObject({ permission: 'projects:write' });
    expectProblem(await req('POST', '/projects', c.projectAdmin, { key: 'viewer-app', name: 'Nope' }), 403);
    expect(await db().selectFrom('projects').select('id').where('key', '=', 'viewer-app').execute()).toEqual([]);
    expectProblem(await req('POST', '/projects', null, { key: 'anon-app', name: 'Nope' }), 401);
  });

  it('GET /projects lists the projects you have access to; another organisation’s never appear', async () => {
    const mine = (await req('GET', '/projects', c.owner)).json() as Array<{ id: number; key: string }>;
    expect(mine.map((p) => p.key)).toEqual(expect.arrayContaining(['default', 'shop', 'my-app']));
    expect(mine.map((p) => p.id)).not.toContain(c.strangerProjectId);
    const viewer = await req('GET', '/projects', c.viewer);
    expect(viewer.statusCode).toBe(200);
    expect((viewer.json() as Array<{ id: number }>).map((p) => p.id).sort()).toEqual(mine.map((p) => p.id).sort());
    expect(viewer.headers['x-total-count']).toBe(String(mine.length));
    const theirs = (await req('GET', '/projects', c.stranger)).json() as Array<{ id: number }>;
    expect(theirs.map((p) => p.id)).toEqual([c.strangerProjectId]);
    const paged = await t.app.inject({ method: 'GET', url: '/api/admin/projects?limit=1&offset=1', headers: as(c.owner) });
    expect((paged.json() as Array<{ id: number }>).map((p) => p.id)).toEqual([mine[1]!.id]);
    expectProblem(await t.app.inject({ method: 'GET', url: '/api/admin/projects?limit=0', headers: as(c.owner) }), 400, 'bad_request');
    expectProblem(await req('GET', '/projects', null), 401);
  });

  it('GET /projects/{id} for project members; another organisation’s project is 404', async () => {
    const res = await req('GET', `/projects/${c.projectId}`, c.viewer);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ id: c.projectId, key: 'shop', name: 'Shop', description: null, organizationId: `org-${c.owner.organizationId}` });
    expectProblem(await req('GET', `/projects/${c.strangerProjectId}`, c.owner), 404, 'not_found');
    expectProblem(await req('GET', `/projects/${c.projectId}`, c.stranger), 404, 'not_found');
    expectProblem(await req('GET', `/projects/${c.projectId}`, null), 401);
  });

  it('PUT /projects/{id} changes name and description for project admins; members get 403; validation names the field', async () => {
    const res = await req('PUT', `/projects/${c.projectId}`, c.projectAdmin, { name: 'Shop Front', description: 'Updated description' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ id: c.projectId, key: 'shop', name: 'Shop Front', description: 'Updated description' });
    expect(await db().selectFrom('projects').select(['name', 'description']).where('id', '=', c.projectId).executeTakeFirstOrThrow()).toEqual({ name: 'Shop Front', description: 'Updated description' });
    const cleared = await req('PUT', `/projects/${c.projectId}`, c.owner, { description: null });
    expect(cleared.json()).toMatchObject({ name: 'Shop Front', description: null });
    expectProblem(await req('PUT', `/projects/${c.projectId}`, c.viewer, { name: 'Viewer was here' }), 403, 'forbidden');
    expect(Object.keys(expectProblem(await req('PUT', `/projects/${c.projectId}`, c.owner, { name: '' }), 422).errors ?? {})).toEqual(['name']);
    expect(Object.keys(expectProblem(await req('PUT', `/projects/${c.projectId}`, c.owner, { key: 'renamed' }), 422).errors ?? {})).toEqual(['key']);
    expectProblem(await req('PUT', `/projects/${c.strangerProjectId}`, c.owner, { name: 'Theirs' }), 404);
    expectProblem(await req('PUT', `/projects/${c.projectId}`, null, { name: 'Anon' }), 401);
    // The project admin of one project is only a member elsewhere.
    const def = ((await req('GET', '/projects', c.owner)).json() as Array<{ id: number; key: string }>).find((p) => p.key === 'default')!;
    expectProblem(await req('PUT', `/projects/${def.id}`, c.projectAdmin, { name: 'Not mine' }), 403);
    expect((await req('GET', `/projects/${c.projectId}`, c.viewer)).json().name).toBe('Shop Front');
  });

  it('environments: list for members {id, key, name, projectId}; create for project admins (201); 403, 404, 409, 422', async () => {
    const list = await req('GET', `/projects/${c.projectId}/environments`, c.viewer);
    expect(list.statusCode).toBe(200);
    expect(list.json()).toEqual([
      { id: c.environments.development, key: 'development', name: 'Development', projectId: c.projectId },
      { id: c.environments.staging, key: 'staging', name: 'Staging', projectId: c.projectId },
      { id: c.environments.production, key: 'production', name: 'Production', projectId: c.projectId },
    ]);
    const created = await req('POST', `/projects/${c.projectId}/environments`, c.projectAdmin, { key: 'qa', name: 'QA' });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json()).toEqual({ id: expect.any(Number), key: 'qa', name: 'QA', projectId: c.projectId });
    expect(await db().selectFrom('environments').select(['key', 'name']).where('id', '=', created.json().id).executeTakeFirstOrThrow()).toEqual({ key: 'qa', name: 'QA' });
    expectProblem(await req('POST', `/projects/${c.projectId}/environments`, c.projectAdmin, { key: 'qa', name: 'Again' }), 409, 'environment_key_taken');
    expectProblem(await req('POST', `/projects/${c.projectId}/environments`, c.viewer, { key: 'viewer-env', name: 'V' }), 403);
    expect(Object.keys(expectProblem(await req('POST', `/projects/${c.projectId}/environments`, c.owner, { key: 'bad key!', name: 'B' }), 422).errors ?? {})).toEqual(['key']);
    expect(Object.keys(expectProblem(await req('POST', `/projects/${c.projectId}/environments`, c.owner, { key: 'no-name' }), 422).errors ?? {})).toEqual(['name']);
    expectProblem(await req('POST', `/projects/${c.strangerProjectId}/environments`, c.owner, { key: 'theirs', name: 'T' }), 404);
    expectProblem(await req('GET', `/projects/${c.strangerProjectId}/environments`, c.owner), 404);
    expectProblem(await req('GET', `/projects/${c.projectId}/environments`, null), 401);
    expect(await db().selectFrom('environments').select('id').where('key', 'in', ['viewer-env', 'theirs']).execute()).toEqual([]);
  });
});
