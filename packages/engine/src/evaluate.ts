/**
 * Evaluation: the hot path. Never throws: a context that is not an object (or whose
 * `targetingKey` is not a string) yields `INVALID_CONTEXT`; an exception from inside the context
 * (a throwing getter) yields `GENERAL`. Results are shared frozen objects built at compile time,
 * so a successful evaluation allocates nothing beyond what the conditions need.
 */
import { evaluateNative } from './native.js';
import { errorResult } from './results.js';
import type { Snapshot } from './snapshot.js';
import type { CompiledFlag } from './snapshot.js';
import type { EvaluationContext, EvaluationResult, ExpectedType } from './types.js';

const EMPTY: EvaluationContext = Object.freeze({});

/** Marks an invalid context in `targetingKeyOf`. */
const INVALID = Symbol('invalid');

/**
 * The targeting key of a valid context (undefined when absent), or `INVALID` when the context is
 * not an object or its `targetingKey` is neither absent, null nor a string.
 */
function targetingKeyOf(context: unknown): string | undefined | typeof INVALID {
  if (context === undefined) return undefined;
  if (typeof context !== 'object' || context === null || Array.isArray(context)) return INVALID;
  const tk = (context as Record<string, unknown>)['targetingKey'];
  if (tk === undefined || tk === null) return undefined;
  return typeof tk === 'string' ? tk : INVALID;
}

function run(snapshot: Snapshot, flag: CompiledFlag, context: unknown): EvaluationResult {
  try {
    const tk = targetingKeyOf(context);
    if (tk === INVALID) return flag.invalidContext;
    if (flag.fixed !== null) return flag.fixed;
    snapshot.attributes.begin(tk);
    const ctx = (context ?? EMPTY) as EvaluationContext;
    return flag.native !== null ? evaluateNative(flag.native, ctx) : flag.evaluate(ctx);
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
  return run(snapshot, flag, context);
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
  let tk: string | undefined | typeof INVALID;
  try {
    tk = targetingKeyOf(context);
  } catch {
    tk = INVALID;
  }
  if (tk === INVALID) {
    for (let i = 0; i < n; i++) out[i] = flags[i]!.invalidContext;
    return out;
  }
  snapshot.attributes.begin(tk);
  const ctx = (context ?? EMPTY) as EvaluationContext;
  for (let i = 0; i < n; i++) {
    const flag = flags[i]!;
    if (flag.fixed !== null) {
      out[i] = flag.fixed;
      continue;
    }
    try {
      out[i] = flag.native !== null ? evaluateNative(flag.native, ctx) : flag.evaluate(ctx);
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
