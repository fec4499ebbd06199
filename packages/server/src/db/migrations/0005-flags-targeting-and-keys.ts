import type { Kysely } from 'kysely';

/**
 * Flag management: project members, flags with their variations, per-environment configuration,
 * ordered rules, segments, environment-scoped API keys and batched evaluation counters.
 * Structured parts that only the engine interprets (conditions, serves, targets) are JSON text:
 * they are always read and written whole, with the flag or rule they belong to.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('project_members')
    .addColumn('id', 'bigint', (c) => c.primaryKey())
    .addColumn('project_id', 'bigint', (c) => c.notNull().references('projects.id').onDelete('cascade'))
    .addColumn('user_id', 'bigint', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('project_members_project_user', ['project_id', 'user_id'])
    .execute();

  await db.schema
    .createTable('flags')
    .addColumn('id', 'bigint', (c) => c.primaryKey())
    .addColumn('project_id', 'bigint', (c) => c.notNull().references('projects.id').onDelete('cascade'))
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('default_variation', 'text', (c) => c.notNull())
    .addColumn('tags', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('active'))
    .addColumn('metadata', 'text')
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_by', 'bigint')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('archived_at', 'text')
    .addUniqueConstraint('flags_project_key', ['project_id', 'key'])
    .execute();

  await db.schema
    .createTable('variations')
    .addColumn('id', 'bigint', (c) => c.primaryKey())
    .addColumn('flag_id', 'bigint', (c) => c.notNull().references('flags.id').onDelete('cascade'))
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('weight', 'integer')
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('variations_flag_key', ['flag_id', 'key'])
    .execute();

  await db.schema
    .createTable('flag_environments')
    .addColumn('id', 'bigint', (c) => c.primaryKey())
    .addColumn('flag_id', 'bigint', (c) => c.notNull().references('flags.id').onDelete('cascade'))
    .addColumn('environment_id', 'bigint', (c) => c.notNull().references('environments.id').onDelete('cascade'))
    .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('off_variation', 'text')
    .addColumn('default_serve', 'text')
    .addColumn('targets', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('prerequisites', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('targeting', 'text')
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('flag_environments_flag_env', ['flag_id', 'environment_id'])
    .execute();
  await db.schema.createIndex('flag_environments_env').on('flag_environments').column('environment_id').execute();

  await db.schema
    .createTable('rules')
    .addColumn('id', 'bigint', (c) => c.primaryKey())
    .addColumn('flag_id', 'bigint', (c) => c.notNull().references('flags.id').onDelete('cascade'))
    .addColumn('environment_id', 'bigint', (c) => c.notNull().references('environments.id').onDelete('cascade'))
    .addColumn('priority', 'integer', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('conditions', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('segments', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('serve', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('rules_flag_env_priority').on('rules').columns(['flag_id', 'environment_id', 'priority']).execute();

  await db.schema
    .createTable('segments')
    .addColumn('id', 'bigint', (c) => c.primaryKey())
    .addColumn('project_id', 'bigint', (c) => c.notNull().references('projects.id').onDelete('cascade'))
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('conditions', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('included', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('excluded', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('segments_project_key', ['project_id', 'key'])
    .execute();

  await db.schema
    .createTable('api_keys')
    .addColumn('id', 'bigint', (c) => c.primaryKey())
    .addColumn('organization_id', 'bigint', (c) => c.notNull().references('organizations.id').onDelete('cascade'))
    .addColumn('project_id', 'bigint', (c) => c.notNull().references('projects.id').onDelete('cascade'))
    .addColumn('environment_id', 'bigint', (c) => c.notNull().references('environments.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('prefix', 'text', (c) => c.notNull())
    .addColumn('key_hash', 'text', (c) => c.notNull().unique())
    .addColumn('created_by', 'bigint')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text')
    .addColumn('last_used_at', 'text')
    .addColumn('revoked_at', 'text')
    .execute();
  await db.schema.createIndex('api_keys_project_env').on('api_keys').columns(['project_id', 'environment_id']).execute();

  await db.schema
    .createTable('evaluation_counts')
    .addColumn('environment_id', 'bigint', (c) => c.notNull().references('environments.id').onDelete('cascade'))
    .addColumn('flag_key', 'text', (c) => c.notNull())
    .addColumn('variation', 'text', (c) => c.notNull())
    .addColumn('day', 'text', (c) => c.notNull())
    .addColumn('organization_id', 'bigint', (c) => c.notNull())
    .addColumn('project_id', 'bigint', (c) => c.notNull())
    .addColumn('count', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('evaluation_counts_pk', ['environment_id', 'flag_key', 'variation', 'day'])
    .execute();
  await db.schema.createIndex('evaluation_counts_org_day').on('evaluation_counts').columns(['organization_id', 'day']).execute();

  await db.schema.createIndex('audit_events_project_time').on('audit_events').columns(['project_id', 'created_at']).execute();
  await db.schema.createIndex('audit_events_resource').on('audit_events').columns(['resource_type', 'resource_id']).execute();
}
