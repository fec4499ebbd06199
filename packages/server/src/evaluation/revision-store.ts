import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { nowIso } from '../domain/ids.js';

/** One environment's stored revision. */
export interface StoredRevision {
  environmentId: number;
  projectId: number;
  revision: number;
  digest: string;
}

/**
 * Where environment revisions come from. A revision numbers an environment's successive
 * configurations; the same number must mean the same configuration on every instance, since
 * stream event ids are revisions and a client may resume on another instance.
 */
export interface RevisionStore {
  /**
   * The revision of the configuration with `digest`: the stored one when `digest` is already the
   * environment's current digest, otherwise the stored revision + 1 (1 for a new environment),
   * recorded with `digest`. Atomic across instances.
   */
  assign(environmentId: number, projectId: number, digest: string): Promise<number>;
  /** Every stored revision (the periodic revision check compares them with what is held). */
  list(): Promise<StoredRevision[]>;
}

/**
 * Revisions in `environment_revisions`, bumped with one conditional upsert: only a digest different
 * from the stored one takes the next number, so instances that build the same configuration agree
 * on its revision, and the number never goes back.
 */
export class KyselyRevisionStore implements RevisionStore {
  constructor(private readonly db: Kysely<Database>) {}

  async assign(environmentId: number, projectId: number, digest: string): Promise<number> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const bumped = await this.db
        .insertInto('environment_revisions')
        .values({ environment_id: environmentId, project_id: projectId, revision: 1, digest, updated_at: nowIso() })
        .onConflict((oc) =>
          oc
            .column('environment_id')
            .doUpdateSet((eb) => ({ revision: eb('environment_revisions.revision', '+', 1), digest: eb.ref('excluded.digest'), updated_at: eb.ref('excluded.updated_at') }))
            .where('environment_revisions.digest', '<>', digest),
        )
        .returning('revision')
        .executeTakeFirst();
      if (bumped) return Number(bumped.revision);
      // The digest was already current: its revision, unless another instance moved on meanwhile.
      const row = await this.db.selectFrom('environment_revisions').select(['revision', 'digest']).where('environment_id', '=', environmentId).executeTakeFirst();
      if (row && row.digest === digest) return Number(row.revision);
    }
    throw new Error(`could not settle the revision of environment ${environmentId}`);
  }

  async list(): Promise<StoredRevision[]> {
    const rows = await this.db.selectFrom('environment_revisions').select(['environment_id', 'project_id', 'revision', 'digest']).execute();
    return rows.map((r) => ({ environmentId: Number(r.environment_id), projectId: Number(r.project_id), revision: Number(r.revision), digest: r.digest }));
  }
}
