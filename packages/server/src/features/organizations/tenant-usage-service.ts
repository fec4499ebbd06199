import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { Actor } from '../../domain/actor.js';
import type { EvaluationCounters } from '../../evaluation/evaluation-counters.js';
import type { AccessService } from '../access/access-service.js';
import type { FlagStore } from '../flags/flag-store.js';
import type { ProjectStore } from '../projects/project-store.js';
import type { OrganizationStore } from './organization-store.js';

/** An organisation's resource usage, as IntelliToggle's `/tenants/{id}/usage` reports it. */
export interface TenantUsage {
  /** Flags that are not archived, across every project. */
  flags: number;
  /** Evaluations served in the current UTC calendar month (stored counts plus those not yet flushed). */
  evaluations: number;
  /** Members. */
  users: number;
  /** The counted month: first day and today, `YYYY-MM-DD` (UTC). */
  period: { from: string; to: string };
}

/** Counts what an organisation uses (`usage:read`). */
export class TenantUsageService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly access: AccessService,
    private readonly organizations: OrganizationStore,
    private readonly projects: ProjectStore,
    private readonly flags: FlagStore,
    private readonly counters: Pick<EvaluationCounters, 'read'>,
    /** The clock, so tests can pick the month. */
    private readonly now: () => number = Date.now,
  ) {}

  async usage(actor: Actor, organizationId: number | null): Promise<TenantUsage> {
    const grant = await this.access.require(actor, organizationId, 'usage:read');
    const orgId = grant.organizationId;
    const today = new Date(this.now()).toISOString().slice(0, 10);
    const from = `${today.slice(0, 7)}-01`;
    const projects = await this.projects.listProjects(this.db, orgId);
    const [flagCounts, users, counts] = await Promise.all([
      this.flags.countByProject(this.db, projects.map((p) => p.id)),
      this.organizations.countMembers(this.db, orgId),
      this.counters.read({ organizationId: orgId, from, to: today }),
    ]);
    let flags = 0;
    for (const n of flagCounts.values()) flags += n;
    let evaluations = 0;
    for (const c of counts) evaluations += c.count;
    return { flags, evaluations, users, period: { from, to: today } };
  }
}
