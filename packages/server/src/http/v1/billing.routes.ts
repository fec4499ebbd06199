import type { FastifyError, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { BillingProviderError, WebhookSignatureError, type SubscriptionView } from '../../features/billing/billing-service.js';
import type { FeatureName } from '../../features/plans/plans.js';
import { requireActor } from '../plugins/identify.js';
import { bearer, problems } from './access.schemas.js';
import { requireAuthentication } from './authenticated.js';
import { problem, sendProblem, v1ErrorHandler } from './problem.js';
import { tenantIdHeader, requireTenantHeader } from './tenant-context.js';

const tags = ['billing'];
const base = '/api/v1/billing';
const webhookPath = `${base}/webhook`;

const Url = Type.String({ minLength: 1, maxLength: 2048, pattern: '^https?://', description: 'An absolute http(s) URL' });
const StripeId = Type.String({ minLength: 1, maxLength: 255, pattern: '^[A-Za-z0-9_-]+$' });

const CheckoutBody = Type.Object(
  {
    type: Type.Union([Type.Literal('subscription'), Type.Literal('payment')]),
    planId: Type.Optional(Type.String({ maxLength: 64, description: 'Required for subscription: sandbox, standard, enhanced or enterprise' })),
    productId: Type.Optional(StripeId),
    amount: Type.Optional(Type.Integer({ minimum: 1, maximum: 99_999_999, description: 'Required for payment: smallest currency unit (cents)' })),
    currency: Type.Optional(Type.String({ pattern: '^[a-z]{3}$', description: 'ISO 4217, lower case; default usd' })),
    successUrl: Url,
    cancelUrl: Url,
    customerId: Type.Optional(StripeId),
    promoCode: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    discounts: Type.Optional(
      Type.Array(
        Type.Union([
          Type.Object({ coupon: StripeId }, { additionalProperties: false }),
          Type.Object({ promotion_code: StripeId }, { additionalProperties: false }),
        ]),
        { maxItems: 5 },
      ),
    ),
    referralId: Type.Optional(Type.String({ minLength: 1, maxLength: 500, description: 'PromoteKit referral (Checkout client_reference_id)' })),
    promotekit_referral: Type.Optional(Type.String({ minLength: 1, maxLength: 500, description: 'Legacy alias of referralId' })),
  },
  { additionalProperties: false },
);

const CheckoutSchema = Type.Object({ checkoutUrl: Type.String(), type: Type.Union([Type.Literal('subscription'), Type.Literal('payment')]) });
const PortalBody = Type.Object({ returnUrl: Url }, { additionalProperties: false });
const PortalSchema = Type.Object({ url: Type.String(), portalUrl: Type.String({ description: 'The same URL' }) });
const SubscriptionSchema = Type.Object({
  id: Type.Union([Type.String(), Type.Null()], { description: 'Stripe subscription id; null before any purchase' }),
  plan: Type.String({ description: 'The plan in force' }),
  status: Type.String({ description: "Stripe's status (active, trialing, past_due, canceled, …), or none" }),
  currentPeriodStart: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  currentPeriodEnd: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  cancelAtPeriodEnd: Type.Boolean(),
  customerId: Type.Union([Type.String(), Type.Null()]),
  evaluations: Type.Object({
    used: Type.Integer({ description: 'Evaluations this calendar month (UTC)' }),
    limit: Type.Union([Type.Integer(), Type.Null()]),
    hardLimit: Type.Union([Type.Integer(), Type.Null()], { description: 'Limit plus the overage grace: evaluation is refused from here; null never' }),
    state: Type.Union([Type.Literal('within'), Type.Literal('over'), Type.Literal('exhausted')]),
  }),
});
const AccessSchema = Type.Object({ hasAccess: Type.Boolean() });
const WebhookSchema = Type.Object({ received: Type.Literal(true), duplicate: Type.Boolean() });
const TenantHeaders = Type.Object({ 'x-tenant-id': tenantIdHeader });
const OptionalTenantHeaders = Type.Object({ 'x-tenant-id': Type.Optional(tenantIdHeader) });

function toSubscriptionBody(s: SubscriptionView) {
  return {
    id: s.id,
    plan: s.plan,
    status: s.status,
    currentPeriodStart: s.currentPeriodStart,
    currentPeriodEnd: s.currentPeriodEnd,
    cancelAtPeriodEnd: s.cancelAtPeriodEnd,
    customerId: s.customerId,
    evaluations: { used: s.evaluations.used, limit: s.evaluations.allowed, hardLimit: s.evaluations.hardLimit, state: s.evaluations.state },
  };
}

/** Stripe's failures are a bad gateway (502, Stripe's message); a bad webhook signature is a 400. */
function billingErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (error instanceof BillingProviderError) {
    request.log.warn({ message: error.message }, 'Stripe request failed');
    return sendProblem(reply, problem(request, 502, error.code, error.message));
  }
  if (error instanceof WebhookSignatureError) return sendProblem(reply, problem(request, 400, error.code, error.message));
  return v1ErrorHandler(error, request, reply);
}

/**
 * `/api/v1/billing…` over the billing service: Stripe Checkout and Billing Portal sessions, the
 * tenant's subscription, plan feature checks and the Stripe webhook (raw body, signature
 * verified, no bearer token). Billing off: 409 `billing_disabled`, except the feature checks.
 */
export const billingRoutes: FastifyPluginAsync = async (root) => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  app.setErrorHandler(billingErrorHandler);
  const { billing } = app.services;

  await app.register(async (authed) => {
    const r = authed.withTypeProvider<TypeBoxTypeProvider>();
    requireAuthentication(r);
    requireTenantHeader(r, { optional: [`${base}/portal`, `${base}/subscription`, `${base}/features/analytics`, `${base}/features/experiments/check`, `${base}/features/multivariate/check`] });

    r.post(`${base}/checkout`, {
      schema: {
        operationId: 'createBillingCheckout',
        tags,
        summary: 'Stripe Checkout for a plan (subscription) or a one-time payment; with a manageable subscription, a Billing Portal plan-change confirmation',
        security: bearer,
        headers: TenantHeaders,
        body: CheckoutBody,
        response: { 200: CheckoutSchema, ...problems(401, 403, 404, 409, 422, 502, 503) },
      },
    }, async (request) => {
      const b = request.body;
      return billing.checkout(requireActor(request), requireActor(request).organizationId, {
        type: b.type,
        successUrl: b.successUrl,
        cancelUrl: b.cancelUrl,
        ...(b.planId !== undefined ? { planId: b.planId } : {}),
        ...(b.productId !== undefined ? { productId: b.productId } : {}),
        ...(b.amount !== undefined ? { amount: b.amount } : {}),
        ...(b.currency !== undefined ? { currency: b.currency } : {}),
        ...(b.customerId !== undefined ? { customerId: b.customerId } : {}),
        ...(b.promoCode !== undefined ? { promoCode: b.promoCode } : {}),
        ...(b.discounts !== undefined ? { discounts: b.discounts.map((d) => ('coupon' in d ? { coupon: d.coupon } : { promotionCode: d.promotion_code })) } : {}),
        ...(b.referralId !== undefined || b.promotekit_referral !== undefined ? { referralId: (b.referralId ?? b.promotekit_referral)! } : {}),
      });
    });

    r.post(`${base}/portal`, {
      schema: {
        operationId: 'createBillingPortalSession',
        tags,
        summary: "Stripe Billing Portal session for the tenant's customer",
        security: bearer,
        headers: OptionalTenantHeaders,
        body: PortalBody,
        response: { 200: PortalSchema, ...problems(401, 403, 404, 409, 422, 502, 503) },
      },
    }, async (request) => {
      const { url } = await billing.portal(requireActor(request), requireActor(request).organizationId, request.body.returnUrl);
      return { url, portalUrl: url };
    });

    r.get(`${base}/subscription`, {
      schema: {
        operationId: 'getBillingSubscription',
        tags,
        summary: "The tenant's subscription (plan in force, Stripe status and period) and this month's evaluation quota",
        security: bearer,
        headers: OptionalTenantHeaders,
        response: { 200: SubscriptionSchema, ...problems(401, 403, 404, 409) },
      },
    }, async (request) => toSubscriptionBody(await billing.subscription(requireActor(request), requireActor(request).organizationId)));

    const feature = (path: string, operationId: string, name: FeatureName, summary: string) =>
      r.get(path, {
        schema: { operationId, tags, summary, security: bearer, headers: OptionalTenantHeaders, response: { 200: AccessSchema, ...problems(401, 403, 404) } },
      }, async (request) => ({ hasAccess: await billing.hasFeature(requireActor(request), requireActor(request).organizationId, name) }));
    feature(`${base}/features/analytics`, 'checkBillingAnalytics', 'analytics', "Whether the tenant's plan includes analytics");
    feature(`${base}/features/experiments/check`, 'checkBillingExperiments', 'experiments', "Whether the tenant's plan includes experiments (A/B tests)");
    feature(`${base}/features/multivariate/check`, 'checkBillingMultivariate', 'multivariate', "Whether the tenant's plan includes multivariate flags (more than two variations)");
  });

  // The webhook needs the exact bytes Stripe signed: a raw parser for this route's context only.
  await app.register(async (hook) => {
    hook.removeAllContentTypeParsers();
    hook.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
    hook.withTypeProvider<TypeBoxTypeProvider>().post(webhookPath, {
      schema: {
        operationId: 'receiveStripeWebhook',
        tags,
        summary: 'Stripe webhook: verifies Stripe-Signature, applies each event id once (subscription, plan, status, period)',
        response: { 200: WebhookSchema, ...problems(409, 503) },
      },
    }, async (request) => {
      const signature = request.headers['stripe-signature'];
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      return billing.handleWebhook(body, typeof signature === 'string' ? signature : undefined);
    });
  });
};
