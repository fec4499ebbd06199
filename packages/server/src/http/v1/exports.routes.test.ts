import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inviteAndJoin } from '../../testing/access-fixtures.js';
import { authHeader, signUp, type SignedUpUser } from '../../testing/auth.js';
import { createApiKey, evaluateWith } from '../../testing/evaluation-fixtures.js';
import { createTestApp, type TestApp } from '../../testing/test-app.js';
import { testDialects } from '../../testing/test-database.js';

/** The contexts both organisations are evaluated for: targets, rule matches, segments, splits, none. */
const contexts: Array<Record<string, unknown>> = [
  {},
  { targetingKey: 'vip-1' },
  { targetingKey: 'u-1', email: 'ada@company.com' },
  { targetingKey: 'u-2', email: 'bo@example.com', country: 'NL' },
  { targetingKey: 'u-3', country: 'DE', plan: 'pro' },
  ...Array.from({ length: 20 }, (_, i) => ({ targetingKey: `user-${i}`, plan: i % 3 === 0 ? 'pro' : 'free' })),
];

describe.each(testDialects())('exports and imports on %s', (dialect) => {
  let t: TestApp;
  let source: SignedUpUser;
  const project = '/api/v1/projects/default';

  const as = (u: { accessToken: string }) => authHeader(u.accessToken);
  const call = (u: { accessToken: string }, method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, payload?: unknown) =>
    t.app.inject({ method, url, headers: as(u), ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}) });
  const ok = async (u: { accessToken: string }, method: 'POST' | 'PUT' | 'PATCH', url: string, payload?: unknown) => {
    const res = await call(u, method, url, payload);
    expect(res.statusCode, `${method} ${url}: ${res.body}`).toBeLessThan(300);
    return res;
  };
  /** Starts an export, waits for the background job, and answers the downloaded document. */
  const exportOf = async (u: { accessToken: string }, body: Record<string, unknown> = {}) => {
    const started = await call(u, 'POST', '/api/v1/exports', body);
    expect(started.statusCode, started.body).toBe(200);
    const { id, status } = started.json();
    expect(id).toMatch(/^exp_\d+$/);
    expect(['pending', 'running', 'completed']).toContain(status);
    await t.app.services.exports.idle();
    const polled = await call(u, 'GET', `/api/v1/exports/${id}`);
    expect(polled.statusCode).toBe(200);
    expect(polled.json()).toMatchObject({ id, status: 'completed', error: null });
    const downloaded = await call(u, 'GET', `/api/v1/exports/${id}/download`);
    expect(downloaded.statusCode, downloaded.body).toBe(200);
    expect(downloaded.headers['content-disposition']).toMatch(/attachment; filename="switchyard-export-\d+\.json"/);
    return { id: id as string, document: downloaded.json() };
  };

  beforeAll(async () => {
    t = await createTestApp(dialect);
    source = await signUp(t.app);
    const s = source;
    await ok(s, 'POST', `${project}/segments`, { key: 'staff', name: 'Staff', conditions: [{ attribute: 'email', operator: 'ENDS_WITH', value: '@company.com' }], included: ['u-3'] });
    await ok(s, 'POST', `${project}/flags`, { key: 'checkout', name: 'New checkout', type: 'boolean', defaultValue: false, tags: ['payments'], description: 'The new checkout' });
    for (const env of ['production', 'staging']) {
      await ok(s, 'POST', `${project}/flags/checkout/environments/${env}/enable`);
      await ok(s, 'PUT', `${project}/flags/checkout/environments/${env}`, {
        targets: [{ variation: 'on', values: ['vip-1'] }],
        defaultServe: { rollout: { variations: [{ variation: 'on', weight: 30 }, { variation: 'off', weight: 70 }] } },
      });
      await ok(s, 'POST', `${project}/rules`, { flag: 'checkout', environment: env, segments: ['staff'], serve: 'on', description: 'staff first' });
      await ok(s, 'POST', `${project}/rules`, { flag: 'checkout', environment: env, conditions: [{ attribute: 'country', operator: 'IN', value: ['NL'] }], serve: 'off' });
    }
    await ok(s, 'POST', `${project}/flags`, {
      key: 'theme',
      type: 'string',
      variations: [
        { key: 'light', value: 'light' },
        { key: 'dark', value: 'dark' },
        { key: 'contrast', value: 'high-contrast' },
      ],
      defaultVariation: 'light',
    });
    await ok(s, 'POST', `${project}/flags/theme/environments/production/enable`);
    await ok(s, 'POST', `${project}/rules`, { flag: 'theme', environment: 'production', conditions: [{ attribute: 'plan', operator: 'EQUALS', value: 'pro' }], serve: 'dark' });
    await ok(s, 'PUT', `${project}/flags/theme/environments/production`, { prerequisites: [{ flag: 'checkout', variation: 'on' }], offVariation: 'contrast' });
    await ok(s, 'POST', `${project}/flags`, { key: 'limits', type: 'json', defaultValue: { max: 10 } });
    await ok(s, 'POST', `${project}/flags/limits/environments/staging/enable`);
    await ok(s, 'POST', `${project}/flags`, { key: 'retired', type: 'boolean', defaultValue: true, status: 'inactive' });
    await ok(s, 'POST', '/api/v1/projects', { name: 'Mobile', key: 'mobile' });
    await ok(s, 'POST', '/api/v1/projects/mobile/flags', { key: 'offline-mode', type: 'number', defaultValue: 3 });
  });
  afterAll(async () => t?.close());

  const evaluateAll = async (key: string) => {
    const out: unknown[] = [];
    for (const context of contexts) {
      const res = await evaluateWith(t.app, key, { context });
      expect(res.statusCode, res.body).toBe(200);
      // Rule ids are the organisation's own; whether a rule served, and what, must be equal.
      out.push((res.json().results as Array<Record<string, unknown>>).map(({ ruleId, ...r }) => ({ ...r, byRule: ruleId !== undefined })));
    }
    return out;
  };

  it('POST answers {id, status}; the job completes in the background; the document holds everything', async () => {
    const { document } = await exportOf(source);
    expect(document).toMatchObject({ format: 'switchyard.export', version: 1, source: { organizationId: source.organizationId, projectKey: null } });
    expect(document.environments.map((e: { key: string }) => e.key)).toEqual(['development', 'staging', 'production']);
    expect(document.projects.map((p: { key: string }) => p.key)).toEqual(['default', 'mobile']);
    const def = document.projects[0];
    expect(def.segments).toEqual([{ key: 'staff', name: 'Staff', description: null, conditions: [{ attribute: 'email', operator: 'ENDS_WITH', value: '@company.com' }], included: ['u-3'], excluded: [] }]);
    const checkout = def.flags.find((f: { key: string }) => f.key === 'checkout');
    expect(checkout).toMatchObject({ type: 'boolean', tags: ['payments'], description: 'The new checkout', defaultVariation: 'off', status: 'active' });
    expect(checkout.variations.map((v: { key: string; value: unknown }) => [v.key, v.value])).toEqual([['on', true], ['off', false]]);
    expect(Object.keys(checkout.environments)).toEqual(['staging', 'production']);
    expect(checkout.environments.production).toMatchObject({
      enabled: true,
      targets: [{ variation: 'on', values: ['vip-1'] }],
      rules: [
        { description: 'staff first', segments: ['staff'], serve: { variation: 'on' } },
        { conditions: [{ attribute: 'country', operator: 'IN', value: ['NL'] }], serve: { variation: 'off' } },
      ],
    });
    expect(document.auditLog.some((a: { action: string }) => a.action === 'flag.created')).toBe(true);
    expect(document.auditLog.some((a: { action: string; projectKey: string | null }) => a.action === 'flag.created' && a.projectKey === 'mobile')).toBe(true);
  });

  it('an export imported into an empty organisation reproduces identical evaluation results; a round trip loses nothing', async () => {
    const { document } = await exportOf(source);
    const target = await signUp(t.app);

    // Dry run: a report of what would be created or changed, and nothing written.
    const before = (await exportOf(target)).document;
    const dry = await call(target, 'POST', '/api/v1/imports?dryRun=true', document);
    expect(dry.statusCode, dry.body).toBe(200);
    const plan = dry.json();
    expect(plan.dryRun).toBe(true);
    expect(plan.changes).toEqual(
      expect.arrayContaining([
        { entity: 'project', project: 'default', key: 'default', action: 'unchanged' },
        { entity: 'project', project: 'mobile', key: 'mobile', action: 'create' },
        { entity: 'flag', project: 'default', key: 'checkout', action: 'create' },
        { entity: 'segment', project: 'default', key: 'staff', action: 'create' },
        { entity: 'environment', project: 'default', key: 'production', action: 'unchanged' },
      ]),
    );
    // mobile, its three environments, the staff segment, four flags of default and one of mobile.
    expect(plan.summary.create).toBe(10);
    expect(plan.auditEvents).toBeGreaterThan(0);
    const untouched = (await exportOf(target)).document;
    expect({ ...untouched, exportedAt: null, auditLog: null }).toEqual({ ...before, exportedAt: null, auditLog: null });
    expect(untouched.auditLog.filter((a: { action: string }) => !a.action.startsWith('export.'))).toEqual(before.auditLog.filter((a: { action: string }) => !a.action.startsWith('export.')));
    // The body flag does the same as the query parameter.
    const dryBody = await call(target, 'POST', '/api/v1/imports', { document, dryRun: true });
    expect(dryBody.json()).toEqual(plan);

    const applied = await call(target, 'POST', '/api/v1/imports', document);
    expect(applied.statusCode, applied.body).toBe(200);
    expect(applied.json()).toMatchObject({ dryRun: false, summary: plan.summary, auditEvents: plan.auditEvents });

    for (const env of ['production', 'staging', 'development']) {
      const a = await createApiKey(t.app, source.accessToken, 'default', { environment: env, scope: 'server' });
      const b = await createApiKey(t.app, target.accessToken, 'default', { environment: env, scope: 'server' });
      const left = await evaluateAll(a.key);
      // Not vacuous: rules, targets and splits serve in the configured environments.
      if (env !== 'development') expect(JSON.stringify(left)).toMatch(/"byRule":true[\s\S]*"kind":"TARGET_MATCH"|"kind":"TARGET_MATCH"[\s\S]*"byRule":true/);
      if (env !== 'development') expect(JSON.stringify(left)).toContain('"reason":"SPLIT"');
      expect(await evaluateAll(b.key)).toEqual(left);
    }
    const mobileA = await createApiKey(t.app, source.accessToken, 'mobile', { environment: 'production', scope: 'sdk' });
    const mobileB = await createApiKey(t.app, target.accessToken, 'mobile', { environment: 'production', scope: 'sdk' });
    expect(await evaluateAll(mobileB.key)).toEqual(await evaluateAll(mobileA.key));

    // Round trip: the target's export holds the same configuration, and the source's history.
    const again = (await exportOf(target)).document;
    expect(again.projects).toEqual(document.projects);
    expect(again.environments).toEqual(document.environments);
    const history = (d: { auditLog: Array<{ action: string }> }) => d.auditLog.filter((a) => !a.action.startsWith('export.'));
    expect(again.auditLog).toEqual(expect.arrayContaining(history(document)));

    // Importing it again changes nothing and repeats no history.
    const twice = await call(target, 'POST', '/api/v1/imports?dryRun=true', document);
    expect(twice.json().summary).toMatchObject({ create: 0, update: 0 });
    expect(twice.json().auditEvents).toBe(0);
  });

  it('a round trip keeps flagd semantics: a disabled flagd flag and one without a default stay value-less', async () => {
    const owner = await signUp(t.app);
    const flagdDoc = {
      flags: {
        gone: { state: 'DISABLED', variants: { on: true, off: false }, defaultVariant: 'on' },
        maybe: { state: 'ENABLED', variants: { a: 'A', b: 'B' }, targeting: { if: [{ ends_with: [{ var: 'email' }, '@x.com'] }, 'b', null] } },
      },
    };
    await ok(owner, 'POST', '/api/v1/projects/default/environments/production/flagd', flagdDoc);
    const { document } = await exportOf(owner);
    const target = await signUp(t.app);
    const applied = await call(target, 'POST', '/api/v1/imports', document);
    expect(applied.statusCode, applied.body).toBe(200);
    const results = async (u: SignedUpUser) => {
      const key = await createApiKey(t.app, u.accessToken, 'default', { environment: 'production', scope: 'server' });
      const out: unknown[] = [];
      for (const context of [{ targetingKey: 'u1', email: 'a@x.com' }, { targetingKey: 'u2', email: 'a@y.com' }]) {
        const res = await evaluateWith(t.app, key.key, { flagKeys: ['gone', 'maybe'], context });
        out.push((res.json().results as Array<Record<string, unknown>>).map(({ flagKey, value, variation, reason }) => ({ flagKey, value, variation, reason })));
      }
      return out;
    };
    const left = await results(owner);
    // Not vacuous: the flagd flags answer without a value where flagd would.
    expect(JSON.stringify(left)).toContain('"reason":"DISABLED"');
    expect(JSON.stringify(left)).toContain('"reason":"DEFAULT"');
    expect(await results(target)).toEqual(left);
    expect((await exportOf(target)).document.projects).toEqual(document.projects);
  });

  it('an import changes what differs and reports it as update', async () => {
    const target = await signUp(t.app);
    await ok(target, 'POST', `${project}/flags`, { key: 'checkout', type: 'boolean', defaultValue: true, description: 'local' });
    const { document } = await exportOf(source, { projectId: 'default' });
    expect(document.source.projectKey).toBe('default');
    expect(document.projects.map((p: { key: string }) => p.key)).toEqual(['default']);
    expect(document.environments).toEqual([]);
    const res = await call(target, 'POST', '/api/v1/imports', document);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().changes).toEqual(expect.arrayContaining([{ entity: 'flag', project: 'default', key: 'checkout', action: 'update' }]));
    const flag = await call(target, 'GET', `${project}/flags/checkout`);
    expect(flag.json()).toMatchObject({ description: 'The new checkout', tags: ['payments'] });
  });

  it('refuses a document that would not evaluate, naming the field, and writes none of it', async () => {
    const { document } = await exportOf(source, { projectId: 'default' });
    const target = await signUp(t.app);
    const broken = structuredClone(document);
    const flag = broken.projects[0].flags.find((f: { key: string }) => f.key === 'checkout');
    flag.environments.production.rules[0].serve = { variation: 'nope' };
    const res = await call(target, 'POST', '/api/v1/imports', broken);
    expect(res.statusCode, res.body).toBe(422);
    expect(Object.keys(res.json().errors).some((k) => k.startsWith('projects[0].flags.checkout'))).toBe(true);
    const other = structuredClone(document);
    other.version = 2;
    expect((await call(target, 'POST', '/api/v1/imports', other)).statusCode).toBe(422);
    const typeClash = structuredClone(document);
    await ok(target, 'POST', `${project}/flags`, { key: 'theme', type: 'number', defaultValue: 1 });
    const clash = await call(target, 'POST', '/api/v1/imports', typeClash);
    expect(clash.statusCode).toBe(422);
    expect(JSON.stringify(clash.json().errors)).toMatch(/type never changes/);
    // Nothing of the refused imports was written (one transaction).
    expect((await call(target, 'GET', `${project}/flags/checkout`)).statusCode).toBe(404);
    expect((await call(target, 'GET', `${project}/segments/staff`)).statusCode).toBe(404);
  });

  it('download is 409 export_not_ready until completed; unknown and other organisations’ exports are 404', async () => {
    // Jobs caught mid-way (the background runner starts them on the next turn of the event loop).
    const db = t.database.handle.db;
    const stuck = async (status: string) => {
      const id = Math.floor(Math.random() * 1e12) + 1;
      await db.insertInto('exports').values({ id, organization_id: source.organizationId, project_id: null, requested_by: source.userId, status, document: null, error: status === 'failed' ? 'The export could not be built' : null, created_at: new Date().toISOString(), started_at: null, completed_at: null }).execute();
      return `exp_${id}`;
    };
    for (const status of ['pending', 'running', 'failed']) {
      const jobId = await stuck(status);
      expect((await call(source, 'GET', `/api/v1/exports/${jobId}`)).json()).toMatchObject({ id: jobId, status });
      const early = await call(source, 'GET', `/api/v1/exports/${jobId}/download`);
      expect(early.statusCode, early.body).toBe(409);
      expect(early.json()).toMatchObject({ code: 'export_not_ready', details: { status } });
    }
    const { id } = await exportOf(source);
    const other = await signUp(t.app);
    expect((await call(other, 'GET', `/api/v1/exports/${id}`)).statusCode).toBe(404);
    expect((await call(other, 'GET', `/api/v1/exports/${id}/download`)).statusCode).toBe(404);
    expect((await call(other, 'GET', '/api/v1/exports/exp_123')).statusCode).toBe(404);
    expect((await call(other, 'GET', '/api/v1/exports/not-an-id')).statusCode).toBe(404);
    // Another organisation's project cannot be exported either.
    expect((await call(other, 'POST', '/api/v1/exports', { projectId: 'mobile' })).statusCode).toBe(404);
  });

  it('401 without a token; 403 for a viewer; bad bodies refused', async () => {
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/exports', payload: {} })).statusCode).toBe(401);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/exports/exp_1' })).statusCode).toBe(401);
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/imports', payload: {} })).statusCode).toBe(401);
    const viewer = await inviteAndJoin(t.app, source, 'viewer');
    const asViewer = { accessToken: viewer.accessToken };
    expect((await call(asViewer, 'POST', '/api/v1/exports', {})).statusCode).toBe(403);
    const { id, document } = await exportOf(source);
    expect((await call(asViewer, 'GET', `/api/v1/exports/${id}`)).statusCode).toBe(403);
    expect((await call(asViewer, 'POST', '/api/v1/imports?dryRun=true', document)).statusCode).toBe(403);
    expect((await call(source, 'POST', '/api/v1/exports', { projectId: 'default', extra: 1 })).statusCode).toBe(422);
    expect((await call(source, 'POST', '/api/v1/imports', { format: 'something-else' })).statusCode).toBe(422);
    expect((await call(source, 'POST', '/api/v1/imports?dryRun=maybe', document)).statusCode).toBe(400);
  });
});
