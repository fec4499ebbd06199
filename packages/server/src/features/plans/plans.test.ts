import { describe, expect, it } from 'vitest';
import { loadConfig, ConfigError } from '../../config.js';
import { applyPlanOverrides, defaultPlans, planIds } from './plans.js';

describe('the plan table', () => {
  it('has every plan, and self-hosted limits nothing and has every feature', () => {
    expect(Object.keys(defaultPlans).sort()).toEqual([...planIds].sort());
    expect(Object.values(defaultPlans['self-hosted'].limits).every((v) => v === null)).toBe(true);
    expect(defaultPlans['self-hosted'].features).toEqual({ analytics: true, experiments: true, multivariate: true });
    expect(defaultPlans.sandbox.features.multivariate).toBe(false);
  });

  it('applies overrides field by field without touching the defaults', () => {
    const table = applyPlanOverrides(defaultPlans, { standard: { limits: { flags: 250, members: null }, features: { experiments: true } } }, 'SWITCHYARD_PLANS');
    expect(table.standard.limits).toMatchObject({ flags: 250, members: null, apiKeys: defaultPlans.standard.limits.apiKeys });
    expect(table.standard.features.experiments).toBe(true);
    expect(defaultPlans.standard.limits.flags).toBe(100);
  });

  it.each([
    [{ premium: {} }, /unknown plan "premium"/],
    [{ standard: { limits: { seats: 3 } } }, /unknown limit "seats"/],
    [{ standard: { limits: { flags: -1 } } }, /must be null or a whole number/],
    [{ standard: { features: { sso: true } } }, /unknown feature "sso"/],
    [{ standard: { features: { analytics: 'yes' } } }, /must be true or false/],
    [[], /must be a JSON object/],
  ])('refuses %j', (override, message) => {
    expect(() => applyPlanOverrides(defaultPlans, override, 'SWITCHYARD_PLANS')).toThrow(message);
  });
});

describe('billing configuration', () => {
  it('is off without STRIPE_SECRET_KEY; grace defaults to 20%, "none" never refuses', () => {
    const off = loadConfig({}).billing;
    expect(off.stripe).toBeNull();
    expect(off.evaluationOverageGracePercent).toBe(20);
    expect(off.defaultPlan).toBe('sandbox');
    expect(loadConfig({ SWITCHYARD_EVALUATION_OVERAGE_GRACE_PERCENT: 'none' }).billing.evaluationOverageGracePercent).toBeNull();
  });

  it('maps plans to prices from STRIPE_PRICE_* and STRIPE_PRICES, the variables winning', () => {
    const on = loadConfig({ STRIPE_SECRET_KEY: 'sk_test_1', STRIPE_PRICES: '{"standard":"price_a","enhanced":"price_b"}', STRIPE_PRICE_STANDARD: 'price_c', STRIPE_API_BASE: 'http://127.0.0.1:12111' }).billing;
    expect(on.stripe).toMatchObject({ secretKey: 'sk_test_1', webhookSecret: null, prices: { standard: 'price_c', enhanced: 'price_b' }, apiBase: { host: '127.0.0.1', port: 12111, protocol: 'http' } });
  });

  it.each([
    [{ STRIPE_PRICES: '{"self-hosted":"price_a"}' }, 'STRIPE_PRICES'],
    [{ STRIPE_PRICES: 'not json' }, 'STRIPE_PRICES'],
    [{ STRIPE_PRICE_STANDARD: 'price a' }, 'STRIPE_PRICE_STANDARD'],
    [{ STRIPE_PRICE_STANDARD: 'price_a', STRIPE_PRICE_ENHANCED: 'price_a' }, 'STRIPE_PRICES'],
    [{ STRIPE_API_BASE: 'ftp://x' }, 'STRIPE_API_BASE'],
    [{ SWITCHYARD_DEFAULT_PLAN: 'gold' }, 'SWITCHYARD_DEFAULT_PLAN'],
    [{ SWITCHYARD_PLANS: '{"gold":{}}' }, 'SWITCHYARD_PLANS'],
    [{ SWITCHYARD_PLANS_FILE: '/nonexistent/plans.json' }, 'SWITCHYARD_PLANS_FILE'],
    [{ SWITCHYARD_EVALUATION_OVERAGE_GRACE_PERCENT: '-5' }, 'SWITCHYARD_EVALUATION_OVERAGE_GRACE_PERCENT'],
  ])('refuses %j naming %s', (env, variable) => {
    let error: unknown;
    try {
      loadConfig({ STRIPE_SECRET_KEY: 'sk_test_1', ...env });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe(variable);
  });
});
