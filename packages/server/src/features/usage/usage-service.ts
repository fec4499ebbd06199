import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { Actor } from '../../domain/actor.js';
import { NotFoundError, ValidationError } from '../../domain/errors.js';
import type { EvaluationCounters } from '../../evaluation/evaluation-counters.js';
import type { AccessService } from '../access/access-service.js';
import type { PlanCatalog } from './plan-limits.js';
import type { UsageStore } from './usage-store.js';

/** Which days of evaluations to report: inclusive `YYYY-MM-DD` (UTC) days. */
export interface UsageQuery {
  /** Default: the first day of `to`'s month. */
  from?: string | undefined;
  /** Default: today (UTC). */
  to?: string | undefined;
}

/** How much of something is used, against the plan's limit (null: unlimited). */
export interface Metered {
  used: number;
  limit: number | null;
}

/** An organisation's usage: evaluations over a period (from the batched counters) and what it holds now. */
export interface UsageReport {
  organizationId: number;
  plan: string;
  from: string;
  to: string;
  evaluations: Metered & {
    /** The limit counts per calendar month. */
    limitPeriod: 'month';
    /** Every day of the period, zeros included, oldest first. */
    byDay: Array<{ day: string; count: number }>;
    /** Flags evaluated in the period, most evaluated first. */
    byFlag: Array<{ projectId: number; projectKey: string; flagKey: string; count: number }>;
    /** Environments evaluated in, most evaluated first. */
    byEnvironment: Array<{ environmentId: number; environmentKey: string; projectId: number; projectKey: string; count: number }>;
  };
  flags: Metered;
  members: Metered;
  apiKeys: Metered;
  projects: Metered;
}

/** Longest period one report covers. */
export const MAX_USAGE_DAYS = 366;

const DAY_MS = 86_400_000;

function dayMs(day: string): number {
  return Date.parse(`${day}T00:00:00.000Z`);
}

/**
 * Usage of an organisation, for `GET /api/v1/usage` (permission `usage:read`): evaluation counts
 * per day, flag and environment — stored batches plus what is still in memory — and the flags,
 * members, API keys and projects it holds, each against its plan's limit.
 */
export class UsageService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly access: AccessService,
    private readonly store: UsageStore,
    private readonly counters: EvaluationCounters,
    private readonly plans: PlanCatalog,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** The report for the organisation the actor acts in. Refuses a period that ends before it starts or exceeds `MAX_USAGE_DAYS`. */
  async report(actor: Actor, organizationId: number | null, query: UsageQuery = {}): Promise<UsageReport> {
    const grant = await this.access.require(actor, organizationId, 'usage:read');
    const now = this.now();
    const to = query.to ?? now.toISOString().slice(0, 10);
    const from = query.from ?? `${to.slice(0, 7)}-01`;
    const fields: Record<string, string> = {};
    if (Number.isNaN(dayMs(from))) fields.from = 'must be a YYYY-MM-DD day';
    if (Number.isNaN(dayMs(to))) fields.to = 'must be a YYYY-MM-DD day';
    if (Object.keys(fields).length === 0) {
      if (from > to) fields.from = 'must not be after to';
      else if ((dayMs(to) - dayMs(from)) / DAY_MS + 1 > MAX_USAGE_DAYS) fields.from = `the period must be at most ${MAX_USAGE_DAYS} days`;
    }
    if (Object.keys(fields).length > 0) throw new ValidationError('The usage period is not valid', fields);

    const orgId = grant.organizationId;
    const stored = await this.store.planOf(this.db, orgId);
    if (stored === null) throw new NotFoundError('Organization');
    const plan = this.plans.inForce?.(stored) ?? stored;
    const limits = this.plans.limitsFor(plan);
    const counts = await this.store.counts(this.db, orgId, now.toISOString());
    const rows = await this.counters.read({ organizationId: orgId, from, to });
    const labels = new Map((await this.store.environments(this.db, orgId)).map((e) => [e.environmentId, e]));

    const byDay = new Map<string, number>();
    for (let t = dayMs(from); t <= dayMs(to); t += DAY_MS) byDay.set(new Date(t).toISOString().slice(0, 10), 0);
    const byFlag = new Map<string, { projectId: number; projectKey: string; flagKey: string; count: number }>();
    const byEnvironment = new Map<number, { environmentId: number; environmentKey: string; projectId: number; projectKey: string; count: number }>();
    let total = 0;
    for (const r of rows) {
      total += r.count;
      byDay.set(r.day, (byDay.get(r.day) ?? 0) + r.count);
      const label = labels.get(r.environmentId);
      // Counts of an environment deleted since still count in the total and per day; they have no label to list under.
      if (!label) continue;
      const fk = `${r.projectId}\u0000${r.flagKey}`;
      const f = byFlag.get(fk) ?? { projectId: r.projectId, projectKey: label.projectKey, flagKey: r.flagKey, count: 0 };
      f.count += r.count;
      byFlag.set(fk, f);
      const e = byEnvironment.get(r.environmentId) ?? { ...label, count: 0 };
      e.count += r.count;
      byEnvironment.set(r.environmentId, e);
    }
    const byCount = <T extends { count: number }>(a: T, b: T) => b.count - a.count;
    return {
      organizationId: orgId,
      plan,
      from,
      to,
      evaluations: {
        used: total,
        limit: limits.evaluationsPerMonth,
        limitPeriod: 'month',
        byDay: [...byDay].map(([day, count]) => ({ day, count })),
        byFlag: [...byFlag.values()].sort((a, b) => byCount(a, b) || a.projectKey.localeCompare(b.projectKey) || a.flagKey.localeCompare(b.flagKey)),
        byEnvironment: [...byEnvironment.values()].sort((a, b) => byCount(a, b) || a.projectKey.localeCompare(b.projectKey) || a.environmentKey.localeCompare(b.environmentKey)),
      },
      flags: { used: counts.flags, limit: limits.flags },
      members: { used: counts.members, limit: limits.members },
      apiKeys: { used: counts.apiKeys, limit: limits.apiKeys },
      projects: { used: counts.projects, limit: limits.projects },
    };
  }
}
