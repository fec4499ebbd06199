import type Stripe from 'stripe';
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';
import { isUniqueViolation } from '../../db/unique-violation.js';
import type { Actor } from '../../domain/actor.js';
import { systemActor } from '../../domain/actor.js';
import { ConflictError, UnavailableError, ValidationError } from '../../domain/errors.js';
import { nowIso } from '../../domain/ids.js';
import type { AccessService } from '../access/access-service.js';
import type { AuditStore } from '../audit/audit-store.js';
import type { EntitlementService, EvaluationQuota } from '../plans/entitlement-service.js';
import { sellablePlanIds, type FeatureName, type PlanId } from '../plans/plans.js';
import type { StripeSettings } from './billing-config.js';
import type { BillingStore, BillingSubscription } from './billing-store.js';
import { requireWhenUsed } from '../../require-when-used.js';

type Db = Kysely<Database> | Transaction<Database>;

/** Stripe answered with an error (or could not be reached): 502 `billing_provider_error` with Stripe's message. */
export class BillingProviderError extends UnavailableError {
  constructor(message: string) {
    super(message, 'billing_provider_error');
  }
}

/** A webhook delivery whose `Stripe-Signature` does not verify. */
export class WebhookSignatureError extends ValidationError {
  constructor(message: string) {
    super(message, {}, 'invalid_signature');
  }
}

/** `POST /billing/checkout`. */
export interface CheckoutInput {
  type: 'subscription' | 'payment';
  planId?: string;
  productId?: string;
  /** Smallest currency unit (cents). */
  amount?: number;
  currency?: string;
  successUrl: string;
  cancelUrl: string;
  customerId?: string;
  /** A customer-facing promotion code (`SPRING25`), looked up in Stripe. */
  promoCode?: string;
  discounts?: { coupon?: string; promotionCode?: string }[];
  /** PromoteKit's referral (Checkout's `client_reference_id`). */
  referralId?: string;
}

/** A subscription as `GET /billing/subscription` shows it. */
export interface SubscriptionView {
  id: string | null;
  plan: PlanId;
  status: string;
  currentPeriodStart: string | null;
  currentPeriodEnd: string | null;
  cancelAtPeriodEnd: boolean;
  customerId: string | null;
  evaluations: EvaluationQuota;
}

/** Statuses in which the plan bought is in force (Stripe retries `past_due` payments). */
const liveStatuses = new Set(['active', 'trialing', 'past_due']);
/** Statuses whose subscription can be changed in the Billing Portal. */
const manageableStatuses = new Set(['active', 'trialing', 'past_due', 'unpaid']);

function iso(seconds: unknown): string | null {
  return typeof seconds === 'number' ? new Date(seconds * 1000).toISOString() : null;
}

function idOf(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as { id?: unknown }).id === 'string') return (v as { id: string }).id;
  return null;
}

/** The subscription fields the webhooks read (periods moved onto items in newer API versions). */
interface StripeSubscriptionLike {
  id: string;
  customer: unknown;
  status: string;
  cancel_at_period_end?: boolean;
  current_period_start?: number;
  current_period_end?: number;
  metadata?: Record<string, string>;
  items?: { data?: { id: string; price?: { id: string }; current_period_start?: number; current_period_end?: number }[] };
}

/**
 * Stripe billing: Checkout and Billing Portal sessions for a tenant, and the webhook that keeps
 * its subscription and plan in step. Every Stripe failure becomes a {@link BillingProviderError}.
 */
export class BillingService {
  private readonly stripe: Stripe | null;
  private readonly stripeError: typeof Stripe.errors.StripeError | null;
  private readonly priceToPlan = new Map<string, PlanId>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly access: AccessService,
    private readonly store: BillingStore,
    private readonly entitlements: EntitlementService,
    private readonly audit: AuditStore,
    private readonly settings: StripeSettings | null,
    private readonly defaultPlan: PlanId,
  ) {
    // stripe's generated resources are the largest module a server without billing would otherwise hold.
    const StripeClient = settings ? (requireWhenUsed('stripe') as typeof Stripe) : null;
    this.stripeError = StripeClient?.errors.StripeError ?? null;
    this.stripe = settings && StripeClient
      ? new StripeClient(settings.secretKey, {
          maxNetworkRetries: 0,
          timeout: 15_000,
          ...(settings.apiBase ? { host: settings.apiBase.host, port: settings.apiBase.port, protocol: settings.apiBase.protocol } : {}),
        })
      : null;
    for (const [plan, price] of Object.entries(settings?.prices ?? {})) this.priceToPlan.set(price, plan as PlanId);
  }

  /** True when Stripe is configured. */
  get enabled(): boolean {
    return this.stripe !== null;
  }

  private client(): Stripe {
    if (!this.stripe) throw new ConflictError('Billing is not enabled on this server', 'billing_disabled');
    return this.stripe;
  }

  /** A Checkout session, or — for a tenant with a manageable subscription asking for a plan — a Billing Portal plan-change confirmation. */
  async checkout(actor: Actor, organizationId: number | null, input: CheckoutInput): Promise<{ checkoutUrl: string; type: 'subscription' | 'payment' }> {
    const stripe = this.client();
    const { organizationId: orgId } = await this.access.require(actor, organizationId, 'billing:write');
    const existing = await this.store.find(this.db, orgId);
    // A tenant with a Stripe customer keeps it: another customer's id would attach this tenant's plan to them.
    if (input.customerId !== undefined && existing?.customerId && input.customerId !== existing.customerId) {
      throw new ValidationError("customerId is not this tenant's Stripe customer", { customerId: "must be this tenant's Stripe customer (or left out)" });
    }
    const customer = input.customerId ?? existing?.customerId ?? undefined;
    const discounts = await this.discounts(stripe, input);
    const metadata = { organizationId: String(orgId) };
    if (input.type === 'subscription') {
      const planId = input.planId;
      if (!planId || !(sellablePlanIds as readonly string[]).includes(planId)) throw new ValidationError('planId must be a plan that can be bought', { planId: `must be one of ${sellablePlanIds.join(', ')}` });
      const price = this.settings!.prices[planId as PlanId];
      if (!price) throw new ConflictError(`Plan ${planId} has no Stripe price configured`, 'plan_not_available', { planId });
      if (existing?.subscriptionId && existing.customerId && manageableStatuses.has(existing.status)) {
        const url = await this.call(async () => {
          const sub = (await stripe.subscriptions.retrieve(existing.subscriptionId!)) as unknown as StripeSubscriptionLike;
          const item = sub.items?.data?.[0];
          if (!item) throw new ConflictError('The current subscription has no item to change', 'subscription_not_manageable');
          const session = await stripe.billingPortal.sessions.create({
            customer: existing.customerId!,
            return_url: input.cancelUrl,
            flow_data: {
              type: 'subscription_update_confirm',
              subscription_update_confirm: {
                subscription: existing.subscriptionId!,
                items: [{ id: item.id, price, quantity: 1 }],
                ...(discounts ? { discounts } : {}),
              },
              after_completion: { type: 'redirect', redirect: { return_url: input.successUrl } },
            },
          } as Stripe.BillingPortal.SessionCreateParams);
          return session.url;
        });
        return { checkoutUrl: url, type: 'subscription' };
      }
      const url = await this.call(async () => {
        const session = await stripe.checkout.sessions.create({
          mode: 'subscription',
          line_items: [{ price, quantity: 1 }],
          success_url: input.successUrl,
          cancel_url: input.cancelUrl,
          ...(customer ? { customer } : {}),
          ...(input.referralId ? { client_reference_id: input.referralId } : {}),
          ...(discounts ? { discounts } : { allow_promotion_codes: true }),
          metadata: { ...metadata, planId, ...(input.referralId ? { promotekit_referral: input.referralId } : {}) },
          subscription_data: { metadata: { ...metadata, planId } },
        });
        return session.url;
      });
      if (!url) throw new BillingProviderError('Stripe returned no checkout URL');
      return { checkoutUrl: url, type: 'subscription' };
    }
    if (!input.productId) throw new ValidationError('productId is required for a payment', { productId: 'is required for type payment' });
    if (input.amount === undefined) throw new ValidationError('amount is required for a payment', { amount: 'is required for type payment' });
    const url = await this.call(async () => {
      const session = await stripe.checkout.sessions.create({
        mode: 'payment',
        line_items: [{ price_data: { currency: input.currency ?? 'usd', product: input.productId!, unit_amount: input.amount! }, quantity: 1 }],
        success_url: input.successUrl,
        cancel_url: input.cancelUrl,
        ...(customer ? { customer } : {}),
        ...(input.referralId ? { client_reference_id: input.referralId } : {}),
        ...(discounts ? { discounts } : {}),
        metadata: { ...metadata, ...(input.referralId ? { promotekit_referral: input.referralId } : {}) },
      });
      return session.url;
    });
    if (!url) throw new BillingProviderError('Stripe returned no checkout URL');
    return { checkoutUrl: url, type: 'payment' };
  }

  private async discounts(stripe: Stripe, input: CheckoutInput): Promise<{ coupon?: string; promotion_code?: string }[] | null> {
    const out: { coupon?: string; promotion_code?: string }[] = [];
    for (const d of input.discounts ?? []) out.push(d.coupon ? { coupon: d.coupon } : { promotion_code: d.promotionCode! });
    if (input.promoCode) {
      const code = input.promoCode;
      const found = await this.call(() => stripe.promotionCodes.list({ code, active: true, limit: 1 }));
      const promo = found.data[0];
      if (!promo) throw new ValidationError(`Promotion code ${code} is not valid`, { promoCode: 'is not an active promotion code' });
      out.push({ promotion_code: promo.id });
    }
    return out.length > 0 ? out : null;
  }

  /** Whether the tenant's plan includes `feature` (any member may ask; answers with billing off too: self-hosted has everything). */
  async hasFeature(actor: Actor, organizationId: number | null, feature: FeatureName): Promise<boolean> {
    const { organizationId: orgId } = await this.access.requireMember(actor, organizationId);
    return this.entitlements.hasFeature(orgId, feature);
  }

  /** A Billing Portal session for the tenant's Stripe customer. */
  async portal(actor: Actor, organizationId: number | null, returnUrl: string): Promise<{ url: string }> {
    const stripe = this.client();
    const { organizationId: orgId } = await this.access.require(actor, organizationId, 'billing:write');
    const existing = await this.store.find(this.db, orgId);
    if (!existing?.customerId) throw new ConflictError('This tenant has no Stripe customer yet: check out a plan first', 'no_billing_customer');
    const session = await this.call(() => stripe.billingPortal.sessions.create({ customer: existing.customerId!, return_url: returnUrl }));
    return { url: session.url };
  }

  /** The tenant's subscription (plan in force, Stripe's status and period) and its evaluation quota this month. */
  async subscription(actor: Actor, organizationId: number | null): Promise<SubscriptionView> {
    this.client();
    const { organizationId: orgId } = await this.access.require(actor, organizationId, 'billing:read');
    const [row, plan, evaluations] = await Promise.all([this.store.find(this.db, orgId), this.entitlements.planOf(orgId), this.entitlements.evaluationQuota(orgId)]);
    return {
      id: row?.subscriptionId ?? null,
      plan: plan.id,
      status: row?.status ?? 'none',
      currentPeriodStart: row?.currentPeriodStart ?? null,
      currentPeriodEnd: row?.currentPeriodEnd ?? null,
      cancelAtPeriodEnd: row?.cancelAtPeriodEnd ?? false,
      customerId: row?.customerId ?? null,
      evaluations,
    };
  }

  /**
   * Verifies and applies one webhook delivery, once per event id. Unknown event types and
   * events for no known tenant are acknowledged (and recorded) so Stripe stops resending them.
   */
  async handleWebhook(rawBody: Buffer, signature: string | undefined): Promise<{ received: true; duplicate: boolean }> {
    const stripe = this.client();
    const secret = this.settings!.webhookSecret;
    if (!secret) throw new UnavailableError('STRIPE_WEBHOOK_SECRET is not set: webhooks cannot be verified', 'webhook_not_configured');
    if (!signature) throw new WebhookSignatureError('Stripe-Signature header is missing');
    let event: Stripe.Event;
    try {
      event = stripe.webhooks.constructEvent(rawBody, signature, secret);
    } catch (err) {
      throw new WebhookSignatureError(`Webhook signature verification failed: ${(err as Error).message}`);
    }
    try {
      return await this.db.transaction().execute(async (trx) => {
        if (await this.store.seen(trx, event.id)) return { received: true as const, duplicate: true };
        const orgId = await this.apply(trx, event);
        await this.store.markSeen(trx, event.id, event.type, orgId, nowIso());
        return { received: true as const, duplicate: false };
      });
    } catch (err) {
      // A concurrent delivery of the same event committed first.
      if (isUniqueViolation(err)) return { received: true, duplicate: true };
      throw err;
    }
  }

  private async apply(trx: Db, event: Stripe.Event): Promise<number | null> {
    const object = event.data.object as unknown as Record<string, unknown>;
    // The event's own time orders the subscription's states: Stripe does not deliver in order.
    const eventTime = iso(event.created) ?? nowIso();
    switch (event.type) {
      case 'checkout.session.completed': {
        if (object.mode !== 'subscription') return this.organizationFrom(trx, object.metadata);
        const orgId = await this.organizationFrom(trx, object.metadata);
        if (orgId === null) return null;
        const existing = await this.store.find(trx, orgId);
        const planId = (object.metadata as Record<string, string> | undefined)?.planId;
        const plan: PlanId = planId && (sellablePlanIds as readonly string[]).includes(planId) ? (planId as PlanId) : (existing?.plan as PlanId | undefined) ?? this.defaultPlan;
        await this.save(trx, {
          organizationId: orgId,
          customerId: idOf(object.customer) ?? existing?.customerId ?? null,
          subscriptionId: idOf(object.subscription) ?? existing?.subscriptionId ?? null,
          plan,
          status: existing?.subscriptionId === idOf(object.subscription) && existing ? existing.status : 'active',
          currentPeriodStart: existing?.currentPeriodStart ?? null,
          currentPeriodEnd: existing?.currentPeriodEnd ?? null,
          cancelAtPeriodEnd: existing?.cancelAtPeriodEnd ?? false,
          updatedAt: eventTime,
        }, event.type);
        return orgId;
      }
      case 'customer.subscription.created':
      case 'customer.subscription.updated':
      case 'customer.subscription.deleted': {
        const sub = object as unknown as StripeSubscriptionLike;
        const existing = await this.store.findByStripe(trx, { subscriptionId: sub.id, customerId: idOf(sub.customer) });
        const orgId = (await this.organizationFrom(trx, sub.metadata)) ?? existing?.organizationId ?? null;
        if (orgId === null) return null;
        const item = sub.items?.data?.[0];
        const priced = item?.price?.id ? this.priceToPlan.get(item.price.id) : undefined;
        const fromMetadata = sub.metadata?.planId;
        const plan: PlanId = priced ?? (fromMetadata && (sellablePlanIds as readonly string[]).includes(fromMetadata) ? (fromMetadata as PlanId) : (existing?.plan as PlanId | undefined) ?? this.defaultPlan);
        await this.save(trx, {
          organizationId: orgId,
          customerId: idOf(sub.customer),
          subscriptionId: sub.id,
          plan,
          status: event.type === 'customer.subscription.deleted' ? 'canceled' : sub.status,
          currentPeriodStart: iso(item?.current_period_start ?? sub.current_period_start),
          currentPeriodEnd: iso(item?.current_period_end ?? sub.current_period_end),
          cancelAtPeriodEnd: sub.cancel_at_period_end === true,
          updatedAt: eventTime,
        }, event.type);
        return orgId;
      }
      case 'invoice.payment_failed': {
        const parent = object.parent as { subscription_details?: { subscription?: unknown } } | undefined;
        const subscriptionId = idOf(object.subscription) ?? idOf(parent?.subscription_details?.subscription);
        const existing = await this.store.findByStripe(trx, { subscriptionId, customerId: idOf(object.customer) });
        if (!existing) return null;
        await this.save(trx, { ...existing, status: 'past_due', updatedAt: eventTime }, event.type);
        return existing.organizationId;
      }
      default:
        return null;
    }
  }

  private async organizationFrom(trx: Db, metadata: unknown): Promise<number | null> {
    const raw = (metadata as Record<string, string> | null | undefined)?.organizationId;
    if (!raw || !/^\d{1,16}$/.test(raw)) return null;
    const id = Number(raw);
    return (await this.store.organizationExists(trx, id)) ? id : null;
  }

  /** Stores the subscription (unless `before` is newer), puts the plan in force (the default plan once it is not live), audited. */
  private async save(trx: Db, s: BillingSubscription, eventType: string): Promise<void> {
    const before = await this.store.find(trx, s.organizationId);
    // An event older than the state already stored (a late delivery or retry) changes nothing.
    if (before && s.updatedAt < before.updatedAt) return;
    await this.store.upsert(trx, s);
    const inForce: PlanId = liveStatuses.has(s.status) ? (s.plan as PlanId) : this.defaultPlan;
    await this.entitlements.setPlan(s.organizationId, inForce, trx);
    await this.audit.record(trx, systemActor, {
      organizationId: s.organizationId,
      action: 'billing.subscription.updated',
      resourceType: 'subscription',
      resourceId: null,
      before: before ? { plan: before.plan, status: before.status } : null,
      after: { plan: s.plan, status: s.status, planInForce: inForce, cancelAtPeriodEnd: s.cancelAtPeriodEnd, event: eventType },
    });
  }

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (this.stripeError && err instanceof this.stripeError) throw new BillingProviderError(err.message || 'Stripe request failed');
      throw err;
    }
  }
}
