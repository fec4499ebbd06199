import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigChange } from '../../evaluation/change-bus.js';
import { as, expectProblem, flipswitchCast, type FlipswitchCast } from '../../testing/flipswitch-fixtures.js';
import { createTestApp, type TestApp } from '../../testing/test-app.js';
import { testDialects } from '../../testing/test-database.js';

describe.each(testDialects())('Flipswitch flags and flag rules on %s', (dialect) => {
  let t: TestApp;
  let c: FlipswitchCast;
  let darkMode: number;
  let strangerFlag: number;
  const published: ConfigChange[] = [];
  beforeAll(async () => {
    t = await createTestApp(dialect);
    c = await flipswitchCast(t.app);
    t.app.services.changes.subscribe((change) => void published.push(change));
    const theirs = await t.app.inject({ method: 'POST', url: `/api/admin/projects/${c.strangerProjectId}/flags`, headers: as(c.stranger), payload: { key: 'theirs', name: 'Theirs', type: 'boolean' } });
    strangerFlag = theirs.json().id;
  });
  afterAll(async () => t?.close());

  const db = () => t.database.handle.db;
  const req = (method: 'GET' | 'POST' | 'PUT', url: string, who: { accessToken: string } | null, payload?: Record<string, unknown>) =>
    t.app.inject({ method, url: `/api/admin${url}`, ...(who ? { headers: as(who) } : {}), ...(payload !== undefined ? { payload } : {}) });
  const flags = () => `/projects/${c.projectId}/flags`;
  const rules = (flagId: number, envId: number, projectId = c.projectId) => `/projects/${projectId}/flags/${flagId}/environments/${envId}/rules`;

  it('POST …/flags creates a boolean flag as documented (201, integer id); GET lists {id, key, name, type, defaultValue, description}', async () => {
    const res = await req('POST', flags(), c.projectAdmin, { key: 'dark-mode', name: 'Dark Mode', type: 'boolean', defaultValue: false, description: 'Enable dark mode theme' });
    expect(res.statusCode, res.body).toBe(201);
    const body = res.json();
    expect(body).toEqual({
      id: expect.any(Number),
      key: 'dark-mode',
      name: 'Dark Mode',
      type: 'boolean',
      defaultValue: false,
      description: 'Enable dark mode theme',
      variants: [{ key: 'on', name: 'On', value: true }, { key: 'off', name: 'Off', value: false }],
    });
    darkMode = body.id;
    expect(await db().selectFrom('flags').select(['key', 'type', 'default_variation', 'project_id']).where('id', '=', darkMode).executeTakeFirstOrThrow()).toEqual({ key: 'dark-mode', type: 'boolean', default_variation: 'off', project_id: c.projectId });
    const list = await req('GET', flags(), c.viewer);
    expect(list.statusCode).toBe(200);
    expect(list.json()).toEqual([body]);
    expect(list.headers['x-total-count']).toBe('1');
  });

  it('flag types: string, number and object (our json); object flags keep any JSON value; variants may be given', async () => {
    const str = await req('POST', flags(), c.owner, { key: 'button-color', name: 'Button', type: 'string', defaultValue: 'blue', variants: [{ key: 'blue', value: 'blue' }, { key: 'green', value: 'green' }] });
    expect(str.json()).toMatchObject({ type: 'string', defaultValue: 'blue', variants: [{ key: 'blue' }, { key: 'green' }] });
    const num = await req('POST', flags(), c.owner, { key: 'limit', name: 'Limit', type: 'number', defaultValue: 3.14 });
    expect(num.json()).toMatchObject({ type: 'number', defaultValue: 3.14, variants: [{ key: 'default', value: 3.14 }] });
    const obj = await req('POST', flags(), c.owner, { key: 'theme', name: 'Theme', type: 'object', defaultValue: { key: 'value' } });
    expect(obj.statusCode, obj.body).toBe(201);
    expect(obj.json()).toMatchObject({ type: 'object', defaultValue: { key: 'value' } });
    expect((await db().selectFrom('flags').select('type').where('id', '=', obj.json().id).executeTakeFirstOrThrow()).type).toBe('json');
    const listed = (await req('GET', flags(), c.viewer)).json() as Array<{ key: string; type: string }>;
    expect(listed.find((f) => f.key === 'theme')?.type).toBe('object');
  });

  it('POST …/flags: bad input is 422 naming the field; a taken key 409; view-only members 403; other organisations 404; no token 401', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ key: 'x1', name: 'X', type: 'json', defaultValue: {} }, 'type'],
      [{ key: 'x2', name: 'X', type: 'string', defaultValue: 3 }, 'defaultValue'],
      [{ key: 'x3', name: 'X', type: 'number' }, 'defaultValue'],
      [{ key: 'bad key!', name: 'X', type: 'boolean' }, 'key'],
      [{ name: 'X', type: 'boolean' }, 'key'],
      [{ key: 'x4', name: 'X', type: 'boolean', tags: ['a'] }, 'tags'],
    ];
    for (const [payload, field] of cases) {
      const body = expectProblem(await req('POST', flags(), c.owner, payload), 422, 'validation_failed');
      expect(Object.keys(body.errors ?? {}), JSON.stringify(payload)).toEqual([field]);
    }
    expectProblem(await req('POST', flags(), c.owner, { key: 'dark-mode', name: 'Again', type: 'boolean' }), 409, 'flag_key_taken');
    expectProblem(await req('POST', flags(), c.viewer, { key: 'viewer-flag', name: 'V', type: 'boolean' }), 403, 'forbidden');
    expectProblem(await req('POST', `/projects/${c.strangerProjectId}/flags`, c.owner, { key: 'x5', name: 'X', type: 'boolean' }), 404);
    expectProblem(await req('GET', `/projects/${c.strangerProjectId}/flags`, c.owner), 404);
    expectProblem(await req('POST', flags(), null, { key: 'x6', name: 'X', type: 'boolean' }), 401);
    expectProblem(await req('GET', flags(), null), 401);
    expect(await db().selectFrom('flags').select('key').where('key', 'in', ['x1', 'x2', 'x3', 'x4', 'x5', 'x6', 'viewer-flag']).execute()).toEqual([]);
  });

  it('PUT …/flags/{flagId} changes name, description and defaultValue for project admins', async () => {
    const res = await req('PUT', `${flags()}/${darkMode}`, c.projectAdmin, { name: 'Dark Theme', description: null, defaultValue: true });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ id: darkMode, key: 'dark-mode', name: 'Dark Theme', description: null, defaultValue: true, type: 'boolean' });
    expect(await db().selectFrom('flags').select(['name', 'description', 'default_variation']).where('id', '=', darkMode).executeTakeFirstOrThrow()).toEqual({ name: 'Dark Theme', description: null, default_variation: 'on' });
    const back = await req('PUT', `${flags()}/${darkMode}`, c.owner, { defaultValue: false });
    expect(back.json()).toMatchObject({ name: 'Dark Theme', defaultValue: false });
  });

  it('PUT …/flags/{flagId}: 403 for members, 404 for another project’s or organisation’s flag, 422 naming the field', async () => {
    expectProblem(await req('PUT', `${flags()}/${darkMode}`, c.viewer, { name: 'Viewer' }), 403);
    expectProblem(await req('PUT', `/projects/${c.strangerProjectId}/flags/${strangerFlag}`, c.owner, { name: 'Theirs' }), 404);
    expectProblem(await req('PUT', `${flags()}/${strangerFlag}`, c.owner, { name: 'Theirs' }), 404, 'not_found');
    const def = ((await req('GET', '/projects', c.owner)).json() as Array<{ id: number; key: string }>).find((p) => p.key === 'default')!;
    expectProblem(await req('PUT', `/projects/${def.id}/flags/${darkMode}`, c.owner, { name: 'Wrong project' }), 404, 'not_found');
    expect(Object.keys(expectProblem(await req('PUT', `${flags()}/${darkMode}`, c.owner, { defaultValue: 'yes' }), 422).errors ?? {})).toEqual(['defaultValue']);
    expect(Object.keys(expectProblem(await req('PUT', `${flags()}/${darkMode}`, c.owner, { type: 'string' }), 422).errors ?? {})).toEqual(['type']);
    expect(Object.keys(expectProblem(await req('PUT', `${flags()}/abc`, c.owner, { name: 'x' }), 400).errors ?? {})).toEqual(['flagId']);
    expectProblem(await req('PUT', `${flags()}/${darkMode}`, null, { name: 'Anon' }), 401);
    expect((await db().selectFrom('flags').select('name').where('id', '=', darkMode).executeTakeFirstOrThrow()).name).toBe('Dark Theme');
  });

  it('GET …/rules of a never-configured flag: disabled, the flag’s default variant, no rules, no rollout', async () => {
    const res = await req('GET', rules(darkMode, c.environments.production!), c.viewer);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ enabled: false, defaultVariant: 'off', rules: [], percentageRollout: null });
  });

  it('PUT …/rules replaces enabled, defaultVariant and the ordered rules (the document’s example), stored, audited and published', async () => {
    published.length = 0;
    const env = c.environments.production!;
    const res = await req('PUT', rules(darkMode, env), c.projectAdmin, {
      enabled: true,
      defaultVariant: 'off',
      rules: [{ priority: 1, conditions: [{ attribute: 'email', operator: 'ENDS_WITH', value: '@company.com' }], variant: 'on' }],
    });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body).toEqual({
      enabled: true,
      defaultVariant: 'off',
      rules: [{ id: expect.any(Number), priority: 1, conditions: [{ attribute: 'email', operator: 'ENDS_WITH', value: '@company.com' }], variant: 'on', percentageRollout: null, segments: [], description: null }],
      percentageRollout: null,
    });
    expect((await req('GET', rules(darkMode, env), c.viewer)).json()).toEqual(body);
    const stored = await db().selectFrom('rules').selectAll().where('flag_id', '=', darkMode).where('environment_id', '=', env).execute();
    expect(stored.map((r) => r.id)).toEqual([body.rules[0].id]);
    expect(JSON.parse(stored[0]!.serve)).toEqual({ variation: 'on' });
    expect(published).toEqual([expect.objectContaining({ environmentIds: [env], entity: 'flag', key: 'dark-mode' })]);
    // Evaluation serves it: the rule for staff, the default otherwise.
    const key = await req('POST', `/projects/${c.projectId}/environments/${env}/api-keys`, c.owner, { name: 'eval' });
    const evaluate = (email: string) => t.app.inject({ method: 'POST', url: '/api/v1/evaluate', headers: { 'x-api-key': key.json().key }, payload: { flagKey: 'dark-mode', context: { targetingKey: 'u1', email } } });
    expect((await evaluate('ann@company.com')).json()).toMatchObject({ value: true });
    expect((await evaluate('bob@example.com')).json()).toMatchObject({ value: false });
    // Other environments are untouched.
    expect((await req('GET', rules(darkMode, c.environments.staging!), c.viewer)).json()).toMatchObject({ enabled: false, rules: [] });
  });

  it('PUT …/rules orders by priority, keeps ids it is given, and takes a percentageRollout {variants: [{variant, weight}], bucketBy}', async () => {
    const env = c.environments.production!;
    const current = (await req('GET', rules(darkMode, env), c.viewer)).json();
    const keptId = current.rules[0].id as number;
    const res = await req('PUT', rules(darkMode, env), c.owner, {
      enabled: true,
      rules: [
        { priority: 2, conditions: [{ attribute: 'country', operator: 'IN', value: ['NL', 'BE'] }], variant: 'off', description: 'Benelux later' },
        { id: keptId, priority: 1, conditions: current.rules[0].conditions, variant: 'on' },
        { priority: 3, conditions: [{ attribute: 'plan', operator: 'EQUALS', value: 'beta' }], percentageRollout: { variants: [{ variant: 'on', weight: 10 }, { variant: 'off', weight: 90 }] } },
      ],
      percentageRollout: { variants: [{ variant: 'on', weight: 25 }, { variant: 'off', weight: 75 }], bucketBy: 'accountId' },
    });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body.rules.map((r: { priority: number; variant: string | null }) => [r.priority, r.variant])).toEqual([[1, 'on'], [2, 'off'], [3, null]]);
    expect(body.rules[0].id).toBe(keptId);
    expect(body.rules[1].description).toBe('Benelux later');
    expect(body.rules[2].percentageRollout).toEqual({ variants: [{ variant: 'on', weight: 10 }, { variant: 'off', weight: 90 }], bucketBy: 'targetingKey' });
    expect(body.percentageRollout).toEqual({ variants: [{ variant: 'on', weight: 25 }, { variant: 'off', weight: 75 }], bucketBy: 'accountId' });
    expect(body.defaultVariant).toBe('off');
    const row = await db().selectFrom('flag_environments').select('default_serve').where('flag_id', '=', darkMode).where('environment_id', '=', env).executeTakeFirstOrThrow();
    expect(JSON.parse(row.default_serve!)).toEqual({ rollout: { variations: [{ variation: 'on', weight: 25 }, { variation: 'off', weight: 75 }], bucketBy: 'accountId' } });
    expect((await req('GET', rules(darkMode, env), c.viewer)).json()).toEqual(body);
  });

  it('a PUT that fails validation leaves the old rules intact, and the 422 names the fields as written', async () => {
    const env = c.environments.production!;
    const before = (await req('GET', rules(darkMode, env), c.viewer)).json();
    const storedBefore = await db().selectFrom('rules').selectAll().where('flag_id', '=', darkMode).where('environment_id', '=', env).orderBy('priority').execute();
    const attempts: Array<[Record<string, unknown>, string[]]> = [
      // One good rule and one bad one (given first in the array, but second by priority): nothing of it is stored.
      [{ enabled: false, rules: [{ priority: 2, conditions: [{ attribute: 'email', operator: 'SOUNDS_LIKE', value: 'x' }], variant: 'on' }, { priority: 1, conditions: [], variant: 'off' }] }, ['rules[0].conditions[0].operator']],
      [{ enabled: false, rules: [{ conditions: [], variant: 'maybe' }] }, ['rules[0].variant']],
      [{ enabled: false, defaultVariant: 'maybe', rules: [] }, ['defaultVariant']],
      [{ enabled: false, rules: [], percentageRollout: { variants: [{ variant: 'nope', weight: 100 }] } }, ['percentageRollout.variants[0].variant']],
      [{ enabled: false, rules: [], percentageRollout: { variants: [{ variant: 'on', weight: 0 }] } }, ['percentageRollout.variants']],
      [{ enabled: false, rules: [{ conditions: [{ attribute: 'a', operator: 'EQUALS', value: 1 }], percentageRollout: { variants: [{ variant: 'nope', weight: 1 }] } }] }, ['rules[0].percentageRollout.variants[0].variant']],
      [{ enabled: false, rules: [{ conditions: [] }] }, ['rules[0].variant']],
      [{ enabled: false, rules: [{ conditions: [], variant: 'on', percentageRollout: { variants: [{ variant: 'on', weight: 1 }] } }] }, ['rules[0].variant']],
      [{ enabled: false, rules: [{ conditions: [], segments: ['ghost'], variant: 'on' }] }, ['rules[0].segments[0]']],
      [{ enabled: 'yes', rules: [] }, ['enabled']],
      [{ enabled: false }, ['rules']],
      [{ enabled: false, rules: [{ conditions: [], variant: 'on', serve: 'on' }] }, ['rules.0.serve']],
    ];
    for (const [payload, fields] of attempts) {
      const body = expectProblem(await req('PUT', rules(darkMode, env), c.owner, payload), 422, 'validation_failed');
      expect(Object.keys(body.errors ?? {}), JSON.stringify(payload)).toEqual(fields);
    }
    expect((await req('GET', rules(darkMode, env), c.viewer)).json()).toEqual(before);
    expect(await db().selectFrom('rules').selectAll().where('flag_id', '=', darkMode).where('environment_id', '=', env).orderBy('priority').execute()).toEqual(storedBefore);
  });

  it('rules: members read (403 on PUT), other projects’ and organisations’ flags or environments are 404, no token 401', async () => {
    const env = c.environments.production!;
    const before = (await req('GET', rules(darkMode, env), c.viewer)).json();
    expectProblem(await req('PUT', rules(darkMode, env), c.viewer, { enabled: false, rules: [] }), 403, 'forbidden');
    expectProblem(await req('GET', rules(darkMode, env), c.stranger), 404);
    expectProblem(await req('PUT', rules(darkMode, env), c.stranger, { enabled: false, rules: [] }), 404);
    expectProblem(await req('GET', rules(strangerFlag, c.strangerEnvironmentId), c.owner), 404);
    expectProblem(await req('GET', rules(strangerFlag, env), c.owner), 404);
    expectProblem(await req('GET', rules(darkMode, c.strangerEnvironmentId), c.owner), 404);
    const def = ((await req('GET', '/projects', c.owner)).json() as Array<{ id: number; key: string }>).find((p) => p.key === 'default')!;
    expectProblem(await req('GET', rules(darkMode, env, def.id), c.owner), 404);
    expectProblem(await req('PUT', rules(darkMode, env, def.id), c.owner, { enabled: false, rules: [] }), 404);
    expectProblem(await req('GET', rules(darkMode, env), null), 401);
    expectProblem(await req('PUT', rules(darkMode, env), null, { enabled: false, rules: [] }), 401);
    expect(Object.keys(expectProblem(await req('GET', rules(darkMode, env).replace(`/${env}/`, '/prod/'), c.owner), 400).errors ?? {})).toEqual(['envId']);
    expect((await req('GET', rules(darkMode, env), c.viewer)).json()).toEqual(before);
  });
});
