/**
 * Public types of the evaluation engine: the plain-JSON configuration a server builds from its
 * database rows (or an SDK receives over the wire), and the result every evaluation returns.
 *
 * Everything under "Configuration" is JSON-serialisable on purpose: `JSON.parse(JSON.stringify(c))`
 * compiles to the same snapshot as `c`.
 */

/** Any JSON value. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** A JSON object. */
export type JsonObject = { [key: string]: JsonValue };

/** The value type a flag declares for all of its variations. `json` allows any JSON value. */
export type FlagType = 'boolean' | 'string' | 'number' | 'json';

/** Flag metadata as OpenFeature defines it: flat, scalar values only. */
export type FlagMetadata = Readonly<Record<string, string | number | boolean>>;

/**
 * The attributes a flag is evaluated for. `targetingKey` (a string) identifies the subject; every
 * other property is an attribute addressable by dotted path (`user.address.country`).
 */
export type EvaluationContext = Readonly<Record<string, unknown>>;

// ---------------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------------

/**
 * Everything one snapshot is compiled from: the flags of a project with their per-environment
 * configuration, and the project's segments. `compile(config, { environment })` selects one
 * environment; validation covers all of them.
 */
export interface SnapshotConfig {
  /** Flags by flag key. */
  flags: Record<string, FlagConfig>;
  /** Reusable audiences by segment key, referenced from rules and `IN_SEGMENT` conditions. */
  segments?: Record<string, SegmentConfig>;
  /** Snapshot-wide metadata; each flag's own metadata overrides it key by key. */
  metadata?: Record<string, string | number | boolean>;
}

/** One flag: its variations and how each environment serves them. */
export interface FlagConfig {
  /** Value type every variation must have. */
  type: FlagType;
  /** Variation values by variation key (e.g. `{ "on": true, "off": false }`). */
  variations: Record<string, JsonValue>;
  /** The flag's default value: served when no rule matches and, unless overridden, when off. */
  defaultVariation: string;
  /** Metadata returned with every evaluation of this flag. */
  metadata?: Record<string, string | number | boolean>;
  /** Per-environment configuration by environment key. A missing environment means "off". */
  environments: Record<string, FlagEnvironmentConfig>;
}

/** How one environment serves a flag. Evaluation order: off → prerequisites → targets → rules. */
export interface FlagEnvironmentConfig {
  /** When false, the off variation is served with reason `DISABLED`. */
  enabled: boolean;
  /**
   * Served when disabled or when a prerequisite fails. Default: the environment's (or flag's)
   * default variation. `null`: nothing is served — a disabled flag resolves with no value and
   * reason `DISABLED` (flagd's `state: DISABLED`), a failed prerequisite with no value and reason
   * `DEFAULT`; the caller's default applies.
   */
  offVariation?: string | null;
  /**
   * This environment's default variation, overriding the flag's `defaultVariation` (flagd's
   * per-document `defaultVariant`). `null`: none — where the default would be served (no rule
   * matched, targeting returned null, no targeting at all), the flag resolves with no value and
   * reason `DEFAULT`; the caller's default applies.
   */
  defaultVariation?: string | null;
  /** Individual targets: targeting keys pinned to a variation. A key may appear only once. */
  targets?: TargetConfig[];
  /** Flags that must resolve to a given variation first; any failure serves the off variation. */
  prerequisites?: PrerequisiteConfig[];
  /** Ordered rules; the first whose conditions and segments all match serves. */
  rules?: RuleConfig[];
  /** Served when no rule matches. Default: `{ variation: defaultVariation }`. */
  defaultServe?: ServeConfig;
  /**
   * A flagd JSONLogic targeting expression used instead of `rules`/`defaultServe` (it may not be
   * combined with them). Its result names the variation; `null` serves `defaultVariation`.
   */
  targeting?: JsonValue;
}

/** Targeting keys pinned to one variation. */
export interface TargetConfig {
  /** Variation served to these keys. */
  variation: string;
  /** Targeting keys. */
  values: string[];
}

/** A flag that must first resolve to `variation` (and be enabled) for this flag to be evaluated. */
export interface PrerequisiteConfig {
  /** Key of the prerequisite flag. */
  flag: string;
  /** Variation the prerequisite flag must resolve to. */
  variation: string;
}

/** A targeting rule: all conditions AND all referenced segments must match. */
export interface RuleConfig {
  /** Stable identifier reported as `ruleId` when this rule serves. Unique within the flag. */
  id: string;
  /** Free text for humans; ignored by evaluation. */
  description?: string;
  /** Conditions, all of which must hold. An empty or absent list always holds. */
  conditions?: ConditionConfig[];
  /** Segment keys the subject must belong to (all of them). */
  segments?: string[];
  /** What the rule serves when it matches. */
  serve: ServeConfig;
}

/** Serve one variation, or split subjects between variations. */
export type ServeConfig = { variation: string } | { rollout: RolloutConfig };

/**
 * A weighted rollout using flagd's `fractional` bucketing: MurmurHash3 (x86, 32-bit, seed 0) of
 * the UTF-8 bytes of `salt + value-of(bucketBy)`; `bucket = hash × totalWeight >> 32`; the first
 * variation whose cumulative weight exceeds the bucket is served. With the defaults this is
 * exactly flagd's `{"fractional": [[variation, weight], ...]}`.
 */
export interface RolloutConfig {
  /** Variations and their non-negative integer weights (total between 1 and 2^31 - 1). */
  variations: Array<{ variation: string; weight: number }>;
  /** Attribute path whose value is hashed. Default `targetingKey`. Strings and finite numbers. */
  bucketBy?: string;
  /** Prefix of the hashed value. Default: the flag key (as flagd does). */
  salt?: string;
}

/** A condition on one attribute of the context. See `operators.ts` for each operator's meaning. */
export interface ConditionConfig {
  /** Dotted attribute path (`targetingKey`, `email`, `user.plan`). Not used by segment operators. */
  attribute?: string;
  /** The comparison. */
  operator: Operator;
  /** The operand: a scalar, a list, a pattern, a version, a date or segment key(s). */
  value?: JsonValue;
  /** Compare strings case-insensitively (string operators only). Default false. */
  ignoreCase?: boolean;
}

/** Every condition operator the engine understands. */
export type Operator =
  | 'EQUALS'
  | 'NOT_EQUALS'
  | 'IN'
  | 'NOT_IN'
  | 'CONTAINS'
  | 'NOT_CONTAINS'
  | 'STARTS_WITH'
  | 'ENDS_WITH'
  | 'MATCHES'
  | 'GREATER_THAN'
  | 'GREATER_THAN_OR_EQUAL'
  | 'LESS_THAN'
  | 'LESS_THAN_OR_EQUAL'
  | 'SEMVER_EQUAL'
  | 'SEMVER_GREATER_THAN'
  | 'SEMVER_GREATER_THAN_OR_EQUAL'
  | 'SEMVER_LESS_THAN'
  | 'SEMVER_LESS_THAN_OR_EQUAL'
  | 'BEFORE'
  | 'AFTER'
  | 'EXISTS'
  | 'NOT_EXISTS'
  | 'IN_SEGMENT'
  | 'NOT_IN_SEGMENT';

/** A reusable audience: explicit include/exclude lists of targeting keys, then conditions. */
export interface SegmentConfig {
  /** Targeting keys always in the segment (checked first). */
  included?: string[];
  /** Targeting keys never in the segment (checked second). */
  excluded?: string[];
  /** Conditions (AND) for everyone else. Absent or empty: nobody else is in the segment. */
  conditions?: ConditionConfig[];
}

/** Options of `compile`. */
export interface CompileOptions {
  /** The environment this snapshot serves. */
  environment: string;
}

// ---------------------------------------------------------------------------------------------
// Results
// ---------------------------------------------------------------------------------------------

/** OpenFeature resolution reason. */
export type Reason = 'STATIC' | 'DEFAULT' | 'TARGETING_MATCH' | 'SPLIT' | 'DISABLED' | 'ERROR';

/** OpenFeature error code. */
export type ErrorCode =
  | 'FLAG_NOT_FOUND'
  | 'TYPE_MISMATCH'
  | 'PARSE_ERROR'
  | 'TARGETING_KEY_MISSING'
  | 'INVALID_CONTEXT'
  | 'GENERAL';

/**
 * Which step of evaluation decided, finer than `reason`, so other dialects can be rendered
 * without a second evaluator (IntelliToggle: `OFF`, `TARGET_MATCH`, `RULE_MATCH`,
 * `PREREQUISITE_FAILED`, `FALLTHROUGH`).
 *
 * - `OFF`: the flag is disabled (or absent from the environment).
 * - `PREREQUISITE_FAILED`: a prerequisite did not resolve as required; the off variation is served.
 * - `TARGET_MATCH`: the targeting key is an individual target.
 * - `RULE_MATCH`: a rule (`ruleId`) or the JSONLogic targeting selected the variation.
 * - `FALLTHROUGH`: nothing matched; the default serve (or default variation) was served.
 * - `ERROR`: evaluation failed; see `errorCode`.
 */
export type ResolutionKind = 'OFF' | 'PREREQUISITE_FAILED' | 'TARGET_MATCH' | 'RULE_MATCH' | 'FALLTHROUGH' | 'ERROR';

interface ResultBase {
  /** The evaluated flag's key. */
  readonly flagKey: string;
  /** Which evaluation step decided. */
  readonly kind: ResolutionKind;
  /** Id of the rule that served, when a rule served. */
  readonly ruleId: string | undefined;
  /** The flag's metadata (snapshot metadata for `FLAG_NOT_FOUND`). */
  readonly metadata: FlagMetadata;
}

/** A resolved value. Results are shared and frozen: do not mutate them. */
export interface ValueResult extends ResultBase {
  /** The served variation's value. */
  readonly value: JsonValue;
  /** The served variation's key. */
  readonly variant: string;
  /** Why this value. */
  readonly reason: Exclude<Reason, 'ERROR'>;
  /** Never set on a value. */
  readonly errorCode: undefined;
  /** Never set on a value. */
  readonly errorMessage: undefined;
}

/**
 * No value and no variant: a flagd flag without `defaultVariant` whose targeting returned null
 * (reason `DEFAULT`), or a disabled flagd flag (reason `DISABLED`). The caller's default applies;
 * OFREP answers such a result with a value-less 200.
 */
export interface NoValueResult extends ResultBase {
  /** Absent. */
  readonly value: undefined;
  /** Absent. */
  readonly variant: undefined;
  /** `DEFAULT` or `DISABLED`. */
  readonly reason: 'DEFAULT' | 'DISABLED';
  /** Never set. */
  readonly errorCode: undefined;
  /** Never set. */
  readonly errorMessage: undefined;
}

/** Evaluation failed; the caller's default applies. */
export interface ErrorResult extends ResultBase {
  /** Absent. */
  readonly value: undefined;
  /** Absent. */
  readonly variant: undefined;
  /** Always `ERROR`. */
  readonly reason: 'ERROR';
  /** What failed. */
  readonly errorCode: ErrorCode;
  /** Human-readable detail. */
  readonly errorMessage: string;
}

/** What one evaluation returns. Check `variant !== undefined` (or `reason`) before using `value`. */
export type EvaluationResult = ValueResult | NoValueResult | ErrorResult;

/** The value type `evaluateTyped` expects, as OpenFeature names it (`object` = JSON structure). */
export type ExpectedType = 'boolean' | 'string' | 'number' | 'object';

/** One problem found while validating a configuration. */
export interface CompileIssue {
  /** Where: `flags.my-flag.environments.production.rules[2].conditions[0].operator`. */
  readonly path: string;
  /** What is wrong. */
  readonly message: string;
}
