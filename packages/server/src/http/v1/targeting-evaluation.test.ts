import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authHeader, signUp, type SignedUpUser } from '../../testing/auth.js';
import { createTestApp, type TestApp } from '../../testing/test-app.js';
import { testDialects } from '../../testing/test-database.js';

/**
 * End to end over HTTP: what the targeting routes store is what evaluation serves, with no
 * translation in between, and each write is visible to the very next evaluate call.
 */
describe.each(testDialects())('targeting writes as evaluation sees them on %s', (dialect) => {
  let t: TestApp;
  let admin: SignedUpUser;
  let apiKey: string;
  const project = '/api/v1/projects/default';

  beforeAll(async () => {
    t = await createTestApp(dialect);
    admin = await signUp(t.app);
    const created = await t.app.inject({ method: 'POST', url: `${project}/flags`, headers: authHeader(admin.accessToken), payload: { key: 'new-checkout', name: 'New checkout', type: 'boolean', defaultValue: false } });
    expect(created.statusCode, created.body).toBeLessThan(300);
    const key = await t.app.inject({ method: 'POST', url: `${project}/api-keys`, headers: authHeader(admin.accessToken), payload: { name: 'server', environment: 'production', scope: 'server' } });
    expect(key.statusCode, key.body).toBeLessThan(300);
    apiKey = key.json().key;
  });
  afterAll(async () => t?.close());

  const as = () => authHeader(admin.accessToken);
  const evaluate = async (context: Record<string, unknown>) => {
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/evaluate', headers: { 'x-api-key': apiKey }, payload: { flagKey: 'new-checkout', context } });
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as { value: unknown; variation: string | null; reason: string; kind: string; ruleId?: string; enabled: boolean };
  };

  it('serves the off variation until enabled; then rules, segments, targets and reordering as written', async () => {
    expect(await evaluate({ targetingKey: 'u1' })).toMatchObject({ enabled: false, kind: 'OFF' });

    const on = await t.app.inject({ method: 'POST', url: `${project}/flags/new-checkout/environments/production/enable`, headers: as() });
    expect(on.statusCode, on.body).toBe(200);
    expect(await evaluate({ targetingKey: 'u1' })).toMatchObject({ enabled: true, value: false, kind: 'FALLTHROUGH' });

    await t.app.inject({ method: 'POST', url: `${project}/segments`, headers: as(), payload: { key: 'staff', name: 'Staff', conditions: [{ attribute: 'email', operator: 'ENDS_WITH', value: '@company.com', ignoreCase: true }] } });
    const staff = await t.app.inject({ method: 'POST', url: `${project}/rules`, headers: as(), payload: { flag: 'new-checkout', environment: 'production', segments: ['staff'], serve: 'on' } });
    expect(staff.statusCode, staff.body).toBe(200);
    const ruleId = staff.json().id as string;
    expect(await evaluate({ targetingKey: 'u1', email: 'Ada@Company.com' })).toMatchObject({ value: true, kind: 'RULE_MATCH', ruleId });
    expect(await evaluate({ targetingKey: 'u1', email: 'ada@example.com' })).toMatchObject({ value: false, kind: 'FALLTHROUGH' });

    // A later rule that would serve `off` to Dutch staff only wins once it is moved first.
    const dutch = await t.app.inject({ method: 'POST', url: `${project}/rules`, headers: as(), payload: { flag: 'new-checkout', environment: 'production', conditions: [{ attribute: 'country', operator: 'IN', value: ['NL'] }], serve: 'off' } });
    const context = { targetingKey: 'u2', email: 'bo@company.com', country: 'NL' };
    expect(await evaluate(context)).toMatchObject({ ruleId });
    const order = await t.app.inject({ method: 'PUT', url: `${project}/rules/order`, headers: as(), payload: { flag: 'new-checkout', environment: 'production', ruleIds: [dutch.json().id, ruleId] } });
    expect(order.statusCode, order.body).toBe(200);
    expect(await evaluate(context)).toMatchObject({ value: false, kind: 'RULE_MATCH', ruleId: dutch.json().id });

    // Individual targets come before rules; a 100/0 default rollout serves `on` to everyone else.
    const put = await t.app.inject({
      method: 'PUT',
      url: `${project}/flags/new-checkout/environments/production`,
      headers: as(),
      payload: { targets: [{ variation: 'on', values: ['u2'] }], defaultServe: { rollout: { variations: [{ variation: 'on', weight: 100 }, { variation: 'off', weight: 0 }] } } },
    });
    expect(put.statusCode, put.body).toBe(200);
    expect(await evaluate(context)).toMatchObject({ value: true, kind: 'TARGET_MATCH' });
    expect(await evaluate({ targetingKey: 'u3' })).toMatchObject({ value: true, reason: 'SPLIT', kind: 'FALLTHROUGH' });

    // A segment change reaches evaluation too.
    await t.app.inject({ method: 'PATCH', url: `${project}/segments/staff`, headers: as(), payload: { included: ['u4'] } });
    expect(await evaluate({ targetingKey: 'u4', country: 'DE' })).toMatchObject({ value: true, kind: 'RULE_MATCH', ruleId });

    const off = await t.app.inject({ method: 'POST', url: `${project}/flags/new-checkout/environments/production/disable`, headers: as() });
    expect(off.statusCode).toBe(200);
    expect(await evaluate(context)).toMatchObject({ enabled: false, value: false, kind: 'OFF' });
  });
});
