import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { Actor } from '../../domain/actor.js';
import { NotFoundError, ValidationError } from '../../domain/errors.js';
import type { EvaluationCounters } from '../../evaluation/evaluation-counters.js';
import type { AccessService } from '../access/access-service.js';
import type { FlagStore } from '../flags/flag-store.js';
import type { EnvironmentService } from '../projects/environment-service.js';
import type { ProjectAccessService, ProjectRef } from '../projects/project-access.js';
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
    /** `byFlag` with each flag's served variations, most served first. */
    byFlagVariation: Array<{ projectId: number; projectKey: string; flagKey: string; count: number; variations: VariationCount[] }>;
  };
  flags: Metered;
  members: Metered;
  apiKeys: Metered;
  projects: Metered;
}

/** Evaluations that served one variation; `variation` null: the evaluation served none (an error). */
export interface VariationCount {
  variation: string | null;
  count: number;
}

/** Which evaluations of one flag to report: a period, and optionally one environment (key, `env_…` or the number). */
export interface FlagUsageQuery extends UsageQuery {
  environment?: string | undefined;
}

/** One flag's evaluations over a period, per variation, per day and per environment. */
export interface FlagUsageReport {
  projectId: number;
  projectKey: string;
  flagKey: string;
  /** The environment the report is limited to, or null for all of the project's. */
  environment: { environmentId: number; environmentKey: string } | null;
  from: string;
  to: string;
  used: number;
  /**
   * Every variation the flag has, in the flag's order (zeros included), then variations counted
   * but since deleted (by key), then `null` when some evaluations served none.
   */
  variations: VariationCount[];
  /** Every day of the period, oldest first, each with `variations` in the same order. */
  byDay: Array<{ day: string; count: number; variations: VariationCount[] }>;
  /** The environments evaluated in, most evaluated first, each with `variations` in the same order. */
  byEnvironment: Array<{ environmentId: number; environmentKey: string; count: number; variations: VariationCount[] }>;
}

/** Longest period one report covers. */
export const MAX_USAGE_DAYS = 366;

const DAY_MS = 86_400_000;

function dayMs(day: string): number {
  return Date.parse(`${day}T00:00:00.000Z`);
}

/** The inclusive period a query names (default: this month up to today), or the fields that are wrong. */
function periodOf(query: UsageQuery, now: Date): { from: string; to: string } {
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
  return { from, to };
}

function daysOf(from: string, to: string): string[] {
  const days: string[] = [];
  for (let t = dayMs(from); t <= dayMs(to); t += DAY_MS) days.push(new Date(t).toISOString().slice(0, 10));
  return days;
}

/** The counters store "no variation" as `''`; the wire says null. */
const variationOf = (stored: string): string | null => (stored === '' ? null : stored);

/** Counts per variation, listed in `order` (zeros included); a count under a key not in `order` is added after it. */
class VariationTally {
  private readonly counts = new Map<string, number>();
  count = 0;
  constructor(order: readonly string[] = []) {
    for (const v of order) this.counts.set(v, 0);
  }
  add(variation: string, n: number): void {
    this.count += n;
    this.counts.set(variation, (this.counts.get(variation) ?? 0) + n);
  }
  keys(): string[] {
    return [...this.counts.keys()];
  }
  list(order: readonly string[]): VariationCount[] {
    return order.map((v) => ({ variation: variationOf(v), count: this.counts.get(v) ?? 0 }));
  }
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
    private readonly projectAccess: ProjectAccessService,
    private readonly flags: FlagStore,
    private readonly environments: EnvironmentService,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /**
   * One flag's evaluations per variation, day and environment — stored batches plus what is still
   * in memory — for `GET /api/v1/projects/{project_id}/flags/{flag_key}/usage` (`usage:read` in the
   * project). A project of another organisation, an unknown flag or environment: `NotFoundError`.
   */
  async flagReport(actor: Actor, projectRef: ProjectRef, flagKey: string, query: FlagUsageQuery = {}): Promise<FlagUsageReport> {
    const { project } = await this.projectAccess.require(actor, projectRef, 'usage:read');
    const { from, to } = periodOf(query, this.now());
    const found = await this.flags.findByKey(this.db, project.id, flagKey);
    if (found === null) throw new NotFoundError('Flag');
    const flag = (await this.flags.listVariations(this.db, found.id)).map((v) => v.key);
    const labels = (await this.store.environments(this.db, project.organizationId)).filter((e) => e.projectId === project.id);
    let environment: FlagUsageReport['environment'] = null;
    if (query.environment !== undefined) {
      const found = await this.environments.find(this.db, project.id, query.environment);
      if (!found) throw new NotFoundError('Environment');
      environment = { environmentId: found.id, environmentKey: found.key };
    }
    const rows = await this.counters.read({
      organizationId: project.organizationId,
      projectId: project.id,
      flagKey,
      from,
      to,
      ...(environment ? { environmentId: environment.environmentId } : {}),
    });

    const total = new VariationTally(flag);
    for (const r of rows) total.add(r.variation, r.count);
    // Deleted variations after the flag's own, by key; evaluations that served none last.
    const extra = total.keys().slice(flag.length).filter((v) => v !== '').sort();
    const order = [...flag, ...extra, ...(total.keys().includes('') ? [''] : [])];
    const byDay = new Map(daysOf(from, to).map((d) => [d, new VariationTally()]));
    const byEnvironment = new Map<number, VariationTally>();
    for (const r of rows) {
      byDay.get(r.day)?.add(r.variation, r.count);
      let e = byEnvironment.get(r.environmentId);
      if (!e) byEnvironment.set(r.environmentId, (e = new VariationTally()));
      e.add(r.variation, r.count);
    }
    const keyOf = new Map(labels.map((e) => [e.environmentId, e.environmentKey]));
    return {
      projectId: project.id,
      projectKey: project.key,
      flagKey,
      environment,
      from,
      to,
      used: total.count,
      variations: total.list(order),
      byDay: [...byDay].map(([day, t]) => ({ day, count: t.count, variations: t.list(order) })),
      byEnvironment: [...byEnvironment]
        // Counts of an environment deleted since stay in the totals; they have no key to list under.
        .flatMap(([environmentId, t]) => {
          const environmentKey = keyOf.get(environmentId);
          return environmentKey === undefined ? [] : [{ environmentId, environmentKey, count: t.count, variations: t.list(order) }];
        })
        .sort((a, b) => b.count - a.count || a.environmentKey.localeCompare(b.environmentKey)),
    };
  }

  /** The report for the organisation the actor acts in. Refuses a period that ends before it starts or exceeds `MAX_USAGE_DAYS`. */
  async report(actor: Actor, organizationId: number | null, query: UsageQuery = {}): Promise<UsageReport> {
    const grant = await this.access.require(actor, organizationId, 'usage:read');
    const now = this.now();
    const { from, to } = periodOf(query, now);

    const orgId = grant.organizationId;
    const stored = await this.store.planOf(this.db, orgId);
    if (stored === null) throw new NotFoundError('Organization');
    const plan = this.plans.inForce?.(stored) ?? stored;
    const limits = this.plans.limitsFor(plan);
    const counts = await this.store.counts(this.db, orgId, now.toISOString());
    const rows = await this.counters.read({ organizationId: orgId, from, to });
    const labels = new Map((await this.store.environments(this.db, orgId)).map((e) => [e.environmentId, e]));

    const byDay = new Map<string, number>(daysOf(from, to).map((d) => [d, 0]));
    const byFlag = new Map<string, { projectId: number; projectKey: string; flagKey: string; count: number; variations: VariationTally }>();
    const byEnvironment = new Map<number, { environmentId: number; environmentKey: string; projectId: number; projectKey: string; count: number }>();
    let total = 0;
    for (const r of rows) {
      total += r.count;
      byDay.set(r.day, (byDay.get(r.day) ?? 0) + r.count);
      const label = labels.get(r.environmentId);
      // Counts of an environment deleted since still count in the total and per day; they have no label to list under.
      if (!label) continue;
      const fk = `${r.projectId}\u0000${r.flagKey}`;
      const f = byFlag.get(fk) ?? { projectId: r.projectId, projectKey: label.projectKey, flagKey: r.flagKey, count: 0, variations: new VariationTally() };
      f.count += r.count;
      f.variations.add(r.variation, r.count);
      byFlag.set(fk, f);
      const e = byEnvironment.get(r.environmentId) ?? { ...label, count: 0 };
      e.count += r.count;
      byEnvironment.set(r.environmentId, e);
    }
    const byCount = <T extends { count: number }>(a: T, b: T) => b.count - a.count;
    const flags = [...byFlag.values()].sort((a, b) => byCount(a, b) || a.projectKey.localeCompare(b.projectKey) || a.flagKey.localeCompare(b.flagKey));
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
        byFlag: flags.map(({ variations: _, ...f }) => f),
        byEnvironment: [...byEnvironment.values()].sort((a, b) => byCount(a, b) || a.projectKey.localeCompare(b.projectKey) || a.environmentKey.localeCompare(b.environmentKey)),
        byFlagVariation: flags.map(({ variations, ...f }) => ({
          ...f,
          variations: variations.list(variations.keys()).sort((a, b) => byCount(a, b) || (a.variation ?? '\uffff').localeCompare(b.variation ?? '\uffff')),
        })),
      },
      flags: { used: counts.flags, limit: limits.flags },
      members: { used: counts.members, limit: limits.members },
      apiKeys: { used: counts.apiKeys, limit: limits.apiKeys },
      projects: { used: counts.projects, limit: limits.projects },
    };
  }
}
