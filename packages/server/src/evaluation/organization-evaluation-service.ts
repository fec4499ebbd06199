import { explain, type Explanation } from '@switchyard/engine';
import type { Actor } from '../domain/actor.js';
import { ForbiddenError, NotFoundError, ValidationError } from '../domain/errors.js';
import { flagKeyAmbiguous } from '../features/flags/flag-service.js';
import type { ProjectAccessService, ProjectRef } from '../features/projects/project-access.js';
import type { EvaluationService, FlagEvaluation } from './evaluation-service.js';
import type { EnvironmentSnapshot, SnapshotCache } from './snapshot-cache.js';

/** One flag to evaluate by key in the caller's organisation. */
export interface OrganizationEvaluationRequest {
  flagKey: string;
  /** Environment key; default `production`. */
  environment?: string;
  /** The evaluation context: `targetingKey` plus attributes. */
  context?: Record<string, unknown>;
}

/** A playground run: a context against one environment, optionally explaining one flag. */
export interface EnvironmentEvaluationRequest {
  context?: Record<string, unknown> | undefined;
  /** Flags to evaluate, in this order; every flag of the environment when absent. */
  flagKeys?: readonly string[] | undefined;
  /** The flag whose result carries the explanation. */
  explain?: string | undefined;
}

/** The steps of one flag's evaluation, as the API shows them (the result is beside it). */
export type ExplanationView = Omit<Explanation, 'result' | 'flagKey'>;

/** One flag's result in a playground run; the explained flag's carries `explanation`. */
export type EnvironmentEvaluation = FlagEvaluation & { explanation?: ExplanationView };

/**
 * Evaluation for bearer-token callers (users, OAuth clients with `flags:evaluate`), as
 * IntelliToggle's `POST /flags/{flagKey}/evaluate` needs it: the projects the caller may evaluate
 * in come from the access rules (the only database reads), the flag and its value from the
 * in-memory snapshots — the same engine and snapshot `/api/v1/evaluate` serves with an API key.
 */
export class OrganizationEvaluationService {
  constructor(
    private readonly projectAccess: ProjectAccessService,
    private readonly snapshots: SnapshotCache,
    private readonly evaluation: EvaluationService,
  ) {}

  /**
   * The flag with `flagKey` in the environment of that key, among the projects of the actor's
   * organisation where it holds `flags:evaluate` (403 when it holds it nowhere). No such
   * environment in any of them is 404 `not_found` (Environment); no such flag (or an archived one)
   * 404 `flag_not_found`; the key in several projects 409 `flag_key_ambiguous`.
   */
  async evaluate(actor: Actor, request: OrganizationEvaluationRequest): Promise<FlagEvaluation> {
    // An API key is bound to one environment of one project; it evaluates through /api/v1/evaluate.
    if (actor.kind === 'api_key') throw new ForbiddenError('API keys evaluate with POST /api/v1/evaluate; this endpoint takes a bearer token', 'api_key_not_accepted');
    const environmentKey = request.environment ?? 'production';
    const accessible = await this.projectAccess.requireAccessible(actor, 'flags:evaluate');
    let environmentSeen = false;
    const matches: Array<{ snapshot: EnvironmentSnapshot; project: { key: string; name: string } }> = [];
    for (const { project } of accessible) {
      const snapshot = this.snapshots.forProject(project.id).find((e) => e.environmentKey === environmentKey);
      if (snapshot === undefined) continue;
      environmentSeen = true;
      if (snapshot.snapshot.flagMap.has(request.flagKey) || snapshot.invalidFlags.has(request.flagKey)) matches.push({ snapshot, project });
    }
    if (!environmentSeen) throw new NotFoundError('Environment');
    if (matches.length === 0) throw new NotFoundError('Flag', 'flag_not_found');
    if (matches.length > 1) throw flagKeyAmbiguous(request.flagKey, matches.map((m) => m.project));
    return this.evaluation.evaluateIn(matches[0]!.snapshot, request.flagKey, request.context);
  }

  /**
   * The dashboard's playground: every flag (or `flagKeys`) of one environment of the project `ref`
   * names, for `context`, from the in-memory snapshot, and for `explain` the engine's steps. Needs
   * `flags:evaluate` in the project; nothing is counted in usage. An environment the project lacks
   * is 404 (Environment); `explain` must name a flag of the environment (and of `flagKeys`), else 422.
   */
  async evaluateEnvironment(actor: Actor, ref: ProjectRef, environmentKey: string, request: EnvironmentEvaluationRequest): Promise<EnvironmentEvaluation[]> {
    return this.evaluateIn(await this.requireEnvironment(actor, ref, environmentKey), request);
  }

  /** `evaluateEnvironment` in a snapshot `requireEnvironment` gave (the route checks access before it validates the body). */
  evaluateIn(environment: EnvironmentSnapshot, request: EnvironmentEvaluationRequest): EnvironmentEvaluation[] {
    const results: EnvironmentEvaluation[] = this.evaluation.evaluateUncounted(environment, request.flagKeys, request.context);
    const key = request.explain;
    if (key === undefined) return results;
    const at = results.findIndex((r) => r.flagKey === key);
    if (at < 0) throw new ValidationError('explain must name one of the flags evaluated', { explain: 'must be one of flagKeys' });
    if (!environment.snapshot.has(key)) {
      const why = environment.invalidFlags.has(key) ? 'has an invalid configuration, so there is nothing to explain' : 'is not a flag of this environment';
      throw new ValidationError(`Flag "${key}" ${why}`, { explain: why });
    }
    // Explaining decides again, with the same engine and context: the result is the same one.
    const { result: _result, flagKey: _flagKey, ...steps } = explain(environment.snapshot, key, request.context);
    results[at] = { ...results[at]!, explanation: steps };
    return results;
  }

  /** The project's environment snapshot, after checking `flags:evaluate` there (the only database reads). */
  async requireEnvironment(actor: Actor, ref: ProjectRef, environmentKey: string): Promise<EnvironmentSnapshot> {
    if (actor.kind === 'api_key') throw new ForbiddenError('API keys evaluate with POST /api/v1/evaluate; this endpoint takes a bearer token', 'api_key_not_accepted');
    const { project } = await this.projectAccess.require(actor, ref, 'flags:evaluate');
    const environment = this.snapshots.forProject(project.id).find((e) => e.environmentKey === environmentKey);
    if (environment === undefined) throw new NotFoundError('Environment');
    return environment;
  }
}
