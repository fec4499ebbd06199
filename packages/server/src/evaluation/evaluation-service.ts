import { evaluate, evaluateAll, type EvaluationResult, type JsonValue } from '@switchyard/engine';
import type { Actor } from '../domain/actor.js';
import { ForbiddenError, NotFoundError, UnauthorizedError, ValidationError } from '../domain/errors.js';
import type { ApiKeyIdentity, ApiKeyMap } from './api-key-map.js';
import type { EvaluationCounters } from './evaluation-counters.js';
import type { EnvironmentSnapshot, SnapshotCache } from './snapshot-cache.js';

/** How deep an evaluation context may nest (the context object itself is level 1). */
export const MAX_CONTEXT_DEPTH = 10;

/** Most flags one bulk evaluation may name. */
export const MAX_BULK_FLAGS = 1000;

/** One flag's evaluation, as every surface built on this service renders it. */
export interface FlagEvaluation {
  flagKey: string;
  /** The served value; null when none was served (an error). */
  value: JsonValue | null;
  /** The served variation's key; null when none was served. */
  variation: string | null;
  /** OpenFeature reason: STATIC, DEFAULT, TARGETING_MATCH, SPLIT, DISABLED or ERROR. */
  reason: string;
  /** Which step decided: OFF, PREREQUISITE_FAILED, TARGET_MATCH, RULE_MATCH, FALLTHROUGH or ERROR. */
  kind: string;
  /** Whether the flag is enabled in the key's environment. */
  enabled: boolean;
  /** The rule that served (`rule_…`), when a rule served. */
  ruleId?: string;
  /** OpenFeature error code, when the flag could not be evaluated. */
  errorCode?: string;
  errorMessage?: string;
}

/** What an API key evaluates against: its key entry and its environment's snapshot. */
export interface EvaluationTarget {
  identity: ApiKeyIdentity;
  environment: EnvironmentSnapshot;
}

function depthExceeds(value: unknown, depth: number): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (depth > MAX_CONTEXT_DEPTH) return true;
  if (Array.isArray(value)) {
    for (const v of value) if (depthExceeds(v, depth + 1)) return true;
    return false;
  }
  for (const k in value) {
    if (depthExceeds((value as Record<string, unknown>)[k], depth + 1)) return true;
  }
  return false;
}

/**
 * Evaluation with API keys, from memory only: the key comes from the in-memory key map (the
 * identify hook already resolved it), the environment's compiled snapshot from the snapshot
 * cache, the value from the engine — no database query on this path. Each served evaluation is
 * counted in memory for usage (flushed in batches).
 */
export class EvaluationService {
  constructor(
    private readonly keys: ApiKeyMap,
    private readonly snapshots: SnapshotCache,
    private readonly counters: EvaluationCounters,
  ) {}

  /**
   * The key entry and snapshot an `api_key` actor evaluates against, checking the key is still
   * usable and its scope allows `use` (`evaluate`: server or sdk; `stream`: sdk or stream).
   * Other surfaces (OFREP, ToggleSmartly, streams) start here too.
   */
  target(actor: Actor | null, use: 'evaluate' | 'stream'): EvaluationTarget {
    if (actor === null || actor.kind !== 'api_key' || actor.credentialId === null) {
      throw new UnauthorizedError('This endpoint needs an API key: send X-API-Key: <key>', 'unauthorized');
    }
    const identity = this.keys.get(actor.credentialId);
    if (identity === undefined || !this.keys.usable(identity)) {
      throw new UnauthorizedError('The API key is not valid (unknown, revoked or expired)', 'invalid_api_key');
    }
    const allowed = use === 'evaluate' ? identity.scope !== 'stream' : identity.scope !== 'server';
    if (!allowed) {
      throw new ForbiddenError(
        use === 'evaluate' ? 'Keys of scope stream cannot evaluate; use a server or sdk key' : 'Keys of scope server cannot stream; use an sdk or stream key',
        'api_key_scope',
        { scope: identity.scope },
      );
    }
    const environment = this.snapshots.get(identity.environmentId);
    if (environment === undefined) {
      // The key's environment is gone (deleted with it, or not loaded): the key serves nothing.
      throw new UnauthorizedError('The API key is not valid (unknown, revoked or expired)', 'invalid_api_key');
    }
    return { identity, environment };
  }

  /**
   * `{flagKey}` → one result (404 for an unknown flag); otherwise `{results}` for `flagKeys`, or
   * every flag when absent. Naming both is refused (422).
   */
  evaluateRequest(
    actor: Actor | null,
    input: { flagKey?: string | undefined; flagKeys?: readonly string[] | undefined; context?: Record<string, unknown> | undefined },
  ): FlagEvaluation | { results: FlagEvaluation[] } {
    if (input.flagKey !== undefined) {
      if (input.flagKeys !== undefined) {
        this.target(actor, 'evaluate');
        const both = 'give flagKey or flagKeys, not both';
        throw new ValidationError('Give flagKey (one flag) or flagKeys (several), not both', { flagKey: both, flagKeys: both });
      }
      return this.evaluateFlag(actor, input.flagKey, input.context);
    }
    return { results: this.evaluateFlags(actor, input.flagKeys, input.context) };
  }

  /** Refuses a context nested deeper than `MAX_CONTEXT_DEPTH` (422 naming `context`). */
  checkContext(context: unknown): void {
    if (depthExceeds(context, 1)) {
      throw new ValidationError(`The context is nested deeper than ${MAX_CONTEXT_DEPTH} levels`, { context: `must not nest deeper than ${MAX_CONTEXT_DEPTH} levels` });
    }
  }

  /** Evaluates one flag for the key's environment; an unknown (or archived) flag is `NotFoundError` (404 `flag_not_found`). */
  evaluateFlag(actor: Actor | null, flagKey: string, context: Record<string, unknown> | undefined): FlagEvaluation {
    const { environment } = this.target(actor, 'evaluate');
    this.checkContext(context);
    const result = this.one(environment, flagKey, context);
    if (result.errorCode === 'FLAG_NOT_FOUND') throw new NotFoundError('Flag', 'flag_not_found');
    return result;
  }

  /**
   * Evaluates the named flags (every flag of the environment when `flagKeys` is undefined), in
   * the order asked (or the snapshot's order); a flag that cannot be evaluated gets an error
   * result (`FLAG_NOT_FOUND`, …) in its place.
   */
  evaluateFlags(actor: Actor | null, flagKeys: readonly string[] | undefined, context: Record<string, unknown> | undefined): FlagEvaluation[] {
    return this.many(this.target(actor, 'evaluate').environment, flagKeys, context, true);
  }

  private many(environment: EnvironmentSnapshot, flagKeys: readonly string[] | undefined, context: Record<string, unknown> | undefined, counted: boolean): FlagEvaluation[] {
    this.checkContext(context);
    if (flagKeys !== undefined && flagKeys.length > MAX_BULK_FLAGS) {
      throw new ValidationError(`At most ${MAX_BULK_FLAGS} flags per request`, { flagKeys: `must name at most ${MAX_BULK_FLAGS} flags` });
    }
    if (flagKeys === undefined) {
      const out: FlagEvaluation[] = [];
      for (const r of evaluateAll(environment.snapshot, context)) out.push(this.view(environment, r, counted));
      for (const [key, why] of environment.invalidFlags) out.push(invalidResult(key, why));
      return out;
    }
    return flagKeys.map((k) => this.one(environment, k, context, counted));
  }

  /**
   * Evaluates one flag in a snapshot the caller was already allowed to evaluate (bearer-token
   * evaluation resolves it, see `OrganizationEvaluationService`); validated and counted like every
   * other evaluation. A flag the snapshot lacks gives an `errorCode: FLAG_NOT_FOUND` result.
   */
  evaluateIn(environment: EnvironmentSnapshot, flagKey: string, context: Record<string, unknown> | undefined): FlagEvaluation {
    this.checkContext(context);
    return this.one(environment, flagKey, context);
  }

  private one(environment: EnvironmentSnapshot, flagKey: string, context: Record<string, unknown> | undefined, counted = true): FlagEvaluation {
    const why = environment.invalidFlags.size > 0 ? environment.invalidFlags.get(flagKey) : undefined;
    if (why !== undefined) return invalidResult(flagKey, why);
    return this.view(environment, evaluate(environment.snapshot, flagKey, context), counted);
  }

  /**
   * Evaluates the named flags (every flag when undefined) like `evaluateFlags`, in a snapshot the
   * caller was already allowed to evaluate, but counts nothing: the dashboard's playground runs
   * are people trying contexts, not traffic, so they stay out of usage and plan quotas.
   */
  evaluateUncounted(environment: EnvironmentSnapshot, flagKeys: readonly string[] | undefined, context: Record<string, unknown> | undefined): FlagEvaluation[] {
    return this.many(environment, flagKeys, context, false);
  }

  private view(environment: EnvironmentSnapshot, r: EvaluationResult, counted = true): FlagEvaluation {
    const flag = environment.snapshot.flagMap.get(r.flagKey);
    if (counted && flag !== undefined) this.counters.record(environment, r.flagKey, r.variant ?? '');
    const out: FlagEvaluation = {
      flagKey: r.flagKey,
      value: r.value === undefined ? null : r.value,
      variation: r.variant ?? null,
      reason: r.reason,
      kind: r.kind,
      enabled: flag !== undefined && flag.enabled,
    };
    if (r.ruleId !== undefined) out.ruleId = r.ruleId;
    if (r.errorCode !== undefined) {
      out.errorCode = r.errorCode;
      out.errorMessage = r.errorMessage;
    }
    return out;
  }
}

/** The result for a flag whose stored configuration the engine refused. */
function invalidResult(flagKey: string, why: string): FlagEvaluation {
  return {
    flagKey,
    value: null,
    variation: null,
    reason: 'ERROR',
    kind: 'ERROR',
    enabled: false,
    errorCode: 'PARSE_ERROR',
    errorMessage: `the flag's configuration is invalid: ${why}`,
  };
}
