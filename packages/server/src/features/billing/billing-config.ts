import { isPlanId, loadPlanTable, sellablePlanIds, type PlanId, type PlanTable } from '../plans/plans.js';

/** Stripe, when `STRIPE_SECRET_KEY` is set. */
export interface StripeSettings {
  secretKey: string;
  /** `STRIPE_WEBHOOK_SECRET` (`whsec_…`): without it the webhook refuses every delivery. */
  webhookSecret: string | null;
  /** Plan → Stripe price id (`STRIPE_PRICE_STANDARD`, … or the `STRIPE_PRICES` JSON map). */
  prices: Partial<Record<PlanId, string>>;
  /** `STRIPE_API_BASE` (e.g. `http://127.0.0.1:12111`): another Stripe API endpoint (a local stand-in, stripe-mock). */
  apiBase: { host: string; port: number; protocol: 'http' | 'https' } | null;
}

/** Plans, quotas and billing settings (issue 8). */
export interface BillingSettings {
  /** The plan table (defaults with `SWITCHYARD_PLANS_FILE` / `SWITCHYARD_PLANS` applied). */
  plans: PlanTable;
  /** null: billing is off — every organisation is on `self-hosted`. */
  stripe: StripeSettings | null;
  /** With billing on, the plan of an organisation that has bought nothing (`SWITCHYARD_DEFAULT_PLAN`, default sandbox). */
  defaultPlan: PlanId;
  /** How far past its monthly evaluation limit an organisation is served before evaluation is refused (`SWITCHYARD_EVALUATION_OVERAGE_GRACE_PERCENT`, default 20; `none` never refuses). */
  evaluationOverageGracePercent: number | null;
  /** Evaluation requests per credential per minute when the plan sets none (`SWITCHYARD_EVALUATION_RATE_LIMIT_PER_MINUTE`, default 6000). */
  evaluationRateLimitPerMinute: number;
}

/** A bad billing setting; `variable` names it (the config loader turns it into its ConfigError). */
export class BillingConfigError extends Error {
  constructor(readonly variable: string, problem: string) {
    super(`${variable}: ${problem}`);
    this.name = 'BillingConfigError';
  }
}

type Env = Record<string, string | undefined>;

const priceIdPattern = /^[A-Za-z0-9_-]{1,255}$/;

function wholeNumber(env: Env, name: string, fallback: number | null, max: number): number | null {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'none') return null;
  if (!/^\d+$/.test(raw) || Number(raw) > max) throw new BillingConfigError(name, `must be a whole number from 0 to ${max} (or "none"), got "${raw}"`);
  return Number(raw);
}

/** A per-minute rate: a whole number from 1 to `max`; unlike the limits above, no "none" (a rate limit is always on). */
function perMinute(env: Env, name: string, fallback: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > max) throw new BillingConfigError(name, `must be a whole number from 1 to ${max}, got "${raw}"`);
  return Number(raw);
}

function prices(env: Env): Partial<Record<PlanId, string>> {
  const out: Partial<Record<PlanId, string>> = {};
  if (env.STRIPE_PRICES) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(env.STRIPE_PRICES);
    } catch {
      throw new BillingConfigError('STRIPE_PRICES', 'is not valid JSON');
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new BillingConfigError('STRIPE_PRICES', 'must be a JSON object of plan → price id');
    for (const [plan, price] of Object.entries(parsed as Record<string, unknown>)) {
      if (!(sellablePlanIds as readonly string[]).includes(plan)) throw new BillingConfigError('STRIPE_PRICES', `"${plan}" is not a plan that can be bought (${sellablePlanIds.join(', ')})`);
      if (typeof price !== 'string' || !priceIdPattern.test(price)) throw new BillingConfigError('STRIPE_PRICES', `the price of "${plan}" must be a Stripe price id`);
      out[plan as PlanId] = price;
    }
  }
  for (const plan of sellablePlanIds) {
    const name = `STRIPE_PRICE_${plan.toUpperCase()}`;
    const price = env[name];
    if (price === undefined || price === '') continue;
    if (!priceIdPattern.test(price)) throw new BillingConfigError(name, 'must be a Stripe price id');
    out[plan] = price;
  }
  const seen = new Map<string, PlanId>();
  for (const [plan, price] of Object.entries(out) as [PlanId, string][]) {
    const other = seen.get(price);
    if (other) throw new BillingConfigError('STRIPE_PRICES', `plans "${other}" and "${plan}" share price ${price}: a subscription's plan would be ambiguous`);
    seen.set(price, plan);
  }
  return out;
}

function apiBase(env: Env): StripeSettings['apiBase'] {
  const raw = env.STRIPE_API_BASE;
  if (!raw) return null;
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new BillingConfigError('STRIPE_API_BASE', 'is not a valid URL');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new BillingConfigError('STRIPE_API_BASE', 'must start with http:// or https://');
  const protocol = u.protocol === 'http:' ? 'http' : 'https';
  return { host: u.hostname, port: u.port ? Number(u.port) : protocol === 'http' ? 80 : 443, protocol };
}

/** Reads the billing settings; billing is on exactly when `STRIPE_SECRET_KEY` is set. */
export function loadBillingSettings(env: Env): BillingSettings {
  let plans: PlanTable;
  try {
    plans = loadPlanTable(env);
  } catch (err) {
    const e = err as { variable?: string; message: string };
    throw new BillingConfigError(e.variable ?? 'SWITCHYARD_PLANS', e.message.replace(/^[A-Z_]+: /, ''));
  }
  const defaultPlan = env.SWITCHYARD_DEFAULT_PLAN || 'sandbox';
  if (!isPlanId(defaultPlan)) throw new BillingConfigError('SWITCHYARD_DEFAULT_PLAN', `must be a plan, got "${defaultPlan}"`);
  const secretKey = env.STRIPE_SECRET_KEY;
  const webhookSecret = env.STRIPE_WEBHOOK_SECRET || null;
  const stripe: StripeSettings | null = secretKey ? { secretKey, webhookSecret, prices: prices(env), apiBase: apiBase(env) } : null;
  return {
    plans,
    stripe,
    defaultPlan,
    evaluationOverageGracePercent: wholeNumber(env, 'SWITCHYARD_EVALUATION_OVERAGE_GRACE_PERCENT', 20, 10_000),
    evaluationRateLimitPerMinute: perMinute(env, 'SWITCHYARD_EVALUATION_RATE_LIMIT_PER_MINUTE', 6000, 10_000_000),
  };
}
