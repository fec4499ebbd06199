/**
 * flagd flag-definition documents (flagd.dev/reference/flag-definitions): `flags` with `state`,
 * `variants`, `defaultVariant`, `targeting` and `metadata`, document-level `metadata`, and
 * `$evaluators` referenced with `{"$ref": "name"}`. Loading follows flagd's JavaScript core: a
 * structural problem (bad `state`, `defaultVariant` not among the variants, no `flags`) rejects the
 * document; a targeting expression that does not compile only turns that flag into a `PARSE_ERROR`
 * flag and is reported in `snapshot.warnings` (unless `strict`).
 */
import { AttributeTable } from './attributes.js';
import { readMetadata, CompileError } from './compile.js';
import { compileLogic, LogicError } from './jsonlogic.js';
import { deepFreeze, errorResult, noValueResult } from './results.js';
import { CompiledFlag, Snapshot } from './snapshot.js';
import { isEmptyTargeting, targetingEvaluator } from './targeting.js';
import type { CompileIssue, EvaluationContext, EvaluationResult, FlagType, JsonValue } from './types.js';

/** A flagd flag definition. */
export interface FlagdFlag {
  /** `DISABLED` flags resolve with reason `DISABLED` and no value. */
  state: 'ENABLED' | 'DISABLED';
  /** Variant values by variant key. */
  variants: Record<string, JsonValue>;
  /** The variant served without targeting or when targeting returns null. May be absent/null. */
  defaultVariant?: string | null;
  /** JSONLogic expression returning a variant key (or null). */
  targeting?: JsonValue;
  /** Flag metadata; overrides document metadata key by key. */
  metadata?: Record<string, string | number | boolean>;
}

/** A flagd flag-definition document. */
export interface FlagdDocument {
  /** Schema URL; ignored. */
  $schema?: string;
  /** Flags by key. */
  flags: Record<string, FlagdFlag>;
  /** Shared targeting fragments, inserted where `{"$ref": "name"}` appears. */
  $evaluators?: Record<string, JsonValue>;
  /** Flag-set metadata. */
  metadata?: Record<string, string | number | boolean>;
}

/** Options of `compileFlagd`. */
export interface FlagdCompileOptions {
  /** Throw a `CompileError` for targeting flagd would load as `PARSE_ERROR`. Default false. */
  strict?: boolean;
}

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Compiles a flagd flag-definition document.
 * @param document - the document, as JSON text or parsed
 * @param options - strictness
 * @returns the snapshot (`environment` undefined)
 * @throws CompileError when the document is structurally invalid (or, with `strict`, any targeting fails)
 */
export function compileFlagd(document: string | FlagdDocument, options: FlagdCompileOptions = {}): Snapshot {
  let doc: unknown = document;
  if (typeof document === 'string') {
    try {
      doc = JSON.parse(document);
    } catch (e) {
      throw new CompileError([{ path: '$', message: `not valid JSON: ${(e as Error).message}` }]);
    }
  }
  const issues: CompileIssue[] = [];
  const warnings: CompileIssue[] = [];
  if (!isObject(doc) || !isObject(doc['flags'])) throw new CompileError([{ path: 'flags', message: 'must be an object of flags by key' }]);
  const docMetadata = readMetadata(doc['metadata'], 'metadata', warnings);
  const evaluators = isObject(doc['$evaluators']) ? doc['$evaluators'] : {};
  if (doc['$evaluators'] !== undefined && !isObject(doc['$evaluators'])) issues.push({ path: '$evaluators', message: 'must be an object' });

  const flags: CompiledFlag[] = [];
  const table = new AttributeTable();
  for (const [key, raw] of Object.entries(doc['flags'])) {
    const path = `flags.${key}`;
    if (!isObject(raw)) {
      issues.push({ path, message: 'must be an object' });
      continue;
    }
    const state = raw['state'];
    if (state !== 'ENABLED' && state !== 'DISABLED') issues.push({ path: `${path}.state`, message: 'must be "ENABLED" or "DISABLED"' });
    if (!isObject(raw['variants'])) {
      issues.push({ path: `${path}.variants`, message: 'must be an object of values by variant key' });
      continue;
    }
    const variants = new Map<string, JsonValue>();
    for (const [v, value] of Object.entries(raw['variants'])) variants.set(v, deepFreeze(structuredClone(value as JsonValue)));
    const dv = raw['defaultVariant'] || undefined; // flagd: "" and null mean "no default variant"
    if (dv !== undefined && (typeof dv !== 'string' || !variants.has(dv))) {
      issues.push({ path: `${path}.defaultVariant`, message: 'must name one of the variants' });
      continue;
    }
    const metadata = Object.freeze({ ...docMetadata, ...readMetadata(raw['metadata'], `${path}.metadata`, warnings) });
    const type = inferType(variants);
    const enabled = state === 'ENABLED';
    const invalidContext = errorResult(key, 'INVALID_CONTEXT', 'the evaluation context must be an object whose targetingKey, if present, is a string', metadata);
    const generalError = errorResult(key, 'GENERAL', `error evaluating targeting rule for flag "${key}"`, metadata);
    const make = (evaluate: (ctx: EvaluationContext) => EvaluationResult, fixed: EvaluationResult | null): CompiledFlag =>
      new CompiledFlag(key, type, enabled, metadata, evaluate, fixed, null, invalidContext, generalError);
    if (!enabled) {
      const disabled = noValueResult(key, 'DISABLED', 'OFF', metadata);
      flags.push(make(() => disabled, disabled));
      continue;
    }
    try {
      const targeting = resolveRefs(raw['targeting'], evaluators, new Set());
      const logic = isEmptyTargeting(targeting) ? undefined : compileLogic(targeting, key, `${path}.targeting`, table);
      const evaluate = targetingEvaluator({ key, variants, defaultVariant: dv, logic, metadata, staticReason: 'STATIC' });
      flags.push(make(evaluate, logic === undefined ? evaluate({}) : null));
    } catch (e) {
      const issue = e instanceof LogicError ? { path: e.path, message: e.message } : { path: `${path}.targeting`, message: String(e) };
      (options.strict === true ? issues : warnings).push(issue);
      const parseError = errorResult(key, 'PARSE_ERROR', `invalid targeting configuration for flag "${key}": ${issue.message}`, metadata);
      flags.push(make(() => parseError, parseError));
    }
  }
  if (issues.length > 0) throw new CompileError(issues);
  return new Snapshot(flags, Object.freeze(docMetadata), Object.freeze(warnings), undefined, table);
}

function inferType(variants: ReadonlyMap<string, JsonValue>): FlagType {
  const types = new Set<string>();
  for (const v of variants.values()) types.add(v === null || typeof v === 'object' ? 'json' : typeof v);
  return types.size === 1 ? ([...types][0] as FlagType) : 'json';
}

/** Replaces `{"$ref": "name"}` by the named evaluator (itself resolved); refuses cycles. */
function resolveRefs(node: unknown, evaluators: Obj, active: Set<string>): unknown {
  if (Array.isArray(node)) return node.map((n) => resolveRefs(n, evaluators, active));
  if (!isObject(node)) return node;
  const keys = Object.keys(node);
  if (keys.length === 1 && keys[0] === '$ref' && typeof node['$ref'] === 'string' && Object.hasOwn(evaluators, node['$ref'])) {
    const name = node['$ref'];
    if (active.has(name)) throw new LogicError(`$evaluators.${name}`, `$ref cycle through "${name}"`);
    active.add(name);
    const out = resolveRefs(evaluators[name], evaluators, active);
    active.delete(name);
    return out;
  }
  const out: Obj = {};
  for (const k of keys) out[k] = resolveRefs(node[k], evaluators, active);
  return out;
}
