import type { Kysely } from 'kysely';

/**
 * flagd semantics per flag and environment, for flags imported from a flagd document: `flagd` = 1
 * marks the configuration as flagd's (a disabled flag then serves nothing — flagd's value-less
 * `DISABLED` — unless an off variation is set), and `default_variation` is that environment's
 * `defaultVariant` (overriding the flag's default variation; NULL with `flagd` = 1: no default,
 * flagd's value-less `DEFAULT`).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('flag_environments').addColumn('flagd', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('flag_environments').addColumn('default_variation', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('flag_environments').dropColumn('default_variation').execute();
  await db.schema.alterTable('flag_environments').dropColumn('flagd').execute();
}
