/**
 * The compiled, immutable form a configuration turns into. Build one with `compile` or
 * `compileFlagd`; evaluate it with `evaluate`/`evaluateAll`.
 */
import { AttributeTable } from './attributes.js';
import type { NativeFlag } from './native.js';
import type { CompileIssue, EvaluationContext, EvaluationResult, FlagMetadata, FlagType } from './types.js';

/**
 * One compiled flag (internal). `evaluate` assumes a context object whose `targetingKey` is a
 * string or absent, with the attribute table begun; the public `evaluate` does both first.
 * `fixed` (a context-independent result) and `native` let the evaluator skip the closure call.
 */
export class CompiledFlag {
  /**
   * @param key - the flag key
   * @param type - declared (native) or inferred (flagd) value type
   * @param enabled - whether the flag is on in this snapshot's environment
   * @param metadata - flag metadata
   * @param evaluate - evaluates the flag
   * @param fixed - the result when it does not depend on the context, else null
   * @param native - the native interpreter data, else null
   * @param invalidContext - shared `INVALID_CONTEXT` result
   * @param generalError - shared `GENERAL` result for an unexpected exception
   */
  constructor(
    readonly key: string,
    readonly type: FlagType,
    readonly enabled: boolean,
    readonly metadata: FlagMetadata,
    readonly evaluate: (context: EvaluationContext) => EvaluationResult,
    readonly fixed: EvaluationResult | null,
    readonly native: NativeFlag | null,
    readonly invalidContext: EvaluationResult,
    readonly generalError: EvaluationResult,
  ) {}
}

/** A compiled snapshot: immutable, safe to share between concurrent evaluations. */
export class Snapshot {
  /** Flag keys in configuration order; `evaluateAll` returns results in this order. */
  readonly keys: readonly string[];
  /** @internal Compiled flags in `keys` order. */
  readonly flagList: readonly CompiledFlag[];
  /** @internal Compiled flags by key. */
  readonly flagMap: ReadonlyMap<string, CompiledFlag>;

  /**
   * @param flags - compiled flags in order
   * @param metadata - snapshot metadata (returned with `FLAG_NOT_FOUND`)
   * @param warnings - problems that did not prevent compilation (flagd targeting parse errors)
   * @param environment - the environment compiled, when the source had environments
   * @param attributes - the attribute slots the compiled conditions read
   */
  constructor(
    flags: readonly CompiledFlag[],
    /** Snapshot-wide metadata (flagd flag-set metadata). */
    readonly metadata: FlagMetadata,
    /** Problems that did not stop compilation; such flags evaluate to `PARSE_ERROR`. */
    readonly warnings: readonly CompileIssue[],
    /** The environment this snapshot serves (native configurations). */
    readonly environment: string | undefined,
    /** @internal Attribute slots and the per-evaluation cache. */
    readonly attributes: AttributeTable = new AttributeTable(),
  ) {
    this.flagList = Object.freeze(flags.slice());
    this.keys = Object.freeze(flags.map((f) => f.key));
    this.flagMap = new Map(flags.map((f) => [f.key, f]));
    Object.freeze(this);
  }

  /**
   * Whether a flag exists.
   * @param flagKey - the flag key
   * @returns true when the snapshot has the flag
   */
  has(flagKey: string): boolean {
    return this.flagMap.has(flagKey);
  }

  /**
   * The value type of a flag (`json` for flagd flags whose variants mix types).
   * @param flagKey - the flag key
   * @returns the type, or undefined for an unknown flag
   */
  typeOf(flagKey: string): FlagType | undefined {
    return this.flagMap.get(flagKey)?.type;
  }
}
