import { type Kysely, type Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { LimitName, LimitScope } from './plans.js';

type Db = Kysely<Database> | Transaction<Database>;

/** What the entitlement checks read: an organisation's stored plan and how much it holds. */
export interface EntitlementStore {
  /** The stored plan (`organizations.plan`), or null when there is no such organisation. */
  planOf(db: Db, organizationId: number): Promise<string | null>;
  /**
   * Locks the organisation's row until the transaction ends (PostgreSQL `FOR UPDATE`; SQLite
   * already serialises writers), so two concurrent creates cannot both take the last slot.
   */
  lockOrganization(db: Db, organizationId: number): Promise<void>;
  /** How many of `limit` the organisation holds at `now` (environments: in `scope.projectId`, or the most of any project and the tenant list). */
  count(db: Db, organizationId: number, limit: LimitName, now: string, scope?: LimitScope): Promise<number>;
  /** Sets the organisation's plan. */
  setPlan(db: Db, organizationId: number, plan: string, now: string): Promise<void>;
}

const n = (v: number | string | bigint | null | undefined) => Number(v ?? 0);

/** Kysely implementation of {@link EntitlementStore}. */
export class KyselyEntitlementStore implements EntitlementStore {
  constructor(private readonly dialect: 'sqlite' | 'postgres') {}

  async planOf(db: Db, organizationId: number): Promise<string | null> {
    const row = await db.selectFrom('organizations').select('plan').where('id', '=', organizationId).executeTakeFirst();
    return row?.plan ?? null;
  }

  async lockOrganization(db: Db, organizationId: number): Promise<void> {
    if (this.dialect !== 'postgres') return;
    await db.selectFrom('organizations').select('id').where('id', '=', organizationId).forUpdate().execute();
  }

  async count(db: Db, organizationId: number, limit: LimitName, now: string, scope: LimitScope = {}): Promise<number> {
    switch (limit) {
      case 'flags': {
        const r = await db
          .selectFrom('flags')
          .innerJoin('projects', 'projects.id', 'flags.project_id')
          .where('projects.organization_id', '=', organizationId)
          .where('flags.status', '!=', 'archived')
          .select((eb) => eb.fn.countAll<number | string>().as('n'))
          .executeTakeFirstOrThrow();
        return n(r.n);
      }
      case 'environments': {
        // Environments belong to projects; the limit is per project. Without a project (the
        // tenant's default list, applied to every project) it is the largest of the list and any project.
        let q = db
          .selectFrom('environments')
          .innerJoin('projects', 'projects.id', 'environments.project_id')
          .where('projects.organization_id', '=', organizationId)
          .groupBy('environments.project_id')
          .select((eb) => eb.fn.countAll<number | string>().as('n'));
        if (scope.projectId !== undefined) q = q.where('environments.project_id', '=', scope.projectId);
        const perProject = await q.execute();
        let most = perProject.reduce((m, r) => Math.max(m, n(r.n)), 0);
        if (scope.projectId === undefined) {
          const tenant = await db
            .selectFrom('organization_environments')
            .where('organization_id', '=', organizationId)
            .select((eb) => eb.fn.countAll<number | string>().as('n'))
            .executeTakeFirstOrThrow();
          most = Math.max(most, n(tenant.n));
        }
        return most;
      }
      case 'members': {
        const members = await db.selectFrom('memberships').where('organization_id', '=', organizationId).select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow();
        const pending = await db
          .selectFrom('invitations')
          .where('organization_id', '=', organizationId)
          .where('status', '=', 'pending')
          .where('expires_at', '>', now)
          .select((eb) => eb.fn.countAll<number | string>().as('n'))
          .executeTakeFirstOrThrow();
        return n(members.n) + n(pending.n);
      }
      case 'apiKeys': {
        const r = await db
          .selectFrom('api_keys')
          .where('organization_id', '=', organizationId)
          .where('revoked_at', 'is', null)
          .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
          .select((eb) => eb.fn.countAll<number | string>().as('n'))
          .executeTakeFirstOrThrow();
        return n(r.n);
      }
    }
  }

  async setPlan(db: Db, organizationId: number, plan: string, now: string): Promise<void> {
    await db.updateTable('organizations').set({ plan, updated_at: now }).where('id', '=', organizationId).execute();
  }
}
