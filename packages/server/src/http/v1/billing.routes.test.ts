import Stripe from 'stripe';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { authHeader, signUp, type SignedUpUser } from '../../testing/auth.js';
import { StripeTestServer } from '../../testing/stripe-test-server.js';
import { createTestApp, type TestApp } from '../../testing/test-app.js';
import { testDialects } from '../../testing/test-database.js';

const webhookSecret = 'whsec_test_secret';
const signer = new Stripe('sk_test_signer');

/** A Stripe event as the webhook receives it, signed with the test secret. */
function signed(event: Record<string, unknown>, secret = webhookSecret): { payload: string; headers: Record<string, string> } {
  const payload = JSON.stringify({ object: 'event', api_version: '2026-10-28.endive', created: Math.floor(Date.now() / 1000), livemode: false, ...event });
  return { payload, headers: { 'content-type': 'application/json', 'stripe-signature': signer.webhooks.generateTestHeaderString({ payload, secret }) } };
}

function subscriptionEvent(id: string, type: string, organizationId: number, sub: { id: string; status: string; price: string; cancelAtPeriodEnd?: boolean; customer?: string }) {
  return {
    id,
    type,
    data: {
      object: {
        id: sub.id,
        object: 'subscription',
        customer: sub.customer ?? 'cus_1',
        status: sub.status,
        cancel_at_period_end: sub.cancelAtPeriodEnd ?? false,
        metadata: { organizationId: String(organizationId) },
        items: { object: 'list', data: [{ id: 'si_1', object: 'subscription_item', price: { id: sub.price }, current_period_start: 1767225600, current_period_end: 1769904000 }] },
      },
    },
  };
}

describe.each(testDialects())('/api/v1/billing with Stripe on %s', (dialect) => {
  let t: TestApp;
  let admin: SignedUpUser;
  const stripe = new StripeTestServer();
  const tenant = () => ({ ...authHeader(admin.accessToken), 'x-tenant-id': `tenant_${admin.organizationId}` });
  const checkout = (payload: Record<string, unknown>, headers = tenant()) => t.app.inject({ method: 'POST', url: '/api/v1/billing/checkout', headers, payload });
  const webhook = (event: { payload: string; headers: Record<string, string> }) => t.app.inject({ method: 'POST', url: '/api/v1/billing/webhook', headers: event.headers, payload: event.payload });
  const urls = { successUrl: 'https://app.example.test/membership/paid', cancelUrl: 'https://app.example.test/membership' };
  const db = () => t.database.handle.db;

  beforeAll(async () => {
    await stripe.start();
    t = await createTestApp(dialect, {
      STRIPE_SECRET_KEY: 'sk_test_switchyard',
      STRIPE_WEBHOOK_SECRET: webhookSecret,
      STRIPE_PRICE_STANDARD: 'price_standard',
      STRIPE_PRICES: JSON.stringify({ enhanced: 'price_enhanced' }),
      STRIPE_API_BASE: stripe.baseUrl,
    });
    admin = await signUp(t.app);
  });
  afterAll(async () => {
    await t?.close();
    await stripe.stop();
  });
  beforeEach(() => {
    stripe.requests.length = 0;
  });

  it('creates a subscription Checkout session for the plan price, with referral (legacy alias), metadata and promotion codes allowed', async () => {
    const res = await checkout({ type: 'subscription', planId: 'standard', ...urls, promotekit_referral: 'pk_ref_123' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ checkoutUrl: expect.stringMatching(/^https:\/\/checkout\.stripe\.test\/c\/pay\/cs_test_/), type: 'subscription' });
    const [sent] = stripe.to('POST /v1/checkout/sessions');
    expect(sent!.authorization).toBe('Bearer sk_test_switchyard');
    expect(sent!.form).toMatchObject({
      mode: 'subscription',
      'line_items[0][price]': 'price_standard',
      'line_items[0][quantity]': '1',
      success_url: urls.successUrl,
      cancel_url: urls.cancelUrl,
      client_reference_id: 'pk_ref_123',
      allow_promotion_codes: 'true',
      'metadata[organizationId]': String(admin.organizationId),
      'metadata[planId]': 'standard',
      'subscription_data[metadata][organizationId]': String(admin.organizationId),
    });
  });

  it('applies a promotion code looked up in Stripe, and explicit discounts; an unknown code is 422', async () => {
    const res = await checkout({ type: 'subscription', planId: 'enhanced', ...urls, promoCode: 'SPRING25', discounts: [{ coupon: 'coupon_123' }], referralId: 'pk_ref_9', customerId: 'cus_given' });
    expect(res.statusCode, res.body).toBe(200);
    expect(stripe.to('GET /v1/promotion_codes')[0]!.query).toMatchObject({ code: 'SPRING25', active: 'true' });
    const form = stripe.to('POST /v1/checkout/sessions')[0]!.form;
    expect(form).toMatchObject({ 'line_items[0][price]': 'price_enhanced', 'discounts[0][coupon]': 'coupon_123', 'discounts[1][promotion_code]': 'promo_spring25', customer: 'cus_given', client_reference_id: 'pk_ref_9' });
    expect(form.allow_promotion_codes).toBeUndefined();
    const bad = await checkout({ type: 'subscription', planId: 'standard', ...urls, promoCode: 'NOPE' });
    expect(bad.statusCode).toBe(422);
    expect(bad.json()).toMatchObject({ code: 'validation_failed', errors: { promoCode: expect.any(String) } });
  });

  it('creates a one-time payment session for a product and amount', async () => {
    const res = await checkout({ type: 'payment', productId: 'prod_credits', amount: 4900, ...urls });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().type).toBe('payment');
    expect(stripe.to('POST /v1/checkout/sessions')[0]!.form).toMatchObject({ mode: 'payment', 'line_items[0][price_data][product]': 'prod_credits', 'line_items[0][price_data][unit_amount]': '4900', 'line_items[0][price_data][currency]': 'usd' });
    const missing = await checkout({ type: 'payment', productId: 'prod_credits', ...urls });
    expect(missing.statusCode).toBe(422);
    expect(missing.json().errors).toEqual({ amount: expect.any(String) });
  });

  it('refuses bad requests: no X-Tenant-ID (400), missing URLs or unknown plan (422), a plan without a price (409)', async () => {
    expect((await checkout({ type: 'subscription', planId: 'standard', ...urls }, authHeader(admin.accessToken))).json().code).toBe('tenant_required');
    const noUrls = await checkout({ type: 'subscription', planId: 'standard' });
    expect(noUrls.statusCode).toBe(422);
    expect(Object.keys(noUrls.json().errors).sort()).toEqual(['cancelUrl', 'successUrl']);
    expect((await checkout({ type: 'subscription', planId: 'premium', ...urls })).json()).toMatchObject({ status: 422, errors: { planId: expect.any(String) } });
    expect((await checkout({ type: 'subscription', planId: 'enterprise', ...urls })).json()).toMatchObject({ status: 409, code: 'plan_not_available' });
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/billing/checkout', payload: { type: 'payment', ...urls } })).statusCode).toBe(401);
    expect(stripe.requests).toEqual([]);
  });

  it("answers Stripe's errors with 502 billing_provider_error and Stripe's message, never a stack", async () => {
    stripe.answer('POST /v1/checkout/sessions', { status: 400, body: { error: { type: 'invalid_request_error', message: 'No such price: price_standard' } } });
    try {
      const res = await checkout({ type: 'subscription', planId: 'standard', ...urls });
      expect(res.statusCode).toBe(502);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json()).toMatchObject({ status: 502, code: 'billing_provider_error', message: 'No such price: price_standard' });
      expect(res.body).not.toMatch(/at .*\.js:\d+/);
    } finally {
      stripe.answer('POST /v1/checkout/sessions', null);
    }
  });

  it('refuses webhooks without a valid signature (400 invalid_signature) and changes nothing', async () => {
    const event = signed(subscriptionEvent('evt_forged', 'customer.subscription.created', admin.organizationId, { id: 'sub_x', status: 'active', price: 'price_enhanced' }), 'whsec_other');
    const res = await webhook(event);
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('invalid_signature');
    const unsigned = await t.app.inject({ method: 'POST', url: '/api/v1/billing/webhook', headers: { 'content-type': 'application/json' }, payload: event.payload });
    expect(unsigned.json().code).toBe('invalid_signature');
    // Re-serialised JSON is not what Stripe signed.
    const reserialised = await t.app.inject({ method: 'POST', url: '/api/v1/billing/webhook', headers: signed({ id: 'evt_a', type: 'ping', data: { object: {} } }).headers, payload: JSON.stringify(JSON.parse(event.payload), null, 2) });
    expect(reserialised.statusCode).toBe(400);
    expect(await db().selectFrom('billing_events').selectAll().execute()).toEqual([]);
  });

  it('keeps the subscription in step: created → plan, status, period; each event id once; payment failure; Billing Portal plan change; deleted → default plan', async () => {
    const before = await t.app.inject({ method: 'GET', url: '/api/v1/billing/subscription', headers: tenant() });
    expect(before.json()).toMatchObject({ id: null, plan: 'sandbox', status: 'none', cancelAtPeriodEnd: false });

    const created = signed(subscriptionEvent('evt_1', 'customer.subscription.created', admin.organizationId, { id: 'sub_1', status: 'active', price: 'price_enhanced', cancelAtPeriodEnd: true }));
    const first = await webhook(created);
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json()).toEqual({ received: true, duplicate: false });
    const sub = await t.app.inject({ method: 'GET', url: '/api/v1/billing/subscription', headers: tenant() });
    expect(sub.json()).toEqual({
      id: 'sub_1',
      plan: 'enhanced',
      status: 'active',
      currentPeriodStart: '2026-01-01T00:00:00.000Z',
      currentPeriodEnd: '2026-02-01T00:00:00.000Z',
      cancelAtPeriodEnd: true,
      customerId: 'cus_1',
      evaluations: { used: 0, limit: 50_000_000, hardLimit: 60_000_000, state: 'within' },
    });
    const org = await db().selectFrom('organizations').select('plan').where('id', '=', admin.organizationId).executeTakeFirstOrThrow();
    expect(org.plan).toBe('enhanced');
    const audits = () => db().selectFrom('audit_events').select('action').where('organization_id', '=', admin.organizationId).where('action', '=', 'billing.subscription.updated').execute();
    expect(await audits()).toHaveLength(1);

    // Redelivered: acknowledged, nothing applied twice.
    expect((await webhook(created)).json()).toEqual({ received: true, duplicate: true });
    expect(await audits()).toHaveLength(1);
    expect(await db().selectFrom('billing_events').select(['event_id', 'type']).execute()).toEqual([{ event_id: 'evt_1', type: 'customer.subscription.created' }]);

    // Features follow the plan.
    const multivariate = await t.app.inject({ method: 'GET', url: '/api/v1/billing/features/multivariate/check', headers: tenant() });
    expect(multivariate.json()).toEqual({ hasAccess: true });

    // invoice.payment_failed: past due, the plan stays in force while Stripe retries.
    const failed = signed({ id: 'evt_2', type: 'invoice.payment_failed', data: { object: { id: 'in_1', object: 'invoice', customer: 'cus_1', parent: { subscription_details: { subscription: 'sub_1' } } } } });
    expect((await webhook(failed)).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/billing/subscription', headers: tenant() })).json()).toMatchObject({ status: 'past_due', plan: 'enhanced' });

    // A manageable subscription: a subscription checkout becomes a targeted plan-change confirmation.
    stripe.subscriptions.set('sub_1', { id: 'sub_1', object: 'subscription', customer: 'cus_1', status: 'past_due', items: { object: 'list', data: [{ id: 'si_1', object: 'subscription_item', price: { id: 'price_enhanced' } }] } });
    const change = await checkout({ type: 'subscription', planId: 'standard', ...urls });
    expect(change.statusCode, change.body).toBe(200);
    expect(change.json()).toEqual({ checkoutUrl: expect.stringMatching(/^https:\/\/billing\.stripe\.test\/p\/session\//), type: 'subscription' });
    expect(stripe.to('POST /v1/checkout/sessions')).toEqual([]);
    expect(stripe.to('POST /v1/billing_portal/sessions')[0]!.form).toMatchObject({
      customer: 'cus_1',
      'flow_data[type]': 'subscription_update_confirm',
      'flow_data[subscription_update_confirm][subscription]': 'sub_1',
      'flow_data[subscription_update_confirm][items][0][id]': 'si_1',
      'flow_data[subscription_update_confirm][items][0][price]': 'price_standard',
      'flow_data[after_completion][type]': 'redirect',
      'flow_data[after_completion][redirect][return_url]': urls.successUrl,
    });

    // The tenant's customer is its own: another customer's id is refused.
    const foreign = await checkout({ type: 'subscription', planId: 'standard', ...urls, customerId: 'cus_someone_else' });
    expect(foreign.statusCode).toBe(422);
    expect(foreign.json().errors).toEqual({ customerId: expect.any(String) });

    const portal = await t.app.inject({ method: 'POST', url: '/api/v1/billing/portal', headers: tenant(), payload: { returnUrl: 'https://app.example.test/billing' } });
    expect(portal.statusCode, portal.body).toBe(200);
    expect(portal.json().url).toMatch(/^https:\/\/billing\.stripe\.test\//);
    expect(stripe.to('POST /v1/billing_portal/sessions')[1]!.form).toEqual({ customer: 'cus_1', return_url: 'https://app.example.test/billing' });

    // Plan changed in the portal (matched by price), then cancelled.
    expect((await webhook(signed(subscriptionEvent('evt_3', 'customer.subscription.updated', admin.organizationId, { id: 'sub_1', status: 'active', price: 'price_standard' })))).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/billing/subscription', headers: tenant() })).json()).toMatchObject({ plan: 'standard', status: 'active', cancelAtPeriodEnd: false });
    expect((await webhook(signed(subscriptionEvent('evt_4', 'customer.subscription.deleted', admin.organizationId, { id: 'sub_1', status: 'canceled', price: 'price_standard' })))).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/billing/subscription', headers: tenant() })).json()).toMatchObject({ id: 'sub_1', plan: 'sandbox', status: 'canceled' });
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/billing/features/multivariate/check', headers: tenant() })).json()).toEqual({ hasAccess: false });
  });

  it('shows the plan in force wherever an organisation is shown: the default plan until one is bought, then that plan', async () => {
    const who = await signUp(t.app);
    const planShown = async () => {
      const login = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: who.email, password: who.password } });
      const orgs = await t.app.inject({ method: 'GET', url: '/api/v1/organizations', headers: authHeader(who.accessToken) });
      const mine = (orgs.json() as Array<{ id: string; plan: string }>).find((o) => o.id === `tenant_${who.organizationId}`);
      return { login: login.json().data.subscription.plan as string, organizations: mine?.plan };
    };
    // Stored as every new organisation is ('self-hosted'); in force: the default plan.
    const stored = await db().selectFrom('organizations').select('plan').where('id', '=', who.organizationId).executeTakeFirstOrThrow();
    expect(stored.plan).toBe('self-hosted');
    expect(await planShown()).toEqual({ login: 'sandbox', organizations: 'sandbox' });
    const bought = signed(subscriptionEvent('evt_shown', 'customer.subscription.created', who.organizationId, { id: 'sub_shown', status: 'active', price: 'price_enhanced', customer: 'cus_shown' }));
    expect((await webhook(bought)).statusCode).toBe(200);
    expect(await planShown()).toEqual({ login: 'enhanced', organizations: 'enhanced' });
  });

  it('ignores an event older than the stored state (Stripe does not deliver in order)', async () => {
    const user = await signUp(t.app);
    const at = (created: number, e: Record<string, unknown>) => signed({ ...e, created });
    const now = Math.floor(Date.now() / 1000);
    expect((await webhook(at(now, subscriptionEvent('evt_new', 'customer.subscription.updated', user.organizationId, { id: 'sub_late', customer: 'cus_late', status: 'active', price: 'price_enhanced' })))).statusCode).toBe(200);
    const late = await webhook(at(now - 60, subscriptionEvent('evt_old', 'customer.subscription.created', user.organizationId, { id: 'sub_late', customer: 'cus_late', status: 'incomplete', price: 'price_standard' })));
    expect(late.json()).toEqual({ received: true, duplicate: false });
    const sub = await t.app.inject({ method: 'GET', url: '/api/v1/billing/subscription', headers: authHeader(user.accessToken) });
    expect(sub.json()).toMatchObject({ id: 'sub_late', plan: 'enhanced', status: 'active' });
  });

  it('checkout.session.completed stores the customer and subscription of the tenant named in its metadata', async () => {
    const other = await signUp(t.app);
    const completed = signed({ id: 'evt_cs', type: 'checkout.session.completed', data: { object: { id: 'cs_1', object: 'checkout.session', mode: 'subscription', customer: 'cus_other', subscription: 'sub_other', metadata: { organizationId: String(other.organizationId), planId: 'standard' } } } });
    expect((await webhook(completed)).statusCode).toBe(200);
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/billing/subscription', headers: authHeader(other.accessToken) });
    expect(res.json()).toMatchObject({ id: 'sub_other', customerId: 'cus_other', plan: 'standard', status: 'active' });
    // An event for no known tenant is acknowledged, recorded, and changes nothing.
    const stray = signed({ id: 'evt_stray', type: 'checkout.session.completed', data: { object: { id: 'cs_2', object: 'checkout.session', mode: 'subscription', metadata: { organizationId: '999999999' } } } });
    expect((await webhook(stray)).json()).toEqual({ received: true, duplicate: false });
  });

  it('portal without a Stripe customer is 409 no_billing_customer; another tenant is 404', async () => {
    const fresh = await signUp(t.app);
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/billing/portal', headers: authHeader(fresh.accessToken), payload: { returnUrl: 'https://app.example.test/billing' } });
    expect(res.json()).toMatchObject({ status: 409, code: 'no_billing_customer' });
    const outsider = await t.app.inject({ method: 'GET', url: '/api/v1/billing/subscription', headers: { ...authHeader(fresh.accessToken), 'x-tenant-id': `tenant_${admin.organizationId}` } });
    expect(outsider.statusCode).toBe(404);
  });
});

describe.each(testDialects())('/api/v1/billing with billing off on %s', (dialect) => {
  let t: TestApp;
  let admin: SignedUpUser;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    admin = await signUp(t.app);
  });
  afterAll(async () => t?.close());

  it('answers 409 billing_disabled on checkout, portal, subscription and webhook', async () => {
    const headers = { ...authHeader(admin.accessToken), 'x-tenant-id': `tenant_${admin.organizationId}` };
    const calls = [
      t.app.inject({ method: 'POST', url: '/api/v1/billing/checkout', headers, payload: { type: 'subscription', planId: 'standard', successUrl: 'https://a.test/s', cancelUrl: 'https://a.test/c' } }),
      t.app.inject({ method: 'POST', url: '/api/v1/billing/portal', headers, payload: { returnUrl: 'https://a.test/b' } }),
      t.app.inject({ method: 'GET', url: '/api/v1/billing/subscription', headers }),
      t.app.inject({ method: 'POST', url: '/api/v1/billing/webhook', headers: { 'content-type': 'application/json', 'stripe-signature': 't=1,v1=x' }, payload: '{}' }),
    ];
    for (const res of await Promise.all(calls)) {
      expect(res.statusCode, res.body).toBe(409);
      expect(res.json()).toMatchObject({ code: 'billing_disabled' });
    }
  });

  it('answers the feature checks from the self-hosted plan: everything', async () => {
    for (const path of ['features/analytics', 'features/experiments/check', 'features/multivariate/check']) {
      const res = await t.app.inject({ method: 'GET', url: `/api/v1/billing/${path}`, headers: authHeader(admin.accessToken) });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toEqual({ hasAccess: true });
    }
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/billing/features/analytics' })).statusCode).toBe(401);
  });
});
