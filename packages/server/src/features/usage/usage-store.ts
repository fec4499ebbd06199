import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';

type Db = Kysely<Database> | Transaction<Database>;

/** What an organisation holds right now, as usage counts it. */
export interface ResourceCounts {
  flags: number;
  members: number;
  apiKeys: number;
  projects: number;
}

/** Where an environment belongs, to label evaluation counts. */
export interface EnvironmentLabel {
  environmentId: number;
  environmentKey: string;
  projectId: number;
  projectKey: string;
}

/** The counts behind `/api/v1/usage`. Decides nothing about permissions. */
export interface UsageStore {
  /** Non-archived flags, members, usable API keys (neither revoked nor expired at `now`), projects. */
  counts(db: Db, organizationId: number, now: string): Promise<ResourceCounts>;
  /** The organisation's plan key, or null when there is no such organisation. */
  planOf(db: Db, organizationId: number): Promise<string | null>;
  /** Every environment of the organisation with its project. */
  environments(db: Db, organizationId: number): Promise<EnvironmentLabel[]>;
}

const n = (v: number | string | bigint | null | undefined) => Number(v ?? 0);

/** Kysely implementation of `UsageStore`. */
export class KyselyUsageStore implements UsageStore {
  async counts(db: Db, organizationId: number, now: string): Promise<ResourceCounts> {
    const flags = await db
      .selectFrom('flags')
      .innerJoin('projects', 'projects.id', 'flags.project_id')
      .where('projects.organization_id', '=', organizationId)
      .where('flags.status', '!=', 'archived')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .executeTakeFirstOrThrow();
    const members = await db.selectFrom('memberships').where('organization_id', '=', organizationId).select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow();
    const apiKeys = await db
      .selectFrom('api_keys')
      .where('organization_id', '=', organizationId)
      .where('revoked_at', 'is', null)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .executeTakeFirstOrThrow();
    const projects = await db.selectFrom('projects').where('organization_id', '=', organizationId).select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow();
    return { flags: n(flags.n), members: n(members.n), apiKeys: n(apiKeys.n), projects: n(projects.n) };
  }

  async planOf(db: Db, organizationId: number): Promise<string | null> {
    const row = await db.selectFrom('organizations').select('plan').where('id', '=', organizationId).executeTakeFirst();
    return row?.plan ?? null;
  }

  async environments(db: Db, organizationId: number): Promise<EnvironmentLabel[]> {
    const rows = await db
      .selectFrom('environments')
      .innerJoin('projects', 'projects.id', 'environments.project_id')
      .where('projects.organization_id', '=', organizationId)
      .select(['environments.id as environmentId', 'environments.key as environmentKey', 'projects.id as projectId', 'projects.key as projectKey'])
      .execute();
    return rows;
  }
}
