/**
 * `explain`: one flag's evaluation with the steps that led to its result, for people (the
 * dashboard's playground), not for traffic. It walks the same compiled data as `evaluateNative`
 * and decides with the same functions (`testCondition`, `inSegment`, `serve`), so the result is the
 * one `evaluate` gives; it is slower on purpose (it allocates the steps and, once a rule fails,
 * still checks the rule's other conditions so a person sees every reason).
 *
 * What the interpreter does not need (rule ids before they serve, how many of a rule's compiled
 * conditions came from `conditions` rather than `segments`, segment keys) sits in side tables that
 * compilation fills and only this module reads: the hot path's data stays as it was.
 */
import type { AttributeTable } from './attributes.js';
import { evaluate } from './evaluate.js';
import { rolloutBucket, serve } from './native.js';
import type { NativeFlag, Serve } from './native.js';
import { inSegment, SEGMENT, testCondition } from './operators.js';
import type { Condition, Segment } from './operators.js';
import type { CompiledFlag, Snapshot } from './snapshot.js';
import type { EvaluationContext, EvaluationResult, ValueResult } from './types.js';

/** What compilation keeps of one rule for `explain`. */
export interface RuleOutline {
  readonly id: string;
  /** How many of the rule's compiled conditions are its `conditions` (the rest are its `segments`). */
  readonly conditionCount: number;
}

/** Rule outlines of each native flag, in rule order (filled by `compile`). */
export const ruleOutlines = new WeakMap<NativeFlag, readonly RuleOutline[]>();

/** Key of each compiled segment (filled by `compile`). */
export const segmentKeys = new WeakMap<Segment, string>();

/** Whether the subject is in one segment. */
export interface SegmentMembership {
  /** The segment key. */
  readonly segment: string;
  /** Whether the subject is in it (included, or not excluded and matching its conditions). */
  readonly member: boolean;
}

/** One condition of a rule, by its index in the rule's `conditions`. */
export interface ConditionExplanation {
  /** Index in the rule's `conditions`, as configured. */
  readonly index: number;
  /**
   * Whether it held; null when it could not be checked (reading the attribute threw after an
   * earlier condition had already failed, so evaluation never got there).
   */
  readonly held: boolean | null;
  /** For `IN_SEGMENT`/`NOT_IN_SEGMENT`: each named segment and whether the subject is in it. */
  readonly segments?: readonly SegmentMembership[];
}

/** Which bucket a rollout put the subject in. */
export interface RolloutExplanation {
  /** The bucket in [0, totalWeight); null when the bucketing attribute is missing or unusable. */
  readonly bucket: number | null;
  /** The rollout's total weight. */
  readonly totalWeight: number;
  /** The variation the bucket falls in; null with `bucket` null. */
  readonly variation: string | null;
}

/** One rule, in order. */
export interface RuleExplanation {
  /** The rule's position (0-based). */
  readonly index: number;
  readonly ruleId: string;
  /**
   * `MATCHED`: every condition and segment held (it served, unless its rollout had no bucketing
   * value); `NOT_MATCHED`: something did not hold; `NOT_EVALUATED`: an earlier rule decided.
   */
  readonly status: 'MATCHED' | 'NOT_MATCHED' | 'NOT_EVALUATED';
  /** The rule's `conditions` (empty when not evaluated). */
  readonly conditions: readonly ConditionExplanation[];
  /** The rule's `segments` (empty when not evaluated). */
  readonly segments: readonly SegmentMembership[];
  /** For a matched rule that serves a rollout. */
  readonly rollout?: RolloutExplanation;
}

/** One prerequisite, in order. */
export interface PrerequisiteExplanation {
  readonly flagKey: string;
  /** The variation it must resolve to. */
  readonly requiredVariation: string;
  /** Whether the prerequisite flag is enabled (a disabled one always fails). */
  readonly enabled: boolean;
  /** The variation it resolved to (null: none). */
  readonly variation: string | null;
  readonly passed: boolean;
}

/** Which step decided the result. */
export type ExplanationStep = 'ERROR' | 'OFF' | 'PREREQUISITE' | 'TARGET' | 'EXPRESSION' | 'RULE' | 'DEFAULT';

/** `explain`'s answer: the result `evaluate` gives, and how it came about. */
export interface Explanation {
  readonly flagKey: string;
  /** Exactly what `evaluate(snapshot, flagKey, context)` returns. */
  readonly result: EvaluationResult;
  readonly decidedBy: ExplanationStep;
  /** Whether the flag is on in the snapshot's environment (false: the off variation served). */
  readonly enabled: boolean;
  /** Every prerequisite, in order (empty when the flag is off or has none). */
  readonly prerequisites: readonly PrerequisiteExplanation[];
  /** Individual targets; null when the flag has none (or was not reached). */
  readonly target: { readonly targetingKey: string | null; readonly matched: boolean } | null;
  /** True when a JSONLogic/flagd expression decided (no per-rule breakdown). */
  readonly expression: boolean;
  /** The rules in order (empty when the flag has none or an expression decides). */
  readonly rules: readonly RuleExplanation[];
  /** Whether the default serve (or default variation) served, and its rollout when it has one. */
  readonly defaultServe: { readonly served: boolean; readonly rollout?: RolloutExplanation };
}

const NOT_SERVED = Object.freeze({ served: false });

function base(flagKey: string, result: EvaluationResult, decidedBy: ExplanationStep, enabled: boolean): Explanation {
  return { flagKey, result, decidedBy, enabled, prerequisites: [], target: null, expression: false, rules: [], defaultServe: NOT_SERVED };
}

function memberships(c: Condition, ctx: EvaluationContext, t: AttributeTable): SegmentMembership[] | undefined {
  try {
    return c.segments!.map((s) => ({ segment: segmentKeys.get(s) ?? '?', member: inSegment(s, ctx, t) }));
  } catch {
    return undefined;
  }
}

function rolloutOf(s: Serve, ctx: EvaluationContext, t: AttributeTable, hit: ValueResult | undefined): RolloutExplanation {
  const bucket = rolloutBucket(s, ctx, t);
  return { bucket: bucket < 0 ? null : bucket, totalWeight: s.total, variation: hit?.variant ?? null };
}

/** Checks a condition the interpreter would not have reached; a throwing read is "unknown", not an error. */
function quietly(c: Condition, ctx: EvaluationContext, t: AttributeTable): boolean | null {
  try {
    return testCondition(c, ctx, t);
  } catch {
    return null;
  }
}

function explainNative(flag: CompiledFlag, f: NativeFlag, ctx: EvaluationContext): Explanation {
  const t = f.table;
  const prerequisites: PrerequisiteExplanation[] = [];
  let failed = false;
  for (const req of f.prerequisites) {
    const variation = req.flag.enabled ? (req.flag.evaluate(ctx).variant ?? null) : null;
    const passed = req.flag.enabled && variation === req.variation;
    prerequisites.push({ flagKey: req.flag.key, requiredVariation: req.variation, enabled: req.flag.enabled, variation, passed });
    // The interpreter stops at the first failure; later prerequisites are not evaluated.
    if (!passed) {
      failed = true;
      break;
    }
  }
  const out = { ...base(flag.key, f.failed, 'PREREQUISITE', true), prerequisites };
  if (failed) return out;

  let target: Explanation['target'] = null;
  if (f.targets !== null) {
    const tk = t.values[0];
    const hit = typeof tk === 'string' ? f.targets.get(tk) : undefined;
    target = { targetingKey: typeof tk === 'string' ? tk : null, matched: hit !== undefined };
    if (hit !== undefined) return { ...out, result: hit, decidedBy: 'TARGET', target };
  }
  if (f.inner !== null) return { ...out, result: f.inner(ctx), decidedBy: 'EXPRESSION', target, expression: true };

  const outlines = ruleOutlines.get(f) ?? [];
  const rules: RuleExplanation[] = [];
  let decided: { result: ValueResult } | null = null;
  let stopped = false;
  let start = 0;
  for (let r = 0; r < f.ruleEnds.length; r++) {
    const end = f.ruleEnds[r]!;
    const outline = outlines[r] ?? { id: f.ruleServes[r]!.result?.ruleId ?? `#${r}`, conditionCount: end - start };
    if (stopped) {
      rules.push({ index: r, ruleId: outline.id, status: 'NOT_EVALUATED', conditions: [], segments: [] });
      start = end;
      continue;
    }
    const conditions: ConditionExplanation[] = [];
    const segments: SegmentMembership[] = [];
    let all = true;
    for (let i = start; i < end; i++) {
      const c = f.conditions[i]!;
      // Until one fails, exactly the interpreter's test (and its exceptions); after, best effort.
      const held = all ? testCondition(c, ctx, t) : quietly(c, ctx, t);
      if (held !== true) all = false;
      const k = i - start;
      if (k < outline.conditionCount) {
        const segs = c.op === SEGMENT ? memberships(c, ctx, t) : undefined;
        conditions.push(segs !== undefined ? { index: k, held, segments: segs } : { index: k, held });
      } else {
        segments.push({ segment: segmentKeys.get(c.segments![0]!) ?? '?', member: held === true });
      }
    }
    start = end;
    if (!all) {
      rules.push({ index: r, ruleId: outline.id, status: 'NOT_MATCHED', conditions, segments });
      continue;
    }
    const s = f.ruleServes[r]!;
    const hit = s.result !== null ? s.result : serve(s, ctx, t);
    const rule: RuleExplanation = { index: r, ruleId: outline.id, status: 'MATCHED', conditions, segments };
    rules.push(s.result !== null ? rule : { ...rule, rollout: rolloutOf(s, ctx, t, hit) });
    stopped = true;
    // A matched rollout without a bucketing value falls to the default serve, as in the interpreter.
    if (hit !== undefined) decided = { result: hit };
  }
  if (decided !== null) return { ...out, result: decided.result, decidedBy: 'RULE', target, rules };
  if (f.defaultServe !== null) {
    const hit = serve(f.defaultServe, ctx, t);
    const defaultServe = f.defaultServe.result !== null ? { served: true } : { served: true, rollout: rolloutOf(f.defaultServe, ctx, t, hit) };
    return { ...out, result: hit ?? f.fallthrough, decidedBy: 'DEFAULT', target, rules, defaultServe };
  }
  return { ...out, result: f.fallthrough, decidedBy: 'DEFAULT', target, rules, defaultServe: { served: true } };
}

/**
 * Evaluates one flag exactly as `evaluate` does and reports how: off or not, each prerequisite,
 * individual targets, each rule with each condition (and segment) and whether it held, rollout
 * buckets, and whether the default served. Not for the hot path.
 * @param snapshot - a compiled snapshot
 * @param flagKey - the flag key
 * @param context - the evaluation context
 * @returns the explanation; `result` equals `evaluate(snapshot, flagKey, context)`
 */
export function explain(snapshot: Snapshot, flagKey: string, context?: unknown): Explanation {
  const flag = snapshot.flagMap.get(flagKey);
  if (flag === undefined) return base(String(flagKey), evaluate(snapshot, flagKey, context), 'ERROR', false);
  // `evaluate` decides whether the context is valid (it never throws); reuse its verdict.
  const plain = evaluate(snapshot, flagKey, context);
  try {
    if (plain === flag.invalidContext || plain === flag.generalError) return base(flag.key, plain, 'ERROR', flag.enabled);
    if (flag.fixed !== null) {
      return flag.enabled ? { ...base(flag.key, flag.fixed, 'DEFAULT', true), defaultServe: { served: true } } : base(flag.key, flag.fixed, 'OFF', false);
    }
    const tk = (context as Record<string, unknown> | undefined)?.['targetingKey'];
    snapshot.attributes.begin(typeof tk === 'string' ? tk : undefined);
    const ctx = (context ?? {}) as EvaluationContext;
    if (flag.native === null) return { ...base(flag.key, flag.evaluate(ctx), 'EXPRESSION', true), expression: true };
    return explainNative(flag, flag.native, ctx);
  } catch {
    // Only the steps failed (the first evaluation did not throw): keep its result.
    return base(flag.key, plain, 'ERROR', flag.enabled);
  }
}
