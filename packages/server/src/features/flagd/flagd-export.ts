import type { ConditionConfig, FlagConfig, FlagEnvironmentConfig, FlagdDocument, FlagdFlag, JsonValue, ServeConfig, SnapshotConfig } from '@switchyard/engine';

/** Thrown (internally) for a native configuration flagd's JSONLogic cannot express faithfully. */
class Inexpressible extends Error {}

const v = (attribute: string): JsonValue => ({ var: attribute });
const semver: Record<string, string> = {
  SEMVER_EQUAL: '=',
  SEMVER_GREATER_THAN: '>',
  SEMVER_GREATER_THAN_OR_EQUAL: '>=',
  SEMVER_LESS_THAN: '<',
  SEMVER_LESS_THAN_OR_EQUAL: '<=',
};
const compare: Record<string, string> = { GREATER_THAN: '>', GREATER_THAN_OR_EQUAL: '>=', LESS_THAN: '<', LESS_THAN_OR_EQUAL: '<=' };

function condition(c: ConditionConfig): JsonValue {
  if (c.ignoreCase === true || c.attribute === undefined) throw new Inexpressible(`${c.operator} with ignoreCase or without attribute`);
  const a = v(c.attribute);
  const value = c.value ?? null;
  switch (c.operator) {
    case 'EQUALS':
      return { '===': [a, value] };
    case 'NOT_EQUALS':
      return { '!==': [a, value] };
    case 'IN':
      return { in: [a, value] };
    case 'NOT_IN':
      return { '!': { in: [a, value] } };
    case 'STARTS_WITH':
      return { starts_with: [a, value] };
    case 'ENDS_WITH':
      return { ends_with: [a, value] };
    case 'CONTAINS':
      return { in: [value, a] };
    case 'NOT_CONTAINS':
      return { '!': { in: [value, a] } };
    default:
      if (compare[c.operator] && typeof value === 'number') return { [compare[c.operator]!]: [a, value] };
      if (semver[c.operator] && typeof value === 'string') return { sem_ver: [a, semver[c.operator]!, value] };
      throw new Inexpressible(`operator ${c.operator}`);
  }
}

function serve(flagKey: string, s: ServeConfig): JsonValue {
  if ('variation' in s) return s.variation;
  const r = s.rollout;
  const salt = r.salt ?? flagKey;
  const bucketBy = r.bucketBy ?? 'targetingKey';
  const entries: JsonValue[] = r.variations.map((e) => [e.variation, e.weight]);
  // flagd's default bucketing value is flagKey + targetingKey; anything else is spelled out.
  if (salt === flagKey && bucketBy === 'targetingKey') return { fractional: entries };
  return { fractional: [{ cat: [salt, v(bucketBy)] }, ...entries] };
}

/** A native environment configuration as flagd targeting (null: none needed), or Inexpressible. */
function targetingOf(flagKey: string, env: FlagEnvironmentConfig): JsonValue | null {
  if (env.targeting !== undefined) return env.targeting;
  if ((env.prerequisites ?? []).length > 0) throw new Inexpressible('prerequisites');
  const branches: JsonValue[] = [];
  for (const t of env.targets ?? []) branches.push({ in: [v('targetingKey'), t.values] }, t.variation);
  for (const rule of env.rules ?? []) {
    if ((rule.segments ?? []).length > 0) throw new Inexpressible('segments');
    const conds = (rule.conditions ?? []).map(condition);
    branches.push(conds.length === 0 ? true : conds.length === 1 ? conds[0]! : { and: conds }, serve(flagKey, rule.serve));
  }
  const fallthrough = env.defaultServe && 'rollout' in env.defaultServe ? serve(flagKey, env.defaultServe) : null;
  if (branches.length === 0) return fallthrough;
  return { if: [...branches, fallthrough] };
}

/** The default variant flagd serves for a native flag in one environment. */
function defaultVariantOf(flag: FlagConfig, env: FlagEnvironmentConfig): string | null {
  if (env.defaultServe && 'variation' in env.defaultServe) return env.defaultServe.variation;
  return env.defaultVariation === undefined ? flag.defaultVariation : env.defaultVariation;
}

/** What `toFlagdDocument` returns: the document and the flags it leaves out, with why. */
export interface FlagdExport {
  document: FlagdDocument;
  omitted: Record<string, string>;
}

/**
 * One environment's engine configuration as a flagd document. Flags configured with JSONLogic
 * (imported from flagd) are written back as they are; native targets, rules (equality, lists,
 * string prefixes/suffixes/containment, numeric and semver comparisons) and rollouts (`fractional`)
 * become one `if` chain. Flags using what JSONLogic cannot express the same way (segments,
 * prerequisites, MATCHES, dates, EXISTS, ignoreCase) are left out and listed in `omitted` (and in
 * the document metadata `switchyardOmitted`). A disabled flag is `state: DISABLED` — flagd serves
 * the code default there, where Switchyard serves the off variation of a native flag.
 */
export function toFlagdDocument(config: SnapshotConfig, environmentKey: string): FlagdExport {
  const flags: Record<string, FlagdFlag> = {};
  const omitted: Record<string, string> = {};
  for (const [key, flag] of Object.entries(config.flags)) {
    const env = flag.environments[environmentKey] ?? { enabled: false };
    try {
      const targeting = targetingOf(key, env);
      const out: FlagdFlag = {
        state: env.enabled ? 'ENABLED' : 'DISABLED',
        variants: flag.variations,
        defaultVariant: defaultVariantOf(flag, env),
      };
      if (targeting !== null) out.targeting = targeting;
      if (flag.metadata && Object.keys(flag.metadata).length > 0) out.metadata = flag.metadata;
      flags[key] = out;
    } catch (e) {
      if (!(e instanceof Inexpressible)) throw e;
      omitted[key] = `cannot be expressed in flagd JSONLogic: ${e.message}`;
    }
  }
  const document: FlagdDocument = { $schema: 'https://flagd.dev/schema/v0/flags.json', flags };
  if (Object.keys(omitted).length > 0) document.metadata = { switchyardOmitted: Object.keys(omitted).join(',') };
  return { document, omitted };
}
