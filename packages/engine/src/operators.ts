/**
 * Condition operators: compiled once into predicates over the context.
 *
 * General rules (the case file `spec/cases.json` pins each of them):
 * - Missing attribute (absent, `null`, or a path through a non-object): every positive operator is
 *   false; its negation (`NOT_EQUALS`, `NOT_IN`, `NOT_CONTAINS`, `NOT_EXISTS`) is exactly
 *   `!positive`, hence true.
 * - Wrong attribute type: treated like a missing attribute. There is no cross-type coercion except
 *   where stated: numeric operators accept numeric strings (`"42"`), semver operators accept
 *   numbers (`2` → `2.0.0`), date operators accept ISO-8601 strings and epoch numbers.
 * - Strings compare case-sensitively, by UTF-16 code units, unless the condition sets
 *   `ignoreCase: true` (string operators only), which lower-cases both sides.
 *
 * | operator | value | true when |
 * |---|---|---|
 * | `EQUALS` | string, number or boolean | attribute has the same type and value |
 * | `IN` | array of scalars | attribute equals one of them; an array attribute: any element does |
 * | `CONTAINS` | scalar or array of scalars | string attribute contains a string value as a substring; array attribute has an element equal to a value |
 * | `STARTS_WITH`, `ENDS_WITH` | string or array of strings | string attribute starts/ends with any of them |
 * | `MATCHES` | RE2 pattern (≤ 1024 chars) | string attribute (≤ 8192 chars) contains a match (use `^…$` to anchor) |
 * | `GREATER_THAN` … `LESS_THAN_OR_EQUAL` | number | numeric attribute compares so |
 * | `SEMVER_EQUAL` … `SEMVER_LESS_THAN_OR_EQUAL` | version | attribute parses as a version and compares so by semver precedence |
 * | `BEFORE`, `AFTER` | ISO-8601 string or epoch number | attribute date is strictly before/after |
 * | `EXISTS` | — | attribute is present and not null |
 * | `IN_SEGMENT` | segment key or array of keys | subject is in any of the segments |
 *
 * Numbers of the form of epoch dates below 1e11 are seconds, otherwise milliseconds.
 */
import { RE2JS } from 're2js';
import { checkPath, readSlot, TARGETING_KEY_SLOT } from './attributes.js';
import type { AttributeTable } from './attributes.js';
import { toEpochMillis } from './dates.js';
import { compareSemVer, parseSemVer } from './semver.js';
import type { SemVer } from './semver.js';
import type { CompileIssue, EvaluationContext, Operator } from './types.js';

/** Longest accepted `MATCHES` pattern, in UTF-16 code units. */
export const MAX_PATTERN_LENGTH = 1024;
/** Longest attribute value `MATCHES` inspects; longer values do not match. */
export const MAX_MATCH_INPUT_LENGTH = 8192;

/** Every operator, in documentation order. */
export const OPERATORS: readonly Operator[] = [
  'EQUALS',
  'NOT_EQUALS',
  'IN',
  'NOT_IN',
  'CONTAINS',
  'NOT_CONTAINS',
  'STARTS_WITH',
  'ENDS_WITH',
  'MATCHES',
  'GREATER_THAN',
  'GREATER_THAN_OR_EQUAL',
  'LESS_THAN',
  'LESS_THAN_OR_EQUAL',
  'SEMVER_EQUAL',
  'SEMVER_GREATER_THAN',
  'SEMVER_GREATER_THAN_OR_EQUAL',
  'SEMVER_LESS_THAN',
  'SEMVER_LESS_THAN_OR_EQUAL',
  'BEFORE',
  'AFTER',
  'EXISTS',
  'NOT_EXISTS',
  'IN_SEGMENT',
  'NOT_IN_SEGMENT',
];

const OPERATOR_SET: ReadonlySet<string> = new Set(OPERATORS);
const STRING_OPERATORS: ReadonlySet<string> = new Set([
  'EQUALS',
  'NOT_EQUALS',
  'IN',
  'NOT_IN',
  'CONTAINS',
  'NOT_CONTAINS',
  'STARTS_WITH',
  'ENDS_WITH',
  'MATCHES',
]);

/** What condition compilation needs from its surroundings. */
export interface ConditionScope {
  /** The snapshot's attribute table (slots are allocated in it). */
  readonly attributes: AttributeTable;
  /** A compiled segment, or undefined when no such segment exists. */
  segment(key: string): Segment | undefined;
  /** Whether `IN_SEGMENT`/`NOT_IN_SEGMENT` are allowed here (not inside segments). */
  readonly allowSegments: boolean;
}

/** A compiled segment: include/exclude sets, then conditions (none: nobody else). */
export class Segment {
  /**
   * @param included - targeting keys always in
   * @param excluded - targeting keys never in (unless included)
   * @param conditions - conditions for everyone else (AND; empty = nobody)
   */
  constructor(
    readonly included: ReadonlySet<string>,
    readonly excluded: ReadonlySet<string>,
    readonly conditions: readonly Condition[],
  ) {}
}

// Opcodes of compiled conditions.
/** Opcode of `EQUALS`/`NOT_EQUALS` (the evaluator inlines it). */
export const EQ = 0;
/** Opcode (inlined by the native evaluator). */
export const IN_LIST = 1;
const IN_SET = 2;
const STARTS = 3;
const ENDS = 4;
/** Opcode (inlined by the native evaluator). */
export const GT = 5;
const GTE = 6;
/** Opcode (inlined by the native evaluator). */
export const LT = 7;
const LTE = 8;
/** Opcode (inlined by the native evaluator). */
export const EXISTS = 9;
const FN = 10;
/** Opcode of `IN_SEGMENT`/`NOT_IN_SEGMENT` (the only one that reads no attribute). */
export const SEGMENT = 11;
/** Lists up to this length are scanned; longer ones use a Set. */
const SCAN_LIMIT = 8;

/**
 * A compiled condition: plain data interpreted by `testCondition`, so evaluating a rule costs no
 * closure calls for the common operators. All instances share one shape.
 */
export class Condition {
  /**
   * @param op - opcode
   * @param slot - attribute slot
   * @param negate - invert the outcome (the NOT_ operators)
   * @param scalar - operand of EQ, STARTS, ENDS
   * @param num - operand of the numeric comparisons
   * @param list - operand of IN_LIST
   * @param set - operand of IN_SET
   * @param fn - predicate on the attribute value for the other operators
   * @param segments - operand of SEGMENT (any of them)
   */
  constructor(
    readonly op: number,
    readonly slot: number,
    readonly negate: boolean,
    readonly scalar: unknown,
    readonly num: number,
    readonly list: readonly unknown[] | null,
    readonly set: ReadonlySet<unknown> | null,
    readonly fn: ((value: unknown) => boolean) | null,
    readonly segments: readonly Segment[] | null,
  ) {}
}

const make = (
  op: number,
  slot: number,
  negate: boolean,
  extra: { scalar?: unknown; num?: number; list?: readonly unknown[]; set?: ReadonlySet<unknown>; fn?: (v: unknown) => boolean; segments?: readonly Segment[] } = {},
): Condition =>
  new Condition(op, slot, negate, extra.scalar, extra.num ?? 0, extra.list ?? null, extra.set ?? null, extra.fn ?? null, extra.segments ?? null);

function numberOf(v: unknown): number | undefined {
  return typeof v === 'number' ? (Number.isFinite(v) ? v : undefined) : toNumber(v);
}

function listHas(list: readonly unknown[], v: unknown): boolean {
  for (let i = 0; i < list.length; i++) if (list[i] === v) return true;
  return false;
}

/**
 * Evaluates one compiled condition.
 * @param c - the condition
 * @param ctx - the context
 * @param t - the snapshot's attribute table (current evaluation)
 * @returns whether it holds
 */
export function testCondition(c: Condition, ctx: EvaluationContext, t: AttributeTable): boolean {
  if (c.op === SEGMENT) return anySegment(c.segments!, ctx, t) !== c.negate;
  const slot = c.slot;
  return testValue(c, t.stamps[slot] === t.epoch ? t.values[slot] : readSlot(t, slot, ctx));
}

/**
 * Evaluates a non-segment condition on its attribute's value.
 * @param c - the condition (not `SEGMENT`)
 * @param v - the attribute value (undefined when missing)
 * @returns whether it holds
 */
export function testValue(c: Condition, v: unknown): boolean {
  switch (c.op) {
    case EQ:
      return (v === c.scalar) !== c.negate;
    case IN_LIST:
      return (Array.isArray(v) ? anyInList(c.list!, v) : listHas(c.list!, v)) !== c.negate;
    case IN_SET:
      return (Array.isArray(v) ? v.some((x) => c.set!.has(x)) : c.set!.has(v)) !== c.negate;
    case STARTS:
      return typeof v === 'string' && v.startsWith(c.scalar as string);
    case ENDS:
      return typeof v === 'string' && v.endsWith(c.scalar as string);
    case GT: {
      const n = typeof v === 'number' ? v : numberOf(v);
      return n !== undefined && n > c.num && n !== Infinity;
    }
    case GTE: {
      const n = typeof v === 'number' ? v : numberOf(v);
      return n !== undefined && n >= c.num && n !== Infinity;
    }
    case LT: {
      const n = typeof v === 'number' ? v : numberOf(v);
      return n !== undefined && n < c.num && n !== -Infinity;
    }
    case LTE: {
      const n = typeof v === 'number' ? v : numberOf(v);
      return n !== undefined && n <= c.num && n !== -Infinity;
    }
    case EXISTS:
      return (v !== undefined) !== c.negate;
    default:
      return c.fn!(v) !== c.negate;
  }
}

function anyInList(list: readonly unknown[], v: readonly unknown[]): boolean {
  for (let i = 0; i < v.length; i++) if (listHas(list, v[i])) return true;
  return false;
}

function anySegment(segs: readonly Segment[], ctx: EvaluationContext, t: AttributeTable): boolean {
  for (let i = 0; i < segs.length; i++) if (inSegment(segs[i]!, ctx, t)) return true;
  return false;
}

/**
 * Whether all conditions in `list[start..end)` hold.
 * @param list - compiled conditions
 * @param start - first index
 * @param end - one past the last index
 * @param ctx - the context
 * @param t - the attribute table
 * @returns true when every condition holds (true for an empty range)
 */
export function testAll(list: readonly Condition[], start: number, end: number, ctx: EvaluationContext, t: AttributeTable): boolean {
  const epoch = t.epoch;
  const stamps = t.stamps;
  const values = t.values;
  for (let i = start; i < end; i++) {
    const c = list[i]!;
    if (c.op === EQ) {
      // The most common operator, inlined.
      const slot = c.slot;
      const v = stamps[slot] === epoch ? values[slot] : readSlot(t, slot, ctx);
      if ((v === c.scalar) === c.negate) return false;
    } else if (!testCondition(c, ctx, t)) return false;
  }
  return true;
}

/**
 * Segment membership: included keys, then excluded keys, then the conditions.
 * @param s - the segment
 * @param ctx - the context
 * @param t - the attribute table
 * @returns whether the subject is in the segment
 */
export function inSegment(s: Segment, ctx: EvaluationContext, t: AttributeTable): boolean {
  const tk = t.values[TARGETING_KEY_SLOT];
  if (typeof tk === 'string') {
    if (s.included.has(tk)) return true;
    if (s.excluded.has(tk)) return false;
  }
  const conds = s.conditions;
  return conds.length > 0 && testAll(conds, 0, conds.length, ctx, t);
}

const NUMERIC = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * A number from a number or a numeric string (`"42"`, `" -1.5e3 "`); anything else is undefined.
 * @param value - the candidate
 * @returns the finite number, or undefined
 */
export function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && value.length <= 64) {
    const s = value.trim();
    if (!NUMERIC.test(s)) return undefined;
    const n = Number(s);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

function isScalar(v: unknown): v is string | number | boolean {
  return typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
}

/**
 * Compiles one condition, reporting problems under `path`.
 * @param raw - the condition as configured
 * @param path - its path, e.g. `flags.x.environments.production.rules[0].conditions[1]`
 * @param issues - where problems are appended
 * @param scope - segment lookup
 * @returns the predicate, or undefined when the condition is invalid
 */
export function compileCondition(
  raw: unknown,
  path: string,
  issues: CompileIssue[],
  scope: ConditionScope,
): Condition | undefined {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    issues.push({ path, message: 'must be an object' });
    return undefined;
  }
  const c = raw as Record<string, unknown>;
  const op = c['operator'];
  if (typeof op !== 'string' || !OPERATOR_SET.has(op)) {
    issues.push({ path: `${path}.operator`, message: `unknown operator ${JSON.stringify(op)}; expected one of ${OPERATORS.join(', ')}` });
    return undefined;
  }
  const ignoreCase = c['ignoreCase'];
  if (ignoreCase !== undefined && typeof ignoreCase !== 'boolean') {
    issues.push({ path: `${path}.ignoreCase`, message: 'must be a boolean' });
    return undefined;
  }
  if (ignoreCase === true && !STRING_OPERATORS.has(op)) {
    issues.push({ path: `${path}.ignoreCase`, message: `is not supported by ${op}` });
    return undefined;
  }
  const value = c['value'];
  const valuePath = `${path}.value`;
  const fail = (message: string): undefined => {
    issues.push({ path: valuePath, message });
    return undefined;
  };

  if (op === 'IN_SEGMENT' || op === 'NOT_IN_SEGMENT') {
    if (!scope.allowSegments) {
      issues.push({ path: `${path}.operator`, message: `${op} is not allowed inside a segment` });
      return undefined;
    }
    const keys = typeof value === 'string' ? [value] : value;
    if (!Array.isArray(keys) || keys.length === 0 || !keys.every((k) => typeof k === 'string')) {
      return fail('must be a segment key or a non-empty array of segment keys');
    }
    const segments: Segment[] = [];
    for (const key of keys as string[]) {
      const seg = scope.segment(key);
      if (seg === undefined) return fail(`unknown segment "${key}"`);
      segments.push(seg);
    }
    return make(SEGMENT, 0, op === 'NOT_IN_SEGMENT', { segments });
  }

  const attribute = c['attribute'];
  const pathError = checkPath(attribute);
  if (pathError !== undefined) {
    issues.push({ path: `${path}.attribute`, message: pathError });
    return undefined;
  }
  const slot = scope.attributes.slot(attribute as string);
  const ic = ignoreCase === true;
  const negate = op.startsWith('NOT_');
  const withFn = (fn: (v: unknown) => boolean): Condition => make(FN, slot, negate, { fn });

  switch (op) {
    case 'EXISTS':
    case 'NOT_EXISTS':
      return make(EXISTS, slot, negate);
    case 'EQUALS':
    case 'NOT_EQUALS': {
      if (!isScalar(value)) return fail('must be a string, a finite number or a boolean');
      if (ic && typeof value === 'string') {
        const lv = value.toLowerCase();
        return withFn((v) => typeof v === 'string' && v.toLowerCase() === lv);
      }
      return make(EQ, slot, negate, { scalar: value });
    }
    case 'IN':
    case 'NOT_IN': {
      if (!Array.isArray(value) || !value.every(isScalar)) return fail('must be an array of strings, numbers or booleans');
      const values = (ic ? value.map((x) => lower(x as string | number | boolean)) : value) as unknown[];
      if (ic) {
        const set = new Set(values);
        const has = (x: unknown): boolean => set.has(typeof x === 'string' ? x.toLowerCase() : x);
        return withFn((v) => (Array.isArray(v) ? v.some(has) : has(v)));
      }
      return values.length <= SCAN_LIMIT ? make(IN_LIST, slot, negate, { list: values }) : make(IN_SET, slot, negate, { set: new Set(values) });
    }
    case 'CONTAINS':
    case 'NOT_CONTAINS': {
      const list = Array.isArray(value) ? value : [value];
      if (list.length === 0 || !list.every(isScalar)) return fail('must be a scalar or a non-empty array of scalars');
      return withFn(contains(list as (string | number | boolean)[], ic));
    }
    case 'STARTS_WITH':
    case 'ENDS_WITH': {
      const list = Array.isArray(value) ? value : [value];
      if (list.length === 0 || !list.every((x) => typeof x === 'string')) return fail('must be a string or a non-empty array of strings');
      const start = op === 'STARTS_WITH';
      if (list.length === 1 && !ic) return make(start ? STARTS : ENDS, slot, false, { scalar: list[0] });
      const needles = (list as string[]).map((x) => (ic ? x.toLowerCase() : x));
      return withFn((v) => {
        if (typeof v !== 'string') return false;
        const sv = ic ? v.toLowerCase() : v;
        return needles.some((n) => (start ? sv.startsWith(n) : sv.endsWith(n)));
      });
    }
    case 'MATCHES': {
      if (typeof value !== 'string') return fail('must be a regular expression (string)');
      if (value.length > MAX_PATTERN_LENGTH) return fail(`must be at most ${MAX_PATTERN_LENGTH} characters`);
      let re: RE2JS;
      try {
        re = RE2JS.compile(value, ic ? RE2JS.CASE_INSENSITIVE : 0);
      } catch (e) {
        return fail(`invalid RE2 pattern: ${(e as Error).message}`);
      }
      return withFn((v) => typeof v === 'string' && v.length <= MAX_MATCH_INPUT_LENGTH && re.test(v));
    }
    case 'GREATER_THAN':
    case 'GREATER_THAN_OR_EQUAL':
    case 'LESS_THAN':
    case 'LESS_THAN_OR_EQUAL': {
      const n = toNumber(value);
      if (n === undefined) return fail('must be a finite number');
      const code = op === 'GREATER_THAN' ? GT : op === 'GREATER_THAN_OR_EQUAL' ? GTE : op === 'LESS_THAN' ? LT : LTE;
      return make(code, slot, false, { num: n });
    }
    case 'SEMVER_EQUAL':
    case 'SEMVER_GREATER_THAN':
    case 'SEMVER_GREATER_THAN_OR_EQUAL':
    case 'SEMVER_LESS_THAN':
    case 'SEMVER_LESS_THAN_OR_EQUAL': {
      const target = parseSemVer(value);
      if (target === undefined) return fail('must be a semantic version such as "1.2.3"');
      return withFn(semver(target, op));
    }
    case 'BEFORE':
    case 'AFTER': {
      const t = toEpochMillis(value);
      if (t === undefined) return fail('must be an ISO-8601 date or an epoch number');
      const before = op === 'BEFORE';
      return withFn((v) => {
        const a = toEpochMillis(v);
        return a !== undefined && (before ? a < t : a > t);
      });
    }
  }
  return fail(`unsupported operator ${op}`);
}

function lower(v: string | number | boolean): string | number | boolean {
  return typeof v === 'string' ? v.toLowerCase() : v;
}

function contains(values: (string | number | boolean)[], ic: boolean): (v: unknown) => boolean {
  const needles = ic ? values.map(lower) : values;
  const strings = needles.filter((n): n is string => typeof n === 'string');
  const set = new Set<unknown>(needles);
  return (v) => {
    if (typeof v === 'string') {
      const s = ic ? v.toLowerCase() : v;
      for (let i = 0; i < strings.length; i++) if (s.includes(strings[i]!)) return true;
      return false;
    }
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const e: unknown = v[i];
        if (set.has(ic && typeof e === 'string' ? e.toLowerCase() : e)) return true;
      }
    }
    return false;
  };
}

function semver(target: SemVer, op: string): (v: unknown) => boolean {
  const test: (cmp: number) => boolean =
    op === 'SEMVER_EQUAL'
      ? (c) => c === 0
      : op === 'SEMVER_GREATER_THAN'
        ? (c) => c > 0
        : op === 'SEMVER_GREATER_THAN_OR_EQUAL'
          ? (c) => c >= 0
          : op === 'SEMVER_LESS_THAN'
            ? (c) => c < 0
            : (c) => c <= 0;
  return (raw) => {
    const v = parseSemVer(raw);
    return v !== undefined && test(compareSemVer(v, target));
  };
}

/**
 * A condition requiring membership of one segment (how a rule's `segments` list is compiled).
 * @param segment - the segment
 * @returns the condition
 */
export function segmentCondition(segment: Segment): Condition {
  return make(SEGMENT, 0, false, { segments: [segment] });
}
