import { compileFlagd, evaluate, type FlagdDocument } from '@switchyard/engine';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authHeader, signUp, type SignedUpUser } from '../../testing/auth.js';
import { createApiKey, evaluateWith } from '../../testing/evaluation-fixtures.js';
import { createTestApp, type TestApp } from '../../testing/test-app.js';
import { testDialects } from '../../testing/test-database.js';

const doc = {
  $schema: 'https://flagd.dev/schema/v0/flags.json',
  $evaluators: { isPro: { '==': [{ var: 'plan' }, 'pro'] } },
  metadata: { source: 'flagd' },
  flags: {
    'new-ui': {
      state: 'ENABLED',
      variants: { on: true, off: false },
      defaultVariant: 'off',
      targeting: { if: [{ $ref: 'isPro' }, 'on', { fractional: [['on', 50], ['off', 50]] }] },
      metadata: { team: 'web' },
    },
    greeting: {
      state: 'ENABLED',
      variants: { hi: 'Hello', yo: 'Yo' },
      defaultVariant: 'hi',
      targeting: { if: [{ sem_ver: [{ var: 'version' }, '>=', '2.0.0'] }, 'yo', null] },
    },
    limits: { state: 'ENABLED', variants: { small: { max: 1 }, big: { max: 9 } }, defaultVariant: 'small', targeting: { if: [{ in: [{ var: 'country' }, ['CA', 'US']] }, 'big', null] } },
    ratio: { state: 'ENABLED', variants: { a: 0.5, b: 2 }, defaultVariant: 'a' },
    gone: { state: 'DISABLED', variants: { on: true, off: false }, defaultVariant: 'on' },
    maybe: { state: 'ENABLED', variants: { a: 'A', b: 'B' }, targeting: { if: [{ ends_with: [{ var: 'email' }, '@x.com'] }, 'b', null] } },
  },
};

const contexts = [
  {},
  { targetingKey: 'user-1' },
  { targetingKey: 'user-2', plan: 'pro' },
  { targetingKey: 'user-3', version: '2.1.0', country: 'CA', email: 'a@x.com' },
  { targetingKey: 'user-4', version: '1.9.9', country: 'FR', email: 'a@y.com' },
  { targetingKey: 'user-5' },
  { targetingKey: 'user-6' },
];

describe.each(testDialects())('flagd import and export on %s', (dialect) => {
  let t: TestApp;
  let admin: SignedUpUser;
  let serverKey: string;
  let environmentId: string;
  const url = (env = 'production', query = '') => `/api/v1/projects/default/environments/${env}/flagd${query}`;
  const post = (payload: unknown, env?: string, query?: string, user = admin) =>
    t.app.inject({ method: 'POST', url: url(env, query), headers: authHeader(user.accessToken), payload: payload as Record<string, unknown> });
  const auditCount = async (action: string) =>
    (await t.database.handle.db.selectFrom('audit_events').select('id').where('action', '=', action).execute()).length;
  const ofrep = (key: string, context: Record<string, unknown>) =>
    t.app.inject({ method: 'POST', url: `/ofrep/v1/evaluate/flags/${key}`, headers: { authorization: `Bearer ${serverKey}` }, payload: { context } });

  beforeAll(async () => {
    t = await createTestApp(dialect, { SWITCHYARD_RATE_LIMIT_PER_MINUTE: '100000' });
    admin = await signUp(t.app);
    const as = authHeader(admin.accessToken);
    const ok = async (method: 'POST' | 'GET', u: string, payload?: unknown) => {
      const res = await t.app.inject({ method, url: u, headers: as, ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}) });
      if (res.statusCode >= 300) throw new Error(`${method} ${u}: ${res.statusCode} ${res.body}`);
      return res;
    };
    await ok('POST', '/api/v1/projects/default/flags', { key: 'checkout', type: 'boolean', defaultValue: false });
    await ok('POST', '/api/v1/projects/default/flags/checkout/environments/production/enable');
    await ok('POST', '/api/v1/projects/default/rules', {
      flag: 'checkout',
      environment: 'production',
      conditions: [{ attribute: 'plan', operator: 'IN', value: ['pro', 'team'] }, { attribute: 'age', operator: 'GREATER_THAN', value: 17 }],
      serve: 'on',
    });
    await ok('POST', '/api/v1/projects/default/segments', { key: 'beta', name: 'Beta', included: ['u-1'] });
    await ok('POST', '/api/v1/projects/default/flags', { key: 'segmented', type: 'boolean', defaultValue: false });
    await ok('POST', '/api/v1/projects/default/flags/segmented/environments/production/enable');
    await ok('POST', '/api/v1/projects/default/rules', { flag: 'segmented', environment: 'production', segments: ['beta'], serve: 'on' });
    environmentId = (await ok('GET', '/api/v1/projects/default/environments/production')).json().id;
    serverKey = (await createApiKey(t.app, admin.accessToken, 'default', { environment: 'production', scope: 'server' })).key;
  });
  afterAll(async () => t?.close());

  it('a dry run reports what would be created and writes nothing', async () => {
    const res = await post(doc, 'production', '?dryRun=true');
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({
      dryRun: true,
      environment: 'production',
      flags: Object.keys(doc.flags).map((key) => ({ key, action: 'created' })),
      summary: { created: 6, replaced: 0, unchanged: 0 },
    });
    expect((await evaluateWith(t.app, serverKey, { flagKey: 'greeting', context: {} })).statusCode).toBe(404);
    expect(await auditCount('flag.flagd_created')).toBe(0);
  });

  it('imports the document (environment by id): flags created, audited, and evaluating exactly as flagd does through v1 and OFREP', async () => {
    const res = await post(doc, environmentId);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().summary).toEqual({ created: 6, replaced: 0, unchanged: 0 });
    expect(await auditCount('flag.flagd_created')).toBe(6);

    const flagd = compileFlagd(doc as FlagdDocument);
    for (const key of Object.keys(doc.flags)) {
      for (const context of contexts) {
        const expected = evaluate(flagd, key, context);
        const v1 = (await evaluateWith(t.app, serverKey, { flagKey: key, context })).json();
        expect({ value: v1.value, variation: v1.variation, reason: v1.reason }, `${key} ${JSON.stringify(context)} via v1`).toEqual({
          value: expected.value ?? null,
          variation: expected.variant ?? null,
          reason: expected.reason,
        });
        const o = (await ofrep(key, context)).json();
        expect({ value: o.value, variant: o.variant, reason: o.reason }, `${key} ${JSON.stringify(context)} via OFREP`).toEqual({ value: expected.value, variant: expected.variant, reason: expected.reason });
        expect(o.metadata).toEqual(expected.metadata);
      }
    }
    // Flags the document does not name are untouched.
    expect((await evaluateWith(t.app, serverKey, { flagKey: 'checkout', context: { plan: 'pro', age: 30 } })).json()).toMatchObject({ value: true, reason: 'TARGETING_MATCH' });
  });

  it('re-importing reports unchanged; a changed flag is replaced, others untouched', async () => {
    const again = await post(doc);
    expect(again.json().summary).toEqual({ created: 0, replaced: 0, unchanged: 6 });
    const changed = await post({ flags: { greeting: { ...doc.flags.greeting, defaultVariant: 'yo' } } }, 'production', '?dryRun=false');
    expect(changed.json()).toMatchObject({ dryRun: false, flags: [{ key: 'greeting', action: 'replaced' }] });
    expect(await auditCount('flag.flagd_replaced')).toBe(1);
    expect((await ofrep('greeting', {})).json()).toMatchObject({ value: 'Yo', reason: 'DEFAULT' });
    expect((await ofrep('ratio', {})).json()).toMatchObject({ value: 0.5, reason: 'STATIC' });
    // Importing a native flag's key replaces it with the document's flag.
    const native = await post({ flags: { checkout: { state: 'ENABLED', variants: { on: true, off: false }, defaultVariant: 'on' } } }, 'production', '?dryRun=true');
    expect(native.json().flags).toEqual([{ key: 'checkout', action: 'replaced' }]);
  });

  it('refuses an invalid document whole (422) naming every offending path', async () => {
    const res = await post({
      flags: {
        fine: { state: 'ENABLED', variants: { a: 1 }, defaultVariant: 'a' },
        badState: { state: 'ON', variants: { a: 1 }, defaultVariant: 'a' },
        badDefault: { state: 'ENABLED', variants: { a: 1 }, defaultVariant: 'z' },
        badLogic: { state: 'ENABLED', variants: { a: 1 }, defaultVariant: 'a', targeting: { nope: [1] } },
      },
    });
    expect(res.statusCode).toBe(422);
    const errors = res.json().errors as Record<string, string>;
    expect(Object.keys(errors)).toEqual(expect.arrayContaining(['flags.badState.state', 'flags.badDefault.defaultVariant']));
    expect(Object.keys(errors).some((k) => k.startsWith('flags.badLogic.targeting'))).toBe(true);
    expect((await ofrep('fine', {})).statusCode).toBe(404);
    // A type change of an existing flag.
    const retyped = await post({ flags: { ratio: { state: 'ENABLED', variants: { a: 'x' }, defaultVariant: 'a' } } });
    expect(retyped.statusCode).toBe(422);
    expect(retyped.json().errors).toHaveProperty(['flags.ratio.variants']);
    expect((await t.app.inject({ method: 'POST', url: url(), headers: authHeader(admin.accessToken), payload: { notFlags: 1 } })).statusCode).toBe(422);
  });

  it('exports the environment as a flagd document that evaluates as the server does', async () => {
    const res = await t.app.inject({ method: 'GET', url: url(), headers: authHeader(admin.accessToken) });
    expect(res.statusCode).toBe(200);
    const exported = res.json() as FlagdDocument;
    expect(exported.flags['new-ui']).toEqual({ ...doc.flags['new-ui'], targeting: { if: [{ '==': [{ var: 'plan' }, 'pro'] }, 'on', { fractional: [['on', 50], ['off', 50]] }] }, metadata: { source: 'flagd', team: 'web' } });
    expect(exported.flags['gone']).toMatchObject({ state: 'DISABLED' });
    expect(exported.flags['maybe']).toMatchObject({ defaultVariant: null });
    // The native rule as JSONLogic; the segment rule cannot be expressed and is named.
    expect(exported.flags['checkout']).toBeDefined();
    expect(exported.flags['segmented']).toBeUndefined();
    expect(exported.metadata).toEqual({ switchyardOmitted: 'segmented' });

    const snapshot = compileFlagd(exported);
    const more = [...contexts, { plan: 'pro', age: 30 }, { plan: 'team', age: 10 }, { plan: 'free', age: 40 }];
    for (const key of Object.keys(exported.flags)) {
      for (const context of more) {
        const local = evaluate(snapshot, key, context);
        const remote = (await evaluateWith(t.app, serverKey, { flagKey: key, context })).json();
        expect({ value: remote.value, variation: remote.variation }, `${key} ${JSON.stringify(context)}`).toEqual({ value: local.value ?? null, variation: local.variant ?? null });
      }
    }
    const byKey = await t.app.inject({ method: 'GET', url: url(environmentId), headers: authHeader(admin.accessToken) });
    expect(byKey.json()).toEqual(exported);
  });

  it('404 for an unknown environment or another organisation’s project; 401 without a token', async () => {
    expect((await post(doc, 'nowhere')).statusCode).toBe(404);
    expect((await t.app.inject({ method: 'GET', url: url('nowhere'), headers: authHeader(admin.accessToken) })).statusCode).toBe(404);
    const stranger = await signUp(t.app);
    const foreign = await t.app.inject({ method: 'GET', url: `/api/v1/projects/${(await t.app.inject({ method: 'GET', url: '/api/v1/projects/default', headers: authHeader(admin.accessToken) })).json().id}/environments/production/flagd`, headers: authHeader(stranger.accessToken) });
    expect(foreign.statusCode).toBe(404);
    expect((await t.app.inject({ method: 'GET', url: url() })).statusCode).toBe(401);
  });
});
