import { sql, type Kysely } from 'kysely';

/**
 * The organisation's default environment list (IntelliToggle's tenant environments) and minimal
 * projects and environments, so every organisation starts with a default project. Flag management
 * extends `projects` and `environments` with new migrations.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('organization_environments')
    .addColumn('id', 'bigint', (c) => c.primaryKey())
    .addColumn('organization_id', 'bigint', (c) => c.notNull().references('organizations.id').onDelete('cascade'))
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('organization_environments_org_key', ['organization_id', 'key'])
    .execute();

  await db.schema
    .createTable('projects')
    .addColumn('id', 'bigint', (c) => c.primaryKey())
    .addColumn('organization_id', 'bigint', (c) => c.notNull().references('organizations.id').onDelete('cascade'))
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('color', 'text')
    .addColumn('is_default', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('projects_org_key', ['organization_id', 'key'])
    .execute();
  // At most one default project per organisation (partial indexes work on both dialects).
  await db.schema
    .createIndex('projects_one_default_per_org')
    .on('projects')
    .column('organization_id')
    .unique()
    .where(sql.ref('is_default'), '=', 1)
    .execute();

  await db.schema
    .createTable('environments')
    .addColumn('id', 'bigint', (c) => c.primaryKey())
    .addColumn('project_id', 'bigint', (c) => c.notNull().references('projects.id').onDelete('cascade'))
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('color', 'text')
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('environments_project_key', ['project_id', 'key'])
    .execute();

  // Lookups that membership, role and invitation rules make on every change.
  await db.schema.createIndex('memberships_org_role').on('memberships').columns(['organization_id', 'role']).execute();
  await db.schema.createIndex('invitations_org_email').on('invitations').columns(['organization_id', 'email']).execute();
  await db.schema.createIndex('mail_outbox_org_time').on('mail_outbox').columns(['organization_id', 'created_at']).execute();
}
