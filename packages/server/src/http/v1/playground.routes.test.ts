import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authHeader, signUp, type SignedUpUser } from '../../testing/auth.js';
import { createApiKey, evaluateWith } from '../../testing/evaluation-fixtures.js';
import { createTestApp, type TestApp } from '../../testing/test-app.js';
import { testDialects } from '../../testing/test-database.js';

type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

describe.each(testDialects())('POST /api/v1/projects/{project_id}/environments/{environment_key}/evaluate on %s', (dialect) => {
  let t: TestApp;
  let admin: SignedUpUser;
  let serverKey: string;
  const rules: string[] = [];
  let segmentRule: string;

  const ok = async (method: Method, url: string, payload?: unknown) => {
    const res = await t.app.inject({ method, url, headers: authHeader(admin.accessToken), ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}) });
    if (res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
    return res;
  };
  const run = (payload: unknown, opts: { token?: string | null; url?: string } = {}) =>
    t.app.inject({
      method: 'POST',
      url: opts.url ?? '/api/v1/projects/default/environments/production/evaluate',
      headers: opts.token === null ? {} : authHeader(opts.token ?? admin.accessToken),
      payload: payload as Record<string, unknown>,
    });

  beforeAll(async () => {
    t = await createTestApp(dialect);
    admin = await signUp(t.app);
    await ok('POST', '/api/v1/projects/default/flags', {
      key: 'banner',
      type: 'string',
      variations: [
        { key: 'red', name: 'Red', value: 'red' },
        { key: 'blue', name: 'Blue', value: 'blue' },
        { key: 'green', name: 'Green', value: 'green' },
      ],
      defaultValue: 'red',
    });
    await ok('POST', '/api/v1/projects/default/flags/banner/environments/production/enable');
    const add = async (body: Record<string, unknown>) => (await ok('POST', '/api/v1/projects/default/rules', { environment: 'production', ...body })).json().id as string;
    rules.push(
      await add({ flag: 'banner', conditions: [{ attribute: 'plan', operator: 'EQUALS', value: 'pro' }, { attribute: 'country', operator: 'IN', value: ['NL', 'BE'] }], serve: 'blue' }),
      await add({ flag: 'banner', conditions: [{ attribute: 'country', operator: 'EQUALS', value: 'NL' }], serve: 'green' }),
      await add({ flag: 'banner', conditions: [{ attribute: 'age', operator: 'GREATER_THAN', value: 18 }], serve: 'blue' }),
    );
    await ok('POST', '/api/v1/projects/default/segments', { key: 'beta', name: 'Beta', included: ['u-beta'], conditions: [{ attribute: 'email', operator: 'ENDS_WITH', value: '@beta.test' }] });
    await ok('POST', '/api/v1/projects/default/flags', { key: 'beta-ui', type: 'boolean', defaultValue: false });
    await ok('POST', '/api/v1/projects/default/flags/beta-ui/environments/production/enable');
    segmentRule = await add({ flag: 'beta-ui', segments: ['beta'], serve: 'on' });
    // `gated` needs `beta-ui` on: a subject outside the segment fails the prerequisite.
    await ok('POST', '/api/v1/projects/default/flags', { key: 'gated', type: 'boolean', defaultValue: false });
    await ok('PATCH', '/api/v1/projects/default/flags/gated/environments/production', { enabled: true, defaultServe: 'on', prerequisites: [{ flag: 'beta-ui', variation: 'on' }] });
    serverKey = (await createApiKey(t.app, admin.accessToken, 'default', { environment: 'production', scope: 'server' })).key;
  });
  afterAll(async () => t?.close());

  it('gives the same results as /api/v1/evaluate with a key of that environment', async () => {
    for (const context of [{ targetingKey: 'u1', country: 'NL', plan: 'free' }, { targetingKey: 'u-beta' }, { targetingKey: 'x', age: 40, email: 'a@beta.test' }, {}]) {
      const mine = await run({ context });
      expect(mine.statusCode, mine.body).toBe(200);
      const theirs = await evaluateWith(t.app, serverKey, { context });
      expect(mine.json()).toEqual({ environment: 'production', results: theirs.json().results });
    }
    const some = await run({ flagKeys: ['nope', 'banner'], context: { country: 'NL' } });
    const theirs = await evaluateWith(t.app, serverKey, { flagKeys: ['nope', 'banner'], context: { country: 'NL' } });
    expect(some.json().results).toEqual(theirs.json().results);
    expect(some.json().results[1]).toMatchObject({ variation: 'green', ruleId: rules[1] });
  });

  it('explains one flag: the second of three rules matched, the first failed on a named condition, the third was not evaluated', async () => {
    const res = await run({ context: { targetingKey: 'u1', country: 'NL', plan: 'free' }, explain: 'banner' });
    expect(res.statusCode, res.body).toBe(200);
    const results = res.json().results as Array<{ flagKey: string; explanation?: unknown }>;
    expect(results.filter((r) => r.explanation !== undefined).map((r) => r.flagKey)).toEqual(['banner']);
    const banner = results.find((r) => r.flagKey === 'banner')!;
    expect(banner).toMatchObject({ variation: 'green', reason: 'TARGETING_MATCH', ruleId: rules[1] });
    expect(banner.explanation).toEqual({
      decidedBy: 'RULE',
      enabled: true,
      prerequisites: [],
      target: null,
      expression: false,
      rules: [
        { index: 0, ruleId: rules[0], status: 'NOT_MATCHED', conditions: [{ index: 0, held: false }, { index: 1, held: true }], segments: [] },
        { index: 1, ruleId: rules[1], status: 'MATCHED', conditions: [{ index: 0, held: true }], segments: [] },
        { index: 2, ruleId: rules[2], status: 'NOT_EVALUATED', conditions: [], segments: [] },
      ],
      defaultServe: { served: false },
    });
  });

  it('explains a segment rule, and a prerequisite that fails', async () => {
    const inside = await run({ flagKeys: ['beta-ui'], context: { targetingKey: 'x', email: 'a@beta.test' }, explain: 'beta-ui' });
    expect(inside.json().results[0].explanation.rules).toEqual([{ index: 0, ruleId: segmentRule, status: 'MATCHED', conditions: [], segments: [{ segment: 'beta', member: true }] }]);
    const outside = await run({ flagKeys: ['beta-ui'], context: { targetingKey: 'x', email: 'a@example.test' }, explain: 'beta-ui' });
    expect(outside.json().results[0].explanation).toMatchObject({ decidedBy: 'DEFAULT', rules: [{ status: 'NOT_MATCHED', segments: [{ segment: 'beta', member: false }] }], defaultServe: { served: true } });

    const gated = await run({ flagKeys: ['gated'], context: { targetingKey: 'x' }, explain: 'gated' });
    expect(gated.statusCode, gated.body).toBe(200);
    expect(gated.json().results[0]).toMatchObject({ kind: 'PREREQUISITE_FAILED', variation: 'off' });
    expect(gated.json().results[0].explanation).toMatchObject({
      decidedBy: 'PREREQUISITE',
      prerequisites: [{ flagKey: 'beta-ui', requiredVariation: 'on', enabled: true, variation: 'off', passed: false }],
      rules: [],
    });
  });

  it('401 without a token, 404 for another organisation’s project or an unknown environment, 422 naming the field', async () => {
    expect((await run({ context: {} }, { token: null })).statusCode).toBe(401);
    const other = await signUp(t.app);
    const theirs = (await t.app.inject({ method: 'GET', url: '/api/v1/projects/default', headers: authHeader(other.accessToken) })).json().id as string;
    const hidden = await run({ context: {} }, { url: `/api/v1/projects/${theirs}/environments/production/evaluate` });
    expect(hidden.statusCode).toBe(404);
    // Not even a 422 before the 404.
    expect((await run({ context: 5 }, { url: `/api/v1/projects/${theirs}/environments/production/evaluate` })).statusCode).toBe(404);
    expect((await run({ context: {} }, { url: '/api/v1/projects/default/environments/nowhere/evaluate' })).statusCode).toBe(404);

    const field = async (payload: unknown, name: string) => {
      const res = await run(payload);
      expect(res.statusCode, res.body).toBe(422);
      expect(JSON.stringify(res.json()), res.body).toContain(name);
    };
    let deep: Record<string, unknown> = { v: 1 };
    for (let i = 0; i < 11; i++) deep = { n: deep };
    await field({ context: deep }, 'context');
    await field({ flagKeys: Array.from({ length: 1001 }, (_, i) => `f${i}`) }, 'flagKeys');
    await field({ flagKeys: ['bad key!'] }, 'flagKeys');
    await field({ explain: 'nope' }, 'explain');
    await field({ flagKeys: ['banner'], explain: 'gated' }, 'explain');
    await field({ context: { targetingKey: 5 } }, 'targetingKey');
    await field({ extra: 1 }, 'extra');
  });

  it('counts nothing in usage', async () => {
    const { evaluationCounters } = t.app.services;
    await evaluationCounters.flush();
    const before = await evaluationCounters.read({ organizationId: admin.organizationId, flagKey: 'banner' });
    for (let i = 0; i < 5; i++) await run({ context: { targetingKey: `p${i}`, country: 'NL' }, explain: 'gated' });
    expect(await evaluationCounters.read({ organizationId: admin.organizationId, flagKey: 'banner' })).toEqual(before);
    await evaluationCounters.flush();
    expect(await evaluationCounters.read({ organizationId: admin.organizationId, flagKey: 'banner' })).toEqual(before);
    // The same runs with a key are counted: the check above can see counts.
    await evaluateWith(t.app, serverKey, { flagKey: 'banner', context: { country: 'NL' } });
    const after = await evaluationCounters.read({ organizationId: admin.organizationId, flagKey: 'banner' });
    expect(after.reduce((n, r) => n + r.count, 0) - before.reduce((n, r) => n + r.count, 0)).toBe(1);
  });
});
