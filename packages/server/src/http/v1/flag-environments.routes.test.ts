import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigChange } from '../../evaluation/change-bus.js';
import { inviteAndJoin, type JoinedUser } from '../../testing/access-fixtures.js';
import { authHeader, signUp, type SignedUpUser } from '../../testing/auth.js';
import { defaultProjectOf, insertFlag, type FlagFixture } from '../../testing/targeting-fixtures.js';
import { createTestApp, type TestApp } from '../../testing/test-app.js';
import { testDialects } from '../../testing/test-database.js';

describe.each(testDialects())('/api/v1/projects/{project_id}/flags/{flag_key}/environments/{environment} on %s', (dialect) => {
  let t: TestApp;
  let admin: SignedUpUser;
  let viewer: JoinedUser;
  let stranger: SignedUpUser;
  let project: { id: number; environments: Record<string, number> };
  let flag: FlagFixture;
  let other: FlagFixture;
  const published: ConfigChange[] = [];

  beforeAll(async () => {
    t = await createTestApp(dialect);
    admin = await signUp(t.app);
    viewer = await inviteAndJoin(t.app, admin, 'viewer');
    stranger = await signUp(t.app);
    project = await defaultProjectOf(t.database.handle.db, admin.organizationId);
    flag = await insertFlag(t.database.handle.db, project.id, 'new-checkout');
    other = await insertFlag(t.database.handle.db, project.id, 'checkout.v2', { type: 'string', variations: { red: 'red', blue: 'blue' } });
    t.app.services.changes.subscribe((c) => void published.push(c));
  });
  afterAll(async () => t?.close());

  const as = (user: { accessToken: string }) => authHeader(user.accessToken);
  const url = (flagKey: string, env: string, projectRef: string = `proj_${project.id}`) => `/api/v1/projects/${projectRef}/flags/${flagKey}/environments/${env}`;
  const stored = (flagId: number, env: string) =>
    t.database.handle.db.selectFrom('flag_environments').selectAll().where('flag_id', '=', flagId).where('environment_id', '=', project.environments[env]!).executeTakeFirst();
  const audit = (flagId: number) =>
    t.database.handle.db.selectFrom('audit_events').selectAll().where('resource_type', '=', 'flag').where('resource_id', '=', String(flagId)).orderBy('created_at').execute();

  it('GET answers the defaults of a never-configured flag (disabled, version 0), by environment key or id, project id or key', async () => {
    for (const u of [url('new-checkout', 'staging'), url('new-checkout', `env_${project.environments.staging}`, 'default'), url('new-checkout', String(project.environments.staging), String(project.id))]) {
      const res = await t.app.inject({ method: 'GET', url: u, headers: as(viewer) });
      expect(res.statusCode, u).toBe(200);
      expect(res.headers.etag).toBe('"0"');
      expect(res.json()).toEqual({
        flagId: `flag_${flag.id}`,
        flagKey: 'new-checkout',
        projectId: `proj_${project.id}`,
        environmentId: `env_${project.environments.staging}`,
        environment: 'staging',
        enabled: false,
        offVariation: null,
        defaultServe: null,
        targets: [],
        prerequisites: [],
        rules: [],
        version: 0,
        updatedAt: null,
      });
    }
  });

  it('answers 401 without a token, before looking at the body', async () => {
    for (const [method, u, payload] of [
      ['GET', url('new-checkout', 'production'), undefined],
      ['PUT', url('new-checkout', 'production'), { enabled: 'nope' }],
      ['PATCH', url('new-checkout', 'production'), { enabled: true }],
      ['POST', `${url('new-checkout', 'production')}/enable`, undefined],
      ['POST', `${url('new-checkout', 'production')}/disable`, undefined],
    ] as const) {
      const res = await t.app.inject({ method, url: u, ...(payload ? { payload } : {}) });
      expect(res.statusCode, `${method} ${u}`).toBe(401);
    }
  });

  it('answers 404 for another organisation’s project, an unknown flag or environment', async () => {
    for (const [u, who] of [
      [url('new-checkout', 'production'), stranger],
      [url('no-such-flag', 'production'), admin],
      [url('new-checkout', 'no-such-env'), admin],
      [url('new-checkout', 'production', 'no-such-project'), admin],
    ] as const) {
      for (const method of ['GET', 'PUT', 'PATCH'] as const) {
        const res = await t.app.inject({ method, url: u, headers: as(who), ...(method !== 'GET' ? { payload: { enabled: true } } : {}) });
        expect(res.statusCode, `${method} ${u}`).toBe(404);
      }
      for (const action of ['enable', 'disable']) {
        const res = await t.app.inject({ method: 'POST', url: `${u}/${action}`, headers: as(who) });
        expect(res.statusCode, `${action} ${u}`).toBe(404);
      }
    }
    expect(await stored(flag.id, 'production')).toBeUndefined();
  });

  it('refuses a viewer’s writes with 403 and stores nothing', async () => {
    const put = await t.app.inject({ method: 'PUT', url: url('new-checkout', 'production'), headers: as(viewer), payload: { enabled: true } });
    expect(put.statusCode).toBe(403);
    const patch = await t.app.inject({ method: 'PATCH', url: url('new-checkout', 'production'), headers: as(viewer), payload: { enabled: true } });
    expect(patch.statusCode).toBe(403);
    for (const action of ['enable', 'disable']) {
      const res = await t.app.inject({ method: 'POST', url: `${url('new-checkout', 'production')}/${action}`, headers: as(viewer) });
      expect(res.statusCode, action).toBe(403);
      expect(res.json().details).toEqual({ permission: 'flags:write' });
    }
    expect(await stored(flag.id, 'production')).toBeUndefined();
  });

  it('POST enable / disable turn the flag on and off in one environment, audited in the flag history and published', async () => {
    published.length = 0;
    const on = await t.app.inject({ method: 'POST', url: `${url('new-checkout', 'production')}/enable`, headers: as(admin) });
    expect(on.statusCode).toBe(200);
    expect(on.json()).toMatchObject({ enabled: true, environment: 'production', version: 1 });
    expect(on.headers.etag).toBe('"1"');
    expect((await stored(flag.id, 'production'))?.enabled).toBe(1);
    expect((await stored(flag.id, 'staging'))).toBeUndefined();
    expect(published).toEqual([
      { organizationId: admin.organizationId, projectId: project.id, environmentIds: [project.environments.production], entity: 'flag', action: 'updated', key: 'new-checkout', actorUserId: admin.userId },
    ]);

    // Already on: nothing is written, audited or published.
    const again = await t.app.inject({ method: 'POST', url: `${url('new-checkout', 'production')}/enable`, headers: as(admin) });
    expect(again.json().version).toBe(1);
    expect(published).toHaveLength(1);

    const off = await t.app.inject({ method: 'POST', url: `${url('new-checkout', 'production')}/disable`, headers: as(admin) });
    expect(off.statusCode).toBe(200);
    expect(off.json()).toMatchObject({ enabled: false, version: 2 });
    expect((await stored(flag.id, 'production'))?.enabled).toBe(0);

    const events = (await audit(flag.id)).filter((e) => e.action === 'flag.enabled' || e.action === 'flag.disabled');
    expect(events.map((e) => [e.action, JSON.parse(e.before!), JSON.parse(e.after!), e.project_id])).toEqual([
      ['flag.enabled', { enabled: false }, { environment: 'production', enabled: true }, project.id],
      ['flag.disabled', { enabled: true }, { environment: 'production', enabled: false }, project.id],
    ]);
  });

  it('PUT changes only the fields given (null clears), stores the engine’s config types and audits the changed fields', async () => {
    const res = await t.app.inject({
      method: 'PUT',
      url: url('new-checkout', 'staging'),
      headers: as(admin),
      payload: {
        enabled: true,
        offVariation: 'off',
        defaultServe: { rollout: { variations: [{ variation: 'on', weight: 25 }, { variation: 'off', weight: 75 }], bucketBy: 'accountId' } },
        targets: [{ variation: 'on', values: ['user-1', 'user-2'] }],
      },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      enabled: true,
      offVariation: 'off',
      defaultServe: { rollout: { variations: [{ variation: 'on', weight: 25 }, { variation: 'off', weight: 75 }], bucketBy: 'accountId' } },
      targets: [{ variation: 'on', values: ['user-1', 'user-2'] }],
      prerequisites: [],
      version: 1,
    });
    const row = (await stored(flag.id, 'staging'))!;
    expect(JSON.parse(row.default_serve!)).toEqual({ rollout: { variations: [{ variation: 'on', weight: 25 }, { variation: 'off', weight: 75 }], bucketBy: 'accountId' } });
    expect(JSON.parse(row.targets)).toEqual([{ variation: 'on', values: ['user-1', 'user-2'] }]);
    expect(row.off_variation).toBe('off');

    // A variation key is accepted as the serve; PATCH leaves the rest alone; null clears.
    const patch = await t.app.inject({ method: 'PATCH', url: url('new-checkout', 'staging'), headers: as(admin), payload: { defaultServe: 'on', targets: null } });
    expect(patch.statusCode, patch.body).toBe(200);
    expect(patch.json()).toMatchObject({ enabled: true, offVariation: 'off', defaultServe: { variation: 'on' }, targets: [], version: 2 });
    const after = (await stored(flag.id, 'staging'))!;
    expect(JSON.parse(after.default_serve!)).toEqual({ variation: 'on' });
    expect(JSON.parse(after.targets)).toEqual([]);

    const last = (await audit(flag.id)).filter((e) => e.action === 'flag.environment_updated').at(-1)!;
    expect(JSON.parse(last.before!)).toEqual({ defaultServe: { rollout: { variations: [{ variation: 'on', weight: 25 }, { variation: 'off', weight: 75 }], bucketBy: 'accountId' } }, targets: [{ variation: 'on', values: ['user-1', 'user-2'] }] });
    expect(JSON.parse(last.after!)).toEqual({ environment: 'staging', defaultServe: { variation: 'on' }, targets: [] });
  });

  it('refuses what the engine refuses with 422 naming each request field, and keeps the stored configuration', async () => {
    const before = await stored(flag.id, 'staging');
    const cases: Array<[Record<string, unknown>, string[]]> = [
      [{ offVariation: 'purple' }, ['offVariation']],
      [{ defaultServe: 'purple' }, ['defaultServe']],
      [{ defaultServe: { rollout: { variations: [{ variation: 'on', weight: 0 }] } } }, ['defaultServe.rollout.variations']],
      [{ defaultServe: { variations: [{ variation: 'nope', weight: 5 }] } }, ['defaultServe.variations[0].variation']],
      [{ defaultServe: { variation: 'on', rollout: { variations: [{ variation: 'on', weight: 1 }] } } }, ['defaultServe']],
      [{ targets: [{ variation: 'on', values: ['a'] }, { variation: 'off', values: ['a'] }] }, ['targets[1].values[0]']],
      [{ targets: [{ variation: 'gone', values: ['a'] }] }, ['targets[0].variation']],
      [{ prerequisites: [{ flag: 'no-such-flag', variation: 'on' }] }, ['prerequisites[0].flag']],
      [{ prerequisites: [{ flag: 'checkout.v2', variation: 'green' }] }, ['prerequisites[0].variation']],
      [{ enabled: 'yes' }, ['enabled']],
    ];
    for (const [payload, fields] of cases) {
      const res = await t.app.inject({ method: 'PUT', url: url('new-checkout', 'staging'), headers: as(admin), payload });
      expect(res.statusCode, JSON.stringify(payload)).toBe(422);
      expect(res.json().code).toBe('validation_failed');
      expect(Object.keys(res.json().errors), JSON.stringify(payload)).toEqual(fields);
    }
    expect(await stored(flag.id, 'staging')).toEqual(before);
  });

  it('names a prerequisite cycle, in the environment where it would close', async () => {
    const ok = await t.app.inject({ method: 'PUT', url: url('checkout.v2', 'staging'), headers: as(admin), payload: { prerequisites: [{ flag: 'new-checkout', variation: 'on' }] } });
    expect(ok.statusCode, ok.body).toBe(200);
    const cycle = await t.app.inject({ method: 'PUT', url: url('new-checkout', 'staging'), headers: as(admin), payload: { prerequisites: [{ flag: 'checkout.v2', variation: 'red' }] } });
    expect(cycle.statusCode).toBe(422);
    expect(cycle.json().errors.prerequisites).toMatch(/prerequisite cycle.*new-checkout → checkout\.v2 → new-checkout/);
    // Another environment has no such edge: the same prerequisite is fine there.
    const elsewhere = await t.app.inject({ method: 'PUT', url: url('new-checkout', 'development'), headers: as(admin), payload: { prerequisites: [{ flag: 'checkout.v2', variation: 'red' }] } });
    expect(elsewhere.statusCode, elsewhere.body).toBe(200);
    expect(JSON.parse((await stored(flag.id, 'staging'))!.prerequisites)).toEqual([]);
  });

  it('honours If-Match: 412 on a stale version, success on the current one', async () => {
    const current = await t.app.inject({ method: 'GET', url: url('new-checkout', 'staging'), headers: as(admin) });
    const etag = current.headers.etag as string;
    const stale = await t.app.inject({ method: 'PUT', url: url('new-checkout', 'staging'), headers: { ...as(admin), 'if-match': '"1"' }, payload: { enabled: false } });
    expect(stale.statusCode).toBe(412);
    expect(stale.json().code).toBe('precondition_failed');
    const fresh = await t.app.inject({ method: 'PUT', url: url('new-checkout', 'staging'), headers: { ...as(admin), 'if-match': etag }, payload: { enabled: false } });
    expect(fresh.statusCode, fresh.body).toBe(200);
    expect(fresh.headers.etag).toBe(`"${Number(etag.replace(/"/g, '')) + 1}"`);
    const bad = await t.app.inject({ method: 'PUT', url: url('new-checkout', 'staging'), headers: { ...as(admin), 'if-match': 'banana' }, payload: { enabled: false } });
    expect(bad.statusCode).toBe(400);
  });

  it('never loses one of several concurrent updates of the same flag and environment', async () => {
    const keys = ['a', 'b', 'c', 'd', 'e'];
    const results = await Promise.all(
      keys.map((k) => t.app.inject({ method: 'PATCH', url: url('new-checkout', 'production'), headers: as(admin), payload: { targets: [{ variation: 'on', values: [k] }] } })),
    );
    expect(results.map((r) => r.statusCode)).toEqual([200, 200, 200, 200, 200]);
    const versions = results.map((r) => r.json().version as number).sort((a, b) => a - b);
    // Each write got its own version: none overwrote another's read.
    expect(new Set(versions).size).toBe(keys.length);
    const row = (await stored(flag.id, 'production'))!;
    expect(row.version).toBe(versions.at(-1));
  });

  it('refuses a body that is not a JSON object of the known fields with 422', async () => {
    const res = await t.app.inject({ method: 'PATCH', url: url('new-checkout', 'staging'), headers: as(admin), payload: { rules: [] } });
    expect(res.statusCode).toBe(422);
    expect(Object.keys(res.json().errors)).toEqual(['rules']);
  });

  it('is documented in the OpenAPI', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json();
    const p = doc.paths?.['/api/v1/projects/{project_id}/flags/{flag_key}/environments/{environment}'];
    expect(p?.get?.operationId).toBe('getFlagEnvironment');
    expect(Object.keys(p ?? {})).toEqual(expect.arrayContaining(['get', 'put', 'patch']));
    expect(doc.paths?.['/api/v1/projects/{project_id}/flags/{flag_key}/environments/{environment}/enable']?.post?.operationId).toBe('enableFlagInEnvironment');
    void other;
  });
});
