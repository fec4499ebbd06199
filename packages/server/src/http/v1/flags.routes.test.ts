import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId, nowIso } from '../../domain/ids.js';
import type { ConfigChange } from '../../evaluation/change-bus.js';
import { inviteAndJoin, type JoinedUser } from '../../testing/access-fixtures.js';
import { authHeader, signUp, type SignedUpUser } from '../../testing/auth.js';
import { createTestApp, type TestApp } from '../../testing/test-app.js';
import { testDialects } from '../../testing/test-database.js';

describe.each(testDialects())('/api/v1/projects/{project_id}/flags on %s', (dialect) => {
  let t: TestApp;
  let admin: SignedUpUser;
  let viewer: JoinedUser;
  let stranger: SignedUpUser;
  let projectId: string;
  const published: ConfigChange[] = [];

  beforeAll(async () => {
    t = await createTestApp(dialect);
    admin = await signUp(t.app, { name: 'Ada Admin' });
    viewer = await inviteAndJoin(t.app, admin, 'viewer');
    stranger = await signUp(t.app);
    const p = await t.app.inject({ method: 'POST', url: '/api/v1/projects', headers: authHeader(admin.accessToken), payload: { name: 'Web' } });
    projectId = p.json().id;
    t.app.services.changes.subscribe((c) => {
      published.push(c);
    });
  });
  afterAll(async () => t?.close());

  const as = (user: { accessToken: string }) => authHeader(user.accessToken);
  const db = () => t.database.handle.db;
  const flagsUrl = () => `/api/v1/projects/${projectId}/flags`;
  const createFlag = (payload: Record<string, unknown>, user: { accessToken: string } = admin) => t.app.inject({ method: 'POST', url: flagsUrl(), headers: as(user), payload });
  const numeric = (id: string) => Number(id.replace(/^[a-z]+_/, ''));
  const envId = async (key: string) => (await db().selectFrom('environments').select('id').where('project_id', '=', numeric(projectId)).where('key', '=', key).executeTakeFirstOrThrow()).id;

  it('answers 401 without a token', async () => {
    for (const [method, url] of [['GET', flagsUrl()], ['POST', flagsUrl()], ['GET', `${flagsUrl()}/x`], ['PATCH', `${flagsUrl()}/x`], ['DELETE', `${flagsUrl()}/x`], ['POST', `${flagsUrl()}/x/archive`], ['GET', `${flagsUrl()}/x/variations`], ['GET', `${flagsUrl()}/x/history`], ['GET', `/api/v1/projects/${projectId}/audit-log`]] as const) {
      const res = await t.app.inject({ method, url, ...(method === 'POST' || method === 'PATCH' ? { payload: {} } : {}) });
      expect(res.statusCode, `${method} ${url}`).toBe(401);
    }
  });

  it('creates a boolean flag with on/off variations, default off; 200 with ETag; audited; published', async () => {
    const res = await createFlag({ key: 'new-checkout-flow', name: 'New Checkout Flow', type: 'boolean', defaultValue: false, description: 'Enable the new checkout flow', tags: ['ui', 'checkout'] });
    expect(res.statusCode).toBe(200);
    expect(res.headers.etag).toBe('"1"');
    const f = res.json();
    expect(f).toEqual({
      id: expect.stringMatching(/^flag_\d+$/),
      key: 'new-checkout-flow',
      name: 'New Checkout Flow',
      type: 'boolean',
      enabled: false,
      environment: 'production',
      defaultValue: false,
      defaultVariation: 'off',
      description: 'Enable the new checkout flow',
      tags: ['ui', 'checkout'],
      status: 'active',
      metadata: null,
      projectId,
      variations: [
        { id: expect.stringMatching(/^var_\d+$/), key: 'on', name: 'On', value: true, description: null, weight: null },
        { id: expect.stringMatching(/^var_\d+$/), key: 'off', name: 'Off', value: false, description: null, weight: null },
      ],
      version: 1,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
      archivedAt: null,
    });
    const events = await db().selectFrom('audit_events').selectAll().where('resource_type', '=', 'flag').where('resource_id', '=', f.id.slice(5)).execute();
    expect(events.map((e) => [e.action, e.project_id, e.actor_type, e.actor_id])).toEqual([['flag.created', numeric(projectId), 'user', admin.userId]]);
    expect(published).toContainEqual({ organizationId: admin.organizationId, projectId: numeric(projectId), environmentIds: 'all', entity: 'flag', action: 'created', key: 'new-checkout-flow', actorUserId: admin.userId });
    const project = await t.app.inject({ method: 'GET', url: `/api/v1/projects/${projectId}`, headers: as(viewer) });
    expect(project.json().flagCount).toBe(1);
  });

  it('creates string, number and json flags: defaultValue alone makes variation `default`; variations pick the default by value', async () => {
    const s = (await createFlag({ key: 'banner', type: 'string', defaultValue: 'hello' })).json();
    expect(s).toMatchObject({ name: 'banner', defaultValue: 'hello', defaultVariation: 'default', variations: [{ key: 'default', value: 'hello' }] });
    const n = await createFlag({ key: 'limit', type: 'number', defaultValue: 20, variations: [{ name: 'Low', value: 10, weight: 50 }, { name: 'High Tier', value: 20, weight: 50 }] });
    expect(n.statusCode).toBe(200);
    expect(n.json()).toMatchObject({ defaultValue: 20, defaultVariation: 'high-tier', variations: [{ key: 'low', weight: 50 }, { key: 'high-tier' }] });
    const j = await createFlag({ key: 'config', type: 'json', flag_variations: [{ key: 'a', value: { theme: 'dark', n: [1] } }, { key: 'b', value: null }], defaultValue: { n: [1], theme: 'dark' } });
    expect(j.json()).toMatchObject({ defaultVariation: 'a', defaultValue: { theme: 'dark', n: [1] } });
    const b = await createFlag({ key: 'bool-given', type: 'boolean', variations: [{ name: 'Enabled', value: true }, { name: 'Disabled', value: false }] });
    expect(b.json()).toMatchObject({ defaultVariation: 'disabled', defaultValue: false });
  });

  it('refuses bad flags with 422 naming the field, and a taken key with 409', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ key: 'b1', type: 'boolean', defaultValue: 'yes' }, 'defaultValue'],
      [{ key: 'b2', type: 'string', defaultValue: 3 }, 'defaultValue'],
      [{ key: 'b3', type: 'number', defaultValue: '3' }, 'defaultValue'],
      [{ key: 'b4', type: 'string' }, 'defaultValue'],
      [{ key: 'b5', type: 'number', variations: [{ value: 1 }, { value: 'two' }] }, 'variations.1.value'],
      [{ key: 'b6', type: 'number', variations: [{ value: 1 }], defaultValue: 2 }, 'defaultValue'],
      [{ key: 'b7', type: 'string', variations: [{ key: 'x', value: 'a' }, { key: 'x', value: 'b' }] }, 'variations.1.key'],
      [{ key: 'b8', type: 'string', variations: [{ key: 'bad key', value: 'a' }] }, 'variations.0.key'],
      [{ key: 'b9', type: 'colour', defaultValue: 'x' }, 'type'],
      [{ key: 'has space', type: 'boolean' }, 'key'],
      [{ key: 'x'.repeat(201), type: 'boolean' }, 'key'],
      [{ key: '', type: 'boolean' }, 'key'],
      [{ key: 'b10', type: 'boolean', status: 'archived' }, 'status'],
      [{ key: 'b11', type: 'boolean', tags: Array.from({ length: 1001 }, (_, i) => `t${i}`) }, 'tags'],
      [{ key: 'b12', type: 'number', variations: Array.from({ length: 1001 }, (_, i) => ({ value: i })) }, 'variations'],
      [{ key: 'b13', type: 'boolean', variations: [], flag_variations: [] }, 'flag_variations'],
      [{ type: 'boolean' }, 'key'],
    ];
    for (const [payload, field] of cases) {
      const res = await createFlag(payload);
      expect(res.statusCode, JSON.stringify(payload).slice(0, 80)).toBe(422);
      expect(Object.keys(res.json().errors ?? {}), JSON.stringify(payload).slice(0, 80)).toContain(field);
    }
    const taken = await createFlag({ key: 'new-checkout-flow', type: 'boolean' });
    expect(taken.statusCode).toBe(409);
    expect(taken.json()).toMatchObject({ code: 'flag_key_taken', details: { key: 'new-checkout-flow' } });
    expect(await db().selectFrom('flags').select('key').where('key', 'like', 'b%').where('project_id', '=', numeric(projectId)).execute()).toEqual([{ key: 'banner' }, { key: 'bool-given' }]);
  });

  it('lists with tag, status and search filters, paged with X-Total-Count; bad query values are 400', async () => {
    const list = async (q: string) => {
      const res = await t.app.inject({ method: 'GET', url: `${flagsUrl()}?${q}`, headers: as(viewer) });
      expect(res.statusCode, q).toBe(200);
      return { keys: res.json().map((f: { key: string }) => f.key), total: res.headers['x-total-count'] };
    };
    expect(await list('')).toEqual({ keys: ['new-checkout-flow', 'banner', 'limit', 'config', 'bool-given'], total: '5' });
    expect(await list('tag=checkout')).toEqual({ keys: ['new-checkout-flow'], total: '1' });
    expect(await list('tag=UI')).toEqual({ keys: ['new-checkout-flow'], total: '1' });
    expect(await list('tag=ch')).toEqual({ keys: [], total: '0' });
    expect(await list('search=CHECKOUT')).toEqual({ keys: ['new-checkout-flow'], total: '1' });
    expect(await list('search=lim')).toEqual({ keys: ['limit'], total: '1' });
    expect(await list('search=%25')).toEqual({ keys: [], total: '0' });
    expect(await list('status=inactive')).toEqual({ keys: [], total: '0' });
    expect(await list('limit=2&offset=1')).toEqual({ keys: ['banner', 'limit'], total: '5' });
    for (const q of ['status=gone', 'limit=0', 'limit=1001', 'offset=-1', 'limit=ten']) {
      const res = await t.app.inject({ method: 'GET', url: `${flagsUrl()}?${q}`, headers: as(viewer) });
      expect(res.statusCode, q).toBe(400);
      expect(Object.keys(res.json().errors), q).toEqual([q.split('=')[0]]);
    }
  });

  it('reports enabled for the requested environment (?environment=, X-Environment, default production); unknown is 404', async () => {
    const flag = (await t.app.inject({ method: 'GET', url: `${flagsUrl()}/banner`, headers: as(viewer) })).json();
    await db()
      .insertInto('flag_environments')
      .values({ id: newId(), flag_id: numeric(flag.id), environment_id: await envId('production'), enabled: 1, off_variation: null, default_serve: null, targets: '[]', prerequisites: '[]', targeting: null, version: 1, updated_at: nowIso() })
      .execute();
    const get = (suffix: string, headers: Record<string, string> = {}) => t.app.inject({ method: 'GET', url: `${flagsUrl()}/banner${suffix}`, headers: { ...as(viewer), ...headers } });
    expect((await get('')).json()).toMatchObject({ enabled: true, environment: 'production' });
    expect((await get('?environment=development')).json()).toMatchObject({ enabled: false, environment: 'development' });
    expect((await get('', { 'x-environment': 'staging' })).json()).toMatchObject({ enabled: false, environment: 'staging' });
    expect((await get('?environment=nowhere')).statusCode).toBe(404);
    const listed = await t.app.inject({ method: 'GET', url: `${flagsUrl()}?search=banner`, headers: as(viewer) });
    expect(listed.json()[0].enabled).toBe(true);
  });

  it('PATCH honours If-Match (412 when stale), keeps absent fields, clears nulls; bumps version and ETag; audited with changed fields', async () => {
    const url = `${flagsUrl()}/new-checkout-flow`;
    const got = await t.app.inject({ method: 'GET', url, headers: as(viewer) });
    const etag = got.headers.etag as string;
    const ok = await t.app.inject({ method: 'PATCH', url, headers: { ...as(admin), 'if-match': etag }, payload: { name: 'Checkout v2', description: null, defaultValue: true } });
    expect(ok.statusCode).toBe(200);
    expect(ok.headers.etag).toBe(`"${Number(etag.replace(/"/g, '')) + 1}"`);
    expect(ok.json()).toMatchObject({ name: 'Checkout v2', description: null, defaultValue: true, defaultVariation: 'on', tags: ['ui', 'checkout'] });
    const stale = await t.app.inject({ method: 'PATCH', url, headers: { ...as(admin), 'if-match': etag }, payload: { name: 'Lost' } });
    expect(stale.statusCode).toBe(412);
    expect(stale.json().code).toBe('precondition_failed');
    expect((await t.app.inject({ method: 'PATCH', url, headers: { ...as(admin), 'if-match': 'garbage' }, payload: { name: 'Lost' } })).statusCode).toBe(412);
    expect((await t.app.inject({ method: 'GET', url, headers: as(viewer) })).json().name).toBe('Checkout v2');
    // Nothing to change: no version bump, no audit event.
    const same = await t.app.inject({ method: 'PATCH', url, headers: as(admin), payload: { name: 'Checkout v2' } });
    expect(same.headers.etag).toBe(ok.headers.etag);
    const updates = await db().selectFrom('audit_events').selectAll().where('action', '=', 'flag.updated').where('resource_id', '=', ok.json().id.slice(5)).execute();
    expect(updates).toHaveLength(1);
    expect(JSON.parse(updates[0]!.before!)).toEqual({ name: 'New Checkout Flow', description: 'Enable the new checkout flow', defaultVariation: 'off', defaultValue: false });
    expect(JSON.parse(updates[0]!.after!)).toEqual({ name: 'Checkout v2', description: null, defaultVariation: 'on', defaultValue: true });
    // Wrong types and unknown values name the field.
    expect((await t.app.inject({ method: 'PATCH', url, headers: as(admin), payload: { defaultValue: 'yes' } })).json().errors).toHaveProperty('defaultValue');
    expect((await t.app.inject({ method: 'PATCH', url, headers: as(admin), payload: { status: 'gone' } })).json().errors).toHaveProperty('status');
    expect((await t.app.inject({ method: 'PATCH', url, headers: as(admin), payload: { type: 'string' } })).statusCode).toBe(422);
    const tagsCleared = await t.app.inject({ method: 'PATCH', url, headers: as(admin), payload: { tags: null, status: 'inactive' } });
    expect(tagsCleared.json()).toMatchObject({ tags: [], status: 'inactive' });
  });

  it('concurrent PATCHes without If-Match never lose an update', async () => {
    await createFlag({ key: 'contended', type: 'boolean' });
    const url = `${flagsUrl()}/contended`;
    const patches = [{ name: 'N' }, { description: 'D' }, { tags: ['t'] }, { metadata: { team: 'core' } }, { defaultValue: true }, { status: 'inactive' }];
    const results = await Promise.all(patches.map((payload) => t.app.inject({ method: 'PATCH', url, headers: as(admin), payload })));
    expect(results.map((r) => r.statusCode)).toEqual(patches.map(() => 200));
    const f = (await t.app.inject({ method: 'GET', url, headers: as(admin) })).json();
    expect(f).toMatchObject({ name: 'N', description: 'D', tags: ['t'], metadata: { team: 'core' }, defaultValue: true, status: 'inactive', version: 1 + patches.length });
  });

  it('archives and restores (idempotent), and deletes (200 {success, id}, If-Match honoured); a viewer cannot; another organisation sees 404', async () => {
    await createFlag({ key: 'old-thing', type: 'boolean' });
    const url = `${flagsUrl()}/old-thing`;
    expect((await t.app.inject({ method: 'POST', url: `${url}/archive`, headers: as(viewer) })).statusCode).toBe(403);
    const archived = await t.app.inject({ method: 'POST', url: `${url}/archive`, headers: as(admin) });
    expect(archived.statusCode).toBe(200);
    expect(archived.json()).toMatchObject({ status: 'archived', archivedAt: expect.any(String), version: 2 });
    expect((await t.app.inject({ method: 'POST', url: `${url}/archive`, headers: as(admin) })).json().version).toBe(2);
    const listed = await t.app.inject({ method: 'GET', url: `${flagsUrl()}?status=archived`, headers: as(viewer) });
    expect(listed.json().map((f: { key: string }) => f.key)).toEqual(['old-thing']);
    const restored = await t.app.inject({ method: 'POST', url: `${url}/restore`, headers: { ...as(admin), 'if-match': '"2"' } });
    expect(restored.json()).toMatchObject({ status: 'active', archivedAt: null, version: 3 });

    const mine = `/api/v1/projects/${projectId}/flags/old-thing`;
    for (const [method, u] of [['GET', mine], ['PATCH', mine], ['DELETE', mine], ['POST', `${mine}/archive`], ['GET', `${mine}/variations`], ['GET', `${mine}/history`]] as const) {
      const res = await t.app.inject({ method, url: u, headers: as(stranger), ...(method === 'PATCH' ? { payload: { name: 'x' } } : {}) });
      expect(res.statusCode, `${method} ${u}`).toBe(404);
    }
    expect((await t.app.inject({ method: 'DELETE', url, headers: as(viewer) })).statusCode).toBe(403);
    expect((await t.app.inject({ method: 'DELETE', url, headers: { ...as(admin), 'if-match': '"1"' } })).statusCode).toBe(412);
    const deleted = await t.app.inject({ method: 'DELETE', url, headers: { ...as(admin), 'if-match': '"3"' } });
    expect(deleted.statusCode).toBe(200);
    expect(deleted.json()).toEqual({ success: true, id: restored.json().id });
    expect((await t.app.inject({ method: 'GET', url, headers: as(admin) })).statusCode).toBe(404);
    expect(published).toContainEqual(expect.objectContaining({ entity: 'flag', action: 'deleted', key: 'old-thing', environmentIds: 'all' }));
  });

  it('refuses deleting a flag another flag has as a prerequisite (409 naming it)', async () => {
    await createFlag({ key: 'parent', type: 'boolean' });
    const child = (await createFlag({ key: 'child', type: 'boolean' })).json();
    await db()
      .insertInto('flag_environments')
      .values({ id: newId(), flag_id: numeric(child.id), environment_id: await envId('staging'), enabled: 1, off_variation: null, default_serve: null, targets: '[]', prerequisites: JSON.stringify([{ flag: 'parent', variation: 'on' }]), targeting: null, version: 1, updated_at: nowIso() })
      .execute();
    const res = await t.app.inject({ method: 'DELETE', url: `${flagsUrl()}/parent`, headers: as(admin) });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ code: 'flag_in_use', details: { usedBy: [{ flagKey: 'child', environment: 'staging' }] } });
    expect(res.json().message).toContain('child');
  });

  describe('variations', () => {
    it('adds, updates and lists variations with typed values (422 naming value); each write bumps the flag version', async () => {
      const url = `${flagsUrl()}/limit/variations`;
      const added = await t.app.inject({ method: 'POST', url, headers: as(admin), payload: { name: 'Huge', value: 1000, description: 'For big customers', weight: 0 } });
      expect(added.statusCode).toBe(200);
      expect(added.json()).toEqual({ id: expect.stringMatching(/^var_\d+$/), key: 'huge', name: 'Huge', value: 1000, description: 'For big customers', weight: 0 });
      expect(added.headers.etag).toBe('"2"');
      expect((await t.app.inject({ method: 'POST', url, headers: as(admin), payload: { name: 'Bad', value: 'lots' } })).json().errors).toHaveProperty('value');
      expect((await t.app.inject({ method: 'POST', url, headers: as(admin), payload: { key: 'huge', value: 5 } })).statusCode).toBe(409);
      expect((await t.app.inject({ method: 'POST', url, headers: as(admin), payload: { key: 'no way', value: 5 } })).json().errors).toHaveProperty('key');
      expect((await t.app.inject({ method: 'POST', url, headers: as(viewer), payload: { value: 5 } })).statusCode).toBe(403);
      expect((await t.app.inject({ method: 'POST', url, headers: { ...as(admin), 'if-match': '"1"' }, payload: { value: 5 } })).statusCode).toBe(412);

      const updated = await t.app.inject({ method: 'PATCH', url: `${url}/${added.json().id}`, headers: as(admin), payload: { value: 999, description: null } });
      expect(updated.statusCode).toBe(200);
      expect(updated.json()).toMatchObject({ key: 'huge', value: 999, description: null, weight: 0 });
      expect((await t.app.inject({ method: 'PATCH', url: `${url}/huge`, headers: as(admin), payload: { value: true } })).json().errors).toHaveProperty('value');
      expect((await t.app.inject({ method: 'PATCH', url: `${url}/huge`, headers: as(admin), payload: { key: 'renamed' } })).statusCode).toBe(422);
      expect((await t.app.inject({ method: 'PATCH', url: `${url}/nope`, headers: as(admin), payload: { value: 1 } })).statusCode).toBe(404);

      const list = await t.app.inject({ method: 'GET', url, headers: as(viewer) });
      expect(list.json().map((v: { key: string; value: number }) => [v.key, v.value])).toEqual([['low', 10], ['high-tier', 20], ['huge', 999]]);
      expect(list.headers['x-total-count']).toBe('3');
      const paged = await t.app.inject({ method: 'GET', url: `${url}?limit=1&offset=2`, headers: as(viewer) });
      expect(paged.json().map((v: { key: string }) => v.key)).toEqual(['huge']);
      expect((await t.app.inject({ method: 'GET', url: `${url}?offset=-1`, headers: as(viewer) })).statusCode).toBe(400);
      const flag = (await t.app.inject({ method: 'GET', url: `${flagsUrl()}/limit`, headers: as(viewer) })).json();
      expect(flag.version).toBe(3);
      const actions = (await db().selectFrom('audit_events').select('action').where('resource_id', '=', flag.id.slice(5)).execute()).map((r) => r.action).sort();
      expect(actions).toEqual(['flag.created', 'variation.created', 'variation.updated']);
    });

    it('refuses deleting a variation in use (409 naming each use) and deletes it once free', async () => {
      const f = (await createFlag({ key: 'plan', type: 'string', variations: [{ key: 'free', value: 'free' }, { key: 'pro', value: 'pro' }, { key: 'team', value: 'team' }, { key: 'spare', value: 'spare' }], defaultValue: 'free' })).json();
      const other = (await createFlag({ key: 'needs-pro', type: 'boolean' })).json();
      const prod = await envId('production');
      await db()
        .insertInto('flag_environments')
        .values({ id: newId(), flag_id: numeric(f.id), environment_id: prod, enabled: 1, off_variation: 'team', default_serve: JSON.stringify({ rollout: { variations: [{ variation: 'pro', weight: 50 }, { variation: 'free', weight: 50 }] } }), targets: JSON.stringify([{ variation: 'team', values: ['u1'] }]), prerequisites: '[]', targeting: null, version: 1, updated_at: nowIso() })
        .execute();
      const ruleId = newId();
      await db().insertInto('rules').values({ id: ruleId, flag_id: numeric(f.id), environment_id: prod, priority: 1, description: null, conditions: '[]', segments: '[]', serve: JSON.stringify({ variation: 'pro' }), created_at: nowIso(), updated_at: nowIso() }).execute();
      await db()
        .insertInto('flag_environments')
        .values({ id: newId(), flag_id: numeric(other.id), environment_id: prod, enabled: 1, off_variation: null, default_serve: null, targets: '[]', prerequisites: JSON.stringify([{ flag: 'plan', variation: 'pro' }]), targeting: null, version: 1, updated_at: nowIso() })
        .execute();
      const url = `${flagsUrl()}/plan/variations`;
      const pro = await t.app.inject({ method: 'DELETE', url: `${url}/pro`, headers: as(admin) });
      expect(pro.statusCode).toBe(409);
      expect(pro.json().code).toBe('variation_in_use');
      expect(pro.json().details.usedBy.map((u: { kind: string }) => u.kind)).toEqual(['default_serve', 'rule', 'prerequisite']);
      expect(pro.json().message).toContain(`rule_${ruleId}`);
      expect(pro.json().message).toContain('needs-pro');
      const team = await t.app.inject({ method: 'DELETE', url: `${url}/team`, headers: as(admin) });
      expect(team.json().details.usedBy.map((u: { kind: string }) => u.kind)).toEqual(['off_variation', 'target']);
      const free = await t.app.inject({ method: 'DELETE', url: `${url}/free`, headers: as(admin) });
      expect(free.json().details.usedBy.map((u: { kind: string }) => u.kind)).toEqual(['default_variation', 'default_serve']);

      const spare = f.variations.find((v: { key: string }) => v.key === 'spare').id;
      expect((await t.app.inject({ method: 'DELETE', url: `${url}/${spare}`, headers: as(viewer) })).statusCode).toBe(403);
      const freed = await t.app.inject({ method: 'DELETE', url: `${url}/${spare}`, headers: as(admin) });
      expect(freed.statusCode).toBe(200);
      expect(freed.json()).toEqual({ success: true, id: spare });
      expect(freed.headers.etag).toMatch(/^"\d+"$/);
      const left = await t.app.inject({ method: 'GET', url, headers: as(admin) });
      expect(left.json().map((v: { key: string }) => v.key)).toEqual(['free', 'pro', 'team']);
      expect(published).toContainEqual(expect.objectContaining({ entity: 'flag', action: 'updated', key: 'plan', environmentIds: 'all' }));
    });
  });

  describe('history and audit log', () => {
    it('flag history: newest first, IntelliToggle shape, changes with from/to, user name', async () => {
      await createFlag({ key: 'hist', name: 'Hist', type: 'boolean' });
      await new Promise((r) => setTimeout(r, 5));
      await t.app.inject({ method: 'PATCH', url: `${flagsUrl()}/hist`, headers: as(admin), payload: { name: 'History' } });
      const res = await t.app.inject({ method: 'GET', url: `${flagsUrl()}/hist/history`, headers: as(viewer) });
      expect(res.statusCode).toBe(200);
      expect(res.headers['x-total-count']).toBe('2');
      const [updated, created] = res.json();
      expect(updated).toEqual({ id: expect.stringMatching(/^hist_\d+$/), action: 'updated', changes: { name: { from: 'Hist', to: 'History' } }, userId: `usr_${admin.userId}`, userName: 'Ada Admin', timestamp: expect.any(String) });
      expect(created.action).toBe('created');
      expect(created.changes.key).toEqual({ from: null, to: 'hist' });
      expect((await t.app.inject({ method: 'GET', url: `${flagsUrl()}/nope/history`, headers: as(viewer) })).statusCode).toBe(404);
    });

    it('audit log: filters by flag, user, action and time range; paged; newest first; bad filters are 400', async () => {
      const url = `/api/v1/projects/${projectId}/audit-log`;
      const get = async (q: string) => {
        const res = await t.app.inject({ method: 'GET', url: `${url}?${q}`, headers: as(viewer) });
        expect(res.statusCode, q).toBe(200);
        return res;
      };
      const all = await get('');
      const entries = all.json();
      expect(Number(all.headers['x-total-count'])).toBe(entries.length);
      const times = entries.map((e: { timestamp: string }) => e.timestamp);
      expect([...times].sort().reverse()).toEqual(times);
      expect(entries[0]).toEqual({
        id: expect.stringMatching(/^hist_\d+$/),
        action: expect.any(String),
        resourceType: expect.any(String),
        resourceId: expect.any(String),
        actorType: 'user',
        userId: `usr_${admin.userId}`,
        userName: 'Ada Admin',
        before: expect.anything(),
        after: expect.anything(),
        changes: expect.any(Object),
        timestamp: expect.any(String),
      });

      const hist = (await get('flag=hist')).json();
      expect(hist.map((e: { action: string }) => e.action)).toEqual(['flag.updated', 'flag.created']);
      expect(hist[0]).toMatchObject({ resourceType: 'flag', resourceId: expect.stringMatching(/^flag_\d+$/), before: { name: 'Hist' }, after: { name: 'History' }, changes: { name: { from: 'Hist', to: 'History' } } });
      expect((await get(`flag=${hist[0].resourceId}`)).json()).toHaveLength(2);
      expect((await get('flag=never-existed')).json()).toEqual([]);
      const created = await get('action=flag.created&limit=2');
      expect(created.json()).toHaveLength(2);
      expect(Number(created.headers['x-total-count'])).toBeGreaterThan(5);
      expect((await get(`user=usr_${admin.userId}&action=flag.deleted`)).json().map((e: { before: { key: string } }) => e.before.key)).toEqual(['old-thing']);
      expect((await get(`user=${viewer.userId}`)).json()).toEqual([]);
      const future = new Date(Date.now() + 60_000).toISOString();
      expect((await get(`from=${encodeURIComponent(future)}`)).json()).toEqual([]);
      expect((await get(`to=${encodeURIComponent(future)}&flag=hist`)).json()).toHaveLength(2);
      expect((await get(`to=${encodeURIComponent(hist[1].timestamp)}&flag=hist`)).json().map((e: { action: string }) => e.action)).toEqual(['flag.created']);

      for (const q of ['from=yesterday', 'to=2024-13-45T00:00:00Z', 'user=bob', 'limit=0', 'offset=x']) {
        const res = await t.app.inject({ method: 'GET', url: `${url}?${q}`, headers: as(viewer) });
        expect(res.statusCode, q).toBe(400);
        expect(Object.keys(res.json().errors), q).toEqual([q.split('=')[0]]);
      }
      expect((await t.app.inject({ method: 'GET', url, headers: as(stranger) })).statusCode).toBe(404);
    });
  });
});
