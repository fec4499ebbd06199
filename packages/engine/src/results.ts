/**
 * Result constructors. Every result has the same property order (one hidden class), is frozen,
 * and is built at compile time wherever the outcome is known in advance, so evaluation returns a
 * shared object instead of allocating.
 */
import type {
  ErrorCode,
  ErrorResult,
  FlagMetadata,
  JsonValue,
  NoValueResult,
  Reason,
  ResolutionKind,
  ValueResult,
} from './types.js';

/**
 * A result that serves a variation.
 * @param flagKey - the flag
 * @param variant - the variation key
 * @param value - the variation value (deep-frozen by the compiler)
 * @param reason - the OpenFeature reason
 * @param kind - the finer resolution kind
 * @param ruleId - the rule that served, if any
 * @param metadata - the flag metadata
 * @returns a frozen result
 */
export function valueResult(
  flagKey: string,
  variant: string,
  value: JsonValue,
  reason: Exclude<Reason, 'ERROR'>,
  kind: ResolutionKind,
  ruleId: string | undefined,
  metadata: FlagMetadata,
): ValueResult {
  return Object.freeze({
    flagKey,
    value,
    variant,
    reason,
    kind,
    errorCode: undefined,
    errorMessage: undefined,
    ruleId,
    metadata,
  });
}

/**
 * A result without value or variant (flagd: no `defaultVariant`, or disabled).
 * @param flagKey - the flag
 * @param reason - `DEFAULT` or `DISABLED`
 * @param kind - the finer resolution kind
 * @param metadata - the flag metadata
 * @returns a frozen result
 */
export function noValueResult(
  flagKey: string,
  reason: 'DEFAULT' | 'DISABLED',
  kind: ResolutionKind,
  metadata: FlagMetadata,
): NoValueResult {
  return Object.freeze({
    flagKey,
    value: undefined,
    variant: undefined,
    reason,
    kind,
    errorCode: undefined,
    errorMessage: undefined,
    ruleId: undefined,
    metadata,
  });
}

/**
 * An error result.
 * @param flagKey - the flag
 * @param errorCode - what failed
 * @param errorMessage - detail for humans
 * @param metadata - the flag (or snapshot) metadata
 * @returns a frozen result
 */
export function errorResult(flagKey: string, errorCode: ErrorCode, errorMessage: string, metadata: FlagMetadata): ErrorResult {
  return Object.freeze({
    flagKey,
    value: undefined,
    variant: undefined,
    reason: 'ERROR' as const,
    kind: 'ERROR' as const,
    errorCode,
    errorMessage,
    ruleId: undefined,
    metadata,
  });
}

/**
 * Freezes a JSON value and everything in it, so shared results cannot be corrupted by a caller.
 * @param value - the value
 * @returns the same value, frozen
 */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
