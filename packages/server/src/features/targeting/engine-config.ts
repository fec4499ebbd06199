import { validate } from '@switchyard/engine';
import type {
  CompileIssue,
  FlagConfig,
  FlagEnvironmentConfig,
  RolloutConfig,
  RuleConfig,
  SegmentConfig,
  ServeConfig,
  SnapshotConfig,
} from '@switchyard/engine';
import { ValidationError } from '../../domain/errors.js';
import type { Segment } from './segment-store.js';
import type { FlagEnvironmentSnapshot, FlagEnvironmentState, Rule, TargetingFlag } from './targeting-store.js';

/**
 * The engine's rule id for a stored rule (reported as `ruleId` when it serves). The snapshot
 * builder must use the same, so evaluation results name the rule the API shows (`rule_…`).
 */
export function engineRuleId(ruleId: number): string {
  return `rule_${ruleId}`;
}

/** A stored rule as the engine's `RuleConfig`. */
export function toEngineRule(rule: Rule): RuleConfig {
  const out: RuleConfig = { id: engineRuleId(rule.id), serve: rule.serve };
  if (rule.description !== null) out.description = rule.description;
  if (rule.conditions.length > 0) out.conditions = rule.conditions;
  if (rule.segments.length > 0) out.segments = rule.segments;
  return out;
}

/** A flag's stored configuration in one environment (row and rules) as the engine's `FlagEnvironmentConfig`. */
export function toEngineEnvironment(state: Omit<FlagEnvironmentState, 'id' | 'version' | 'updatedAt'>, rules: readonly Rule[]): FlagEnvironmentConfig {
  const out: FlagEnvironmentConfig = { enabled: state.enabled };
  if (state.offVariation !== null) out.offVariation = state.offVariation;
  if (state.targets.length > 0) out.targets = state.targets;
  if (state.prerequisites.length > 0) out.prerequisites = state.prerequisites;
  // flagd targeting replaces rules and default serve, as the snapshot builder does.
  if (state.targeting !== null) {
    out.targeting = state.targeting;
    return out;
  }
  if (rules.length > 0) out.rules = [...rules].sort((a, b) => a.priority - b.priority).map(toEngineRule);
  if (state.defaultServe !== null) out.defaultServe = state.defaultServe;
  return out;
}

/** A stored segment as the engine's `SegmentConfig`. */
export function toEngineSegment(segment: Pick<Segment, 'included' | 'excluded' | 'conditions'>): SegmentConfig {
  return { included: segment.included, excluded: segment.excluded, conditions: segment.conditions };
}

/** A flag as the engine's `FlagConfig`, configured in at most the one environment given. */
export function toEngineFlag(flag: TargetingFlag, environment?: { key: string; config: FlagEnvironmentConfig }): FlagConfig {
  return {
    type: flag.type,
    variations: flag.variations,
    defaultVariation: flag.defaultVariation,
    environments: environment ? { [environment.key]: environment.config } : {},
  };
}

/** A serve as callers may give it: a variation key, a `ServeConfig`, or a bare rollout. */
export type ServeInput = string | ServeConfig | RolloutConfig;

/** One translation from an engine issue path prefix to the request field it came from. */
export interface PathMapping {
  /** e.g. `flags.f.environments.production.rules[2]`. */
  engine: string;
  /** e.g. `` (the rule body itself) or `rules[2]`. */
  request: string;
}

/**
 * Normalises a serve to the engine's form and says how the engine's paths within it map back to
 * what the caller wrote (`serve: "on"` → errors on `serve`, not `serve.variation`).
 */
export function normalizeServe(input: ServeInput, enginePath: string, requestPath: string): { serve: ServeConfig; mappings: PathMapping[] } {
  if (typeof input === 'string') {
    return { serve: { variation: input }, mappings: [{ engine: `${enginePath}.variation`, request: requestPath }, { engine: enginePath, request: requestPath }] };
  }
  if (input !== null && typeof input === 'object' && 'variations' in input && !('rollout' in input) && !('variation' in input)) {
    return { serve: { rollout: input }, mappings: [{ engine: `${enginePath}.rollout`, request: requestPath }, { engine: enginePath, request: requestPath }] };
  }
  return { serve: input as ServeConfig, mappings: [{ engine: enginePath, request: requestPath }] };
}

function under(path: string, prefix: string): string | null {
  if (path === prefix) return '';
  if (path.startsWith(prefix) && (path[prefix.length] === '.' || path[prefix.length] === '[')) return path.slice(prefix.length);
  return null;
}

function join(request: string, rest: string): string {
  if (request === '') return rest.startsWith('.') ? rest.slice(1) : rest;
  return `${request}${rest}`;
}

/** Maps one engine issue path to a request field, or null when no mapping covers it. */
export function mapIssuePath(path: string, mappings: readonly PathMapping[]): string | null {
  // Longest engine prefix first, so `…serve.variation` wins over `…rules[0]`.
  const sorted = [...mappings].sort((a, b) => b.engine.length - a.engine.length);
  for (const m of sorted) {
    const rest = under(path, m.engine);
    if (rest !== null) return join(m.request, rest) || 'body';
  }
  return null;
}

function key(i: CompileIssue): string {
  return `${i.path}\u0000${i.message}`;
}

/**
 * Runs the engine's validation of `after` (the configuration with the change applied) and, when it
 * finds problems, refuses the change with a 422 whose `errors` name the request's fields. Problems
 * that `before` (the stored configuration) already had are not the change's fault and are ignored.
 * A prerequisite cycle found on another flag's path is named on `cycleField`.
 */
export function checkConfig(
  after: SnapshotConfig,
  before: SnapshotConfig | null,
  mappings: readonly PathMapping[],
  cycleField = 'prerequisites',
): void {
  let issues = validate(after);
  if (issues.length === 0) return;
  if (before !== null) {
    const known = new Set(validate(before).map(key));
    issues = issues.filter((i) => !known.has(key(i)));
    if (issues.length === 0) return;
  }
  const fields: Record<string, string> = {};
  for (const issue of issues) {
    const field = mapIssuePath(issue.path, mappings) ?? (issue.message.includes('prerequisite cycle') ? cycleField : issue.path);
    fields[field] = fields[field] ? `${fields[field]}; ${issue.message}` : issue.message;
  }
  const summary = Object.entries(fields)
    .slice(0, 5)
    .map(([f, m]) => `${f}: ${m}`)
    .join('; ');
  throw new ValidationError(`Invalid targeting configuration: ${summary}`, fields);
}

/**
 * The part of a project's configuration in one environment that a change to `flagKey` can affect:
 * that flag (with `override` in place of its stored configuration when given) and every flag it
 * reaches through prerequisites, plus all the project's segments. `override === undefined` keeps
 * the stored configuration; `null` means the flag has no configuration in the environment.
 */
export function configFor(
  flagKey: string,
  environmentKey: string,
  stored: ReadonlyMap<string, FlagEnvironmentSnapshot>,
  segments: readonly Segment[],
  override?: { flag: TargetingFlag; config: FlagEnvironmentConfig | null },
): SnapshotConfig {
  const flags: Record<string, FlagConfig> = {};
  const queue = [flagKey];
  while (queue.length > 0) {
    const k = queue.shift()!;
    if (k in flags) continue;
    let flag: TargetingFlag;
    let config: FlagEnvironmentConfig | null;
    if (k === flagKey && override) {
      flag = override.flag;
      config = override.config;
    } else {
      const s = stored.get(k);
      if (!s) continue;
      flag = s.flag;
      config = s.state ? toEngineEnvironment(s.state, s.rules) : null;
    }
    flags[k] = toEngineFlag(flag, config ? { key: environmentKey, config } : undefined);
    for (const p of config?.prerequisites ?? []) if (typeof p?.flag === 'string') queue.push(p.flag);
  }
  return { flags, segments: Object.fromEntries(segments.map((s) => [s.key, toEngineSegment(s)])) };
}
