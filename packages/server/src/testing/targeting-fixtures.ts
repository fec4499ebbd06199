import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { newId, nowIso } from '../domain/ids.js';

/** A flag row and its variation rows, as the flag catalogue stores them. */
export interface FlagFixture {
  id: number;
  key: string;
  projectId: number;
}

/**
 * Stores a flag with its variations directly (test setup for targeting, which only reads flags).
 * Default: a boolean flag with `on` (true) and `off` (false), default `off`.
 */
export async function insertFlag(
  db: Kysely<Database>,
  projectId: number,
  key: string,
  options: { type?: string; variations?: Record<string, unknown>; defaultVariation?: string; status?: string } = {},
): Promise<FlagFixture> {
  const now = nowIso();
  const id = newId();
  const variations = options.variations ?? { on: true, off: false };
  await db
    .insertInto('flags')
    .values({
      id,
      project_id: projectId,
      key,
      name: key,
      description: null,
      type: options.type ?? 'boolean',
      default_variation: options.defaultVariation ?? Object.keys(variations).at(-1)!,
      tags: '[]',
      status: options.status ?? 'active',
      metadata: null,
      version: 1,
      created_by: null,
      created_at: now,
      updated_at: now,
      archived_at: null,
    })
    .execute();
  let position = 0;
  for (const [vkey, value] of Object.entries(variations)) {
    await db
      .insertInto('variations')
      .values({ id: newId(), flag_id: id, key: vkey, name: vkey, value: JSON.stringify(value), description: null, weight: null, position: position++, created_at: now, updated_at: now })
      .execute();
  }
  return { id, key, projectId };
}

/** The organisation's default project (created with the organisation) and its environments by key. */
export async function defaultProjectOf(db: Kysely<Database>, organizationId: number): Promise<{ id: number; environments: Record<string, number> }> {
  const project = await db.selectFrom('projects').select('id').where('organization_id', '=', organizationId).where('is_default', '=', 1).executeTakeFirstOrThrow();
  const envs = await db.selectFrom('environments').select(['id', 'key']).where('project_id', '=', project.id).execute();
  return { id: project.id, environments: Object.fromEntries(envs.map((e) => [e.key, e.id])) };
}
