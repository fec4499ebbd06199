import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigChange } from '../../evaluation/change-bus.js';
import { inviteAndJoin, type JoinedUser } from '../../testing/access-fixtures.js';
import { authHeader, signUp, type SignedUpUser } from '../../testing/auth.js';
import { defaultProjectOf, insertFlag, type FlagFixture } from '../../testing/targeting-fixtures.js';
import { createTestApp, type TestApp } from '../../testing/test-app.js';
import { testDialects } from '../../testing/test-database.js';

describe.each(testDialects())('/api/v1/projects/{project_id}/rules on %s', (dialect) => {
  let t: TestApp;
  let admin: SignedUpUser;
  let viewer: JoinedUser;
  let stranger: SignedUpUser;
  let project: { id: number; environments: Record<string, number> };
  let flag: FlagFixture;
  let color: FlagFixture;
  let base: string;
  const published: ConfigChange[] = [];

  beforeAll(async () => {
    t = await createTestApp(dialect);
    admin = await signUp(t.app);
    viewer = await inviteAndJoin(t.app, admin, 'viewer');
    stranger = await signUp(t.app);
    project = await defaultProjectOf(t.database.handle.db, admin.organizationId);
    flag = await insertFlag(t.database.handle.db, project.id, 'new-checkout');
    color = await insertFlag(t.database.handle.db, project.id, 'button-color', { type: 'string', variations: { red: 'red', green: 'green', blue: 'blue' } });
    base = `/api/v1/projects/proj_${project.id}/rules`;
    t.app.services.changes.subscribe((c) => void published.push(c));
  });
  afterAll(async () => t?.close());

  const as = (user: { accessToken: string }) => authHeader(user.accessToken);
  const db = () => t.database.handle.db;
  const storedRules = (flagId: number, env: string) =>
    db().selectFrom('rules').selectAll().where('flag_id', '=', flagId).where('environment_id', '=', project.environments[env]!).orderBy('priority').execute();
  const create = (payload: Record<string, unknown>, who: { accessToken: string } = admin) => t.app.inject({ method: 'POST', url: base, headers: as(who), payload });
  const ids = (rules: Array<{ id: number }>) => rules.map((r) => `rule_${r.id}`);

  it('POST creates a rule (engine config types stored, audited in the flag history, published); GET reads it back', async () => {
    published.length = 0;
    const res = await create({
      flag: 'new-checkout',
      environment: 'production',
      conditions: [{ attribute: 'email', operator: 'ENDS_WITH', value: '@company.com', ignoreCase: true }],
      serve: 'on',
      description: 'Staff first',
    });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body).toEqual({
      id: expect.stringMatching(/^rule_\d+$/),
      flagKey: 'new-checkout',
      environment: 'production',
      priority: 1,
      conditions: [{ attribute: 'email', operator: 'ENDS_WITH', value: '@company.com', ignoreCase: true }],
      segments: [],
      serve: { variation: 'on' },
      description: 'Staff first',
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    expect(res.headers.etag).toBe('"1"');
    const [row] = await storedRules(flag.id, 'production');
    expect(`rule_${row!.id}`).toBe(body.id);
    expect(JSON.parse(row!.conditions)).toEqual([{ attribute: 'email', operator: 'ENDS_WITH', value: '@company.com', ignoreCase: true }]);
    expect(JSON.parse(row!.serve)).toEqual({ variation: 'on' });
    expect(published).toEqual([{ organizationId: admin.organizationId, projectId: project.id, environmentIds: [project.environments.production], entity: 'flag', action: 'updated', key: 'new-checkout', actorUserId: admin.userId }]);
    const event = await db().selectFrom('audit_events').selectAll().where('action', '=', 'rule.created').where('resource_id', '=', String(flag.id)).executeTakeFirstOrThrow();
    expect(event.resource_type).toBe('flag');
    expect(event.project_id).toBe(project.id);
    expect(JSON.parse(event.after!)).toMatchObject({ environment: 'production', ruleId: body.id, serve: { variation: 'on' }, priority: 1 });

    const got = await t.app.inject({ method: 'GET', url: `${base}/${body.id}`, headers: as(viewer) });
    expect(got.statusCode).toBe(200);
    expect(got.json()).toEqual(body);
    expect(got.headers.etag).toBe('"1"');
    // The environment configuration lists it too.
    const env = await t.app.inject({ method: 'GET', url: `/api/v1/projects/default/flags/new-checkout/environments/production`, headers: as(viewer) });
    expect(env.json().rules).toEqual([body]);
  });

  it('accepts a rollout (wrapped or bare) and segment keys; `priority` inserts at a position', async () => {
    await t.app.inject({ method: 'POST', url: `/api/v1/projects/proj_${project.id}/segments`, headers: as(admin), payload: { key: 'beta', name: 'Beta', included: ['u1'] } });
    const wrapped = await create({ flag: 'button-color', environment: 'staging', serve: { rollout: { variations: [{ variation: 'red', weight: 50 }, { variation: 'blue', weight: 50 }] } } });
    expect(wrapped.statusCode, wrapped.body).toBe(200);
    const bare = await create({ flag: 'button-color', environment: 'staging', segments: ['beta'], serve: { variations: [{ variation: 'green', weight: 1 }], bucketBy: 'orgId' }, priority: 1 });
    expect(bare.statusCode, bare.body).toBe(200);
    expect(bare.json()).toMatchObject({ priority: 1, segments: ['beta'], serve: { rollout: { variations: [{ variation: 'green', weight: 1 }], bucketBy: 'orgId' } } });
    const rows = await storedRules(color.id, 'staging');
    expect(ids(rows)).toEqual([bare.json().id, wrapped.json().id]);
    expect(rows.map((r) => r.priority)).toEqual([1, 2]);
    expect(JSON.parse(rows[0]!.segments)).toEqual(['beta']);
  });

  it('refuses with 422 naming the request field whatever the engine refuses, and stores nothing', async () => {
    const before = await storedRules(flag.id, 'production');
    const cases: Array<[Record<string, unknown>, string[]]> = [
      [{ conditions: [{ attribute: 'email', operator: 'SOUNDS_LIKE', value: 'x' }], serve: 'on' }, ['conditions[0].operator']],
      [{ conditions: [{ attribute: 'email', operator: 'MATCHES', value: '([a-z' }], serve: 'on' }, ['conditions[0].value']],
      [{ serve: 'maybe' }, ['serve']],
      [{ serve: { variation: 'maybe' } }, ['serve.variation']],
      [{ serve: { rollout: { variations: [{ variation: 'on', weight: 0 }, { variation: 'off', weight: 0 }] } } }, ['serve.rollout.variations']],
      [{ serve: { rollout: { variations: [{ variation: 'nope', weight: 10 }] } } }, ['serve.rollout.variations[0].variation']],
      [{ segments: ['no-such-segment'], serve: 'on' }, ['segments[0]']],
      [{ conditions: [{ operator: 'IN_SEGMENT', value: 'ghost' }], serve: 'on' }, ['conditions[0].value']],
    ];
    for (const [extra, fields] of cases) {
      const res = await create({ flag: 'new-checkout', environment: 'production', ...extra });
      expect(res.statusCode, JSON.stringify(extra)).toBe(422);
      expect(Object.keys(res.json().errors), JSON.stringify(extra)).toEqual(fields);
    }
    // Shape and limits: unknown flag or environment, bad key, too many conditions.
    const shape: Array<[Record<string, unknown>, string]> = [
      [{ flag: 'ghost-flag', environment: 'production', serve: 'on' }, 'flag'],
      [{ flag: 'new-checkout', environment: 'moon', serve: 'on' }, 'environment'],
      [{ flag: 'bad key!', environment: 'production', serve: 'on' }, 'flag'],
      [{ flag: 'new-checkout', environment: 'production', serve: 'on', conditions: Array.from({ length: 501 }, () => ({ attribute: 'a', operator: 'EXISTS' })) }, 'conditions'],
      [{ flag: 'new-checkout', environment: 'production', serve: 'on', priority: 0 }, 'priority'],
      [{ flag: 'new-checkout', environment: 'production' }, 'serve'],
    ];
    for (const [payload, field] of shape) {
      const res = await create(payload);
      expect(res.statusCode, JSON.stringify(payload).slice(0, 100)).toBe(422);
      expect(Object.keys(res.json().errors)).toContain(field);
    }
    expect(await storedRules(flag.id, 'production')).toEqual(before);
  });

  it('accepts exactly 500 conditions', async () => {
    const res = await create({ flag: 'button-color', environment: 'development', serve: 'red', conditions: Array.from({ length: 500 }, (_, i) => ({ attribute: `a${i}`, operator: 'EXISTS' })) });
    expect(res.statusCode, res.body.slice(0, 300)).toBe(200);
    expect(res.json().conditions).toHaveLength(500);
    await t.app.inject({ method: 'DELETE', url: `${base}/${res.json().id}`, headers: as(admin) });
  });

  it('GET lists by flag key, environment and priority; filters by flag and environment; pages with X-Total-Count', async () => {
    const all = await t.app.inject({ method: 'GET', url: base, headers: as(viewer) });
    expect(all.statusCode).toBe(200);
    expect(all.headers['x-total-count']).toBe('3');
    expect(all.json().map((r: { flagKey: string; environment: string; priority: number }) => [r.flagKey, r.environment, r.priority])).toEqual([
      ['button-color', 'staging', 1],
      ['button-color', 'staging', 2],
      ['new-checkout', 'production', 1],
    ]);
    const byFlag = await t.app.inject({ method: 'GET', url: `${base}?flag=new-checkout`, headers: as(viewer) });
    expect(byFlag.json().map((r: { flagKey: string }) => r.flagKey)).toEqual(['new-checkout']);
    const byEnv = await t.app.inject({ method: 'GET', url: `${base}?environment=env_${project.environments.staging}`, headers: as(viewer) });
    expect(byEnv.headers['x-total-count']).toBe('2');
    const both = await t.app.inject({ method: 'GET', url: `${base}?flag=button-color&environment=production`, headers: as(viewer) });
    expect(both.json()).toEqual([]);
    const page = await t.app.inject({ method: 'GET', url: `${base}?limit=1&offset=1`, headers: as(viewer) });
    expect(page.json()).toHaveLength(1);
    expect(page.headers['x-total-count']).toBe('3');
    for (const q of ['limit=0', 'limit=1001', 'offset=-1', 'limit=x', 'flag=bad%20key']) {
      const bad = await t.app.inject({ method: 'GET', url: `${base}?${q}`, headers: as(viewer) });
      expect(bad.statusCode, q).toBe(400);
      expect(Object.keys(bad.json().errors)).toEqual([q.split('=')[0]]);
    }
  });

  it('PATCH changes a rule (absent = unchanged), moves it with priority; a refused change leaves the stored rules intact', async () => {
    const a = (await create({ flag: 'new-checkout', environment: 'staging', serve: 'on', conditions: [{ attribute: 'plan', operator: 'EQUALS', value: 'pro' }] })).json();
    const b = (await create({ flag: 'new-checkout', environment: 'staging', serve: 'off' })).json();
    const patched = await t.app.inject({ method: 'PATCH', url: `${base}/${a.id}`, headers: as(admin), payload: { serve: 'off', description: 'Pro plan' } });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json()).toMatchObject({ id: a.id, serve: { variation: 'off' }, description: 'Pro plan', conditions: a.conditions, priority: 1 });

    const before = await storedRules(flag.id, 'staging');
    const refused = await t.app.inject({ method: 'PATCH', url: `${base}/${a.id}`, headers: as(admin), payload: { conditions: [{ attribute: 'version', operator: 'SEMVER_GREATER_THAN', value: 'not-a-version' }], priority: 2 } });
    expect(refused.statusCode).toBe(422);
    expect(Object.keys(refused.json().errors)).toEqual(['conditions[0].value']);
    expect(await storedRules(flag.id, 'staging')).toEqual(before);

    const moved = await t.app.inject({ method: 'PATCH', url: `${base}/${a.id}`, headers: as(admin), payload: { priority: 9 } });
    expect(moved.json().priority).toBe(2);
    expect(ids(await storedRules(flag.id, 'staging'))).toEqual([b.id, a.id]);
    const cleared = await t.app.inject({ method: 'PATCH', url: `${base}/${a.id}`, headers: as(admin), payload: { description: null } });
    expect(cleared.json().description).toBeNull();
    const events = await db().selectFrom('audit_events').selectAll().where('action', '=', 'rule.updated').where('resource_id', '=', String(flag.id)).orderBy('created_at').execute();
    expect(JSON.parse(events[0]!.before!)).toEqual({ ruleId: a.id, description: null, serve: { variation: 'on' } });
    expect(JSON.parse(events[0]!.after!)).toEqual({ environment: 'staging', ruleId: a.id, description: 'Pro plan', serve: { variation: 'off' } });
  });

  it('PUT /rules/order reorders all of a flag’s rules in one call; anything but each rule exactly once is 422', async () => {
    const c = (await create({ flag: 'new-checkout', environment: 'staging', serve: 'on', description: 'third' })).json();
    const current = ids(await storedRules(flag.id, 'staging'));
    expect(current).toHaveLength(3);
    const reversed = [...current].reverse();
    const res = await t.app.inject({ method: 'PUT', url: `${base}/order`, headers: as(admin), payload: { flag: 'new-checkout', environment: 'staging', ruleIds: reversed } });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().map((r: { id: string; priority: number }) => [r.id, r.priority])).toEqual(reversed.map((id, i) => [id, i + 1]));
    expect(ids(await storedRules(flag.id, 'staging'))).toEqual(reversed);
    expect((await storedRules(flag.id, 'staging')).map((r) => r.priority)).toEqual([1, 2, 3]);
    const event = await db().selectFrom('audit_events').selectAll().where('action', '=', 'rule.reordered').executeTakeFirstOrThrow();
    expect(JSON.parse(event.after!)).toEqual({ environment: 'staging', ruleIds: reversed });

    const productionRule = ids(await storedRules(flag.id, 'production'))[0]!;
    for (const ruleIds of [
      reversed.slice(0, 2), // one missing
      [...reversed, reversed[0]], // one twice
      [reversed[0], reversed[1], productionRule], // one of another environment
      [...reversed, 'rule_1'], // unknown
      [...reversed.slice(0, 2), 'banana'], // not an id
    ]) {
      const bad = await t.app.inject({ method: 'PUT', url: `${base}/order`, headers: as(admin), payload: { flag: 'new-checkout', environment: 'staging', ruleIds } });
      expect(bad.statusCode, JSON.stringify(ruleIds)).toBe(422);
      expect(Object.keys(bad.json().errors)).toEqual(['ruleIds']);
    }
    expect(ids(await storedRules(flag.id, 'staging'))).toEqual(reversed);
    void c;
  });

  it('DELETE removes a rule and closes the gap; 404 afterwards', async () => {
    const before = await storedRules(flag.id, 'staging');
    const res = await t.app.inject({ method: 'DELETE', url: `${base}/rule_${before[0]!.id}`, headers: as(admin) });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ success: true, id: `rule_${before[0]!.id}` });
    const after = await storedRules(flag.id, 'staging');
    expect(ids(after)).toEqual(ids(before.slice(1)));
    expect(after.map((r) => r.priority)).toEqual([1, 2]);
    const again = await t.app.inject({ method: 'DELETE', url: `${base}/rule_${before[0]!.id}`, headers: as(admin) });
    expect(again.statusCode).toBe(404);
    const events = await db().selectFrom('audit_events').selectAll().where('action', '=', 'rule.deleted').where('resource_id', '=', String(flag.id)).execute();
    expect(events.map((e) => JSON.parse(e.after!))).toEqual([{ environment: 'staging', ruleId: `rule_${before[0]!.id}` }]);
    expect(JSON.parse(events[0]!.before!)).toMatchObject({ ruleId: `rule_${before[0]!.id}`, priority: 1 });
  });

  it('honours If-Match with the flag-environment version', async () => {
    const [rule] = await storedRules(flag.id, 'staging');
    const got = await t.app.inject({ method: 'GET', url: `${base}/rule_${rule!.id}`, headers: as(admin) });
    const stale = await t.app.inject({ method: 'PATCH', url: `${base}/rule_${rule!.id}`, headers: { ...as(admin), 'if-match': '"1"' }, payload: { description: 'x' } });
    expect(stale.statusCode).toBe(412);
    const ok = await t.app.inject({ method: 'PATCH', url: `${base}/rule_${rule!.id}`, headers: { ...as(admin), 'if-match': got.headers.etag as string }, payload: { description: 'x' } });
    expect(ok.statusCode).toBe(200);
    const staleDelete = await t.app.inject({ method: 'DELETE', url: `${base}/rule_${rule!.id}`, headers: { ...as(admin), 'if-match': got.headers.etag as string } });
    expect(staleDelete.statusCode).toBe(412);
  });

  it('creates concurrently without losing a rule or repeating a priority', async () => {
    const results = await Promise.all(Array.from({ length: 5 }, (_, i) => create({ flag: 'button-color', environment: 'production', serve: 'red', description: `c${i}` })));
    expect(results.map((r) => r.statusCode)).toEqual([200, 200, 200, 200, 200]);
    const rows = await storedRules(color.id, 'production');
    expect(rows).toHaveLength(5);
    expect(rows.map((r) => r.priority)).toEqual([1, 2, 3, 4, 5]);
  });

  it('401 without a token; 403 for a viewer; 404 across organisations and for unknown rules', async () => {
    const [rule] = await storedRules(flag.id, 'production');
    const ruleUrl = `${base}/rule_${rule!.id}`;
    const routes: Array<[string, string, Record<string, unknown> | undefined]> = [
      ['GET', base, undefined],
      ['POST', base, { flag: 'new-checkout', environment: 'production', serve: 'on' }],
      ['GET', ruleUrl, undefined],
      ['PATCH', ruleUrl, { description: 'x' }],
      ['DELETE', ruleUrl, undefined],
      ['PUT', `${base}/order`, { flag: 'new-checkout', environment: 'production', ruleIds: [`rule_${rule!.id}`] }],
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
    // A rule id of another organisation's project is not found in this one.
    const theirs = await defaultProjectOf(db(), stranger.organizationId);
    const theirFlag = await insertFlag(db(), theirs.id, 'theirs');
    const theirRule = await t.app.inject({ method: 'POST', url: `/api/v1/projects/proj_${theirs.id}/rules`, headers: as(stranger), payload: { flag: theirFlag.key, environment: 'production', serve: 'on' } });
    expect(theirRule.statusCode).toBe(200);
    const cross = await t.app.inject({ method: 'GET', url: `${base}/${theirRule.json().id}`, headers: as(admin) });
    expect(cross.statusCode).toBe(404);
    expect((await storedRules(flag.id, 'production')).map((r) => r.description)).toEqual([rule!.description]);
    const notARule = await t.app.inject({ method: 'GET', url: `${base}/banana`, headers: as(admin) });
    expect(notARule.statusCode).toBe(404);
  });
});
