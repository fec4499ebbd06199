import { readFileSync } from 'node:fs';
import type { PlanCatalog, PlanLimits } from '../usage/plan-limits.js';

/** The plans an organisation can be on. `self-hosted` is everyone's while billing is off. */
export const planIds = ['sandbox', 'standard', 'enhanced', 'enterprise', 'self-hosted'] as const;
export type PlanId = (typeof planIds)[number];

/** Plans a tenant can buy (checkout's `planId`). */
export const sellablePlanIds = ['sandbox', 'standard', 'enhanced', 'enterprise'] as const;

/** The countable things a plan limits (`requireWithinLimit`'s `limit`). */
export const limitNames = ['flags', 'environments', 'members', 'apiKeys'] as const;
export type LimitName = (typeof limitNames)[number];

/** Where a limit is counted: environments are limited per project. */
export interface LimitScope {
  projectId?: number;
}

/** Features a plan turns on or off. */
export const featureNames = ['analytics', 'experiments', 'multivariate'] as const;
export type FeatureName = (typeof featureNames)[number];

/** One plan's limits (`null`: unlimited) and features. */
export interface Plan {
  id: PlanId;
  limits: {
    flags: number | null;
    /** Environments per project (and in the tenant's default list). */
    environments: number | null;
    /** Members plus pending invitations. */
    members: number | null;
    /** API keys neither revoked nor expired. */
    apiKeys: number | null;
    /** Evaluations per calendar month (UTC); see the overage grace. */
    evaluationsPerMonth: number | null;
    /** Management requests per credential per minute; null: the server's `SWITCHYARD_RATE_LIMIT_PER_MINUTE`. */
    apiRequestsPerMinute: number | null;
    /** Evaluation requests (evaluate, OFREP, stream, SDK config) per credential per minute; null: `SWITCHYARD_EVALUATION_RATE_LIMIT_PER_MINUTE`. */
    evaluationRequestsPerMinute: number | null;
  };
  features: Record<FeatureName, boolean>;
}

export type PlanTable = Record<PlanId, Plan>;

/**
 * The default plan table: the one place plan limits live. Overridable, plan by plan and field by
 * field, with `SWITCHYARD_PLANS` (JSON) or `SWITCHYARD_PLANS_FILE` (a JSON file).
 */
export const defaultPlans: PlanTable = {
  sandbox: {
    id: 'sandbox',
    limits: { flags: 10, environments: 3, members: 3, apiKeys: 3, evaluationsPerMonth: 100_000, apiRequestsPerMinute: 120, evaluationRequestsPerMinute: 1200 },
    features: { analytics: false, experiments: false, multivariate: false },
  },
  standard: {
    id: 'standard',
    limits: { flags: 100, environments: 5, members: 10, apiKeys: 20, evaluationsPerMonth: 5_000_000, apiRequestsPerMinute: 600, evaluationRequestsPerMinute: 6000 },
    features: { analytics: true, experiments: false, multivariate: false },
  },
  enhanced: {
    id: 'enhanced',
    limits: { flags: 1000, environments: 10, members: 50, apiKeys: 100, evaluationsPerMonth: 50_000_000, apiRequestsPerMinute: 1200, evaluationRequestsPerMinute: 30_000 },
    features: { analytics: true, experiments: true, multivariate: true },
  },
  enterprise: {
    id: 'enterprise',
    limits: { flags: null, environments: null, members: null, apiKeys: null, evaluationsPerMonth: null, apiRequestsPerMinute: 6000, evaluationRequestsPerMinute: 120_000 },
    features: { analytics: true, experiments: true, multivariate: true },
  },
  'self-hosted': {
    id: 'self-hosted',
    limits: { flags: null, environments: null, members: null, apiKeys: null, evaluationsPerMonth: null, apiRequestsPerMinute: null, evaluationRequestsPerMinute: null },
    features: { analytics: true, experiments: true, multivariate: true },
  },
};

/** Raised for a bad plan override; `variable` names the setting. */
export class PlanConfigError extends Error {
  constructor(readonly variable: string, problem: string) {
    super(`${variable}: ${problem}`);
    this.name = 'PlanConfigError';
  }
}

const limitKeys = ['flags', 'environments', 'members', 'apiKeys', 'evaluationsPerMonth', 'apiRequestsPerMinute', 'evaluationRequestsPerMinute'] as const;

/**
 * The plan table with `overrides` applied: `{"standard": {"limits": {"flags": 250}, "features": {"experiments": true}}}`.
 * Unknown plans, limits or features, and limits that are not null or a whole number ≥ 0, are refused.
 */
export function applyPlanOverrides(base: PlanTable, overrides: unknown, variable: string): PlanTable {
  if (overrides === null || typeof overrides !== 'object' || Array.isArray(overrides)) throw new PlanConfigError(variable, 'must be a JSON object of plans');
  const out = structuredClone(base);
  for (const [id, override] of Object.entries(overrides as Record<string, unknown>)) {
    if (!(planIds as readonly string[]).includes(id)) throw new PlanConfigError(variable, `unknown plan "${id}" (plans: ${planIds.join(', ')})`);
    if (override === null || typeof override !== 'object' || Array.isArray(override)) throw new PlanConfigError(variable, `plan "${id}" must be an object`);
    const plan = out[id as PlanId];
    for (const [section, values] of Object.entries(override as Record<string, unknown>)) {
      if (section !== 'limits' && section !== 'features') throw new PlanConfigError(variable, `plan "${id}": unknown field "${section}" (limits, features)`);
      if (values === null || typeof values !== 'object' || Array.isArray(values)) throw new PlanConfigError(variable, `plan "${id}": ${section} must be an object`);
      for (const [name, value] of Object.entries(values as Record<string, unknown>)) {
        if (section === 'limits') {
          if (!(limitKeys as readonly string[]).includes(name)) throw new PlanConfigError(variable, `plan "${id}": unknown limit "${name}" (${limitKeys.join(', ')})`);
          if (value !== null && !(Number.isSafeInteger(value) && (value as number) >= 0)) throw new PlanConfigError(variable, `plan "${id}": limit "${name}" must be null or a whole number`);
          (plan.limits as Record<string, number | null>)[name] = value as number | null;
        } else {
          if (!(featureNames as readonly string[]).includes(name)) throw new PlanConfigError(variable, `plan "${id}": unknown feature "${name}" (${featureNames.join(', ')})`);
          if (typeof value !== 'boolean') throw new PlanConfigError(variable, `plan "${id}": feature "${name}" must be true or false`);
          plan.features[name as FeatureName] = value;
        }
      }
    }
  }
  return out;
}

/** The plan table from the environment: defaults, then `SWITCHYARD_PLANS_FILE`, then `SWITCHYARD_PLANS`. */
export function loadPlanTable(env: Record<string, string | undefined>): PlanTable {
  let table = defaultPlans;
  const file = env.SWITCHYARD_PLANS_FILE;
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      throw new PlanConfigError('SWITCHYARD_PLANS_FILE', `cannot read "${file}"`);
    }
    table = applyPlanOverrides(table, parseJson(text, 'SWITCHYARD_PLANS_FILE'), 'SWITCHYARD_PLANS_FILE');
  }
  if (env.SWITCHYARD_PLANS) table = applyPlanOverrides(table, parseJson(env.SWITCHYARD_PLANS, 'SWITCHYARD_PLANS'), 'SWITCHYARD_PLANS');
  return table;
}

function parseJson(text: string, variable: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new PlanConfigError(variable, 'is not valid JSON');
  }
}

/** True when `id` names a plan. */
export function isPlanId(id: string): id is PlanId {
  return (planIds as readonly string[]).includes(id);
}

/**
 * The plan in force for an organisation's stored plan key: `self-hosted` while billing is off;
 * with billing on, the stored plan, or the default plan for organisations that never bought one
 * (they are stored as `self-hosted`, as every new organisation is).
 */
export function planInForce(stored: string, billing: { enabled: boolean; defaultPlan: PlanId }): PlanId {
  if (!billing.enabled) return 'self-hosted';
  return isPlanId(stored) && stored !== 'self-hosted' ? stored : billing.defaultPlan;
}

/** The plan table as usage reads it (`/api/v1/usage` limits). Unknown plans read as `fallback`. */
export function planCatalog(table: PlanTable, effectivePlan: (stored: string) => PlanId): PlanCatalog {
  return {
    inForce: (stored: string) => effectivePlan(stored),
    limitsFor(stored: string): PlanLimits {
      const plan = table[effectivePlan(stored)];
      return {
        evaluationsPerMonth: plan.limits.evaluationsPerMonth,
        flags: plan.limits.flags,
        members: plan.limits.members,
        apiKeys: plan.limits.apiKeys,
        projects: null,
      };
    },
  };
}
