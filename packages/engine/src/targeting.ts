/**
 * Evaluators for flags whose variation is chosen by a JSONLogic `targeting` expression, shared by
 * flagd documents and native flags configured with `targeting`. Reasons follow flagd:
 * no expression → `STATIC`; the expression returns null → `DEFAULT` (no value when there is no
 * default variant); it returns a variant key → `TARGETING_MATCH`; it returns anything else →
 * `ERROR`/`GENERAL`.
 */
import type { Logic } from './jsonlogic.js';
import { errorResult, noValueResult, valueResult } from './results.js';
import type { EvaluationContext, EvaluationResult, FlagMetadata, JsonValue, ValueResult } from './types.js';

/**
 * Whether a `targeting` value means "no targeting", exactly as flagd's JavaScript core decides:
 * absent, falsy, or without own enumerable keys (`{}`, `[]`, a number).
 * @param targeting - the configured targeting
 * @returns true when the flag is static
 */
export function isEmptyTargeting(targeting: unknown): boolean {
  return !targeting || Object.keys(targeting).length === 0;
}

/** Inputs of `targetingEvaluator`. */
export interface TargetingFlag {
  /** The flag key. */
  readonly key: string;
  /** Variation values by key (deep-frozen). */
  readonly variants: ReadonlyMap<string, JsonValue>;
  /** The default variant, if any. */
  readonly defaultVariant: string | undefined;
  /** The compiled expression; undefined when the flag has none. */
  readonly logic: Logic | undefined;
  /** Flag metadata. */
  readonly metadata: FlagMetadata;
  /** Reason for the default variant when there is no expression (flagd: `STATIC`). */
  readonly staticReason: 'STATIC' | 'DEFAULT';
}

/**
 * Builds the evaluator of a JSONLogic-targeted flag.
 * @param flag - the flag
 * @returns a function from context to result
 */
export function targetingEvaluator(flag: TargetingFlag): (context: EvaluationContext) => EvaluationResult {
  const { key, variants, defaultVariant, logic, metadata } = flag;
  const matched = new Map<string, ValueResult>();
  for (const [variant, value] of variants) {
    matched.set(variant, valueResult(key, variant, value, 'TARGETING_MATCH', 'RULE_MATCH', undefined, metadata));
  }
  const fallback: EvaluationResult =
    defaultVariant === undefined
      ? noValueResult(key, 'DEFAULT', 'FALLTHROUGH', metadata)
      : valueResult(key, defaultVariant, variants.get(defaultVariant)!, 'DEFAULT', 'FALLTHROUGH', undefined, metadata);
  if (logic === undefined) {
    const fixed: EvaluationResult =
      defaultVariant === undefined
        ? fallback
        : valueResult(key, defaultVariant, variants.get(defaultVariant)!, flag.staticReason, 'FALLTHROUGH', undefined, metadata);
    return () => fixed;
  }
  return (context) => {
    const r = logic(context);
    if (r === null || r === undefined) return fallback;
    const variant = typeof r === 'string' ? r : String(r);
    const hit = matched.get(variant);
    if (hit !== undefined) return hit;
    return errorResult(key, 'GENERAL', `variant "${variant.slice(0, 100)}" not found in flag "${key}"`, metadata);
  };
}
