import type { Actor } from '../domain/actor.js';
import { ForbiddenError, NotFoundError } from '../domain/errors.js';
import { flagKeyAmbiguous } from '../features/flags/flag-service.js';
import type { ProjectAccessService } from '../features/projects/project-access.js';
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
}
