/**
 * `@switchyard/engine`: the one evaluator. Compile a configuration (native `SnapshotConfig` or a
 * flagd document) into an immutable `Snapshot`, then evaluate flags against contexts.
 *
 * ```ts
 * const snapshot = compile(config, { environment: 'production' });
 * const result = evaluate(snapshot, 'new-checkout', { targetingKey: 'user-1', plan: 'pro' });
 * ```
 */
export type * from './types.js';
export { compile, validate, CompileError } from './compile.js';
export { compileFlagd } from './flagd.js';
export type { FlagdDocument, FlagdFlag, FlagdCompileOptions } from './flagd.js';
export { evaluate, evaluateAll, evaluateTyped } from './evaluate.js';
export { explain } from './explain.js';
export type {
  Explanation,
  ExplanationStep,
  RuleExplanation,
  ConditionExplanation,
  SegmentMembership,
  RolloutExplanation,
  PrerequisiteExplanation,
} from './explain.js';
export { Snapshot } from './snapshot.js';
export { murmur3, murmur3Bytes } from './murmur3.js';
export { bucketOf, bucketFor, MAX_TOTAL_WEIGHT } from './bucketing.js';
export { OPERATORS, MAX_PATTERN_LENGTH, MAX_MATCH_INPUT_LENGTH } from './operators.js';
