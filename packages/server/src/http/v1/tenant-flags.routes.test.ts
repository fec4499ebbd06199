import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inviteAndJoin, type JoinedUser } from '../../testing/access-fixtures.js';
import { authHeader, signUp, type SignedUpUser } from '../../testing/auth.js';
import { createTestApp, type TestApp } from '../../testing/test-app.js';
import { testDialects } from '../../testing/test-database.js';

/** IntelliToggle's flag fields, exactly as its document shows them. */
const documentedFlagKeys = ['id', 'key', 'name', 'type', 'enabled', 'defaultValue', 'description', 'tags', 'projectId', 'createdAt', 'updatedAt'];

describe.each(testDialects())('IntelliToggle flag routes /api/v1/flags on %s', (dialect) => {
  let t: TestApp;
  let admin: SignedUpUser;
  let viewer: JoinedUser;
  let stranger: SignedUpUser;
  let defaultProjectId: string;
  let webProjectId: string;

  beforeAll(async () => {
    t = await createTestApp(dialect);
    admin = await signUp(t.app, { name: 'Ada Admin' });
    viewer = await inviteAndJoin(t.app, admin, 'viewer');
    stranger = await signUp(t.app);
    const projects = await t.app.inject({ method: 'GET', url: '/api/v1/projects', headers: authHeader(admin.accessToken) });
    defaultProjectId = (projects.json() as Array<{ id: string; isDefault: boolean }>).find((p) => p.isDefault)!.id;
    const web = await t.app.inject({ method: 'POST', url: '/api/v1/projects', headers: authHeader(admin.accessToken), payload: { name: 'Web' } });
    webProjectId = web.json().id;
  });
  afterAll(async () => t?.close());

  const db = () => t.database.handle.db;
  const numeric = (id: string) => Number(id.replace(/^[a-z]+_/, ''));
  /** Headers acting in admin's tenant (X-Tenant-ID) as `user`. */
  const h = (user: { accessToken: string } = admin, extra: Record<string, string> = {}, tenant: number | string = admin.organizationId) => ({ ...authHeader(user.accessToken, tenant), ...extra });
  const inject = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, headers: Record<string, string>, payload?: unknown) =>
    t.app.inject({ method, url, headers, ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}) });
  const createFlag = (payload: Record<string, unknown>, user: { accessToken: string } = admin) => inject('POST', '/api/v1/flags', h(user), payload);
  const flagRow = (key: string, projectId: string) =>
    db().selectFrom('flags').selectAll().where('key', '=', key).where('project_id', '=', numeric(projectId)).executeTakeFirst();
  const envId = async (projectId: string, key: string) =>
    (await db().selectFrom('environments').select('id').where('project_id', '=', numeric(projectId)).where('key', '=', key).executeTakeFirstOrThrow()).id;
  const enabledRow = async (flagId: number, environmentId: number) =>
    (await db().selectFrom('flag_environments').select('enabled').where('flag_id', '=', flagId).where('environment_id', '=', environmentId).executeTakeFirst())?.enabled;

  const tenantRoutes: Array<[method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown]> = [
    ['GET', '/api/v1/flags'],
    ['POST', '/api/v1/flags', { key: 'x', type: 'boolean' }],
    ['GET', '/api/v1/flags/x'],
    ['PATCH', '/api/v1/flags/x', { name: 'X' }],
    ['DELETE', '/api/v1/flags/x'],
    ['POST', '/api/v1/flags/x/enable'],
    ['POST', '/api/v1/flags/x/disable'],
    ['POST', '/api/v1/flags/x/evaluate', { targetingKey: 'u' }],
    ['GET', '/api/v1/flags/x/history'],
    ['GET', '/api/v1/flags/x/variations'],
    ['POST', '/api/v1/flags/x/variations', { value: true }],
    ['PATCH', '/api/v1/flags/x/variations/var_1', { name: 'n' }],
    ['DELETE', '/api/v1/flags/x/variations/var_1'],
  ];
  const projectRoutes = (p: string): Array<[method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown]> => [
    ['GET', `/api/v1/flags/projects/${p}/flags`],
    ['POST', `/api/v1/flags/projects/${p}/flags`, { key: 'x', type: 'boolean' }],
    ['GET', `/api/v1/flags/projects/${p}/flags/x`],
    ['PATCH', `/api/v1/flags/projects/${p}/flags/x`, { name: 'X' }],
    ['DELETE', `/api/v1/flags/projects/${p}/flags/x`],
    ['POST', `/api/v1/flags/projects/${p}/flags/x/enable`],
    ['POST', `/api/v1/flags/projects/${p}/flags/x/disable`],
  ];

  it('answers 401 without a token on every route (before looking at the tenant or the body)', async () => {
    for (const [method, url, payload] of [...tenantRoutes, ...projectRoutes(webProjectId)]) {
      const res = await inject(method, url, { 'x-tenant-id': String(admin.organizationId) }, payload ?? (method === 'POST' || method === 'PATCH' ? {} : undefined));
      expect(res.statusCode, `${method} ${url}`).toBe(401);
    }
  });

  it('needs X-Tenant-ID on the tenant routes: 400 tenant_required, 400 bad_request when malformed, 404 for a tenant you do not belong to', async () => {
    for (const [method, url, payload] of tenantRoutes) {
      const missing = await inject(method, url, authHeader(admin.accessToken), payload);
      expect(missing.statusCode, `${method} ${url}`).toBe(400);
      expect(missing.json()).toMatchObject({ code: 'tenant_required', errors: { 'x-tenant-id': 'is required' } });
      const malformed = await inject(method, url, h(admin, {}, 'acme'), payload);
      expect(malformed.statusCode, `${method} ${url}`).toBe(400);
      expect(malformed.json()).toMatchObject({ code: 'bad_request', errors: { 'x-tenant-id': expect.any(String) } });
      // The stranger names admin's tenant, and admin names the stranger's: both look absent.
      const foreign = await inject(method, url, h(stranger), payload);
      expect(foreign.statusCode, `${method} ${url}`).toBe(404);
      const other = await inject(method, url, h(admin, {}, `tenant_${stranger.organizationId}`), payload);
      expect(other.statusCode, `${method} ${url}`).toBe(404);
      expect(other.json().code).toBe('not_found');
    }
  });

  it('POST /flags creates in the default project: 201 with the documented shape, stored, audited', async () => {
    const res = await createFlag({ key: 'new-checkout-flow', name: 'New Checkout Flow', type: 'boolean', defaultValue: false, description: 'Enable the new checkout flow', tags: ['ui', 'checkout'] });
    expect(res.statusCode, res.body).toBe(201);
    const f = res.json();
    expect(Object.keys(f)).toEqual(expect.arrayContaining(documentedFlagKeys));
    expect(f).toMatchObject({
      id: expect.stringMatching(/^flag_\d+$/),
      key: 'new-checkout-flow',
      name: 'New Checkout Flow',
      type: 'boolean',
      enabled: false,
      defaultValue: false,
      description: 'Enable the new checkout flow',
      tags: ['ui', 'checkout'],
      projectId: defaultProjectId,
      createdAt: expect.stringMatching(/Z$/),
      updatedAt: f.createdAt,
    });
    expect(res.headers.etag).toBe('"1"');
    const row = await flagRow('new-checkout-flow', defaultProjectId);
    expect(row).toMatchObject({ id: numeric(f.id), name: 'New Checkout Flow', status: 'active' });
    const audit = await db().selectFrom('audit_events').select(['action', 'actor_id']).where('resource_type', '=', 'flag').where('resource_id', '=', String(row!.id)).execute();
    expect(audit).toEqual([{ action: 'flag.created', actor_id: admin.userId }]);
  });

  it('POST /flags with projectId creates there; an unknown or foreign projectId is 422 naming it; bad input is 422 naming the field; viewers 403', async () => {
    const res = await createFlag({ key: 'banner', type: 'string', defaultValue: 'blue', projectId: webProjectId });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({ projectId: webProjectId, defaultValue: 'blue', type: 'string' });
    expect(await flagRow('banner', webProjectId)).toBeDefined();
    expect(await flagRow('banner', defaultProjectId)).toBeUndefined();

    const strangerProjects = await t.app.inject({ method: 'GET', url: '/api/v1/projects', headers: authHeader(stranger.accessToken) });
    for (const projectId of ['proj_999999', strangerProjects.json()[0].id]) {
      const bad = await createFlag({ key: 'elsewhere', type: 'boolean', projectId });
      expect(bad.statusCode).toBe(422);
      expect(bad.json().errors).toEqual({ projectId: expect.any(String) });
    }
    const badType = await createFlag({ key: 'typed', type: 'colour' });
    expect(badType.statusCode).toBe(422);
    expect(badType.json().errors).toEqual({ type: expect.any(String) });
    const noKey = await createFlag({ type: 'boolean' });
    expect(noKey.statusCode).toBe(422);
    expect(noKey.json()).toMatchObject({ code: 'validation_failed', errors: { key: 'is required' } });
    const badKey = await createFlag({ key: 'has space', type: 'boolean' });
    expect(badKey.statusCode).toBe(422);
    expect(badKey.json().errors).toEqual({ key: expect.any(String) });
    const taken = await createFlag({ key: 'new-checkout-flow', type: 'boolean' });
    expect(taken.statusCode).toBe(409);
    expect(taken.json().code).toBe('flag_key_taken');

    const denied = await createFlag({ key: 'viewer-made', type: 'boolean' }, viewer);
    expect(denied.statusCode).toBe(403);
    expect(denied.json().details).toEqual({ permission: 'flags:write' });
    expect(await db().selectFrom('flags').select('id').where('key', 'in', ['viewer-made', 'typed', 'elsewhere']).execute()).toEqual([]);
  });

  it('GET /flags lists every project you can read, with X-Total-Count; enabled follows X-Environment; an unknown environment is 404', async () => {
    const res = await inject('GET', '/api/v1/flags', h(viewer));
    expect(res.statusCode).toBe(200);
    expect(res.headers['x-total-count']).toBe('2');
    const list = res.json() as Array<Record<string, unknown>>;
    expect(list.map((f) => [f.key, f.projectId])).toEqual([['new-checkout-flow', defaultProjectId], ['banner', webProjectId]]);
    for (const f of list) expect(Object.keys(f)).toEqual(expect.arrayContaining(documentedFlagKeys));

    const page = await inject('GET', '/api/v1/flags?limit=1&offset=1', h());
    expect(page.json().map((f: { key: string }) => f.key)).toEqual(['banner']);
    expect(page.headers['x-total-count']).toBe('2');
    const tagged = await inject('GET', '/api/v1/flags?tag=UI', h());
    expect(tagged.json().map((f: { key: string }) => f.key)).toEqual(['new-checkout-flow']);

    const flagId = numeric(list[0]!.id as string);
    await inject('POST', '/api/v1/flags/new-checkout-flow/enable', h(admin, { 'x-environment': 'staging' }));
    const staging = await inject('GET', '/api/v1/flags', h(admin, { 'x-environment': 'staging' }));
    expect(staging.json().map((f: { key: string; enabled: boolean; environment: string }) => [f.key, f.enabled, f.environment])).toEqual([['new-checkout-flow', true, 'staging'], ['banner', false, 'staging']]);
    expect((await inject('GET', '/api/v1/flags', h())).json()[0].enabled).toBe(false);
    expect(await enabledRow(flagId, await envId(defaultProjectId, 'staging'))).toBe(1);
    await inject('POST', '/api/v1/flags/new-checkout-flow/disable', h(admin, { 'x-environment': 'staging' }));

    const unknown = await inject('GET', '/api/v1/flags', h(admin, { 'x-environment': 'moon' }));
    expect(unknown.statusCode).toBe(404);
    const badPage = await inject('GET', '/api/v1/flags?limit=0', h());
    expect(badPage.statusCode).toBe(400);
    expect(badPage.json().errors).toHaveProperty('limit');
  });

  it('GET /flags/{flagKey}: 200, 404 for an unknown key or another tenant’s flag, 409 naming the projects when the key is in several', async () => {
    const one = await inject('GET', '/api/v1/flags/banner', h(viewer));
    expect(one.statusCode).toBe(200);
    expect(one.json()).toMatchObject({ key: 'banner', projectId: webProjectId });
    expect(Object.keys(one.json())).toEqual(expect.arrayContaining(documentedFlagKeys));
    expect((await inject('GET', '/api/v1/flags/nope', h())).statusCode).toBe(404);

    // The stranger's own flag is invisible from admin's tenant, and vice versa.
    const theirs = await t.app.inject({ method: 'POST', url: '/api/v1/flags', headers: authHeader(stranger.accessToken, stranger.organizationId), payload: { key: 'their-secret', type: 'boolean' } });
    expect(theirs.statusCode).toBe(201);
    expect((await inject('GET', '/api/v1/flags/their-secret', h())).statusCode).toBe(404);
    expect((await inject('PATCH', '/api/v1/flags/their-secret', h(), { name: 'mine' })).statusCode).toBe(404);
    expect((await inject('GET', '/api/v1/flags/banner', authHeader(stranger.accessToken, stranger.organizationId))).statusCode).toBe(404);

    const twin = await inject('POST', `/api/v1/flags/projects/${webProjectId}/flags`, h(), { key: 'twin', type: 'boolean' });
    expect(twin.statusCode).toBe(201);
    const twin2 = await createFlag({ key: 'twin', type: 'boolean' });
    expect(twin2.statusCode).toBe(201);
    for (const [method, url, payload] of [['GET', '/api/v1/flags/twin'], ['PATCH', '/api/v1/flags/twin', { name: 'T' }], ['POST', '/api/v1/flags/twin/enable'], ['POST', '/api/v1/flags/twin/evaluate', {}], ['GET', '/api/v1/flags/twin/history'], ['DELETE', '/api/v1/flags/twin']] as const) {
      const res = await inject(method, url, h(), payload);
      expect(res.statusCode, `${method} ${url}`).toBe(409);
      expect(res.json()).toMatchObject({ code: 'flag_key_ambiguous', details: { flagKey: 'twin', projects: expect.arrayContaining([{ key: 'default', name: 'Default' }, { key: 'web', name: 'Web' }]) } });
    }
    // Both twins are still there; the project routes reach each.
    expect((await inject('GET', `/api/v1/flags/projects/${webProjectId}/flags/twin`, h())).statusCode).toBe(200);
    expect((await inject('DELETE', `/api/v1/flags/projects/${webProjectId}/flags/twin`, h())).statusCode).toBe(204);
    expect((await inject('GET', '/api/v1/flags/twin', h())).json().projectId).toBe(defaultProjectId);
  });

  it('PATCH /flags/{flagKey}: changes what is given, stored and audited; viewers 403; bad input 422 naming the field; If-Match 412', async () => {
    const res = await inject('PATCH', '/api/v1/flags/new-checkout-flow', h(), { name: 'Updated Name', description: 'Updated description', defaultValue: true, tags: ['new-tag'] });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ name: 'Updated Name', description: 'Updated description', defaultValue: true, tags: ['new-tag'] });
    const row = await flagRow('new-checkout-flow', defaultProjectId);
    expect(row).toMatchObject({ name: 'Updated Name', description: 'Updated description', default_variation: 'on' });
    const audit = await db().selectFrom('audit_events').select('action').where('resource_id', '=', String(row!.id)).orderBy('created_at', 'desc').execute();
    expect(audit[0]!.action).toBe('flag.updated');

    const denied = await inject('PATCH', '/api/v1/flags/new-checkout-flow', h(viewer), { name: 'Viewer' });
    expect(denied.statusCode).toBe(403);
    const bad = await inject('PATCH', '/api/v1/flags/new-checkout-flow', h(), { name: '' });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().errors).toEqual({ name: expect.any(String) });
    const unknownField = await inject('PATCH', '/api/v1/flags/new-checkout-flow', h(), { colour: 'red' });
    expect(unknownField.statusCode).toBe(422);
    expect(unknownField.json().errors).toEqual({ colour: 'is not a known property' });
    const stale = await inject('PATCH', '/api/v1/flags/new-checkout-flow', h(admin, { 'if-match': '"1"' }), { name: 'Stale' });
    expect(stale.statusCode).toBe(412);
    expect((await flagRow('new-checkout-flow', defaultProjectId))!.name).toBe('Updated Name');
  });

  it('POST /flags/{flagKey}/enable and /disable: {"success": true} in X-Environment (default production), stored, audited; viewers 403; unknown environment 404', async () => {
    const row = (await flagRow('new-checkout-flow', defaultProjectId))!;
    const production = await envId(defaultProjectId, 'production');
    const on = await inject('POST', '/api/v1/flags/new-checkout-flow/enable', h());
    expect(on.statusCode).toBe(200);
    expect(on.json()).toEqual({ success: true });
    expect(await enabledRow(row.id, production)).toBe(1);
    expect((await inject('GET', '/api/v1/flags/new-checkout-flow', h())).json().enabled).toBe(true);
    const actions = await db().selectFrom('audit_events').select('action').where('resource_id', '=', String(row.id)).where('action', '=', 'flag.enabled').execute();
    expect(actions.length).toBeGreaterThan(0);

    expect((await inject('POST', '/api/v1/flags/new-checkout-flow/disable', h(viewer))).statusCode).toBe(403);
    expect(await enabledRow(row.id, production)).toBe(1);
    expect((await inject('POST', '/api/v1/flags/new-checkout-flow/disable', h(admin, { 'x-environment': 'moon' }))).statusCode).toBe(404);
    const off = await inject('POST', '/api/v1/flags/new-checkout-flow/disable', h());
    expect(off.json()).toEqual({ success: true });
    expect(await enabledRow(row.id, production)).toBe(0);
    expect((await inject('POST', '/api/v1/flags/nope/enable', h())).statusCode).toBe(404);
  });

  it('GET /flags/{flagKey}/history: IntelliToggle’s shape, newest first', async () => {
    const res = await inject('GET', '/api/v1/flags/new-checkout-flow/history', h(viewer));
    expect(res.statusCode).toBe(200);
    const entries = res.json() as Array<Record<string, unknown>>;
    expect(entries.map((e) => e.action).slice(0, 2)).toEqual(['disabled', 'enabled']);
    expect(entries.at(-1)).toMatchObject({ action: 'created', userId: `usr_${admin.userId}`, userName: 'Ada Admin' });
    expect(entries[1]).toEqual({ id: expect.stringMatching(/^hist_\d+$/), action: 'enabled', changes: { enabled: { from: false, to: true }, environment: { from: null, to: 'production' } }, userId: `usr_${admin.userId}`, userName: 'Ada Admin', timestamp: expect.stringMatching(/Z$/) });
    expect(res.headers['x-total-count']).toBe(String(entries.length));
  });

  it('variations: list, add (201, var_ id), change and delete (204) by var_ id; stored; viewers 403; a value of the wrong type is 422 naming value', async () => {
    const list = await inject('GET', '/api/v1/flags/new-checkout-flow/variations', h(viewer));
    expect(list.statusCode).toBe(200);
    expect(list.json()).toEqual([
      { id: expect.stringMatching(/^var_\d+$/), key: 'on', name: 'On', value: true, description: null, weight: null },
      { id: expect.stringMatching(/^var_\d+$/), key: 'off', name: 'Off', value: false, description: null, weight: null },
    ]);

    await createFlag({ key: 'plan-tier', type: 'string', flag_variations: [{ name: 'Control', value: 'control', description: 'Control group', weight: 50 }] });
    const added = await inject('POST', '/api/v1/flags/plan-tier/variations', h(), { name: 'Treatment', value: 'treatment', description: 'Treatment group', weight: 50 });
    expect(added.statusCode, added.body).toBe(201);
    const v = added.json();
    expect(v).toEqual({ id: expect.stringMatching(/^var_\d+$/), key: 'treatment', name: 'Treatment', value: 'treatment', description: 'Treatment group', weight: 50 });
    expect(await db().selectFrom('variations').select(['key', 'weight']).where('id', '=', numeric(v.id)).executeTakeFirst()).toEqual({ key: 'treatment', weight: 50 });

    const wrong = await inject('POST', '/api/v1/flags/plan-tier/variations', h(), { name: 'Number', value: 3 });
    expect(wrong.statusCode).toBe(422);
    expect(wrong.json().errors).toEqual({ value: expect.any(String) });
    expect((await inject('POST', '/api/v1/flags/plan-tier/variations', h(viewer), { value: 'v' })).statusCode).toBe(403);

    const changed = await inject('PATCH', `/api/v1/flags/plan-tier/variations/${v.id}`, h(), { name: 'Treatment B', weight: 40 });
    expect(changed.statusCode, changed.body).toBe(200);
    expect(changed.json()).toMatchObject({ id: v.id, name: 'Treatment B', weight: 40 });
    expect(await db().selectFrom('variations').select(['name', 'weight']).where('id', '=', numeric(v.id)).executeTakeFirst()).toEqual({ name: 'Treatment B', weight: 40 });
    expect((await inject('PATCH', `/api/v1/flags/plan-tier/variations/${v.id}`, h(viewer), { name: 'x' })).statusCode).toBe(403);
    expect((await inject('PATCH', '/api/v1/flags/plan-tier/variations/var_999999', h(), { name: 'x' })).statusCode).toBe(404);
    const badWeight = await inject('PATCH', `/api/v1/flags/plan-tier/variations/${v.id}`, h(), { weight: 101 });
    expect(badWeight.statusCode).toBe(422);
    expect(badWeight.json().errors).toHaveProperty('weight');

    expect((await inject('DELETE', `/api/v1/flags/plan-tier/variations/${v.id}`, h(viewer))).statusCode).toBe(403);
    const deleted = await inject('DELETE', `/api/v1/flags/plan-tier/variations/${v.id}`, h());
    expect(deleted.statusCode).toBe(204);
    expect(deleted.body).toBe('');
    expect(await db().selectFrom('variations').select('id').where('id', '=', numeric(v.id)).executeTakeFirst()).toBeUndefined();
    // The default variation is in use.
    const control = (await inject('GET', '/api/v1/flags/plan-tier/variations', h())).json()[0];
    expect((await inject('DELETE', `/api/v1/flags/plan-tier/variations/${control.id}`, h())).statusCode).toBe(409);
  });

  it('DELETE /flags/{flagKey}: 204 with no body, gone afterwards; viewers 403; unknown 404', async () => {
    await createFlag({ key: 'short-lived', type: 'boolean' });
    expect((await inject('DELETE', '/api/v1/flags/short-lived', h(viewer))).statusCode).toBe(403);
    expect(await flagRow('short-lived', defaultProjectId)).toBeDefined();
    const res = await inject('DELETE', '/api/v1/flags/short-lived', h());
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
    expect(await flagRow('short-lived', defaultProjectId)).toBeUndefined();
    expect((await inject('DELETE', '/api/v1/flags/short-lived', h())).statusCode).toBe(404);
  });

  describe('POST /flags/{flagKey}/evaluate', () => {
    let apiKey: string;
    const evaluate = (flagKey: string, payload: Record<string, unknown>, headers: Record<string, string> = h()) => inject('POST', `/api/v1/flags/${flagKey}/evaluate`, headers, payload);
    const viaApiKey = async (flagKey: string, context: Record<string, unknown>) => {
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/evaluate', headers: { 'x-api-key': apiKey }, payload: { flagKey, context } });
      expect(res.statusCode, res.body).toBe(200);
      return res.json() as { value: unknown; kind: string; enabled: boolean; variation: string };
    };
    const project = () => `/api/v1/projects/${defaultProjectId}`;

    beforeAll(async () => {
      const key = await t.app.inject({ method: 'POST', url: `${project()}/api-keys`, headers: authHeader(admin.accessToken), payload: { name: 'server', environment: 'production', scope: 'server' } });
      apiKey = key.json().key;
      await createFlag({ key: 'checkout', type: 'boolean', defaultValue: false });
      await createFlag({ key: 'payments', type: 'boolean', defaultValue: false });
    });

    it('answers {enabled, value, reason} with every reason, agreeing with /api/v1/evaluate for the same flag and context', async () => {
      const cases: Array<{ context: { targetingKey?: string; attributes?: Record<string, unknown> }; reason: string }> = [];
      const check = async (reason: string, context: { targetingKey?: string; attributes?: Record<string, unknown> }) => {
        const res = await evaluate('checkout', context);
        expect(res.statusCode, res.body).toBe(200);
        const body = res.json();
        expect(body).toMatchObject({ reason, flagKey: 'checkout', environment: 'production' });
        expect(Object.keys(body)).toEqual(expect.arrayContaining(['enabled', 'value', 'reason']));
        const same = await viaApiKey('checkout', { ...(context.attributes ?? {}), ...(context.targetingKey !== undefined ? { targetingKey: context.targetingKey } : {}) });
        expect([body.enabled, body.value, body.variation, body.reason]).toEqual([same.enabled, same.value, same.variation, same.kind]);
        cases.push({ context, reason });
        return body;
      };
      expect(await check('OFF', { targetingKey: 'user_123' })).toMatchObject({ enabled: false, value: false });
      await inject('POST', '/api/v1/flags/checkout/enable', h());
      expect(await check('FALLTHROUGH', { targetingKey: 'user_123' })).toMatchObject({ enabled: true, value: false });
      const rule = await t.app.inject({ method: 'POST', url: `${project()}/rules`, headers: authHeader(admin.accessToken), payload: { flag: 'checkout', environment: 'production', conditions: [{ attribute: 'plan', operator: 'EQUALS', value: 'premium' }], serve: 'on' } });
      expect(rule.statusCode, rule.body).toBe(200);
      expect(await check('RULE_MATCH', { targetingKey: 'user_123', attributes: { email: 'user@example.com', plan: 'premium', country: 'US' } })).toMatchObject({ enabled: true, value: true, ruleId: rule.json().id });
      const targets = await t.app.inject({ method: 'PATCH', url: `${project()}/flags/checkout/environments/production`, headers: authHeader(admin.accessToken), payload: { targets: [{ variation: 'on', values: ['vip'] }] } });
      expect(targets.statusCode, targets.body).toBe(200);
      expect(await check('TARGET_MATCH', { targetingKey: 'vip' })).toMatchObject({ value: true });
      const prereq = await t.app.inject({ method: 'PATCH', url: `${project()}/flags/checkout/environments/production`, headers: authHeader(admin.accessToken), payload: { prerequisites: [{ flag: 'payments', variation: 'on' }] } });
      expect(prereq.statusCode, prereq.body).toBe(200);
      expect(await check('PREREQUISITE_FAILED', { targetingKey: 'vip' })).toMatchObject({ enabled: true, value: false });
      await t.app.inject({ method: 'PATCH', url: `${project()}/flags/checkout/environments/production`, headers: authHeader(admin.accessToken), payload: { prerequisites: null } });
      expect(cases.map((c) => c.reason)).toEqual(['OFF', 'FALLTHROUGH', 'RULE_MATCH', 'TARGET_MATCH', 'PREREQUISITE_FAILED']);
    });

    it('reads the in-memory snapshot, not the database: a row changed behind the services’ back is not seen', async () => {
      const before = (await evaluate('checkout', { targetingKey: 'user_123' })).json();
      expect(before.enabled).toBe(true);
      const flag = (await flagRow('checkout', defaultProjectId))!;
      await db().updateTable('flag_environments').set({ enabled: 0 }).where('flag_id', '=', flag.id).execute();
      expect((await evaluate('checkout', { targetingKey: 'user_123' })).json()).toMatchObject({ enabled: true, reason: before.reason });
      await db().updateTable('flag_environments').set({ enabled: 1 }).where('flag_id', '=', flag.id).execute();
    });

    it('takes the environment from the body or X-Environment (they must agree); viewers may evaluate; errors are 404, 409 and 422', async () => {
      const staging = await evaluate('checkout', { targetingKey: 'u', environment: 'staging' }, h(viewer));
      expect(staging.statusCode).toBe(200);
      expect(staging.json()).toMatchObject({ enabled: false, reason: 'OFF', environment: 'staging' });
      expect((await evaluate('checkout', { targetingKey: 'u' }, h(viewer, { 'x-environment': 'staging' }))).json()).toMatchObject({ environment: 'staging', reason: 'OFF' });
      const clash = await evaluate('checkout', { targetingKey: 'u', environment: 'staging' }, h(admin, { 'x-environment': 'production' }));
      expect(clash.statusCode).toBe(422);
      expect(clash.json().errors).toEqual({ environment: expect.any(String) });
      const notString = await evaluate('checkout', { targetingKey: 42 });
      expect(notString.statusCode).toBe(422);
      expect(notString.json().errors).toHaveProperty('targetingKey');
      const extra = await evaluate('checkout', { context: {} });
      expect(extra.statusCode).toBe(422);
      expect(extra.json().errors).toEqual({ context: 'is not a known property' });

      const unknown = await evaluate('nope', { targetingKey: 'u' });
      expect(unknown.statusCode).toBe(404);
      expect(unknown.json().code).toBe('flag_not_found');
      expect((await evaluate('checkout', { environment: 'moon' })).statusCode).toBe(404);
      expect((await evaluate('checkout', {}, h(stranger))).statusCode).toBe(404);
      // An archived flag is out of evaluation.
      await inject('PATCH', `/api/v1/flags/projects/${defaultProjectId}/flags/payments`, h(), { status: 'archived' });
      expect((await evaluate('payments', {})).json().code).toBe('flag_not_found');
      // API keys have their own endpoint.
      const withKey = await t.app.inject({ method: 'POST', url: '/api/v1/flags/checkout/evaluate', headers: { 'x-api-key': apiKey, 'x-tenant-id': String(admin.organizationId) }, payload: {} });
      expect(withKey.statusCode).toBe(403);
    });

    it('counts evaluations like every other evaluation', async () => {
      await t.app.services.evaluationCounters.flush();
      const before = await t.app.services.evaluationCounters.read({ organizationId: admin.organizationId, flagKey: 'checkout' });
      await evaluate('checkout', { targetingKey: 'counted' });
      const after = await t.app.services.evaluationCounters.read({ organizationId: admin.organizationId, flagKey: 'checkout' });
      const sum = (rows: Array<{ count: number }>) => rows.reduce((n, r) => n + r.count, 0);
      expect(sum(after)).toBe(sum(before) + 1);
    });

    it('accepts an OAuth machine token with flags:evaluate, which may evaluate but not list or read flags', async () => {
      const client = await t.app.inject({ method: 'POST', url: '/api/v1/oauth/clients', headers: h(), payload: { name: 'backend', scopes: ['flags:evaluate'] } });
      expect(client.statusCode, client.body).toBe(201);
      const { clientId, clientSecret } = client.json();
      const token = await t.app.inject({
        method: 'POST',
        url: '/api/v1/oauth/token',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret, scope: 'flags:evaluate' }).toString(),
      });
      expect(token.statusCode, token.body).toBe(200);
      const machine = { accessToken: token.json().access_token as string };
      const res = await evaluate('checkout', { targetingKey: 'vip' }, h(machine, { 'x-environment': 'production' }));
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toMatchObject({ enabled: true, value: true, reason: 'TARGET_MATCH' });
      expect((await inject('GET', '/api/v1/flags', h(machine))).statusCode).toBe(403);
      expect((await inject('GET', '/api/v1/flags/checkout', h(machine))).statusCode).toBe(403);
      expect((await inject('POST', '/api/v1/flags/checkout/disable', h(machine))).statusCode).toBe(403);
      // Its tenant is its client's: another one is absent.
      expect((await evaluate('checkout', {}, h(machine, {}, stranger.organizationId))).statusCode).toBe(404);
    });
  });

  describe('project flags /api/v1/flags/projects/{projectId}/flags', () => {
    const url = (p: string, rest = '') => `/api/v1/flags/projects/${p}/flags${rest}`;

    it('creates with flag_variations (201), lists, gets; X-Tenant-ID optional but checked when given; 404 across tenants', async () => {
      const created = await inject('POST', url(webProjectId), h(), {
        key: 'test-feature1',
        name: 'Test Feature1',
        type: 'boolean',
        defaultValue: false,
        description: 'Test flag',
        flag_variations: [
          { name: 'Enabled', value: true, description: 'Feature enabled state' },
          { name: 'Disabled', value: false, description: 'Feature disabled state' },
        ],
      });
      expect(created.statusCode, created.body).toBe(201);
      expect(created.json()).toMatchObject({ key: 'test-feature1', projectId: webProjectId, defaultValue: false, variations: [{ key: 'enabled', value: true }, { key: 'disabled', value: false }] });
      expect(Object.keys(created.json())).toEqual(expect.arrayContaining(documentedFlagKeys));
      const stored = await db().selectFrom('variations').select(['key', 'description']).where('flag_id', '=', numeric(created.json().id)).orderBy('position').execute();
      expect(stored).toEqual([{ key: 'enabled', description: 'Feature enabled state' }, { key: 'disabled', description: 'Feature disabled state' }]);

      const list = await inject('GET', url(webProjectId), authHeader(viewer.accessToken));
      expect(list.statusCode).toBe(200);
      expect(list.json().map((f: { key: string }) => f.key)).toEqual(['banner', 'test-feature1']);
      expect(list.headers['x-total-count']).toBe('2');
      expect((await inject('GET', url('web', '/test-feature1'), h(viewer))).json()).toMatchObject({ key: 'test-feature1' });

      expect((await inject('POST', url(webProjectId), h(viewer), { key: 'v', type: 'boolean' })).statusCode).toBe(403);
      const bad = await inject('POST', url(webProjectId), h(), { key: 'b', type: 'boolean', flag_variations: [{ name: 'X', value: 'yes' }] });
      expect(bad.statusCode).toBe(422);
      expect(bad.json().errors).toEqual({ 'variations.0.value': expect.any(String) });

      for (const [method, path, payload] of projectRoutes(webProjectId)) {
        expect((await inject(method, path, authHeader(stranger.accessToken), payload)).statusCode, `${method} ${path}`).toBe(404);
        expect((await inject(method, path, h(admin, {}, stranger.organizationId), payload)).statusCode, `${method} ${path}`).toBe(404);
        const malformed = await inject(method, path, h(admin, {}, 'x'), payload);
        expect(malformed.statusCode, `${method} ${path}`).toBe(400);
      }
    });

    it('PATCH status archived / active archives and restores; name and description change; viewers 403; bad status 422', async () => {
      const archived = await inject('PATCH', url(webProjectId, '/test-feature1'), h(), { status: 'archived', name: 'Updated Name', description: 'Updated description' });
      expect(archived.statusCode, archived.body).toBe(200);
      expect(archived.json()).toMatchObject({ status: 'archived', name: 'Updated Name', description: 'Updated description', archivedAt: expect.stringMatching(/Z$/) });
      expect(await flagRow('test-feature1', webProjectId)).toMatchObject({ status: 'archived', name: 'Updated Name' });
      const actions = await db().selectFrom('audit_events').select('action').where('resource_id', '=', archived.json().id.slice(5)).execute();
      expect(actions.map((a) => a.action)).toContain('flag.archived');

      const inactive = await inject('PATCH', url(webProjectId, '/test-feature1'), h(), { status: 'inactive' });
      expect(inactive.json()).toMatchObject({ status: 'inactive', archivedAt: null });
      const active = await inject('PATCH', url(webProjectId, '/test-feature1'), h(), { status: 'active' });
      expect(active.json()).toMatchObject({ status: 'active', archivedAt: null });
      expect(await flagRow('test-feature1', webProjectId)).toMatchObject({ status: 'active', archived_at: null });

      expect((await inject('PATCH', url(webProjectId, '/test-feature1'), h(viewer), { status: 'archived' })).statusCode).toBe(403);
      const bad = await inject('PATCH', url(webProjectId, '/test-feature1'), h(), { status: 'deleted' });
      expect(bad.statusCode).toBe(422);
      expect(bad.json().errors).toEqual({ status: expect.any(String) });
    });

    it('enable / disable {"success": true} in X-Environment; DELETE 204; viewers 403', async () => {
      const staging = await envId(webProjectId, 'staging');
      const flag = (await flagRow('test-feature1', webProjectId))!;
      const on = await inject('POST', url(webProjectId, '/test-feature1/enable'), h(admin, { 'x-environment': 'staging' }));
      expect(on.statusCode).toBe(200);
      expect(on.json()).toEqual({ success: true });
      expect(await enabledRow(flag.id, staging)).toBe(1);
      expect((await inject('POST', url(webProjectId, '/test-feature1/disable'), h(viewer, { 'x-environment': 'staging' }))).statusCode).toBe(403);
      const off = await inject('POST', url(webProjectId, '/test-feature1/disable'), { ...authHeader(admin.accessToken), 'x-environment': 'staging' });
      expect(off.json()).toEqual({ success: true });
      expect(await enabledRow(flag.id, staging)).toBe(0);

      expect((await inject('DELETE', url(webProjectId, '/test-feature1'), h(viewer))).statusCode).toBe(403);
      const gone = await inject('DELETE', url(webProjectId, '/test-feature1'), h());
      expect(gone.statusCode).toBe(204);
      expect(gone.body).toBe('');
      expect(await flagRow('test-feature1', webProjectId)).toBeUndefined();
      expect((await inject('GET', url(webProjectId, '/test-feature1'), h())).statusCode).toBe(404);
    });

    it('a flag keyed "projects" is still reachable at /api/v1/flags/projects, and the project routes still work', async () => {
      const created = await createFlag({ key: 'projects', type: 'boolean' });
      expect(created.statusCode, created.body).toBe(201);
      const got = await inject('GET', '/api/v1/flags/projects', h());
      expect(got.statusCode, got.body).toBe(200);
      expect(got.json()).toMatchObject({ key: 'projects', projectId: defaultProjectId });
      expect((await inject('POST', '/api/v1/flags/projects/enable', h())).json()).toEqual({ success: true });
      expect((await inject('GET', '/api/v1/flags/projects', h())).json().enabled).toBe(true);
      expect((await inject('GET', '/api/v1/flags/projects/variations', h())).json()).toHaveLength(2);
      expect((await inject('GET', '/api/v1/flags/projects/history', h())).statusCode).toBe(200);
      expect((await inject('POST', '/api/v1/flags/projects/evaluate', h(), {})).json()).toMatchObject({ flagKey: 'projects', reason: 'FALLTHROUGH' });
      expect((await inject('PATCH', '/api/v1/flags/projects', h(), { name: 'Projects flag' })).json().name).toBe('Projects flag');
      expect((await inject('GET', url(defaultProjectId, '/projects'), h())).json()).toMatchObject({ key: 'projects', name: 'Projects flag' });
      expect((await inject('GET', url(defaultProjectId), h())).statusCode).toBe(200);
      expect((await inject('DELETE', '/api/v1/flags/projects', h())).statusCode).toBe(204);
      expect(await flagRow('projects', defaultProjectId)).toBeUndefined();
    });
  });
});
