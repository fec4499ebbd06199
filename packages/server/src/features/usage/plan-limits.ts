/**
 * What a plan allows. `null` is unlimited. Plans (and their limits) arrive in issue 8; until then
 * every organisation is on `self-hosted`, which limits nothing.
 */
export interface PlanLimits {
  /** Evaluations per calendar month (UTC). */
  evaluationsPerMonth: number | null;
  /** Flags that are not archived. */
  flags: number | null;
  members: number | null;
  /** API keys that are neither revoked nor expired. */
  apiKeys: number | null;
  projects: number | null;
}

/** Where a plan's limits come from; issue 8's billing catalogue replaces the self-hosted one. */
export interface PlanCatalog {
  limitsFor(plan: string): PlanLimits;
  /** The plan in force for a stored plan key (billing off: `self-hosted`; unknown: the default plan). */
  inForce?(plan: string): string;
}

const unlimited: PlanLimits = Object.freeze({ evaluationsPerMonth: null, flags: null, members: null, apiKeys: null, projects: null });

/** Every plan unlimited: the self-hosted server sells nothing. */
export const selfHostedPlans: PlanCatalog = {
  limitsFor: () => unlimited,
};
