/**
 * Which flags a configuration change may affect, for OpenFeature's `flagsChanged`: flags whose own
 * configuration differs (added and removed ones too), flags that reference a changed segment, and,
 * transitively, flags that name any of those as a prerequisite. A change of snapshot-wide metadata
 * affects every flag.
 */
import type { FlagConfig, JsonValue, SnapshotConfig } from '@switchyard/engine';

/** JSON text with object keys sorted, so that equal configurations compare equal. */
function stable(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(stable).join(',')}]`;
  const obj = value as Record<string, unknown>;
  return `{${Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${stable(obj[k])}`)
    .join(',')}}`;
}

function segmentValues(value: JsonValue | undefined): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

/** Segment keys a flag refers to, in any environment, through rules or segment conditions. */
function segmentsOf(flag: FlagConfig): Set<string> {
  const out = new Set<string>();
  for (const env of Object.values(flag.environments ?? {})) {
    for (const rule of env.rules ?? []) {
      for (const s of rule.segments ?? []) out.add(s);
      for (const c of rule.conditions ?? []) {
        if (c.operator === 'IN_SEGMENT' || c.operator === 'NOT_IN_SEGMENT') for (const s of segmentValues(c.value)) out.add(s);
      }
    }
  }
  return out;
}

function prerequisitesOf(flag: FlagConfig): Set<string> {
  const out = new Set<string>();
  for (const env of Object.values(flag.environments ?? {})) for (const p of env.prerequisites ?? []) out.add(p.flag);
  return out;
}

/**
 * The keys of the flags whose evaluation may differ between two configurations.
 * @param before - the configuration replaced
 * @param after - the configuration now in use
 * @returns flag keys, sorted
 */
export function changedFlags(before: SnapshotConfig, after: SnapshotConfig): string[] {
  const keys = new Set([...Object.keys(before.flags), ...Object.keys(after.flags)]);
  if (stable(before.metadata) !== stable(after.metadata)) return [...keys].sort();
  const changed = new Set<string>();
  for (const key of keys) if (stable(before.flags[key]) !== stable(after.flags[key])) changed.add(key);
  const segmentKeys = new Set([...Object.keys(before.segments ?? {}), ...Object.keys(after.segments ?? {})]);
  const changedSegments = new Set<string>();
  for (const s of segmentKeys) if (stable(before.segments?.[s]) !== stable(after.segments?.[s])) changedSegments.add(s);
  if (changedSegments.size > 0) {
    for (const [key, flag] of Object.entries(after.flags)) {
      for (const s of segmentsOf(flag)) if (changedSegments.has(s)) changed.add(key);
    }
  }
  // Dependents of changed flags, to a fixed point.
  let grew = changed.size > 0;
  while (grew) {
    grew = false;
    for (const [key, flag] of Object.entries(after.flags)) {
      if (changed.has(key)) continue;
      for (const p of prerequisitesOf(flag)) {
        if (changed.has(p)) {
          changed.add(key);
          grew = true;
          break;
        }
      }
    }
  }
  return [...changed].sort();
}
