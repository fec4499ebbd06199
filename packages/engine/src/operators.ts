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
import { checkPath, compileGetter } from './attributes.js';
import type { AttributeGetter } from './attributes.js';
import { toEpochMillis } from './dates.js';
import { compareSemVer, parseSemVer } from './semver.js';
import type { SemVer } from './semver.js';
import type { CompileIssue, EvaluationContext, Operator } from './types.js';

/** A compiled condition. */
export type Predicate = (context: EvaluationContext) => boolean;

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
  /** The predicate of a segment, or undefined when no such segment exists. */
  segment(key: string): Predicate | undefined;
  /** Whether `IN_SEGMENT`/`NOT_IN_SEGMENT` are allowed here (not inside segments). */
  readonly allowSegments: boolean;
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
): Predicate | undefined {
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
    const preds: Predicate[] = [];
    for (const key of keys as string[]) {
      const p = scope.segment(key);
      if (p === undefined) return fail(`unknown segment "${key}"`);
      preds.push(p);
    }
    const any = anyOf(preds);
    return op === 'IN_SEGMENT' ? any : not(any);
  }

  const attribute = c['attribute'];
  const pathError = checkPath(attribute);
  if (pathError !== undefined) {
    issues.push({ path: `${path}.attribute`, message: pathError });
    return undefined;
  }
  const get = compileGetter(attribute as string);
  const ic = ignoreCase === true;

  switch (op) {
    case 'EXISTS':
      return (ctx) => get(ctx) !== undefined;
    case 'NOT_EXISTS':
      return (ctx) => get(ctx) === undefined;
    case 'EQUALS':
    case 'NOT_EQUALS': {
      if (!isScalar(value)) return fail('must be a string, a finite number or a boolean');
      const p = equals(get, value, ic);
      return op === 'EQUALS' ? p : not(p);
    }
    case 'IN':
    case 'NOT_IN': {
      if (!Array.isArray(value) || !value.every(isScalar)) return fail('must be an array of strings, numbers or booleans');
      const p = inList(get, value as (string | number | boolean)[], ic);
      return op === 'IN' ? p : not(p);
    }
    case 'CONTAINS':
    case 'NOT_CONTAINS': {
      const list = Array.isArray(value) ? value : [value];
      if (list.length === 0 || !list.every(isScalar)) return fail('must be a scalar or a non-empty array of scalars');
      const p = contains(get, list as (string | number | boolean)[], ic);
      return op === 'CONTAINS' ? p : not(p);
    }
    case 'STARTS_WITH':
    case 'ENDS_WITH': {
      const list = Array.isArray(value) ? value : [value];
      if (list.length === 0 || !list.every((s) => typeof s === 'string')) return fail('must be a string or a non-empty array of strings');
      return affix(get, list as string[], ic, op === 'STARTS_WITH');
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
      return (ctx) => {
        const v = get(ctx);
        return typeof v === 'string' && v.length <= MAX_MATCH_INPUT_LENGTH && re.test(v);
      };
    }
    case 'GREATER_THAN':
    case 'GREATER_THAN_OR_EQUAL':
    case 'LESS_THAN':
    case 'LESS_THAN_OR_EQUAL': {
      const n = toNumber(value);
      if (n === undefined) return fail('must be a finite number');
      return numeric(get, n, op);
    }
    case 'SEMVER_EQUAL':
    case 'SEMVER_GREATER_THAN':
    case 'SEMVER_GREATER_THAN_OR_EQUAL':
    case 'SEMVER_LESS_THAN':
    case 'SEMVER_LESS_THAN_OR_EQUAL': {
      const v = parseSemVer(value);
      if (v === undefined) return fail('must be a semantic version such as "1.2.3"');
      return semver(get, v, op);
    }
    case 'BEFORE':
    case 'AFTER': {
      const t = toEpochMillis(value);
      if (t === undefined) return fail('must be an ISO-8601 date or an epoch number');
      return op === 'BEFORE'
        ? (ctx) => {
            const a = toEpochMillis(get(ctx));
            return a !== undefined && a < t;
          }
        : (ctx) => {
            const a = toEpochMillis(get(ctx));
            return a !== undefined && a > t;
          };
    }
  }
  return fail(`unsupported operator ${op}`);
}

/**
 * Combines predicates with AND (true for an empty list).
 * @param preds - the predicates
 * @returns one predicate
 */
export function allOf(preds: readonly Predicate[]): Predicate {
  const n = preds.length;
  if (n === 0) return () => true;
  if (n === 1) return preds[0]!;
  if (n === 2) {
    const a = preds[0]!;
    const b = preds[1]!;
    return (ctx) => a(ctx) && b(ctx);
  }
  if (n === 3) {
    const a = preds[0]!;
    const b = preds[1]!;
    const c = preds[2]!;
    return (ctx) => a(ctx) && b(ctx) && c(ctx);
  }
  const list = preds.slice();
  return (ctx) => {
    for (let i = 0; i < list.length; i++) if (!list[i]!(ctx)) return false;
    return true;
  };
}

/**
 * Combines predicates with OR (false for an empty list).
 * @param preds - the predicates
 * @returns one predicate
 */
export function anyOf(preds: readonly Predicate[]): Predicate {
  if (preds.length === 1) return preds[0]!;
  const list = preds.slice();
  return (ctx) => {
    for (let i = 0; i < list.length; i++) if (list[i]!(ctx)) return true;
    return false;
  };
}

function not(p: Predicate): Predicate {
  return (ctx) => !p(ctx);
}

function lower(v: string | number | boolean): string | number | boolean {
  return typeof v === 'string' ? v.toLowerCase() : v;
}

function equals(get: AttributeGetter, value: string | number | boolean, ic: boolean): Predicate {
  if (ic && typeof value === 'string') {
    const lv = value.toLowerCase();
    return (ctx) => {
      const v = get(ctx);
      return typeof v === 'string' && v.toLowerCase() === lv;
    };
  }
  return (ctx) => get(ctx) === value;
}

function inList(get: AttributeGetter, values: (string | number | boolean)[], ic: boolean): Predicate {
  const set = new Set(ic ? values.map(lower) : values);
  const has = ic
    ? (v: unknown): boolean => set.has(typeof v === 'string' ? v.toLowerCase() : (v as string))
    : (v: unknown): boolean => set.has(v as string);
  return (ctx) => {
    const v = get(ctx);
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) if (has(v[i])) return true;
      return false;
    }
    return has(v);
  };
}

function contains(get: AttributeGetter, values: (string | number | boolean)[], ic: boolean): Predicate {
  const needles = ic ? values.map(lower) : values;
  const strings = needles.filter((n): n is string => typeof n === 'string');
  const set = new Set(needles);
  return (ctx) => {
    const v = get(ctx);
    if (typeof v === 'string') {
      const s = ic ? v.toLowerCase() : v;
      for (let i = 0; i < strings.length; i++) if (s.includes(strings[i]!)) return true;
      return false;
    }
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const e: unknown = v[i];
        if (set.has((ic && typeof e === 'string' ? e.toLowerCase() : e) as string)) return true;
      }
    }
    return false;
  };
}

function affix(get: AttributeGetter, values: string[], ic: boolean, start: boolean): Predicate {
  const needles = ic ? values.map((s) => s.toLowerCase()) : values;
  if (needles.length === 1 && !ic) {
    const n = needles[0]!;
    return start
      ? (ctx) => {
          const v = get(ctx);
          return typeof v === 'string' && v.startsWith(n);
        }
      : (ctx) => {
          const v = get(ctx);
          return typeof v === 'string' && v.endsWith(n);
        };
  }
  return (ctx) => {
    const v = get(ctx);
    if (typeof v !== 'string') return false;
    const s = ic ? v.toLowerCase() : v;
    for (let i = 0; i < needles.length; i++) {
      if (start ? s.startsWith(needles[i]!) : s.endsWith(needles[i]!)) return true;
    }
    return false;
  };
}

function numeric(get: AttributeGetter, n: number, op: string): Predicate {
  const read = (ctx: EvaluationContext): number | undefined => {
    const v = get(ctx);
    return typeof v === 'number' ? (Number.isFinite(v) ? v : undefined) : toNumber(v);
  };
  switch (op) {
    case 'GREATER_THAN':
      return (ctx) => {
        const a = read(ctx);
        return a !== undefined && a > n;
      };
    case 'GREATER_THAN_OR_EQUAL':
      return (ctx) => {
        const a = read(ctx);
        return a !== undefined && a >= n;
      };
    case 'LESS_THAN':
      return (ctx) => {
        const a = read(ctx);
        return a !== undefined && a < n;
      };
    default:
      return (ctx) => {
        const a = read(ctx);
        return a !== undefined && a <= n;
      };
  }
}

function semver(get: AttributeGetter, target: SemVer, op: string): Predicate {
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
  return (ctx) => {
    const v = parseSemVer(get(ctx));
    return v !== undefined && test(compareSemVer(v, target));
  };
}
