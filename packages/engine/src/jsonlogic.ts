/**
 * A JSONLogic compiler: an expression is turned into nested closures once, at compile time, and
 * evaluation only calls them. It implements the standard operations (jsonlogic.com) with the
 * truthiness of json-logic-engine (the interpreter flagd's JavaScript core uses: `[]` and `{}` are
 * falsy) plus flagd's custom operations `fractional`, `sem_ver`, `starts_with`, `ends_with` and
 * the `$flagd.flagKey` / `$flagd.timestamp` variables.
 *
 * Evaluation never throws for any context: operations given unusable operands return `null` (or
 * `false` for tests) instead; arithmetic producing NaN or ±Infinity yields `null`.
 * Compilation throws `LogicError` for an unknown operation, an object with several keys, or nesting
 * deeper than `MAX_LOGIC_DEPTH`: flagd's `PARSE_ERROR` cases.
 */
import { readSlot } from './attributes.js';
import type { AttributeTable } from './attributes.js';
import { bucketOf, MAX_TOTAL_WEIGHT } from './bucketing.js';
import { murmur3, murmur3Prefix, murmur3WithPrefix } from './murmur3.js';
import { compareSemVer, parseSemVer } from './semver.js';

/** A compiled expression: evaluates against the current data (the context at top level). */
export type Logic = (data: unknown) => unknown;

/** Deepest nesting of operations accepted. */
export const MAX_LOGIC_DEPTH = 64;

/** A JSONLogic expression flagd would refuse to load (reported as `PARSE_ERROR`). */
export class LogicError extends Error {
  /**
   * @param path - where in the expression, e.g. `targeting.if[0].==[1]`
   * @param message - what is wrong
   */
  constructor(
    /** Location within the expression. */
    readonly path: string,
    message: string,
  ) {
    super(message);
    this.name = 'LogicError';
  }
}

/**
 * JSONLogic truthiness as json-logic-engine defines it: JavaScript truthiness, except that empty
 * arrays and empty plain objects are false.
 * @param v - any value
 * @returns whether `v` counts as true
 */
export function truthy(v: unknown): boolean {
  if (!v) return false;
  if (typeof v === 'object') {
    if (Array.isArray(v)) return v.length > 0;
    for (const _ in v) return true;
    return Object.getPrototypeOf(v) !== Object.prototype && Object.getPrototypeOf(v) !== null;
  }
  return true;
}

/** The operations this compiler knows. */
export const LOGIC_OPERATIONS: readonly string[] = [
  'var', 'missing', 'missing_some', 'if', '?:', '==', '===', '!=', '!==', '!', '!!', 'or', 'and',
  '<', '<=', '>', '>=', 'max', 'min', '+', '-', '*', '/', '%', 'in', 'cat', 'substr', 'merge',
  'map', 'filter', 'reduce', 'all', 'none', 'some', 'log',
  'fractional', 'sem_ver', 'starts_with', 'ends_with',
];

interface Node {
  readonly f: Logic;
  /** Whether the value is known at compile time (then `v` holds it). */
  readonly k: boolean;
  readonly v: unknown;
}

interface State {
  readonly flagKey: string;
  /** When given, top-level `var`s of plain names read through the snapshot's attribute slots. */
  readonly table: AttributeTable | undefined;
  /** True inside `map`/`filter`/`reduce`/`all`/`none`/`some` bodies, where data is an element. */
  readonly iterating: boolean;
}

/**
 * Compiles a JSONLogic expression.
 * @param expression - the expression (any JSON)
 * @param flagKey - value of `$flagd.flagKey` and prefix of the default `fractional` bucketing value
 * @param path - path of the expression for error messages
 * @param table - the snapshot's attribute table; the compiled expression then expects to be
 *   evaluated only through `evaluate`/`evaluateAll` (which begin the table for the context)
 * @returns the compiled expression
 * @throws LogicError for expressions flagd would reject
 */
export function compileLogic(expression: unknown, flagKey: string, path = 'targeting', table?: AttributeTable): Logic {
  return build(expression, { flagKey, iterating: false, table }, path, 0).f;
}

const constant = (v: unknown): Node => ({ f: () => v, k: true, v });
const dynamic = (f: Logic): Node => ({ f, k: false, v: undefined });

function build(node: unknown, s: State, path: string, depth: number): Node {
  if (depth > MAX_LOGIC_DEPTH) throw new LogicError(path, `nesting deeper than ${MAX_LOGIC_DEPTH}`);
  if (node === null || typeof node !== 'object') return constant(node === undefined ? null : node);
  if (Array.isArray(node)) {
    const items = node.map((n, i) => build(n, s, `${path}[${i}]`, depth + 1));
    if (items.every((i) => i.k)) return constant(items.map((i) => i.v));
    const fs = items.map((i) => i.f);
    return dynamic((d) => {
      const out = new Array<unknown>(fs.length);
      for (let i = 0; i < fs.length; i++) out[i] = fs[i]!(d);
      return out;
    });
  }
  const keys = Object.keys(node);
  if (keys.length === 0) return constant({});
  if (keys.length > 1) throw new LogicError(path, `an operation has exactly one key, got ${keys.map((k) => JSON.stringify(k)).join(', ')}`);
  const op = keys[0]!;
  const raw = (node as Record<string, unknown>)[op];
  const p = `${path}.${op}`;
  const list = (): Node[] => (Array.isArray(raw) ? raw : [raw]).map((a, i) => build(a, s, `${p}[${i}]`, depth + 1));

  switch (op) {
    case 'var':
      return buildVar(raw, s, p, depth);
    case 'missing':
    case 'missing_some': {
      const args = list();
      const fs = args.map((a) => a.f);
      if (op === 'missing') {
        return dynamic((d) => {
          const vals = fs.map((f) => f(d));
          const keysToCheck = Array.isArray(vals[0]) ? (vals[0] as unknown[]) : vals;
          return missing(keysToCheck, d);
        });
      }
      return dynamic((d) => {
        const need = Number(fs[0]?.(d));
        const opts = fs[1]?.(d);
        if (!Array.isArray(opts)) return [];
        const miss = missing(opts, d);
        return opts.length - miss.length >= need ? [] : miss;
      });
    }
    case 'if':
    case '?:':
      return buildIf(list());
    case 'and':
    case 'or': {
      const fs = list().map((a) => a.f);
      if (fs.length === 0) return constant(null);
      const isAnd = op === 'and';
      if (fs.length === 2) {
        const [a, b] = fs as [Logic, Logic];
        return isAnd
          ? dynamic((d) => {
              const x = a(d);
              return truthy(x) ? b(d) : x;
            })
          : dynamic((d) => {
              const x = a(d);
              return truthy(x) ? x : b(d);
            });
      }
      return dynamic((d) => {
        let x: unknown = null;
        for (let i = 0; i < fs.length; i++) {
          x = fs[i]!(d);
          if (truthy(x) !== isAnd) return x;
        }
        return x;
      });
    }
    case '!':
    case '!!': {
      const a = list()[0]?.f ?? (() => null);
      return op === '!' ? dynamic((d) => !truthy(a(d))) : dynamic((d) => truthy(a(d)));
    }
    case '==':
    case '===':
    case '!=':
    case '!==':
    case '<':
    case '<=':
    case '>':
    case '>=':
      return buildCompare(op, list());
    case 'in': {
      const [a, b] = pair(list());
      return dynamic((d) => {
        const hay = b(d);
        const needle = a(d);
        if (typeof hay === 'string') return hay.includes(String(needle));
        if (Array.isArray(hay)) return hay.includes(needle);
        return false;
      });
    }
    case 'cat': {
      const fs = list().map((a) => a.f);
      if (fs.length === 2) {
        const [a, b] = fs as [Logic, Logic];
        return dynamic((d) => str(a(d)) + str(b(d)));
      }
      return dynamic((d) => {
        let out = '';
        for (let i = 0; i < fs.length; i++) out += str(fs[i]!(d));
        return out;
      });
    }
    case 'substr': {
      const fs = list().map((a) => a.f);
      return dynamic((d) => {
        const source = str(fs[0]?.(d));
        const start = Number(fs[1]?.(d) ?? 0) || 0;
        const endRaw = fs[2]?.(d);
        if (endRaw === undefined || endRaw === null) return source.substr(start);
        const end = Number(endRaw) || 0;
        if (end < 0) {
          const tail = source.substr(start);
          return tail.substr(0, tail.length + end);
        }
        return source.substr(start, end);
      });
    }
    case '+':
    case '*':
    case '-':
    case '/':
    case '%':
    case 'max':
    case 'min':
      return buildArithmetic(op, list());
    case 'merge': {
      const fs = list().map((a) => a.f);
      return dynamic((d) => {
        const out: unknown[] = [];
        for (const f of fs) {
          const v = f(d);
          if (Array.isArray(v)) out.push(...(v as unknown[]));
          else out.push(v);
        }
        return out;
      });
    }
    case 'map':
    case 'filter':
    case 'all':
    case 'none':
    case 'some':
    case 'reduce':
      return buildIteration(op, raw, s, p, depth);
    case 'log': {
      const a = list()[0]?.f ?? (() => null);
      return dynamic(a);
    }
    case 'fractional':
      return buildFractional(list(), s);
    case 'sem_ver': {
      const fs = list().map((a) => a.f);
      return dynamic((d) => {
        if (fs.length !== 3) return null;
        return semVer(fs[0]!(d), fs[1]!(d), fs[2]!(d));
      });
    }
    case 'starts_with':
    case 'ends_with': {
      const fs = list().map((a) => a.f);
      const starts = op === 'starts_with';
      return dynamic((d) => {
        if (fs.length !== 2) return null;
        const a = fs[0]!(d);
        const b = fs[1]!(d);
        if (typeof a !== 'string' || typeof b !== 'string') return null;
        return starts ? a.startsWith(b) : a.endsWith(b);
      });
    }
    default:
      throw new LogicError(path, `unknown operation ${JSON.stringify(op)}`);
  }
}

function pair(args: Node[]): [Logic, Logic] {
  const nil: Logic = () => null;
  return [args[0]?.f ?? nil, args[1]?.f ?? nil];
}

function str(v: unknown): string {
  return v === null || v === undefined ? '' : typeof v === 'string' ? v : String(v);
}

// -- var / missing --------------------------------------------------------------------------------

function splitPath(key: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < key.length; i++) {
    const c = key[i]!;
    if (c === '\\' && (key[i + 1] === '.' || key[i + 1] === '\\')) {
      current += key[i + 1];
      i++;
    } else if (c === '.') {
      parts.push(current);
      current = '';
    } else current += c;
  }
  parts.push(current);
  return parts;
}

function walk(data: unknown, parts: readonly string[]): unknown {
  let node = data;
  for (let i = 0; i < parts.length; i++) {
    if (node === null || node === undefined) return undefined;
    const k = parts[i]!;
    if (k === '__proto__') return undefined;
    node = (node as Record<string, unknown>)[k];
  }
  return typeof node === 'function' ? undefined : node;
}

function flagdVar(parts: readonly string[], flagKey: string): unknown {
  if (parts.length === 1) return { flagKey, timestamp: Math.floor(Date.now() / 1000) };
  if (parts.length !== 2) return undefined;
  if (parts[1] === 'flagKey') return flagKey;
  if (parts[1] === 'timestamp') return Math.floor(Date.now() / 1000);
  return undefined;
}

function buildVar(raw: unknown, s: State, p: string, depth: number): Node {
  const args = Array.isArray(raw) ? raw : [raw];
  const keyArg: unknown = args[0];
  const def = args.length > 1 ? build(args[1], s, `${p}[1]`, depth + 1) : constant(null);
  const df = def.f;
  if (keyArg === null || keyArg === undefined || typeof keyArg === 'string' || typeof keyArg === 'number') {
    const key = keyArg === null || keyArg === undefined ? '' : String(keyArg);
    if (key === '') return dynamic((d) => d ?? df(d));
    const parts = splitPath(key);
    if (!s.iterating && parts[0] === '$flagd') {
      if (parts.length === 2 && parts[1] === 'flagKey') return constant(s.flagKey);
      const flagKey = s.flagKey;
      return dynamic((d) => flagdVar(parts, flagKey) ?? df(d));
    }
    if (parts.length === 1) {
      const k = parts[0]!;
      if (k === '__proto__') return def;
      const t = s.table;
      if (t !== undefined && !s.iterating && !key.includes('.')) {
        const slot = t.slot(k);
        return dynamic((d) => {
          const v = t.stamps[slot] === t.epoch ? t.values[slot] : readSlot(t, slot, d as Record<string, unknown>);
          return v === undefined ? df(d) : v;
        });
      }
      return dynamic((d) => {
        if (d === null || d === undefined) return df(d);
        const v = (d as Record<string, unknown>)[k];
        return v === undefined || v === null ? df(d) : typeof v === 'function' ? null : v;
      });
    }
    return dynamic((d) => walk(d, parts) ?? df(d));
  }
  const keyNode = build(keyArg, s, `${p}[0]`, depth + 1);
  const kf = keyNode.f;
  const iterating = s.iterating;
  const flagKey = s.flagKey;
  return dynamic((d) => {
    const k = kf(d);
    if (k === null || k === undefined || k === '') return d ?? df(d);
    if (typeof k !== 'string' && typeof k !== 'number') return df(d);
    const parts = splitPath(String(k));
    if (!iterating && parts[0] === '$flagd') return flagdVar(parts, flagKey) ?? df(d);
    return walk(d, parts) ?? df(d);
  });
}

function missing(keys: readonly unknown[], data: unknown): unknown[] {
  const out: unknown[] = [];
  for (const key of keys) {
    const parts = splitPath(String(key));
    let node = data;
    let found = true;
    for (const part of parts) {
      if (!node) {
        found = false;
        break;
      }
      node = part === '__proto__' ? undefined : (node as Record<string, unknown>)[part];
      if (node === undefined) {
        found = false;
        break;
      }
    }
    if (!found) out.push(key);
  }
  return out;
}

// -- control flow, comparison, arithmetic ----------------------------------------------------------

function buildIf(args: Node[]): Node {
  if (args.length === 0) return constant(null);
  if (args.length === 1) return args[0]!;
  const fs = args.map((a) => a.f);
  if (fs.length % 2 === 0) fs.push(() => null);
  if (fs.length === 3) {
    const [c, t, e] = fs as [Logic, Logic, Logic];
    return dynamic((d) => (truthy(c(d)) ? t(d) : e(d)));
  }
  const last = fs.length - 1;
  return dynamic((d) => {
    for (let i = 0; i < last; i += 2) {
      if (truthy(fs[i]!(d))) return fs[i + 1]!(d);
    }
    return fs[last]!(d);
  });
}

type Cmp = (a: unknown, b: unknown) => boolean;

const COMPARATORS: Record<string, Cmp> = {
  '==': (a, b) => a == b,
  '===': (a, b) => a === b,
  '!=': (a, b) => a != b,
  '!==': (a, b) => a !== b,
  '<': (a, b) => (a as number) < (b as number),
  '<=': (a, b) => (a as number) <= (b as number),
  '>': (a, b) => (a as number) > (b as number),
  '>=': (a, b) => (a as number) >= (b as number),
};

function buildCompare(op: string, args: Node[]): Node {
  const cmp = COMPARATORS[op]!;
  if (args.length < 2) return constant(false);
  const fs = args.map((a) => a.f);
  if (fs.length === 2) {
    const [a, b] = fs as [Logic, Logic];
    if (args[1]!.k) {
      // Specialised per operator: the common `{"op": [{"var": x}, constant]}` costs one call.
      const bv = args[1]!.v as number;
      switch (op) {
        case '==':
          return dynamic((d) => a(d) == bv);
        case '===':
          return dynamic((d) => a(d) === bv);
        case '!=':
          return dynamic((d) => a(d) != bv);
        case '!==':
          return dynamic((d) => a(d) !== bv);
        case '<':
          return dynamic((d) => (a(d) as number) < bv);
        case '<=':
          return dynamic((d) => (a(d) as number) <= bv);
        case '>':
          return dynamic((d) => (a(d) as number) > bv);
        default:
          return dynamic((d) => (a(d) as number) >= bv);
      }
    }
    return dynamic((d) => cmp(a(d), b(d)));
  }
  // Chained form, e.g. {"<": [1, x, 10]} (between).
  return dynamic((d) => {
    let prev = fs[0]!(d);
    for (let i = 1; i < fs.length; i++) {
      const cur = fs[i]!(d);
      if (!cmp(prev, cur)) return false;
      prev = cur;
    }
    return true;
  });
}

function finite(n: number): number | null {
  return Number.isFinite(n) ? n : null;
}

function buildArithmetic(op: string, args: Node[]): Node {
  const fs = args.map((a) => a.f);
  const values = (d: unknown): unknown[] => fs.map((f) => f(d));
  switch (op) {
    case '+':
      return dynamic((d) => {
        let sum = 0;
        for (let i = 0; i < fs.length; i++) sum += Number(fs[i]!(d));
        return finite(sum);
      });
    case '*':
      return dynamic((d) => {
        let product = 1;
        for (let i = 0; i < fs.length; i++) product *= Number(fs[i]!(d));
        return finite(product);
      });
    case '-':
      return dynamic((d) => {
        const v = values(d);
        if (v.length === 0) return null;
        if (v.length === 1) return finite(-Number(v[0]));
        return finite(Number(v[0]) - Number(v[1]));
      });
    case '/':
      return dynamic((d) => {
        const v = values(d);
        return v.length < 2 ? null : finite(Number(v[0]) / Number(v[1]));
      });
    case '%':
      return dynamic((d) => {
        const v = values(d);
        return v.length < 2 ? null : finite(Number(v[0]) % Number(v[1]));
      });
    default: {
      const isMax = op === 'max';
      return dynamic((d) => {
        const v = values(d);
        if (v.length === 0) return null;
        let best = 0;
        for (let i = 0; i < v.length; i++) {
          const x = v[i];
          if (typeof x !== 'number' || !Number.isFinite(x)) return null;
          if (i === 0 || (isMax ? x > best : x < best)) best = x;
        }
        return best;
      });
    }
  }
}

function buildIteration(op: string, raw: unknown, s: State, p: string, depth: number): Node {
  const args = Array.isArray(raw) ? raw : [raw];
  const source = build(args[0], s, `${p}[0]`, depth + 1).f;
  const inner: State = { flagKey: s.flagKey, iterating: true, table: s.table };
  const body = build(args[1], inner, `${p}[1]`, depth + 1).f;
  const items = (d: unknown): unknown[] => {
    const v = source(d);
    return Array.isArray(v) ? v : [];
  };
  switch (op) {
    case 'map':
      return dynamic((d) => items(d).map((x) => body(x)));
    case 'filter':
      return dynamic((d) => items(d).filter((x) => truthy(body(x))));
    case 'all':
      return dynamic((d) => {
        const xs = items(d);
        if (xs.length === 0) return false;
        for (const x of xs) if (!truthy(body(x))) return false;
        return true;
      });
    case 'none':
      return dynamic((d) => {
        for (const x of items(d)) if (truthy(body(x))) return false;
        return true;
      });
    case 'some':
      return dynamic((d) => {
        for (const x of items(d)) if (truthy(body(x))) return true;
        return false;
      });
    default: {
      const init = build(args[2], s, `${p}[2]`, depth + 1).f;
      return dynamic((d) => {
        let accumulator = init(d);
        for (const current of items(d)) accumulator = body({ current, accumulator });
        return accumulator;
      });
    }
  }
}

// -- flagd operations ------------------------------------------------------------------------------

function semVer(a: unknown, op: unknown, b: unknown): boolean | null {
  const x = parseSemVer(a);
  const y = parseSemVer(b);
  if (x === undefined || y === undefined) return null;
  const c = compareSemVer(x, y);
  switch (String(op)) {
    case '=':
      return c === 0;
    case '!=':
      return c !== 0;
    case '<':
      return c < 0;
    case '<=':
      return c <= 0;
    case '>':
      return c > 0;
    case '>=':
      return c >= 0;
    case '^':
      return x.major === y.major;
    case '~':
      return x.major === y.major && x.minor === y.minor;
    default:
      return null;
  }
}

interface Buckets {
  readonly variants: readonly unknown[];
  readonly cumulative: readonly number[];
  readonly total: number;
}

/** flagd-core's `toBucketingList`: undefined when any entry is malformed. */
function toBuckets(entries: readonly unknown[]): Buckets | undefined {
  const variants: unknown[] = [];
  const cumulative: number[] = [];
  let total = 0;
  for (const entry of entries) {
    if (!Array.isArray(entry) || entry.length === 0 || entry.length > 2) return undefined;
    const v: unknown = entry[0];
    if (v !== null && v !== undefined && typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') return undefined;
    let weight = 1;
    if (entry.length === 2) {
      const w: unknown = entry[1];
      if (typeof w !== 'number' || !Number.isInteger(w)) return undefined;
      weight = Math.max(0, w);
    }
    total += weight;
    variants.push(v ?? null);
    cumulative.push(total);
  }
  return { variants, cumulative, total };
}

function pick(b: Buckets | undefined, hash: number): unknown {
  if (b === undefined || b.total > MAX_TOTAL_WEIGHT) return null;
  const bucket = bucketOf(hash, b.total);
  const c = b.cumulative;
  for (let i = 0; i < c.length; i++) if (c[i]! > bucket) return b.variants[i];
  return null;
}

function buildFractional(args: Node[], s: State): Node {
  if (s.iterating || args.length === 0) return constant(null); // flagd-core: no $flagd inside iterators
  const flagKey = s.flagKey;
  const fs = args.map((a) => a.f);
  const allConst = (from: number): boolean => args.slice(from).every((a) => a.k);
  const pre1 = allConst(1) ? toBuckets(args.slice(1).map((a) => a.v)) : undefined;
  const has1 = allConst(1);
  const pre0 = allConst(0) && typeof args[0]!.v !== 'string' ? toBuckets(args.map((a) => a.v)) : undefined;
  const has0 = allConst(0);
  const first = fs[0]!;
  const prefix = murmur3Prefix(flagKey);
  const t = s.table;
  return dynamic((d) => {
    const head = first(d);
    if (typeof head === 'string') {
      return pick(has1 ? pre1 : toBuckets(fs.slice(1).map((f) => f(d))), murmur3(head));
    }
    const tk = t !== undefined ? t.values[0] : d === null || d === undefined ? undefined : (d as Record<string, unknown>)['targetingKey'];
    if (!tk) return null;
    const buckets = has0 ? pre0 : toBuckets([head, ...fs.slice(1).map((f) => f(d))]);
    return pick(buckets, murmur3WithPrefix(prefix, typeof tk === 'string' ? tk : String(tk)));
  });
}
