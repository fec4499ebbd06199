import type { FlagType, JsonValue } from '@switchyard/engine';
import type { Actor } from '../domain/actor.js';
import { NotFoundError, UnauthorizedError, ValidationError } from '../domain/errors.js';
import type { ApiKeyIdentity, ApiKeyMap } from './api-key-map.js';
import { MAX_BULK_FLAGS, type EvaluationService } from './evaluation-service.js';

/** One flag's value in one environment, as a string (ToggleSmartly's `{featureFlagKey, env, value}`). */
export interface FlagValue {
  flagKey: string;
  environmentKey: string;
  value: string;
}

/** What `values` is asked for. */
export interface FlagValuesQuery {
  /** Flag keys, in the order the answer lists them (repeats answered once). */
  flagKeys: readonly string[];
  /** Environment keys to keep; absent: every environment the key may read. */
  environments?: readonly string[] | undefined;
}

/** The context "no targeting context" means: no targeting key, no attributes. */
const noContext: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>;

/**
 * Renders a served value as the string ToggleSmartly returns: `json` flags JSON-encoded (so a
 * JSON string value keeps its quotes), strings as they are, booleans `true`/`false`, numbers as
 * JavaScript prints them; null has no string (the caller falls back).
 */
export function valueAsString(type: FlagType, value: JsonValue | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  if (type === 'json') return JSON.stringify(value);
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/**
 * Flag values by API key, from memory only (key map, snapshot cache, engine): what ToggleSmartly's
 * `get-values` serves. A key reads exactly one environment — its own — of its project and
 * organisation. A flag's value is what the engine serves with no targeting context (the off
 * variation when disabled; otherwise the first rule that matches an empty context, else the
 * default serve — a rollout, needing a targeting key, falls through to the default variation),
 * falling back to the flag's default value and then to `""`. Only active flags are listed.
 */
export class FlagValuesService {
  constructor(
    private readonly keys: ApiKeyMap,
    private readonly evaluation: EvaluationService,
  ) {}

  /**
   * The key a presented secret names, noted as used; `UnauthorizedError('invalid_api_key')` for
   * an unknown, revoked or expired one. The per-key rate limit is counted against the result.
   */
  authenticate(secret: string, now: number = Date.now()): ApiKeyIdentity {
    const resolved = secret.length === 0 || secret.length > 512 ? 'invalid' : this.keys.resolve(secret, now);
    if (typeof resolved === 'string') throw new UnauthorizedError('The API key is not valid (unknown, revoked or expired)', 'invalid_api_key');
    this.keys.markUsed(resolved, now);
    return resolved;
  }

  /**
   * The values of the named active flags in the key's environment, in the order asked.
   * Environments named in `environments` other than the key's are left out (never read); when
   * nothing remains — no such flag, none active, or only other environments asked for — it is
   * `NotFoundError('flags_not_found')`. A stream-scope key is refused (`ForbiddenError`, from
   * `EvaluationService.target`).
   */
  values(actor: Actor | null, query: FlagValuesQuery): FlagValue[] {
    const { environment } = this.evaluation.target(actor, 'evaluate');
    if (query.flagKeys.length > MAX_BULK_FLAGS) {
      throw new ValidationError(`At most ${MAX_BULK_FLAGS} flags per request`, { feature_flag_keys: `must name at most ${MAX_BULK_FLAGS} flags` });
    }
    if (query.environments !== undefined && !query.environments.includes(environment.environmentKey)) {
      throw new NotFoundError('Feature flags', 'flags_not_found');
    }
    const flags = environment.config.flags;
    const wanted: string[] = [];
    const seen = new Set<string>();
    for (const key of query.flagKeys) {
      if (seen.has(key)) continue;
      seen.add(key);
      // Unknown, archived (not in the snapshot), inactive, or refused by the engine: not listed.
      if (!Object.hasOwn(flags, key) || environment.inactiveFlags.has(key) || environment.invalidFlags.has(key)) continue;
      wanted.push(key);
    }
    if (wanted.length === 0) throw new NotFoundError('Feature flags', 'flags_not_found');
    const results = this.evaluation.evaluateFlags(actor, wanted, noContext);
    return results.map((r) => {
      const flag = flags[r.flagKey]!;
      const value =
        valueAsString(flag.type, r.value) ?? valueAsString(flag.type, Object.hasOwn(flag.variations, flag.defaultVariation) ? flag.variations[flag.defaultVariation] : null) ?? '';
      return { flagKey: r.flagKey, environmentKey: environment.environmentKey, value };
    });
  }
}
