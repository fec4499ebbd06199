import type { Kysely } from 'kysely';

/**
 * Billing (issue 8): each organisation's Stripe subscription as the webhooks last reported it, and
 * the Stripe event ids already processed (so a redelivered event changes nothing).
 * `organizations.plan` stays the plan in force; these rows say where it came from.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('billing_subscriptions')
    .addColumn('organization_id', 'bigint', (c) => c.primaryKey().references('organizations.id').onDelete('cascade'))
    .addColumn('stripe_customer_id', 'text')
    .addColumn('stripe_subscription_id', 'text')
    .addColumn('plan', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('current_period_start', 'text')
    .addColumn('current_period_end', 'text')
    .addColumn('cancel_at_period_end', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('billing_subscriptions_customer').on('billing_subscriptions').column('stripe_customer_id').execute();
  await db.schema.createIndex('billing_subscriptions_subscription').on('billing_subscriptions').column('stripe_subscription_id').execute();
  await db.schema
    .createTable('billing_events')
    .addColumn('event_id', 'text', (c) => c.primaryKey())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('organization_id', 'bigint')
    .addColumn('processed_at', 'text', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('billing_events').execute();
  await db.schema.dropTable('billing_subscriptions').execute();
}
