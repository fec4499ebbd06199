import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';

type Db = Kysely<Database> | Transaction<Database>;

/** An organisation's subscription as Stripe's webhooks last reported it. */
export interface BillingSubscription {
  organizationId: number;
  customerId: string | null;
  subscriptionId: string | null;
  plan: string;
  status: string;
  currentPeriodStart: string | null;
  currentPeriodEnd: string | null;
  cancelAtPeriodEnd: boolean;
  updatedAt: string;
}

/** Subscriptions and processed webhook events. */
export interface BillingStore {
  find(db: Db, organizationId: number): Promise<BillingSubscription | null>;
  findByStripe(db: Db, ids: { subscriptionId?: string | null; customerId?: string | null }): Promise<BillingSubscription | null>;
  upsert(db: Db, subscription: BillingSubscription): Promise<void>;
  /** True when the event was processed before. */
  seen(db: Db, eventId: string): Promise<boolean>;
  /** Records an event as processed; a unique violation means another delivery won the race. */
  markSeen(db: Db, eventId: string, type: string, organizationId: number | null, now: string): Promise<void>;
  organizationExists(db: Db, organizationId: number): Promise<boolean>;
}

type Row = Database['billing_subscriptions'];

function fromRow(r: Row): BillingSubscription {
  return {
    organizationId: Number(r.organization_id),
    customerId: r.stripe_customer_id,
    subscriptionId: r.stripe_subscription_id,
    plan: r.plan,
    status: r.status,
    currentPeriodStart: r.current_period_start,
    currentPeriodEnd: r.current_period_end,
    cancelAtPeriodEnd: r.cancel_at_period_end === 1,
    updatedAt: r.updated_at,
  };
}

/** Kysely implementation of {@link BillingStore}. */
export class KyselyBillingStore implements BillingStore {
  async find(db: Db, organizationId: number): Promise<BillingSubscription | null> {
    const r = await db.selectFrom('billing_subscriptions').selectAll().where('organization_id', '=', organizationId).executeTakeFirst();
    return r ? fromRow(r) : null;
  }

  async findByStripe(db: Db, ids: { subscriptionId?: string | null; customerId?: string | null }): Promise<BillingSubscription | null> {
    if (ids.subscriptionId) {
      const r = await db.selectFrom('billing_subscriptions').selectAll().where('stripe_subscription_id', '=', ids.subscriptionId).executeTakeFirst();
      if (r) return fromRow(r);
    }
    if (ids.customerId) {
      const r = await db.selectFrom('billing_subscriptions').selectAll().where('stripe_customer_id', '=', ids.customerId).orderBy('updated_at', 'desc').executeTakeFirst();
      if (r) return fromRow(r);
    }
    return null;
  }

  async upsert(db: Db, s: BillingSubscription): Promise<void> {
    const values = {
      stripe_customer_id: s.customerId,
      stripe_subscription_id: s.subscriptionId,
      plan: s.plan,
      status: s.status,
      current_period_start: s.currentPeriodStart,
      current_period_end: s.currentPeriodEnd,
      cancel_at_period_end: s.cancelAtPeriodEnd ? 1 : 0,
      updated_at: s.updatedAt,
    };
    await db
      .insertInto('billing_subscriptions')
      .values({ organization_id: s.organizationId, ...values })
      .onConflict((oc) => oc.column('organization_id').doUpdateSet(values))
      .execute();
  }

  async seen(db: Db, eventId: string): Promise<boolean> {
    const r = await db.selectFrom('billing_events').select('event_id').where('event_id', '=', eventId).executeTakeFirst();
    return r !== undefined;
  }

  async markSeen(db: Db, eventId: string, type: string, organizationId: number | null, now: string): Promise<void> {
    await db.insertInto('billing_events').values({ event_id: eventId, type, organization_id: organizationId, processed_at: now }).execute();
  }

  async organizationExists(db: Db, organizationId: number): Promise<boolean> {
    const r = await db.selectFrom('organizations').select('id').where('id', '=', organizationId).executeTakeFirst();
    return r !== undefined;
  }
}
