import { sql, type Kysely } from 'kysely';

/**
 * Togul's account lifecycle and exports: background export jobs (whose finished document is kept
 * as JSON text until downloaded or replaced), and deletion requests with their grace period.
 * A deletion request has no foreign keys: it outlives what it erases, as the record that the
 * erasure was asked for and done (with the personal ids cleared by the job).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('exports')
    .addColumn('id', 'bigint', (c) => c.primaryKey())
    .addColumn('organization_id', 'bigint', (c) => c.notNull().references('organizations.id').onDelete('cascade'))
    .addColumn('project_id', 'bigint', (c) => c.references('projects.id').onDelete('cascade'))
    .addColumn('requested_by', 'bigint')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('document', 'text')
    .addColumn('error', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('started_at', 'text')
    .addColumn('completed_at', 'text')
    .execute();
  await db.schema.createIndex('exports_org_time').on('exports').columns(['organization_id', 'created_at']).execute();
  await db.schema.createIndex('exports_status').on('exports').column('status').execute();

  await db.schema
    .createTable('deletion_requests')
    .addColumn('id', 'bigint', (c) => c.primaryKey())
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('subject_id', 'bigint')
    .addColumn('organization_id', 'bigint')
    .addColumn('requested_by', 'bigint')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('requested_at', 'text', (c) => c.notNull())
    .addColumn('scheduled_for', 'text', (c) => c.notNull())
    .addColumn('cancelled_at', 'text')
    .addColumn('completed_at', 'text')
    .addColumn('failure', 'text')
    .execute();
  // At most one pending request per account or organisation.
  await db.schema
    .createIndex('deletion_requests_one_pending')
    .on('deletion_requests')
    .columns(['scope', 'subject_id'])
    .unique()
    .where(sql.ref('status'), '=', 'pending')
    .execute();
  await db.schema.createIndex('deletion_requests_due').on('deletion_requests').columns(['status', 'scheduled_for']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('deletion_requests').execute();
  await db.schema.dropTable('exports').execute();
}
