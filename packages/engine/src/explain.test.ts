import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compile } from './compile.js';
import { evaluate } from './evaluate.js';
import { explain } from './explain.js';
import { compileFlagd } from './flagd.js';
import type { FlagdDocument } from './flagd.js';
import type { Snapshot } from './snapshot.js';
import type { SnapshotConfig } from './types.js';

interface Suite {
  name: string;
  format: 'native' | 'flagd';
  environment?: string;
  config: unknown;
  cases: Array<{ name: string; flag: string; context?: unknown }>;
}
const file = JSON.parse(readFileSync(new URL('../spec/cases.json', import.meta.url), 'utf8')) as { suites: Suite[] };

function build(suite: Suite): Snapshot {
  return suite.format === 'flagd'
    ? compileFlagd(suite.config as FlagdDocument)
    : compile(suite.config as SnapshotConfig, { environment: suite.environment ?? 'production' });
}

for (const suite of file.suites) {
  describe(`explain agrees with evaluate: suite ${suite.name}`, () => {
    const snapshot = build(suite);
    it.each(suite.cases)('$name', (c) => {
      const context = 'context' in c ? c.context : undefined;
      expect(explain(snapshot, c.flag, context).result).toEqual(evaluate(snapshot, c.flag, context));
    });
  });
}

const config: SnapshotConfig = {
  segments: {
    beta: { included: ['u-beta'], conditions: [{ attribute: 'email', operator: 'ENDS_WITH', value: '@beta.test' }] },
    staff: { conditions: [{ attribute: 'staff', operator: 'EQUALS', value: true }] },
  },
  flags: {
    gate: { type: 'boolean', variations: { on: true, off: false }, defaultVariation: 'off', environments: { production: { enabled: true, rules: [{ id: 'pro', conditions: [{ attribute: 'plan', operator: 'EQUALS', value: 'pro' }], serve: { variation: 'on' } }] } } },
    off: { type: 'boolean', variations: { on: true, off: false }, defaultVariation: 'off', environments: { production: { enabled: false } } },
    checkout: {
      type: 'string',
      variations: { a: 'A', b: 'B', c: 'C', d: 'D' },
      defaultVariation: 'a',
      environments: {
        production: {
          enabled: true,
          targets: [{ variation: 'd', values: ['vip'] }],
          rules: [
            { id: 'first', conditions: [{ attribute: 'country', operator: 'IN', value: ['NL'] }, { attribute: 'age', operator: 'GREATER_THAN', value: 18 }], serve: { variation: 'b' } },
            { id: 'second', conditions: [{ attribute: 'plan', operator: 'EQUALS', value: 'pro' }], segments: ['beta'], serve: { variation: 'c' } },
            { id: 'third', conditions: [{ operator: 'IN_SEGMENT', value: ['staff', 'beta'] }], serve: { rollout: { variations: [{ variation: 'a', weight: 1 }, { variation: 'b', weight: 1 }] } } },
          ],
          defaultServe: { rollout: { variations: [{ variation: 'a', weight: 50 }, { variation: 'b', weight: 50 }] } },
        },
      },
    },
    gated: {
      type: 'boolean',
      variations: { on: true, off: false },
      defaultVariation: 'off',
      environments: { production: { enabled: true, prerequisites: [{ flag: 'gate', variation: 'on' }, { flag: 'off', variation: 'on' }], defaultServe: { variation: 'on' } } },
    },
    logic: { type: 'boolean', variations: { on: true, off: false }, defaultVariation: 'off', environments: { production: { enabled: true, targeting: { if: [{ '==': [{ var: 'plan' }, 'pro'] }, 'on', null] } } } },
  },
};
const snapshot = compile(config, { environment: 'production' });

describe('explain', () => {
  it('reports each rule: the one that matched, which condition failed before it, and the rest not evaluated', () => {
    const ctx = { targetingKey: 'u1', country: 'NL', age: 12, plan: 'pro', email: 'x@beta.test' };
    const e = explain(snapshot, 'checkout', ctx);
    expect(e.result).toEqual(evaluate(snapshot, 'checkout', ctx));
    expect(e.decidedBy).toBe('RULE');
    expect(e.target).toEqual({ targetingKey: 'u1', matched: false });
    expect(e.rules.map((r) => [r.ruleId, r.status])).toEqual([
      ['first', 'NOT_MATCHED'],
      ['second', 'MATCHED'],
      ['third', 'NOT_EVALUATED'],
    ]);
    expect(e.rules[0]!.conditions).toEqual([
      { index: 0, held: true },
      { index: 1, held: false },
    ]);
    expect(e.rules[1]!.conditions).toEqual([{ index: 0, held: true }]);
    expect(e.rules[1]!.segments).toEqual([{ segment: 'beta', member: true }]);
    expect(e.rules[2]!.conditions).toEqual([]);
    expect(e.defaultServe.served).toBe(false);
  });

  it('reports every condition of a failed rule, not only the first that failed', () => {
    const e = explain(snapshot, 'checkout', { targetingKey: 'u1', country: 'DE', age: 12 });
    expect(e.rules[0]!.conditions).toEqual([
      { index: 0, held: false },
      { index: 1, held: false },
    ]);
  });

  it('reports segment conditions with each segment, and the rollout bucket of a matched rollout rule', () => {
    const ctx = { targetingKey: 'u2', staff: true };
    const e = explain(snapshot, 'checkout', ctx);
    expect(e.result).toEqual(evaluate(snapshot, 'checkout', ctx));
    expect(e.rules[1]!.segments).toEqual([{ segment: 'beta', member: false }]);
    const third = e.rules[2]!;
    expect(third.status).toBe('MATCHED');
    expect(third.conditions).toEqual([
      {
        index: 0,
        held: true,
        segments: [
          { segment: 'staff', member: true },
          { segment: 'beta', member: false },
        ],
      },
    ]);
    expect(third.rollout!.totalWeight).toBe(2);
    expect(third.rollout!.variation).toBe(e.result.variant);
    expect(third.rollout!.bucket === 0 ? 'a' : 'b').toBe(e.result.variant);
  });

  it('a matched rollout without bucketing value falls to the default serve and stops the rules', () => {
    const ctx = { staff: true };
    const e = explain(snapshot, 'checkout', ctx);
    expect(e.result).toEqual(evaluate(snapshot, 'checkout', ctx));
    expect(e.rules[2]).toMatchObject({ status: 'MATCHED', rollout: { bucket: null, variation: null } });
    expect(e.decidedBy).toBe('DEFAULT');
    expect(e.defaultServe).toEqual({ served: true, rollout: { bucket: null, totalWeight: 100, variation: null } });
  });

  it('reports the default rollout when no rule matches', () => {
    const ctx = { targetingKey: 'nobody' };
    const e = explain(snapshot, 'checkout', ctx);
    expect(e.decidedBy).toBe('DEFAULT');
    expect(e.rules.every((r) => r.status === 'NOT_MATCHED')).toBe(true);
    expect(e.defaultServe.served).toBe(true);
    expect(e.defaultServe.rollout!.variation).toBe(evaluate(snapshot, 'checkout', ctx).variant);
  });

  it('an individual target decides before the rules', () => {
    const e = explain(snapshot, 'checkout', { targetingKey: 'vip', country: 'NL', age: 40 });
    expect(e).toMatchObject({ decidedBy: 'TARGET', target: { targetingKey: 'vip', matched: true }, rules: [] });
    expect(e.result.variant).toBe('d');
  });

  it('reports prerequisites up to the first that fails', () => {
    const e = explain(snapshot, 'gated', { plan: 'pro' });
    expect(e.decidedBy).toBe('PREREQUISITE');
    expect(e.result).toEqual(evaluate(snapshot, 'gated', { plan: 'pro' }));
    expect(e.prerequisites).toEqual([
      { flagKey: 'gate', requiredVariation: 'on', enabled: true, variation: 'on', passed: true },
      { flagKey: 'off', requiredVariation: 'on', enabled: false, variation: null, passed: false },
    ]);
    const first = explain(snapshot, 'gated', { plan: 'free' });
    expect(first.prerequisites).toEqual([{ flagKey: 'gate', requiredVariation: 'on', enabled: true, variation: 'off', passed: false }]);
  });

  it('a disabled flag, an expression, an unknown flag and an invalid context', () => {
    expect(explain(snapshot, 'off', {})).toMatchObject({ decidedBy: 'OFF', enabled: false, rules: [] });
    const logic = explain(snapshot, 'logic', { plan: 'pro' });
    expect(logic).toMatchObject({ decidedBy: 'EXPRESSION', expression: true, rules: [] });
    expect(logic.result).toEqual(evaluate(snapshot, 'logic', { plan: 'pro' }));
    expect(explain(snapshot, 'nope', {}).result.errorCode).toBe('FLAG_NOT_FOUND');
    expect(explain(snapshot, 'checkout', { targetingKey: 7 })).toMatchObject({ decidedBy: 'ERROR', result: { errorCode: 'INVALID_CONTEXT' } });
  });

  it('a context getter that throws gives evaluate\'s GENERAL result', () => {
    const ctx = Object.defineProperty({ targetingKey: 'u' }, 'country', {
      enumerable: true,
      get() {
        throw new Error('boom');
      },
    });
    const e = explain(snapshot, 'checkout', ctx);
    expect(e.result).toEqual(evaluate(snapshot, 'checkout', ctx));
    expect(e.result.errorCode).toBe('GENERAL');
  });
});
