/**
 * Reading attributes from an evaluation context by dotted path. A path first matches a property
 * literally named with the whole path (`"app.version"`), then walks nested objects
 * (`app` → `version`). `null`, functions and anything not found read as `undefined` ("missing").
 *
 * Every attribute path a snapshot uses gets a slot in its `AttributeTable`. During one
 * evaluation (one `evaluate` or `evaluateAll` call, prerequisites included) each slot is read
 * from the context at most once and then served from the table: property reads with a variable
 * name are the dominant cost of closure-based evaluation, and a 1,000-flag `evaluateAll` reads
 * each distinct attribute once instead of once per condition.
 */
import { readAt, siteFor } from './attribute-sites.js';
import type { EvaluationContext } from './types.js';

/** Slot of `targetingKey` in every table; the evaluator seeds it before each evaluation. */
export const TARGETING_KEY_SLOT = 0;

/**
 * The attribute paths of one snapshot and the per-evaluation cache of their values. The cache is
 * scratch state: evaluation is synchronous, so one table per snapshot suffices (each worker thread
 * has its own snapshots). Evaluation must not be re-entered from inside a context getter.
 */
export class AttributeTable {
  /** Path of each slot. */
  readonly paths: string[] = [];
  /** Dedicated read site of each path (see `attribute-sites.ts`). */
  readonly sites: number[] = [];
  /** Segments of dotted paths, or null for single-segment paths. */
  readonly segments: Array<readonly string[] | null> = [];
  /** Cached value of each slot, valid when its stamp equals `epoch`. */
  readonly values: unknown[] = [];
  /** Epoch at which each slot was last read. */
  readonly stamps: number[] = [];
  /** Current evaluation's epoch; bumped by every top-level evaluation. */
  epoch = 1;
  private readonly index = new Map<string, number>();

  constructor() {
    this.slot('targetingKey');
  }

  /**
   * The slot of a path, allocating one on first use.
   * @param path - a path accepted by `checkPath`
   * @returns the slot index
   */
  slot(path: string): number {
    let i = this.index.get(path);
    if (i === undefined) {
      i = this.paths.length;
      this.index.set(path, i);
      // Use the engine's internalized copy of the name (strings from JSON.parse values may not be),
      // so property reads with it skip a string-table lookup.
      this.paths.push(Object.keys({ [path]: 0 })[0]!);
      this.sites.push(siteFor(path));
      const parts = path.split('.');
      this.segments.push(parts.length === 1 ? null : Object.freeze(parts));
      this.values.push(undefined);
      this.stamps.push(0);
    }
    return i;
  }

  /**
   * Starts an evaluation: invalidates cached values and seeds the targeting key.
   * @param targetingKey - the context's targeting key (undefined when absent)
   */
  begin(targetingKey: unknown): void {
    const e = ++this.epoch;
    this.values[TARGETING_KEY_SLOT] = targetingKey;
    this.stamps[TARGETING_KEY_SLOT] = e;
  }
}

/**
 * The value of a slot for the current evaluation (read from the context on first use).
 * @param t - the table
 * @param slot - the slot
 * @param context - the context being evaluated
 * @returns the value, or undefined when missing
 */
export function readSlot(t: AttributeTable, slot: number, context: EvaluationContext): unknown {
  if (t.stamps[slot] === t.epoch) return t.values[slot];
  let v = readAt(t.sites[slot]!, context as Record<string, unknown>, t.paths[slot]!);
  const parts = t.segments[slot];
  if (parts !== null && parts !== undefined && (v === undefined || v === null)) {
    let node: unknown = context;
    for (let i = 0; i < parts.length; i++) {
      if (node === null || typeof node !== 'object') {
        node = undefined;
        break;
      }
      node = (node as Record<string, unknown>)[parts[i]!];
    }
    v = node;
  }
  if (v === null || typeof v === 'function') v = undefined;
  t.values[slot] = v;
  t.stamps[slot] = t.epoch;
  return v;
}

/**
 * Validates an attribute path.
 * @param path - the candidate path
 * @returns an error message, or undefined when the path is usable
 */
export function checkPath(path: unknown): string | undefined {
  if (typeof path !== 'string' || path.length === 0) return 'must be a non-empty string';
  if (path.length > 256) return 'must be at most 256 characters';
  for (const segment of path.split('.')) {
    if (segment.length === 0) return `"${path}" has an empty segment`;
    if (segment === '__proto__') return `"${path}" may not address __proto__`;
  }
  return undefined;
}
