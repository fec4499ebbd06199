import type { Kysely } from 'kysely';

/**
 * One row per environment: the revision number of its current evaluable configuration and that
 * configuration's digest. Every instance asks this table for the revision of a configuration it
 * has built, so a revision number names the same configuration on every instance (and after a
 * restart): it is what stream event ids are made of, and what the periodic revision check compares.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('environment_revisions')
    .addColumn('environment_id', 'bigint', (c) => c.primaryKey().references('environments.id').onDelete('cascade'))
    .addColumn('project_id', 'bigint', (c) => c.notNull())
    .addColumn('revision', 'bigint', (c) => c.notNull())
    .addColumn('digest', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('environment_revisions').execute();
}
