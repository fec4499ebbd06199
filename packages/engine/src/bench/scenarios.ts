/**
 * Equivalent flag configurations for the four benchmark scenarios, in each engine's own format:
 * Switchyard (native), flagd (flag-definition document, for @openfeature/flagd-core),
 * Unleash (client features, bootstrapped offline) and GrowthBook (feature definitions).
 */
import type { FlagConfig, SnapshotConfig } from '../types.js';

/** The environment the Switchyard configuration is compiled for. */
export const ENV = 'bench';
/** Number of flags in scenario 4. */
export const BULK_FLAGS = 1000;
/** Number of distinct targeting keys cycled through in scenario 3. */
export const ROLLOUT_KEYS = 4096;

/** The attributes of the subject every scenario but (3) evaluates for. */
export const SUBJECT = { targetingKey: 'user-42', country: 'fr', plan: 'team', age: 25 } as const;
/** A subject that matches none of the three rules. */
export const OUTSIDER = { targetingKey: 'user-7', country: 'xx', plan: 'free', age: 5 } as const;

/** The kind of flag at position `i` of scenario 4's 1,000 flags. */
export type BulkKind = 'static' | 'three-rules' | 'split' | 'one-rule';
/** The kind of the `i`-th bulk flag. */
export const bulkKind = (i: number): BulkKind => (['static', 'three-rules', 'split', 'one-rule'] as const)[i % 4]!;
/** The key of the `i`-th bulk flag. */
export const bulkKey = (i: number): string => `bulk-${String(i).padStart(4, '0')}`;
/** The rollout scenario's targeting keys. */
export const rolloutKeys: readonly string[] = Array.from({ length: ROLLOUT_KEYS }, (_, i) => `user-${i}`);

// -- Switchyard ----------------------------------------------------------------------------------

const sw = {
  static: (): FlagConfig => ({ type: 'boolean', variations: { on: true, off: false }, defaultVariation: 'on', environments: { [ENV]: { enabled: true } } }),
  threeRules: (): FlagConfig => ({
    type: 'string',
    variations: { r1: 'r1', r2: 'r2', r3: 'r3', none: 'none' },
    defaultVariation: 'none',
    environments: {
      [ENV]: {
        enabled: true,
        rules: [
          { id: 'r1', conditions: [{ attribute: 'plan', operator: 'EQUALS', value: 'team' }, { attribute: 'country', operator: 'EQUALS', value: 'us' }], serve: { variation: 'r1' } },
          { id: 'r2', conditions: [{ attribute: 'age', operator: 'GREATER_THAN', value: 20 }, { attribute: 'country', operator: 'EQUALS', value: 'de' }], serve: { variation: 'r2' } },
          { id: 'r3', conditions: [{ attribute: 'country', operator: 'EQUALS', value: 'fr' }, { attribute: 'plan', operator: 'IN', value: ['team', 'enterprise'] }], serve: { variation: 'r3' } },
        ],
      },
    },
  }),
  split: (): FlagConfig => ({
    type: 'string',
    variations: { a: 'a', b: 'b' },
    defaultVariation: 'a',
    environments: { [ENV]: { enabled: true, defaultServe: { rollout: { variations: [{ variation: 'a', weight: 50 }, { variation: 'b', weight: 50 }] } } } },
  }),
  oneRule: (): FlagConfig => ({
    type: 'boolean',
    variations: { on: true, off: false },
    defaultVariation: 'off',
    environments: {
      [ENV]: {
        enabled: true,
        rules: [{ id: 'r', conditions: [{ attribute: 'country', operator: 'EQUALS', value: 'fr' }, { attribute: 'age', operator: 'GREATER_THAN', value: 18 }], serve: { variation: 'on' } }],
      },
    },
  }),
};

const swBulk = (kind: BulkKind): FlagConfig =>
  kind === 'static' ? sw.static() : kind === 'three-rules' ? sw.threeRules() : kind === 'split' ? sw.split() : sw.oneRule();

/** Switchyard configuration: the three single-flag scenarios plus 1,000 bulk flags. */
export function switchyardConfig(): SnapshotConfig {
  const flags: Record<string, FlagConfig> = { 'bool-static': sw.static(), 'three-rules': sw.threeRules(), split: sw.split() };
  for (let i = 0; i < BULK_FLAGS; i++) flags[bulkKey(i)] = swBulk(bulkKind(i));
  return { flags };
}

// -- flagd ---------------------------------------------------------------------------------------

const eq = (attr: string, v: unknown): unknown => ({ '==': [{ var: attr }, v] });
const fd = {
  static: () => ({ state: 'ENABLED', variants: { on: true, off: false }, defaultVariant: 'on' }),
  threeRules: () => ({
    state: 'ENABLED',
    variants: { r1: 'r1', r2: 'r2', r3: 'r3', none: 'none' },
    defaultVariant: 'none',
    targeting: {
      if: [
        { and: [eq('plan', 'team'), eq('country', 'us')] }, 'r1',
        { and: [{ '>': [{ var: 'age' }, 20] }, eq('country', 'de')] }, 'r2',
        { and: [eq('country', 'fr'), { in: [{ var: 'plan' }, ['team', 'enterprise']] }] }, 'r3',
        null,
      ],
    },
  }),
  split: () => ({ state: 'ENABLED', variants: { a: 'a', b: 'b' }, defaultVariant: 'a', targeting: { fractional: [['a', 50], ['b', 50]] } }),
  oneRule: () => ({
    state: 'ENABLED',
    variants: { on: true, off: false },
    defaultVariant: 'off',
    targeting: { if: [{ and: [eq('country', 'fr'), { '>': [{ var: 'age' }, 18] }] }, 'on', null] },
  }),
};

/** flagd flag-definition document equivalent to `switchyardConfig()`. */
export function flagdDocument(): { flags: Record<string, unknown> } {
  const flags: Record<string, unknown> = { 'bool-static': fd.static(), 'three-rules': fd.threeRules(), split: fd.split() };
  for (let i = 0; i < BULK_FLAGS; i++) {
    const k = bulkKind(i);
    flags[bulkKey(i)] = k === 'static' ? fd.static() : k === 'three-rules' ? fd.threeRules() : k === 'split' ? fd.split() : fd.oneRule();
  }
  return { flags };
}

// -- Unleash -------------------------------------------------------------------------------------

const c = (contextName: string, operator: string, values: string[], value?: string) => ({
  contextName,
  operator,
  values,
  inverted: false,
  caseInsensitive: false,
  ...(value === undefined ? {} : { value }),
});
const strategy = (name: string, constraints: unknown[], parameters: Record<string, string> = {}) => ({ name, parameters, constraints });
const un = {
  static: (name: string) => ({ name, enabled: true, strategies: [strategy('default', [])] }),
  threeRules: (name: string) => ({
    name,
    enabled: true,
    strategies: [
      strategy('default', [c('plan', 'IN', ['team']), c('country', 'IN', ['us'])]),
      strategy('default', [c('age', 'NUM_GT', [], '20'), c('country', 'IN', ['de'])]),
      strategy('default', [c('country', 'IN', ['fr']), c('plan', 'IN', ['team', 'enterprise'])]),
    ],
  }),
  split: (name: string) => ({
    name,
    enabled: true,
    strategies: [strategy('flexibleRollout', [], { rollout: '50', stickiness: 'default', groupId: name })],
  }),
  oneRule: (name: string) => ({ name, enabled: true, strategies: [strategy('default', [c('country', 'IN', ['fr']), c('age', 'NUM_GT', [], '18')])] }),
};

/** Unleash client features (bootstrap data) equivalent to `switchyardConfig()`; `isEnabled` = rule matched / variant b. */
export function unleashFeatures(): unknown[] {
  const out: unknown[] = [un.static('bool-static'), un.threeRules('three-rules'), un.split('split')];
  for (let i = 0; i < BULK_FLAGS; i++) {
    const k = bulkKind(i);
    const name = bulkKey(i);
    out.push(k === 'static' ? un.static(name) : k === 'three-rules' ? un.threeRules(name) : k === 'split' ? un.split(name) : un.oneRule(name));
  }
  return out;
}

/** An Unleash context for a subject. */
export const unleashContext = (s: { targetingKey: string; country?: string; plan?: string; age?: number }) => ({
  userId: s.targetingKey,
  properties: { country: s.country ?? '', plan: s.plan ?? '', age: String(s.age ?? '') },
});

// -- GrowthBook ----------------------------------------------------------------------------------

const gb = {
  static: () => ({ defaultValue: true }),
  threeRules: () => ({
    defaultValue: 'none',
    rules: [
      { condition: { plan: 'team', country: 'us' }, force: 'r1' },
      { condition: { age: { $gt: 20 }, country: 'de' }, force: 'r2' },
      { condition: { country: 'fr', plan: { $in: ['team', 'enterprise'] } }, force: 'r3' },
    ],
  }),
  split: () => ({ defaultValue: 'a', rules: [{ force: 'b', coverage: 0.5, hashAttribute: 'id' }] }),
  oneRule: () => ({ defaultValue: false, rules: [{ condition: { country: 'fr', age: { $gt: 18 } }, force: true }] }),
};

/** GrowthBook features equivalent to `switchyardConfig()`. */
export function growthbookFeatures(): Record<string, unknown> {
  const out: Record<string, unknown> = { 'bool-static': gb.static(), 'three-rules': gb.threeRules(), split: gb.split() };
  for (let i = 0; i < BULK_FLAGS; i++) {
    const k = bulkKind(i);
    out[bulkKey(i)] = k === 'static' ? gb.static() : k === 'three-rules' ? gb.threeRules() : k === 'split' ? gb.split() : gb.oneRule();
  }
  return out;
}

/** A GrowthBook user context for a subject. */
export const growthbookUser = (s: { targetingKey: string; country?: string; plan?: string; age?: number }) => ({
  attributes: { id: s.targetingKey, country: s.country, plan: s.plan, age: s.age },
});
