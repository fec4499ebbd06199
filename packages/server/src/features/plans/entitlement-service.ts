import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { Actor } from '../../domain/actor.js';
import { ForbiddenError, NotFoundError } from '../../domain/errors.js';
import { nowIso } from '../../domain/ids.js';
import type { EvaluationCounters } from '../../evaluation/evaluation-counters.js';
import type { EntitlementStore } from './entitlement-store.js';
import { planInForce, type FeatureName, type LimitName, type LimitScope, type Plan, type PlanId, type PlanTable } from './plans.js';

type Db = Kysely<Database> | Transaction<Database>;

/**
 * The checks other services make before creating something a plan limits. Services take it
 * through `useEntitlements` so they need no billing knowledge; without it nothing is limited.
 */
export interface EntitlementCheck {
  /** 403 `quota_exceeded` (details: limit, current, allowed) when one more `limit` would exceed the organisation's plan. Call inside the creating transaction. */
  requireWithinLimit(organizationId: number, limit: LimitName, trx: Db, scope?: LimitScope): Promise<void>;
  /** 403 `feature_not_in_plan` when the organisation's plan lacks `feature`. */
  requireFeature(organizationId: number, feature: FeatureName, trx?: Db): Promise<void>;
}

/** Limits nothing: what services use until entitlements are wired. */
export const unlimitedEntitlements: EntitlementCheck = {
  requireWithinLimit: async () => {},
  requireFeature: async () => {},
};

/** Where an organisation stands against its monthly evaluation limit. */
export interface EvaluationQuota {
  used: number;
  /** The plan's monthly limit; null: unlimited. */
  allowed: number | null;
  /** Evaluations served before refusing (limit plus the grace); null: never refused. */
  hardLimit: number | null;
  /** `within`; `over` (past the limit, still served: the grace); `exhausted` (past the grace: refused until the month ends). */
  state: 'within' | 'over' | 'exhausted';
}

/** Options for {@link EntitlementService}. */
export interface EntitlementOptions {
  plans: PlanTable;
  /** False: every organisation is on `self-hosted`, whatever is stored. */
  billingEnabled: boolean;
  /** The plan of an organisation whose stored plan is `self-hosted` or unknown while billing is on. */
  defaultPlan: PlanId;
  /** Percent past the monthly evaluation limit still served; null: never refused. */
  evaluationOverageGracePercent: number | null;
  /** How long a plan or evaluation count read for the request path is reused (default 30 s). */
  cacheMs?: number;
  now?: () => number;
  /** Management requests per minute when the plan sets none (`SWITCHYARD_RATE_LIMIT_PER_MINUTE`). */
  defaultRequestsPerMinute?: number;
  /** Evaluation requests per minute when the plan sets none (`SWITCHYARD_EVALUATION_RATE_LIMIT_PER_MINUTE`). */
  defaultEvaluationRequestsPerMinute?: number;
}

/**
 * Plans in force and what they allow: the one place quotas and plan features are decided.
 * With billing off everyone is on `self-hosted` (no limits, every feature).
 */
export class EntitlementService implements EntitlementCheck {
  private readonly plans: PlanTable;
  private readonly cacheMs: number;
  private readonly now: () => number;
  private readonly planCache = new Map<number, { plan: Plan; at: number }>();
  private readonly evaluationCache = new Map<number, { quota: EvaluationQuota; at: number; refreshing: boolean }>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly store: EntitlementStore,
    private readonly counters: EvaluationCounters,
    private readonly options: EntitlementOptions,
  ) {
    this.plans = options.plans;
    this.cacheMs = options.cacheMs ?? 30_000;
    this.now = options.now ?? Date.now;
  }

  /** True when plans are sold (Stripe configured). */
  get billingEnabled(): boolean {
    return this.options.billingEnabled;
  }

  /** The plan in force for a stored plan key. */
  effectivePlanId(stored: string): PlanId {
    return planInForce(stored, { enabled: this.options.billingEnabled, defaultPlan: this.options.defaultPlan });
  }

  /** A plan by id. */
  plan(id: PlanId): Plan {
    return this.plans[id];
  }

  /** The organisation's plan, read now (404 when there is no such organisation). */
  async planOf(organizationId: number, db: Db = this.db): Promise<Plan> {
    const stored = await this.store.planOf(db, organizationId);
    if (stored === null) throw new NotFoundError('Organization');
    const plan = this.plans[this.effectivePlanId(stored)];
    this.planCache.set(organizationId, { plan, at: this.now() });
    return plan;
  }

  /** The organisation's plan for the request path (rate limits): reused for `cacheMs`. */
  async cachedPlanOf(organizationId: number): Promise<Plan> {
    if (!this.options.billingEnabled) return this.plans['self-hosted'];
    const hit = this.planCache.get(organizationId);
    if (hit && this.now() - hit.at < this.cacheMs) return hit.plan;
    try {
      return await this.planOf(organizationId);
    } catch (err) {
      if (err instanceof NotFoundError) return this.plans[this.options.defaultPlan];
      throw err;
    }
  }

  /** Forget what is cached for an organisation (its plan changed on this instance). */
  forget(organizationId: number): void {
    this.planCache.delete(organizationId);
    this.evaluationCache.delete(organizationId);
  }

  async requireWithinLimit(organizationId: number, limit: LimitName, trx: Db, scope: LimitScope = {}): Promise<void> {
    if (!this.options.billingEnabled) return;
    await this.store.lockOrganization(trx, organizationId);
    const plan = await this.planOf(organizationId, trx);
    const allowed = plan.limits[limit];
    if (allowed === null) return;
    const current = await this.store.count(trx, organizationId, limit, nowIso(), scope);
    if (current + 1 > allowed) {
      throw new ForbiddenError(`The ${plan.id} plan allows ${allowed} ${limitLabel[limit]}; this organisation has ${current}`, 'quota_exceeded', { limit, current, allowed, plan: plan.id });
    }
  }

  async requireFeature(organizationId: number, feature: FeatureName, trx?: Db): Promise<void> {
    if (!this.options.billingEnabled) return;
    const plan = await this.planOf(organizationId, trx ?? this.db);
    if (!plan.features[feature]) throw new ForbiddenError(`The ${plan.id} plan does not include ${feature}`, 'feature_not_in_plan', { feature, plan: plan.id });
  }

  /** `{hasAccess}` for a feature check route. */
  async hasFeature(organizationId: number, feature: FeatureName): Promise<boolean> {
    const plan = await this.planOf(organizationId);
    return plan.features[feature];
  }

  /** Evaluations this calendar month (UTC) against the plan's limit and grace, read now. */
  async evaluationQuota(organizationId: number): Promise<EvaluationQuota> {
    const plan = await this.planOf(organizationId);
    const allowed = plan.limits.evaluationsPerMonth;
    const today = new Date(this.now()).toISOString().slice(0, 10);
    let used = 0;
    if (allowed !== null) {
      for (const c of await this.counters.read({ organizationId, from: `${today.slice(0, 7)}-01`, to: today })) used += c.count;
    }
    const grace = this.options.evaluationOverageGracePercent;
    const hardLimit = allowed === null || grace === null ? null : Math.floor(allowed * (1 + grace / 100));
    const state = allowed === null || used <= allowed ? 'within' : hardLimit !== null && used >= hardLimit ? 'exhausted' : 'over';
    const quota: EvaluationQuota = { used, allowed, hardLimit, state };
    this.evaluationCache.set(organizationId, { quota, at: this.now(), refreshing: false });
    return quota;
  }

  /**
   * For the evaluation path: true once the organisation is past its grace this month. Answers
   * from a cache refreshed in the background, so evaluation never waits on the count — and a
   * failed read leaves evaluation served.
   */
  evaluationExhausted(organizationId: number): boolean {
    if (!this.options.billingEnabled || this.options.evaluationOverageGracePercent === null) return false;
    const hit = this.evaluationCache.get(organizationId);
    if (!hit || (this.now() - hit.at >= this.cacheMs && !hit.refreshing)) {
      if (hit) hit.refreshing = true;
      else this.evaluationCache.set(organizationId, { quota: { used: 0, allowed: null, hardLimit: null, state: 'within' }, at: 0, refreshing: true });
      this.evaluationQuota(organizationId).catch(() => {
        const entry = this.evaluationCache.get(organizationId);
        if (entry) entry.refreshing = false;
      });
    }
    return hit?.quota.state === 'exhausted';
  }

  /**
   * Requests per minute for a caller: its organisation's plan's (management or evaluation), the
   * server's defaults when the plan sets none or the caller is anonymous.
   */
  requestLimit(actor: Actor | null, kind: 'management' | 'evaluation'): number | Promise<number> {
    const fallback = kind === 'evaluation' ? (this.options.defaultEvaluationRequestsPerMinute ?? 6000) : (this.options.defaultRequestsPerMinute ?? 600);
    const orgId = actor?.organizationId ?? null;
    if (!this.options.billingEnabled || orgId === null) return fallback;
    const hit = this.planCache.get(orgId);
    const pick = (plan: Plan) => (kind === 'evaluation' ? plan.limits.evaluationRequestsPerMinute : plan.limits.apiRequestsPerMinute) ?? fallback;
    if (hit && this.now() - hit.at < this.cacheMs) return pick(hit.plan);
    return this.cachedPlanOf(orgId).then(pick, () => fallback);
  }

  /**
   * Evaluation for an organisation past its monthly limit plus grace: 403 `quota_exceeded`
   * (limit `evaluationsPerMonth`). Within the grace it is served; the quota shows state `over`.
   */
  admitEvaluation(actor: Actor | null): void {
    const orgId = actor?.organizationId ?? null;
    if (orgId === null || !this.evaluationExhausted(orgId)) return;
    const quota = this.evaluationCache.get(orgId)!.quota;
    throw new ForbiddenError(
      `This organisation has used ${quota.used} evaluations this month; its plan allows ${quota.allowed} (served up to ${quota.hardLimit} with the overage grace)`,
      'quota_exceeded',
      { limit: 'evaluationsPerMonth', current: quota.used, allowed: quota.allowed, hardLimit: quota.hardLimit },
    );
  }

  /** Sets an organisation's stored plan (billing webhooks), in the caller's transaction. */
  async setPlan(organizationId: number, plan: PlanId, trx: Db): Promise<void> {
    await this.store.setPlan(trx, organizationId, plan, nowIso());
    this.forget(organizationId);
  }
}

const limitLabel: Record<LimitName, string> = { flags: 'flags', environments: 'environments per project', members: 'members (with pending invitations)', apiKeys: 'API keys' };
