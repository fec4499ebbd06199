/**
 * Validation and compilation of native Switchyard configurations (`SnapshotConfig`) into a
 * `Snapshot`. Validation reports every problem with the path of the offending field, e.g.
 * `flags.my-flag.environments.production.rules[2].conditions[0].operator`.
 */
import { AttributeTable, checkPath } from './attributes.js';
import { MAX_TOTAL_WEIGHT } from './bucketing.js';
import { compileLogic, LogicError } from './jsonlogic.js';
import { murmur3Prefix } from './murmur3.js';
import { ruleOutlines, segmentKeys } from './explain.js';
import type { RuleOutline } from './explain.js';
import { evaluateNative, NativeFlag, Serve } from './native.js';
import { compileCondition, Segment, segmentCondition } from './operators.js';
import type { Condition, ConditionScope } from './operators.js';
import { deepFreeze, errorResult, noValueResult, valueResult } from './results.js';
import { CompiledFlag, Snapshot } from './snapshot.js';
import { isEmptyTargeting, targetingEvaluator } from './targeting.js';
import type {
  CompileIssue,
  CompileOptions,
  EvaluationContext,
  EvaluationResult,
  FlagMetadata,
  FlagType,
  JsonValue,
  SnapshotConfig,
  ValueResult,
} from './types.js';

/** A configuration that cannot be compiled; `issues` lists every problem found. */
export class CompileError extends Error {
  /**
   * @param issues - the problems, each with the path of the offending field
   */
  constructor(
    /** Every problem found. */
    readonly issues: readonly CompileIssue[],
  ) {
    super(
      `invalid configuration: ${issues
        .slice(0, 20)
        .map((i) => `${i.path}: ${i.message}`)
        .join('; ')}${issues.length > 20 ? `; and ${issues.length - 20} more` : ''}`,
    );
    this.name = 'CompileError';
  }
}

type Obj = Record<string, unknown>;
const FLAG_TYPES: ReadonlySet<string> = new Set(['boolean', 'string', 'number', 'json']);

function isObject(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function unknownKeys(o: Obj, allowed: readonly string[], path: string, issues: CompileIssue[]): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) issues.push({ path: `${path}.${k}`, message: `unknown property "${k}"` });
  }
}

function isJson(v: unknown, depth = 0): v is JsonValue {
  if (depth > 64) return false;
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return true;
  if (typeof v === 'number') return Number.isFinite(v);
  if (Array.isArray(v)) return v.every((x) => isJson(x, depth + 1));
  if (isObject(v)) return Object.values(v).every((x) => isJson(x, depth + 1));
  return false;
}

function valueMatchesType(v: unknown, type: FlagType): boolean {
  switch (type) {
    case 'boolean':
      return typeof v === 'boolean';
    case 'string':
      return typeof v === 'string';
    case 'number':
      return typeof v === 'number' && Number.isFinite(v);
    default:
      return isJson(v);
  }
}

/**
 * Checks flat scalar metadata.
 * @param raw - the candidate metadata
 * @param path - its path
 * @param issues - where problems are appended
 * @returns the metadata (empty when absent or invalid)
 */
export function readMetadata(raw: unknown, path: string, issues: CompileIssue[]): Record<string, string | number | boolean> {
  if (raw === undefined) return {};
  if (!isObject(raw)) {
    issues.push({ path, message: 'must be an object' });
    return {};
  }
  const out: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))) out[k] = v;
    else issues.push({ path: `${path}.${k}`, message: 'metadata values must be strings, numbers or booleans' });
  }
  return out;
}

/** What the compiler knows about a flag across environments. */
interface FlagInfo {
  readonly key: string;
  readonly path: string;
  readonly raw: Obj;
  readonly type: FlagType;
  readonly variations: ReadonlyMap<string, JsonValue>;
  readonly defaultVariation: string;
  readonly metadata: FlagMetadata;
  readonly environments: Obj;
  readonly ok: boolean;
}

interface Plan {
  readonly prerequisites: Array<{ flag: string; variation: string; path: string }>;
  readonly build: (resolve: (key: string) => CompiledFlag) => CompiledFlag;
}

/**
 * Validates a configuration in every environment it mentions, without building a snapshot.
 * @param config - the candidate configuration (any JSON)
 * @returns every problem found; empty when valid
 */
export function validate(config: unknown): CompileIssue[] {
  const issues: CompileIssue[] = [];
  const environments = new Set<string>();
  if (isObject(config) && isObject(config['flags'])) {
    for (const flag of Object.values(config['flags'])) {
      if (isObject(flag) && isObject(flag['environments'])) for (const e of Object.keys(flag['environments'])) environments.add(e);
    }
  }
  if (environments.size === 0) {
    analyse(config, undefined, issues);
    return issues;
  }
  const seen = new Set<string>();
  for (const environment of environments) {
    const local: CompileIssue[] = [];
    analyse(config, environment, local);
    for (const i of local) {
      const id = `${i.path}\u0000${i.message}`;
      if (!seen.has(id)) {
        seen.add(id);
        issues.push(i);
      }
    }
  }
  return issues;
}

/**
 * Compiles one environment of a configuration into a snapshot. The configuration is validated in
 * all its environments first; any problem throws.
 * @param config - the configuration (plain JSON; see `SnapshotConfig`)
 * @param options - which environment to compile
 * @returns the snapshot
 * @throws CompileError naming every offending path
 */
export function compile(config: SnapshotConfig, options: CompileOptions): Snapshot {
  const issues = validate(config);
  if (typeof options?.environment !== 'string' || options.environment.length === 0) {
    issues.push({ path: 'options.environment', message: 'must be a non-empty string' });
  }
  if (issues.length > 0) throw new CompileError(issues);
  const local: CompileIssue[] = [];
  const snapshot = analyse(config, options.environment, local);
  if (local.length > 0 || snapshot === undefined) throw new CompileError(local);
  return snapshot;
}

/** Validates `config` for one environment (or none) and builds its snapshot when valid. */
function analyse(config: unknown, environment: string | undefined, issues: CompileIssue[]): Snapshot | undefined {
  if (!isObject(config)) {
    issues.push({ path: '$', message: 'configuration must be an object' });
    return undefined;
  }
  unknownKeys(config, ['flags', 'segments', 'metadata'], '$', issues);
  const snapshotMetadata = Object.freeze(readMetadata(config['metadata'], 'metadata', issues));
  const table = new AttributeTable();
  const segments = compileSegments(config['segments'], table, issues);
  const flagsRaw = config['flags'];
  if (!isObject(flagsRaw)) {
    issues.push({ path: 'flags', message: 'must be an object of flags by key' });
    return undefined;
  }
  const infos = new Map<string, FlagInfo>();
  for (const [key, raw] of Object.entries(flagsRaw)) {
    infos.set(key, readFlag(key, raw, snapshotMetadata, issues));
  }
  const scope: ConditionScope = { attributes: table, segment: (k) => segments.get(k), allowSegments: true };
  const plans = new Map<string, Plan>();
  for (const info of infos.values()) {
    if (!info.ok) continue;
    if (environment === undefined) {
      for (const [env, raw] of Object.entries(info.environments)) planEnvironment(info, env, raw, infos, scope, issues);
      continue;
    }
    const plan = planEnvironment(info, environment, info.environments[environment], infos, scope, issues);
    if (plan !== undefined) plans.set(info.key, plan);
  }
  if (environment !== undefined) checkCycles(plans, environment, issues);
  if (issues.length > 0 || environment === undefined) return undefined;

  const built = new Map<string, CompiledFlag>();
  const resolve = (key: string): CompiledFlag => {
    let f = built.get(key);
    if (f === undefined) {
      f = plans.get(key)!.build(resolve);
      built.set(key, f);
    }
    return f;
  };
  const list = [...plans.keys()].map(resolve);
  return new Snapshot(list, snapshotMetadata, [], environment, table);
}

function readFlag(key: string, raw: unknown, snapshotMetadata: FlagMetadata, issues: CompileIssue[]): FlagInfo {
  const path = `flags.${key}`;
  const bad = (message: string, at = path): FlagInfo => {
    issues.push({ path: at, message });
    return { key, path, raw: {}, type: 'json', variations: new Map(), defaultVariation: '', metadata: {}, environments: {}, ok: false };
  };
  if (key.length === 0) return bad('flag keys must be non-empty');
  if (!isObject(raw)) return bad('must be an object');
  const before = issues.length;
  unknownKeys(raw, ['type', 'variations', 'defaultVariation', 'metadata', 'environments', 'name', 'description', 'tags'], path, issues);
  const type = raw['type'];
  if (typeof type !== 'string' || !FLAG_TYPES.has(type)) return bad('must be one of boolean, string, number, json', `${path}.type`);
  const variationsRaw = raw['variations'];
  if (!isObject(variationsRaw) || Object.keys(variationsRaw).length === 0) {
    return bad('must be a non-empty object of values by variation key', `${path}.variations`);
  }
  const variations = new Map<string, JsonValue>();
  for (const [v, value] of Object.entries(variationsRaw)) {
    if (!valueMatchesType(value, type as FlagType)) {
      issues.push({ path: `${path}.variations.${v}`, message: `must be a ${type === 'json' ? 'JSON value' : type}` });
    } else variations.set(v, deepFreeze(structuredClone(value as JsonValue)));
  }
  const defaultVariation = raw['defaultVariation'];
  if (typeof defaultVariation !== 'string' || !variations.has(defaultVariation)) {
    issues.push({ path: `${path}.defaultVariation`, message: 'must name one of the variations' });
  }
  const own = readMetadata(raw['metadata'], `${path}.metadata`, issues);
  const environments = raw['environments'];
  if (!isObject(environments)) issues.push({ path: `${path}.environments`, message: 'must be an object by environment key' });
  return {
    key,
    path,
    raw,
    type: type as FlagType,
    variations,
    defaultVariation: defaultVariation as string,
    metadata: Object.freeze({ ...snapshotMetadata, ...own }),
    environments: isObject(environments) ? environments : {},
    ok: issues.length === before,
  };
}

function compileSegments(raw: unknown, table: AttributeTable, issues: CompileIssue[]): Map<string, Segment> {
  const out = new Map<string, Segment>();
  if (raw === undefined) return out;
  if (!isObject(raw)) {
    issues.push({ path: 'segments', message: 'must be an object of segments by key' });
    return out;
  }
  const scope: ConditionScope = { attributes: table, segment: () => undefined, allowSegments: false };
  for (const [key, seg] of Object.entries(raw)) {
    const path = `segments.${key}`;
    if (!isObject(seg)) {
      issues.push({ path, message: 'must be an object' });
      continue;
    }
    unknownKeys(seg, ['included', 'excluded', 'conditions', 'name', 'description'], path, issues);
    const included = readKeyList(seg['included'], `${path}.included`, issues);
    const excluded = readKeyList(seg['excluded'], `${path}.excluded`, issues);
    const conds = readConditions(seg['conditions'], `${path}.conditions`, issues, scope);
    const segment = new Segment(new Set(included), new Set(excluded), conds);
    segmentKeys.set(segment, key);
    out.set(key, segment);
  }
  return out;
}

function readKeyList(raw: unknown, path: string, issues: CompileIssue[]): string[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw) || !raw.every((k) => typeof k === 'string')) {
    issues.push({ path, message: 'must be an array of targeting keys (strings)' });
    return [];
  }
  return raw as string[];
}

function readConditions(raw: unknown, path: string, issues: CompileIssue[], scope: ConditionScope): Condition[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) {
    issues.push({ path, message: 'must be an array of conditions' });
    return [];
  }
  const out: Condition[] = [];
  raw.forEach((c, i) => {
    const at = `${path}[${i}]`;
    if (isObject(c)) unknownKeys(c, ['attribute', 'operator', 'value', 'ignoreCase'], at, issues);
    const p = compileCondition(c, at, issues, scope);
    if (p !== undefined) out.push(p);
  });
  return out;
}

function planEnvironment(
  info: FlagInfo,
  environment: string,
  raw: unknown,
  infos: ReadonlyMap<string, FlagInfo>,
  scope: ConditionScope,
  issues: CompileIssue[],
): Plan | undefined {
  const { key, variations, metadata } = info;
  const path = `${info.path}.environments.${environment}`;
  const before = issues.length;
  const result = (variant: string, reason: ValueResult['reason'], kind: ValueResult['kind'], ruleId?: string): ValueResult =>
    valueResult(key, variant, variations.get(variant)!, reason, kind, ruleId, metadata);
  const variationAt = (v: unknown, at: string): v is string => {
    if (typeof v === 'string' && variations.has(v)) return true;
    issues.push({ path: at, message: `must name one of the variations (${[...variations.keys()].join(', ')})` });
    return false;
  };
  const invalidContext = errorResult(key, 'INVALID_CONTEXT', 'the evaluation context must be an object whose targetingKey, if present, is a string', metadata);
  const generalError = errorResult(key, 'GENERAL', `evaluation of flag "${key}" failed`, metadata);
  const fixedFlag = (enabledNow: boolean, r: EvaluationResult): CompiledFlag =>
    new CompiledFlag(key, info.type, enabledNow, metadata, () => r, r, null, invalidContext, generalError);

  if (raw === undefined) {
    // Absent from this environment: off, serving the default variation.
    const off = result(info.defaultVariation, 'DISABLED', 'OFF');
    return { prerequisites: [], build: () => fixedFlag(false, off) };
  }
  if (!isObject(raw)) {
    issues.push({ path, message: 'must be an object' });
    return undefined;
  }
  unknownKeys(raw, ['enabled', 'offVariation', 'defaultVariation', 'targets', 'prerequisites', 'rules', 'defaultServe', 'targeting'], path, issues);
  const enabled = raw['enabled'];
  if (typeof enabled !== 'boolean') issues.push({ path: `${path}.enabled`, message: 'must be a boolean' });
  // null: no default (flagd without `defaultVariant`) — the fallthrough serves nothing.
  let defaultVariation: string | null = info.defaultVariation;
  if (raw['defaultVariation'] === null) defaultVariation = null;
  else if (raw['defaultVariation'] !== undefined && variationAt(raw['defaultVariation'], `${path}.defaultVariation`)) defaultVariation = raw['defaultVariation'];
  let offVariation: string | null = defaultVariation;
  if (raw['offVariation'] === null) offVariation = null;
  else if (raw['offVariation'] !== undefined && variationAt(raw['offVariation'], `${path}.offVariation`)) offVariation = raw['offVariation'];
  const orNothing = (variant: string | null, reason: 'DEFAULT' | 'DISABLED', kind: ValueResult['kind']): EvaluationResult =>
    variant === null ? noValueResult(key, reason, kind, metadata) : result(variant, reason, kind);

  // Individual targets.
  const targets = new Map<string, ValueResult>();
  const targetedAt = new Map<string, string>();
  const targetsRaw = raw['targets'];
  if (targetsRaw !== undefined) {
    if (!Array.isArray(targetsRaw)) issues.push({ path: `${path}.targets`, message: 'must be an array' });
    else
      targetsRaw.forEach((t, i) => {
        const at = `${path}.targets[${i}]`;
        if (!isObject(t)) return void issues.push({ path: at, message: 'must be an object' });
        unknownKeys(t, ['variation', 'values'], at, issues);
        if (!variationAt(t['variation'], `${at}.variation`)) return;
        const r = result(t['variation'], 'TARGETING_MATCH', 'TARGET_MATCH');
        readKeyList(t['values'] ?? null, `${at}.values`, issues).forEach((tk, j) => {
          const prior = targetedAt.get(tk);
          if (prior !== undefined) issues.push({ path: `${at}.values[${j}]`, message: `targeting key "${tk}" is already targeted by ${prior}` });
          targetedAt.set(tk, `targets[${i}]`);
          targets.set(tk, r);
        });
      });
  }

  // Prerequisites (resolved after all flags are planned).
  const prerequisites: Plan['prerequisites'] = [];
  const prereqRaw = raw['prerequisites'];
  if (prereqRaw !== undefined) {
    if (!Array.isArray(prereqRaw)) issues.push({ path: `${path}.prerequisites`, message: 'must be an array' });
    else
      prereqRaw.forEach((p, i) => {
        const at = `${path}.prerequisites[${i}]`;
        if (!isObject(p)) return void issues.push({ path: at, message: 'must be an object' });
        unknownKeys(p, ['flag', 'variation'], at, issues);
        const other = typeof p['flag'] === 'string' ? infos.get(p['flag']) : undefined;
        if (other === undefined) return void issues.push({ path: `${at}.flag`, message: `unknown flag ${JSON.stringify(p['flag'])}` });
        if (typeof p['variation'] !== 'string' || !other.variations.has(p['variation'])) {
          return void issues.push({ path: `${at}.variation`, message: `must name one of the variations of flag "${other.key}"` });
        }
        prerequisites.push({ flag: other.key, variation: p['variation'], path: `${at}.flag` });
      });
  }

  // Rules or JSONLogic targeting.
  const conditions: Condition[] = [];
  const ruleEnds: number[] = [];
  const ruleServes: Serve[] = [];
  const outlines: RuleOutline[] = [];
  let defaultServe: Serve | undefined;
  let inner: ((ctx: EvaluationContext) => EvaluationResult) | undefined;
  const fallthrough = orNothing(defaultVariation, 'DEFAULT', 'FALLTHROUGH');
  const hasTargeting = raw['targeting'] !== undefined;
  if (hasTargeting) {
    if (raw['rules'] !== undefined || raw['defaultServe'] !== undefined) {
      issues.push({ path: `${path}.targeting`, message: 'may not be combined with rules or defaultServe' });
    }
    try {
      const logic = isEmptyTargeting(raw['targeting']) ? undefined : compileLogic(raw['targeting'], key, `${path}.targeting`, scope.attributes);
      inner = targetingEvaluator({ key, variants: variations, defaultVariant: defaultVariation ?? undefined, logic, metadata, staticReason: 'STATIC' });
    } catch (e) {
      issues.push(e instanceof LogicError ? { path: e.path, message: e.message } : { path: `${path}.targeting`, message: String(e) });
    }
  } else {
    const rulesRaw = raw['rules'];
    const ids = new Set<string>();
    if (rulesRaw !== undefined && !Array.isArray(rulesRaw)) issues.push({ path: `${path}.rules`, message: 'must be an array' });
    if (Array.isArray(rulesRaw)) {
      rulesRaw.forEach((r, i) => {
        const at = `${path}.rules[${i}]`;
        if (!isObject(r)) return void issues.push({ path: at, message: 'must be an object' });
        unknownKeys(r, ['id', 'description', 'name', 'conditions', 'segments', 'serve'], at, issues);
        const id = r['id'];
        if (typeof id !== 'string' || id.length === 0) issues.push({ path: `${at}.id`, message: 'must be a non-empty string' });
        else if (ids.has(id)) issues.push({ path: `${at}.id`, message: `duplicate rule id "${id}"` });
        else ids.add(id);
        const preds = readConditions(r['conditions'], `${at}.conditions`, issues, scope);
        const conditionCount = preds.length;
        const segs = r['segments'];
        if (segs !== undefined) {
          if (!Array.isArray(segs)) issues.push({ path: `${at}.segments`, message: 'must be an array of segment keys' });
          else
            segs.forEach((s, j) => {
              const seg = typeof s === 'string' ? scope.segment(s) : undefined;
              if (seg === undefined) issues.push({ path: `${at}.segments[${j}]`, message: `unknown segment ${JSON.stringify(s)}` });
              else preds.push(segmentCondition(seg));
            });
        }
        const compiled = compileServe(r['serve'], `${at}.serve`, info, typeof id === 'string' ? id : undefined, scope.attributes, issues);
        if (compiled !== undefined) {
          conditions.push(...preds);
          ruleEnds.push(conditions.length);
          ruleServes.push(compiled);
          outlines.push({ id: id as string, conditionCount });
        }
      });
    }
    if (raw['defaultServe'] !== undefined) defaultServe = compileServe(raw['defaultServe'], `${path}.defaultServe`, info, undefined, scope.attributes, issues);
  }
  if (issues.length > before) return undefined;

  // STATIC: nothing about the context can change the outcome.
  const ds = raw['defaultServe'];
  const staticVariation =
    targets.size === 0 && prerequisites.length === 0 && ruleEnds.length === 0 && !hasTargeting
      ? ds === undefined
        ? (defaultVariation ?? undefined)
        : isObject(ds) && typeof ds['variation'] === 'string'
          ? ds['variation']
          : undefined
      : undefined;
  const build = (resolve: (k: string) => CompiledFlag): CompiledFlag => {
    if (enabled !== true) return fixedFlag(false, orNothing(offVariation, 'DISABLED', 'OFF'));
    if (staticVariation !== undefined) {
      return fixedFlag(true, result(staticVariation, 'STATIC', 'FALLTHROUGH'));
    }
    if (defaultVariation === null && targets.size === 0 && prerequisites.length === 0 && ruleEnds.length === 0 && !hasTargeting && ds === undefined) {
      // Nothing configured and no default: flagd's value-less DEFAULT.
      return fixedFlag(true, fallthrough);
    }
    const native = new NativeFlag(
      scope.attributes,
      prerequisites.map((p) => ({ flag: resolve(p.flag), variation: p.variation })),
      orNothing(offVariation, 'DEFAULT', 'PREREQUISITE_FAILED'),
      targets.size > 0 ? targets : null,
      conditions,
      ruleEnds,
      ruleServes,
      defaultServe ?? null,
      fallthrough,
      inner ?? null,
    );
    ruleOutlines.set(native, outlines);
    const evaluate = (ctx: EvaluationContext): EvaluationResult => evaluateNative(native, ctx);
    return new CompiledFlag(key, info.type, true, metadata, evaluate, null, native, invalidContext, generalError);
  };
  return { prerequisites, build };
}

function compileServe(
  raw: unknown,
  path: string,
  info: FlagInfo,
  ruleId: string | undefined,
  table: AttributeTable,
  issues: CompileIssue[],
): Serve | undefined {
  const { key, variations, metadata } = info;
  const kind = ruleId === undefined ? 'FALLTHROUGH' : 'RULE_MATCH';
  if (!isObject(raw)) {
    issues.push({ path, message: 'must be {"variation": key} or {"rollout": {...}}' });
    return undefined;
  }
  unknownKeys(raw, ['variation', 'rollout'], path, issues);
  if ((raw['variation'] === undefined) === (raw['rollout'] === undefined)) {
    issues.push({ path, message: 'must have exactly one of "variation" and "rollout"' });
    return undefined;
  }
  if (raw['variation'] !== undefined) {
    const v = raw['variation'];
    if (typeof v !== 'string' || !variations.has(v)) {
      issues.push({ path: `${path}.variation`, message: 'must name one of the variations' });
      return undefined;
    }
    const r = valueResult(key, v, variations.get(v)!, ruleId === undefined ? 'DEFAULT' : 'TARGETING_MATCH', kind, ruleId, metadata);
    return new Serve(r, 0, null, [], [], 0);
  }
  const rollout = raw['rollout'];
  const rp = `${path}.rollout`;
  if (!isObject(rollout)) {
    issues.push({ path: rp, message: 'must be an object' });
    return undefined;
  }
  unknownKeys(rollout, ['variations', 'bucketBy', 'salt'], rp, issues);
  const before = issues.length;
  const entries = rollout['variations'];
  const results: ValueResult[] = [];
  const cumulative: number[] = [];
  let total = 0;
  if (!Array.isArray(entries) || entries.length === 0) issues.push({ path: `${rp}.variations`, message: 'must be a non-empty array' });
  else
    entries.forEach((e, i) => {
      const at = `${rp}.variations[${i}]`;
      if (!isObject(e)) return void issues.push({ path: at, message: 'must be {"variation": key, "weight": integer}' });
      unknownKeys(e, ['variation', 'weight'], at, issues);
      const v = e['variation'];
      const w = e['weight'];
      if (typeof v !== 'string' || !variations.has(v)) return void issues.push({ path: `${at}.variation`, message: 'must name one of the variations' });
      if (typeof w !== 'number' || !Number.isInteger(w) || w < 0) return void issues.push({ path: `${at}.weight`, message: 'must be a non-negative integer' });
      total += w;
      cumulative.push(total);
      results.push(valueResult(key, v, variations.get(v)!, 'SPLIT', kind, ruleId, metadata));
    });
  if (issues.length === before && (total < 1 || total > MAX_TOTAL_WEIGHT)) {
    issues.push({ path: `${rp}.variations`, message: `weights must total between 1 and ${MAX_TOTAL_WEIGHT}` });
  }
  const bucketBy = rollout['bucketBy'] ?? 'targetingKey';
  const pathError = checkPath(bucketBy);
  if (pathError !== undefined) issues.push({ path: `${rp}.bucketBy`, message: pathError });
  const salt = rollout['salt'] ?? key;
  if (typeof salt !== 'string') issues.push({ path: `${rp}.salt`, message: 'must be a string' });
  if (issues.length > before) return undefined;
  return new Serve(null, table.slot(bucketBy as string), murmur3Prefix(salt as string), cumulative, results, total);
}

function checkCycles(plans: ReadonlyMap<string, Plan>, environment: string, issues: CompileIssue[]): void {
  const state = new Map<string, 1 | 2>(); // 1 = on the stack, 2 = done
  const stack: string[] = [];
  const visit = (key: string): void => {
    state.set(key, 1);
    stack.push(key);
    for (const p of plans.get(key)?.prerequisites ?? []) {
      const s = state.get(p.flag);
      if (s === 1) {
        const cycle = [...stack.slice(stack.indexOf(p.flag)), p.flag];
        issues.push({ path: p.path, message: `prerequisite cycle in environment "${environment}": ${cycle.join(' → ')}` });
      } else if (s === undefined && plans.has(p.flag)) visit(p.flag);
    }
    stack.pop();
    state.set(key, 2);
  };
  for (const key of plans.keys()) if (!state.has(key)) visit(key);
}
