import { createHash } from 'node:crypto';
import { evaluate, evaluateAll, type EvaluationResult, type FlagMetadata, type JsonValue } from '@switchyard/engine';
import type { Actor } from '../domain/actor.js';
import { ValidationError } from '../domain/errors.js';
import type { EvaluationCounters } from './evaluation-counters.js';
import type { EvaluationService } from './evaluation-service.js';
import type { EnvironmentSnapshot } from './snapshot-cache.js';

/**
 * One flag's OFREP outcome. `value`/`variant` are absent when the engine served nothing (flagd
 * `state: DISABLED`, or no `defaultVariant` and no match): the caller's code default applies.
 * An error outcome has `errorCode` and `errorDetails` and no reason.
 */
export interface OfrepFlagOutcome {
  key: string;
  value?: JsonValue;
  variant?: string;
  reason?: string;
  errorCode?: 'FLAG_NOT_FOUND' | 'PARSE_ERROR' | 'TARGETING_KEY_MISSING' | 'INVALID_CONTEXT' | 'GENERAL';
  errorDetails?: string;
  metadata?: FlagMetadata;
}

/** A bulk evaluation: every flag of the key's environment, and the strong entity tag of exactly this list. */
export interface OfrepBulkOutcome {
  flags: OfrepFlagOutcome[];
  /** Quoted SHA-256 (base64url) of the outcome list: equal lists, equal tags; any evaluated difference, another tag. */
  etag: string;
}

/** Code of a request-level context problem (`ValidationError.code`), rendered as OFREP `INVALID_CONTEXT`. */
export const invalidContextCode = 'invalid_context';

const errorCodes = new Set(['PARSE_ERROR', 'TARGETING_KEY_MISSING', 'INVALID_CONTEXT', 'GENERAL']);

/**
 * OpenFeature Remote Evaluation Protocol evaluations for API keys, from memory only: the key's
 * environment snapshot (snapshot cache), values decided by the engine, counted like every other
 * evaluation. Never touches the database.
 */
export class OfrepService {
  constructor(
    private readonly evaluation: EvaluationService,
    private readonly counters: EvaluationCounters,
  ) {}

  /**
   * One flag. The outcome carries `errorCode` when it could not be evaluated (`FLAG_NOT_FOUND`
   * for an unknown or archived flag). A context that is not usable at all (targetingKey not a
   * string, nested too deep) is a `ValidationError` with code `invalid_context`.
   */
  evaluateFlag(actor: Actor | null, flagKey: string, context: Record<string, unknown>): OfrepFlagOutcome {
    const { environment } = this.evaluation.target(actor, 'evaluate');
    this.check(context);
    const why = environment.invalidFlags.get(flagKey);
    if (why !== undefined) return { key: flagKey, errorCode: 'PARSE_ERROR', errorDetails: `the flag's configuration is invalid: ${why}` };
    return this.render(environment, evaluate(environment.snapshot, flagKey, context));
  }

  /**
   * Every flag of the key's environment, in the snapshot's order — disabled ones included (with
   * the off value and reason `DISABLED`, or value-less for flagd flags), per-flag failures in place.
   */
  evaluateAll(actor: Actor | null, context: Record<string, unknown>): OfrepBulkOutcome {
    const { environment } = this.evaluation.target(actor, 'evaluate');
    this.check(context);
    const flags = evaluateAll(environment.snapshot, context).map((r) => this.render(environment, r));
    for (const [key, why] of environment.invalidFlags) flags.push({ key, errorCode: 'PARSE_ERROR', errorDetails: `the flag's configuration is invalid: ${why}` });
    const etag = `"${createHash('sha256').update(JSON.stringify(flags)).digest('base64url')}"`;
    return { flags, etag };
  }

  private check(context: Record<string, unknown>): void {
    const tk = context['targetingKey'];
    if (tk !== undefined && tk !== null && typeof tk !== 'string') {
      throw new ValidationError('context.targetingKey must be a string', { 'context.targetingKey': 'must be a string' }, invalidContextCode);
    }
    try {
      this.evaluation.checkContext(context);
    } catch (e) {
      if (e instanceof ValidationError) throw new ValidationError(e.message, e.fields, invalidContextCode);
      throw e;
    }
  }

  private render(environment: EnvironmentSnapshot, r: EvaluationResult): OfrepFlagOutcome {
    const metadata = Object.keys(r.metadata).length > 0 ? r.metadata : undefined;
    if (r.reason === 'ERROR') {
      const code = r.errorCode === 'FLAG_NOT_FOUND' ? 'FLAG_NOT_FOUND' : errorCodes.has(r.errorCode) ? (r.errorCode as OfrepFlagOutcome['errorCode']) : 'GENERAL';
      const details = r.errorCode === 'FLAG_NOT_FOUND' ? `Flag '${r.flagKey}' was not found` : r.errorMessage;
      return { key: r.flagKey, errorCode: code, errorDetails: details, ...(metadata && code !== 'FLAG_NOT_FOUND' ? { metadata } : {}) };
    }
    this.counters.record(environment, r.flagKey, r.variant ?? '');
    if (r.variant === undefined) return { key: r.flagKey, reason: r.reason, ...(metadata ? { metadata } : {}) };
    return { key: r.flagKey, value: r.value, reason: r.reason, variant: r.variant, ...(metadata ? { metadata } : {}) };
  }
}
