import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigChange } from '../../evaluation/change-bus.js';
import { inviteAndJoin, type JoinedUser } from '../../testing/access-fixtures.js';
import { authHeader, signUp, type SignedUpUser } from '../../testing/auth.js';
import { defaultProjectOf, insertFlag, type FlagFixture } from '../../testing/targeting-fixtures.js';
import { createTestApp, type TestApp } from '../../testing/test-app.js';
import { testDialects } from '../../testing/test-database.js';

describe.each(testDialects())('/api/v1/projects/{project_id}/segments on %s', (dialect) => {
  let t: TestApp;
  let admin: SignedUpUser;
  let viewer: JoinedUser;
  let stranger: SignedUpUser;
  let project: { id: number; environments: Record<string, number> };
  let flag: FlagFixture;
  let base: string;
  const published: ConfigChange[] = [];

  beforeAll(async () => {
    t = await createTestApp(dialect);
    admin = await signUp(t.app);
    viewer = await inviteAndJoin(t.app, admin, 'viewer');
    stranger = await signUp(t.app);
    project = await defaultProjectOf(t.database.handle.db, admin.organizationId);
    flag = await insertFlag(t.database.handle.db, project.id, 'new-checkout');
    base = `/api/v1/projects/proj_${project.id}/segments`;
    t.app.services.changes.subscribe((c) => void published.push(c));
  });
  afterAll(async () => t?.close());

  const as = (user: { accessToken: string }) => authHeader(user.accessToken);
  const db = () => t.database.handle.db;
  const storedSegment = (key: string) => db().selectFrom('segments').selectAll().where('project_id', '=', project.id).where('key', '=', key).executeTakeFirst();

  it('POST creates a segment (stored as engine config, audited as a segment, published to all environments); GET by id or key', async () => {
    published.length = 0;
    const res = await t.app.inject({
      method: 'POST',
      url: base,
      headers: as(admin),
      payload: {
        key: 'beta-users',
        name: 'Beta users',
        description: 'Early access',
        conditions: [{ attribute: 'email', operator: 'ENDS_WITH', value: '@beta.company.com' }],
        included: ['u-1'],
        excluded: ['u-2'],
      },
    });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body).toEqual({
      id: expect.stringMatching(/^seg_\d+$/),
      key: 'beta-users',
      name: 'Beta users',
      description: 'Early access',
      projectId: `proj_${project.id}`,
      conditions: [{ attribute: 'email', operator: 'ENDS_WITH', value: '@beta.company.com' }],
      included: ['u-1'],
      excluded: ['u-2'],
      version: 1,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    const row = (await storedSegment('beta-users'))!;
    expect(JSON.parse(row.conditions)).toEqual([{ attribute: 'email', operator: 'ENDS_WITH', value: '@beta.company.com' }]);
    expect(JSON.parse(row.included)).toEqual(['u-1']);
    expect(published).toEqual([{ organizationId: admin.organizationId, projectId: project.id, environmentIds: 'all', entity: 'segment', action: 'created', key: 'beta-users' }]);
    const event = await db().selectFrom('audit_events').selectAll().where('action', '=', 'segment.created').executeTakeFirstOrThrow();
    expect([event.resource_type, event.resource_id, event.project_id]).toEqual(['segment', String(row.id), project.id]);

    for (const ref of [body.id, String(row.id), 'beta-users']) {
      const got = await t.app.inject({ method: 'GET', url: `${base}/${ref}`, headers: as(viewer) });
      expect(got.statusCode, ref).toBe(200);
      expect(got.json()).toEqual(body);
      expect(got.headers.etag).toBe('"1"');
    }
  });

  it('refuses a taken key with 409, and what the engine refuses with 422 naming the field', async () => {
    const taken = await t.app.inject({ method: 'POST', url: base, headers: as(admin), payload: { key: 'beta-users', name: 'Again' } });
    expect(taken.statusCode).toBe(409);
    expect(taken.json().code).toBe('segment_exists');
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ key: 's1', name: 'S', conditions: [{ attribute: 'email', operator: 'LOOKS_LIKE', value: 'x' }] }, 'conditions[0].operator'],
      [{ key: 's1', name: 'S', conditions: [{ operator: 'IN_SEGMENT', value: 'beta-users' }] }, 'conditions[0].operator'],
      [{ key: 's1', name: 'S', conditions: [{ attribute: 'age', operator: 'GREATER_THAN', value: 'old' }] }, 'conditions[0].value'],
      [{ key: 'bad key', name: 'S' }, 'key'],
      [{ key: 'x'.repeat(201), name: 'S' }, 'key'],
      [{ key: 's1', name: '' }, 'name'],
      [{ key: 's1', name: 'S', included: [1] }, 'included.0'],
      [{ key: 's1', name: 'S', conditions: Array.from({ length: 501 }, () => ({ attribute: 'a', operator: 'EXISTS' })) }, 'conditions'],
    ];
    for (const [payload, field] of cases) {
      const res = await t.app.inject({ method: 'POST', url: base, headers: as(admin), payload });
      expect(res.statusCode, JSON.stringify(payload).slice(0, 100)).toBe(422);
      expect(Object.keys(res.json().errors), JSON.stringify(payload).slice(0, 100)).toContain(field);
    }
    expect(await storedSegment('s1')).toBeUndefined();
  });

  it('PATCH changes the fields given (null clears), bumps the version, honours If-Match; a refused change keeps the stored segment', async () => {
    const res = await t.app.inject({ method: 'PATCH', url: `${base}/beta-users`, headers: { ...as(admin), 'if-match': '"1"' }, payload: { name: 'Beta testers', excluded: null } });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ name: 'Beta testers', excluded: [], included: ['u-1'], version: 2 });
    expect(res.headers.etag).toBe('"2"');
    const stale = await t.app.inject({ method: 'PATCH', url: `${base}/beta-users`, headers: { ...as(admin), 'if-match': '"1"' }, payload: { name: 'Again' } });
    expect(stale.statusCode).toBe(412);
    const before = await storedSegment('beta-users');
    const bad = await t.app.inject({ method: 'PATCH', url: `${base}/beta-users`, headers: as(admin), payload: { conditions: [{ attribute: 'v', operator: 'MATCHES', value: '(' }] } });
    expect(bad.statusCode).toBe(422);
    expect(Object.keys(bad.json().errors)).toEqual(['conditions[0].value']);
    const keyChange = await t.app.inject({ method: 'PATCH', url: `${base}/beta-users`, headers: as(admin), payload: { key: 'renamed' } });
    expect(keyChange.statusCode).toBe(422);
    expect(Object.keys(keyChange.json().errors)).toEqual(['key']);
    expect(await storedSegment('beta-users')).toEqual(before);
    const event = await db().selectFrom('audit_events').selectAll().where('action', '=', 'segment.updated').executeTakeFirstOrThrow();
    expect(JSON.parse(event.before!)).toEqual({ name: 'Beta users', excluded: ['u-2'] });
    expect(JSON.parse(event.after!)).toEqual({ key: 'beta-users', name: 'Beta testers', excluded: [] });
  });

  it('GET lists by key with X-Total-Count and paging; 400 for bad paging', async () => {
    await t.app.inject({ method: 'POST', url: base, headers: as(admin), payload: { key: 'alpha', name: 'Alpha' } });
    const res = await t.app.inject({ method: 'GET', url: base, headers: as(viewer) });
    expect(res.statusCode).toBe(200);
    expect(res.headers['x-total-count']).toBe('2');
    expect(res.json().map((s: { key: string }) => s.key)).toEqual(['alpha', 'beta-users']);
    const page = await t.app.inject({ method: 'GET', url: `${base}?limit=1&offset=1`, headers: as(viewer) });
    expect(page.json().map((s: { key: string }) => s.key)).toEqual(['beta-users']);
    const bad = await t.app.inject({ method: 'GET', url: `${base}?limit=0`, headers: as(viewer) });
    expect(bad.statusCode).toBe(400);
  });

  it('DELETE is refused with 409 naming every rule that uses the segment (segment list or IN_SEGMENT), then succeeds once they are gone', async () => {
    const rules = `/api/v1/projects/proj_${project.id}/rules`;
    const byList = await t.app.inject({ method: 'POST', url: rules, headers: as(admin), payload: { flag: 'new-checkout', environment: 'production', segments: ['beta-users'], serve: 'on' } });
    expect(byList.statusCode, byList.body).toBe(200);
    const byCondition = await t.app.inject({
      method: 'POST',
      url: rules,
      headers: as(admin),
      payload: { flag: 'new-checkout', environment: 'staging', conditions: [{ operator: 'NOT_IN_SEGMENT', value: ['alpha', 'beta-users'] }], serve: 'off' },
    });
    expect(byCondition.statusCode, byCondition.body).toBe(200);
    // A rule naming a segment whose key merely contains this one's does not count.
    await t.app.inject({ method: 'POST', url: base, headers: as(admin), payload: { key: 'beta-users-2', name: 'B2' } });
    const lookalike = await t.app.inject({ method: 'POST', url: rules, headers: as(admin), payload: { flag: 'new-checkout', environment: 'development', segments: ['beta-users-2'], serve: 'on' } });
    expect(lookalike.statusCode).toBe(200);

    const refused = await t.app.inject({ method: 'DELETE', url: `${base}/beta-users`, headers: as(admin) });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().code).toBe('segment_in_use');
    expect(refused.json().details.rules).toEqual([
      { ruleId: byCondition.json().id, flagKey: 'new-checkout', environment: 'staging' },
      { ruleId: byList.json().id, flagKey: 'new-checkout', environment: 'production' },
    ]);
    expect(refused.json().message).toContain(byList.json().id);
    expect(await storedSegment('beta-users')).toBeDefined();

    await t.app.inject({ method: 'DELETE', url: `${rules}/${byList.json().id}`, headers: as(admin) });
    await t.app.inject({ method: 'PATCH', url: `${rules}/${byCondition.json().id}`, headers: as(admin), payload: { conditions: [{ operator: 'NOT_IN_SEGMENT', value: 'alpha' }] } });
    published.length = 0;
    const ok = await t.app.inject({ method: 'DELETE', url: `${base}/beta-users`, headers: as(admin) });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json()).toEqual({ success: true, id: expect.stringMatching(/^seg_\d+$/) });
    expect(await storedSegment('beta-users')).toBeUndefined();
    expect(published).toEqual([{ organizationId: admin.organizationId, projectId: project.id, environmentIds: 'all', entity: 'segment', action: 'deleted', key: 'beta-users' }]);
    const event = await db().selectFrom('audit_events').selectAll().where('action', '=', 'segment.deleted').executeTakeFirstOrThrow();
    expect(JSON.parse(event.before!)).toMatchObject({ key: 'beta-users' });
    const gone = await t.app.inject({ method: 'GET', url: `${base}/beta-users`, headers: as(admin) });
    expect(gone.statusCode).toBe(404);
    // A rule can no longer name it.
    const late = await t.app.inject({ method: 'POST', url: rules, headers: as(admin), payload: { flag: 'new-checkout', environment: 'production', segments: ['beta-users'], serve: 'on' } });
    expect(late.statusCode).toBe(422);
    expect(Object.keys(late.json().errors)).toEqual(['segments[0]']);
    void flag;
  });

  it('401 without a token; 403 for a viewer writing; 404 across organisations', async () => {
    const one = `${base}/alpha`;
    const routes: Array<[string, string, Record<string, unknown> | undefined]> = [
      ['GET', base, undefined],
      ['POST', base, { key: 'new-one', name: 'New' }],
      ['GET', one, undefined],
      ['PATCH', one, { name: 'x' }],
      ['DELETE', one, undefined],
    ];
    for (const [method, u, payload] of routes) {
      const anonymous = await t.app.inject({ method: method as 'GET', url: u, ...(payload ? { payload } : {}) });
      expect(anonymous.statusCode, `${method} ${u}`).toBe(401);
      const foreign = await t.app.inject({ method: method as 'GET', url: u, headers: as(stranger), ...(payload ? { payload } : {}) });
      expect(foreign.statusCode, `${method} ${u}`).toBe(404);
      if (method !== 'GET') {
        const byViewer = await t.app.inject({ method: method as 'GET', url: u, headers: as(viewer), ...(payload ? { payload } : {}) });
        expect(byViewer.statusCode, `${method} ${u}`).toBe(403);
      }
    }
    expect(await storedSegment('new-one')).toBeUndefined();
    expect((await storedSegment('alpha'))?.name).toBe('Alpha');
  });
});
