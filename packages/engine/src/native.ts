/**
 * The interpreter of native (Switchyard-format) flags: prerequisites, individual targets, rules of
 * compiled conditions and serves, as plain data walked by one function, so a flag costs no
 * closure calls beyond its `fn` conditions.
 */
import { readSlot } from './attributes.js';
import type { AttributeTable } from './attributes.js';
import { bucketOf } from './bucketing.js';
import { murmur3WithPrefix } from './murmur3.js';
import type { Murmur3Prefix } from './murmur3.js';
import { EQ, EXISTS, GT, IN_LIST, LT, SEGMENT, testCondition, testValue } from './operators.js';
import type { Condition } from './operators.js';
import type { CompiledFlag } from './snapshot.js';
import type { EvaluationContext, EvaluationResult, ValueResult } from './types.js';

/** A compiled serve: one variation, or a rollout over the bucketing attribute's slot. */
export class Serve {
  /**
   * @param result - the result of a single-variation serve (null for rollouts)
   * @param slot - bucketing attribute slot
   * @param prefix - precomputed hash state of the salt
   * @param cumulative - running sums of the weights
   * @param results - result per rollout entry
   * @param total - total weight
   */
  constructor(
    readonly result: ValueResult | null,
    readonly slot: number,
    readonly prefix: Murmur3Prefix | null,
    readonly cumulative: readonly number[],
    readonly results: readonly ValueResult[],
    readonly total: number,
  ) {}
}

/**
 * The bucket a rollout puts the context in (explain reports it; `serve` picks by it).
 * @param s - a rollout serve
 * @param ctx - the context
 * @param t - the attribute table
 * @returns the bucket in [0, total), or -1 when the bucketing value is missing or unusable
 */
export function rolloutBucket(s: Serve, ctx: EvaluationContext, t: AttributeTable): number {
  const v = t.stamps[s.slot] === t.epoch ? t.values[s.slot] : readSlot(t, s.slot, ctx);
  let key: string;
  if (typeof v === 'string') {
    if (v.length === 0) return -1;
    key = v;
  } else if (typeof v === 'number' && Number.isFinite(v)) key = String(v);
  else return -1;
  return bucketOf(murmur3WithPrefix(s.prefix!, key), s.total);
}

/**
 * What a serve yields.
 * @param s - the serve
 * @param ctx - the context
 * @param t - the attribute table
 * @returns the result; undefined when a rollout's bucketing value is missing
 */
export function serve(s: Serve, ctx: EvaluationContext, t: AttributeTable): ValueResult | undefined {
  if (s.result !== null) return s.result;
  const bucket = rolloutBucket(s, ctx, t);
  if (bucket < 0) return undefined;
  const c = s.cumulative;
  for (let i = 0; i < c.length; i++) if (c[i]! > bucket) return s.results[i];
  return undefined;
}

/** A native flag's compiled environment, interpreted by `evaluateNative`. */
export class NativeFlag {
  /**
   * @param table - the snapshot's attribute table
   * @param prerequisites - flags that must resolve to a variation first
   * @param failed - result when a prerequisite fails
   * @param targets - individual targets by targeting key (null when none)
   * @param conditions - all rule conditions, rule after rule
   * @param ruleEnds - end index in `conditions` of each rule (its start is the previous end)
   * @param ruleServes - serve of each rule
   * @param defaultServe - serve when no rule matches (null: `fallthrough`)
   * @param fallthrough - the default variation, reason DEFAULT
   * @param inner - JSONLogic evaluator replacing rules and default serve, or null
   */
  constructor(
    readonly table: AttributeTable,
    readonly prerequisites: ReadonlyArray<{ flag: CompiledFlag; variation: string }>,
    readonly failed: EvaluationResult,
    readonly targets: ReadonlyMap<string, ValueResult> | null,
    readonly conditions: readonly Condition[],
    readonly ruleEnds: readonly number[],
    readonly ruleServes: readonly Serve[],
    readonly defaultServe: Serve | null,
    readonly fallthrough: EvaluationResult,
    readonly inner: ((ctx: EvaluationContext) => EvaluationResult) | null,
  ) {}
}

/**
 * Evaluates a native flag (the flag is enabled; off flags are compiled to a fixed result).
 * @param f - the compiled flag
 * @param ctx - the context
 * @returns the result
 */
export function evaluateNative(f: NativeFlag, ctx: EvaluationContext): EvaluationResult {
  const t = f.table;
  const reqs = f.prerequisites;
  for (let i = 0; i < reqs.length; i++) {
    const req = reqs[i]!;
    if (!req.flag.enabled || req.flag.evaluate(ctx).variant !== req.variation) return f.failed;
  }
  if (f.targets !== null) {
    const tk = t.values[0];
    if (typeof tk === 'string') {
      const hit = f.targets.get(tk);
      if (hit !== undefined) return hit;
    }
  }
  if (f.inner !== null) return f.inner(ctx);
  const ends = f.ruleEnds;
  const conds = f.conditions;
  const epoch = t.epoch;
  const stamps = t.stamps;
  const values = t.values;
  let i = 0;
  rules: for (let r = 0; r < ends.length; r++) {
    const end = ends[r]!;
    for (; i < end; i++) {
      const c = conds[i]!;
      const op = c.op;
      let ok: boolean;
      if (op === SEGMENT) ok = testCondition(c, ctx, t);
      else {
        const slot = c.slot;
        const v = stamps[slot] === epoch ? values[slot] : readSlot(t, slot, ctx);
        // The common operators inline (the interpreter's hot loop); the rest in testValue.
        switch (op) {
          case EQ:
            ok = (v === c.scalar) !== c.negate;
            break;
          case IN_LIST:
            if (Array.isArray(v)) ok = testValue(c, v);
            else {
              const list = c.list!;
              let hit = false;
              for (let j = 0; j < list.length; j++) {
                if (list[j] === v) {
                  hit = true;
                  break;
                }
              }
              ok = hit !== c.negate;
            }
            break;
          case GT:
            ok = typeof v === 'number' ? v > c.num && v !== Infinity : testValue(c, v);
            break;
          case LT:
            ok = typeof v === 'number' ? v < c.num && v !== -Infinity : testValue(c, v);
            break;
          case EXISTS:
            ok = (v !== undefined) !== c.negate;
            break;
          default:
            ok = testValue(c, v);
        }
      }
      if (!ok) {
        i = end;
        continue rules;
      }
    }
    const s = f.ruleServes[r]!;
    const hit = s.result !== null ? s.result : serve(s, ctx, t);
    if (hit !== undefined) return hit;
    break; // a rollout without bucketing value falls to the default serve
  }
  if (f.defaultServe !== null) return serve(f.defaultServe, ctx, t) ?? f.fallthrough;
  return f.fallthrough;
}

