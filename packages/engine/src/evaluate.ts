/**
 * Evaluation: the hot path. Never throws: a context that is not an object (or whose
 * `targetingKey` is not a string) yields `INVALID_CONTEXT`; an exception from inside the context
 * (a throwing getter) yields `GENERAL`. Results are shared frozen objects built at compile time,
 * so a successful evaluation allocates nothing beyond what the conditions need.
 */
import { errorResult } from './results.js';
import type { Snapshot } from './snapshot.js';
import type { CompiledFlag } from './snapshot.js';
import type { EvaluationContext, EvaluationResult, ExpectedType } from './types.js';

const EMPTY: EvaluationContext = Object.freeze({});

function invalid(context: unknown): boolean {
  if (typeof context !== 'object' || context === null || Array.isArray(context)) return true;
  const tk = (context as Record<string, unknown>)['targetingKey'];
  return tk !== undefined && tk !== null && typeof tk !== 'string';
}

function run(flag: CompiledFlag, context: unknown): EvaluationResult {
  try {
    if (context === undefined) return flag.evaluate(EMPTY);
    if (invalid(context)) return flag.invalidContext;
    return flag.evaluate(context as EvaluationContext);
  } catch {
    return flag.generalError;
  }
}

/**
 * Evaluates one flag.
 * @param snapshot - a compiled snapshot
 * @param flagKey - the flag key
 * @param context - the evaluation context (an object; `undefined` means empty)
 * @returns the result; `FLAG_NOT_FOUND` for an unknown key
 */
export function evaluate(snapshot: Snapshot, flagKey: string, context?: unknown): EvaluationResult {
  const flag = snapshot.flagMap.get(flagKey);
  if (flag === undefined) return errorResult(String(flagKey), 'FLAG_NOT_FOUND', `flag "${String(flagKey)}" not found`, snapshot.metadata);
  return run(flag, context);
}

/**
 * Evaluates every flag of a snapshot for one context, including disabled and failing flags
 * (filter on `reason`/`variant` as the surface requires; flagd's bulk evaluation, for instance,
 * omits `DISABLED` and value-less results).
 * @param snapshot - a compiled snapshot
 * @param context - the evaluation context
 * @returns one result per flag, in `snapshot.keys` order
 */
export function evaluateAll(snapshot: Snapshot, context?: unknown): EvaluationResult[] {
  const flags = snapshot.flagList;
  const n = flags.length;
  const out = new Array<EvaluationResult>(n);
  if (context !== undefined) {
    let bad: boolean;
    try {
      bad = invalid(context);
    } catch {
      bad = true;
    }
    if (bad) {
      for (let i = 0; i < n; i++) out[i] = flags[i]!.invalidContext;
      return out;
    }
  }
  const ctx = (context ?? EMPTY) as EvaluationContext;
  for (let i = 0; i < n; i++) {
    const flag = flags[i]!;
    try {
      out[i] = flag.evaluate(ctx);
    } catch {
      out[i] = flag.generalError;
    }
  }
  return out;
}

/**
 * Evaluates one flag and checks the served value's type, as OpenFeature's typed resolvers do:
 * `typeof value` must equal `expected` (`object` covers JSON objects, arrays and null).
 * A mismatch yields `TYPE_MISMATCH`; errors and value-less results are returned unchanged.
 * @param snapshot - a compiled snapshot
 * @param flagKey - the flag key
 * @param expected - the value type the caller expects
 * @param context - the evaluation context
 * @returns the result
 */
export function evaluateTyped(snapshot: Snapshot, flagKey: string, expected: ExpectedType, context?: unknown): EvaluationResult {
  const r = evaluate(snapshot, flagKey, context);
  if (r.variant === undefined || typeof r.value === expected) return r;
  return errorResult(
    r.flagKey,
    'TYPE_MISMATCH',
    `flag "${r.flagKey}" resolved to a ${r.value === null ? 'null' : typeof r.value}, not a ${expected}`,
    r.metadata,
  );
}
