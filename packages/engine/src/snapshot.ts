/**
 * The compiled, immutable form a configuration turns into. Build one with `compile` or
 * `compileFlagd`; evaluate it with `evaluate`/`evaluateAll`.
 */
import type { CompileIssue, EvaluationContext, EvaluationResult, FlagMetadata, FlagType } from './types.js';

/**
 * One compiled flag (internal). `evaluate` assumes a context object whose `targetingKey` is a
 * string or absent; the public `evaluate` checks that first.
 */
export interface CompiledFlag {
  /** The flag key. */
  readonly key: string;
  /** Declared (native) or inferred (flagd) value type. */
  readonly type: FlagType;
  /** Whether the flag is on in this snapshot's environment. */
  readonly enabled: boolean;
  /** Flag metadata. */
  readonly metadata: FlagMetadata;
  /** Evaluates the flag. */
  readonly evaluate: (context: EvaluationContext) => EvaluationResult;
  /** Shared `INVALID_CONTEXT` result. */
  readonly invalidContext: EvaluationResult;
  /** Shared `GENERAL` result for an unexpected exception (e.g. a throwing getter in the context). */
  readonly generalError: EvaluationResult;
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
   */
  constructor(
    flags: readonly CompiledFlag[],
    /** Snapshot-wide metadata (flagd flag-set metadata). */
    readonly metadata: FlagMetadata,
    /** Problems that did not stop compilation; such flags evaluate to `PARSE_ERROR`. */
    readonly warnings: readonly CompileIssue[],
    /** The environment this snapshot serves (native configurations). */
    readonly environment: string | undefined,
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
