import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compile, CompileError, validate } from './compile.js';
import { evaluate, evaluateAll, evaluateTyped } from './evaluate.js';
import { compileFlagd } from './flagd.js';
import type { SnapshotConfig } from './types.js';

const config: SnapshotConfig = {
  segments: { beta: { conditions: [{ attribute: 'email', operator: 'ENDS_WITH', value: '@beta.com' }] } },
  flags: {
    checkout: {
      type: 'boolean',
      variations: { on: true, off: false },
      defaultVariation: 'off',
      environments: {
        production: {
          enabled: true,
          rules: [
            { id: 'beta', segments: ['beta'], serve: { variation: 'on' } },
            { id: 'version', conditions: [{ attribute: 'app.version', operator: 'MATCHES', value: '^2\\.' }], serve: { variation: 'on' } },
          ],
          defaultServe: { rollout: { variations: [{ variation: 'on', weight: 1 }, { variation: 'off', weight: 1 }] } },
        },
        staging: { enabled: true, defaultServe: { variation: 'on' } },
      },
    },
    banner: { type: 'string', variations: { a: 'A' }, defaultVariation: 'a', environments: { production: { enabled: false } } },
    limits: { type: 'json', variations: { x: { max: 1 } }, defaultVariation: 'x', environments: { production: { enabled: true } } },
  },
};

describe('evaluate', () => {
  const snapshot = compile(config, { environment: 'production' });

  it('compiles one environment', () => {
    expect(snapshot.environment).toBe('production');
    expect(snapshot.keys).toEqual(['checkout', 'banner', 'limits']);
    expect(snapshot.has('banner')).toBe(true);
    expect(snapshot.typeOf('limits')).toBe('json');
    expect(evaluate(compile(config, { environment: 'staging' }), 'checkout', {}).reason).toBe('STATIC');
  });

  it('evaluates all flags in order, including disabled ones', () => {
    const all = evaluateAll(snapshot, { targetingKey: 'u', email: 'x@beta.com' });
    expect(all.map((r) => [r.flagKey, r.variant, r.reason])).toEqual([
      ['checkout', 'on', 'TARGETING_MATCH'],
      ['banner', 'a', 'DISABLED'],
      ['limits', 'x', 'STATIC'],
    ]);
    expect(evaluateAll(snapshot, 'nope').every((r) => r.errorCode === 'INVALID_CONTEXT')).toBe(true);
    expect(evaluateAll(snapshot).map((r) => r.reason)).toEqual(['DEFAULT', 'DISABLED', 'STATIC']);
  });

  it('checks types when asked', () => {
    expect(evaluateTyped(snapshot, 'checkout', 'boolean', { targetingKey: 'u' }).errorCode).toBeUndefined();
    const wrong = evaluateTyped(snapshot, 'checkout', 'string', { targetingKey: 'u' });
    expect(wrong).toMatchObject({ reason: 'ERROR', errorCode: 'TYPE_MISMATCH', value: undefined });
    expect(evaluateTyped(snapshot, 'limits', 'object', {}).value).toEqual({ max: 1 });
    expect(evaluateTyped(snapshot, 'missing', 'object', {}).errorCode).toBe('FLAG_NOT_FOUND');
  });

  it('returns shared frozen results', () => {
    const a = evaluate(snapshot, 'limits', {});
    expect(Object.isFrozen(a)).toBe(true);
    expect(Object.isFrozen(a.value)).toBe(true);
    expect(evaluate(snapshot, 'limits', {})).toBe(a);
  });

  it('never throws, whatever the context', () => {
    const hostile = {
      get targetingKey(): string {
        throw new Error('boom');
      },
    };
    expect(evaluate(snapshot, 'checkout', hostile).errorCode).toBe('GENERAL');
    expect(evaluateAll(snapshot, hostile).every((r) => r.errorCode === 'INVALID_CONTEXT')).toBe(true);
    const getterAttr = {
      targetingKey: 'u',
      get email(): string {
        throw new Error('boom');
      },
    };
    expect(evaluate(snapshot, 'checkout', getterAttr).errorCode).toBe('GENERAL');
    fc.assert(
      fc.property(fc.anything(), fc.object({ values: [fc.anything()] }), (anything, obj) => {
        for (const ctx of [anything, obj, { ...obj, targetingKey: 'k' }, { app: anything, email: anything }]) {
          evaluate(snapshot, 'checkout', ctx);
          evaluateAll(snapshot, ctx);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('reads an attribute once per evaluation and never across evaluations', () => {
    let reads = 0;
    const ctx = {
      targetingKey: 'u',
      get email(): string {
        reads++;
        return 'x@other.com';
      },
    };
    evaluateAll(compile({ ...config, flags: { a: config.flags['checkout']!, b: config.flags['checkout']! } }, { environment: 'production' }), ctx);
    expect(reads).toBe(1);
    evaluate(snapshot, 'checkout', ctx);
    expect(reads).toBe(2);
    expect(evaluate(snapshot, 'checkout', { targetingKey: 'u', email: 'y@beta.com' }).ruleId).toBe('beta');
  });
});

describe('compile', () => {
  it('reports every issue with its path', () => {
    const bad = structuredClone(config) as unknown as { flags: Record<string, { environments: Record<string, { rules?: unknown[] }> }> };
    bad.flags['checkout']!.environments['production']!.rules![1] = { id: 'version', conditions: [{ attribute: '', operator: 'EXISTS' }], serve: { variation: 'nope' } };
    const issues = validate(bad);
    expect(issues.map((i) => i.path)).toEqual([
      'flags.checkout.environments.production.rules[1].conditions[0].attribute',
      'flags.checkout.environments.production.rules[1].serve.variation',
    ]);
    expect(() => compile(bad as unknown as SnapshotConfig, { environment: 'production' })).toThrow(CompileError);
    expect(() => compile(bad as unknown as SnapshotConfig, { environment: 'production' })).toThrow(/rules\[1\]\.serve\.variation/);
  });

  it('accepts its own JSON round trip and rejects non-objects', () => {
    expect(compile(JSON.parse(JSON.stringify(config)) as SnapshotConfig, { environment: 'production' }).keys).toHaveLength(3);
    expect(validate(null)).toEqual([{ path: '$', message: 'configuration must be an object' }]);
    expect(() => compile(config, { environment: '' })).toThrow(/options\.environment/);
  });
});

describe('compileFlagd', () => {
  it('accepts text, reports bad JSON, and is strict on request', () => {
    expect(() => compileFlagd('{')).toThrow(/not valid JSON/);
    const doc = { flags: { f: { state: 'ENABLED' as const, variants: { a: 1 }, defaultVariant: 'a', targeting: { nope: [] } } } };
    expect(compileFlagd(doc).warnings).toEqual([{ path: 'flags.f.targeting', message: 'unknown operation "nope"' }]);
    expect(() => compileFlagd(doc, { strict: true })).toThrow(CompileError);
    const cyclic = { $evaluators: { a: { $ref: 'b' }, b: { $ref: 'a' } }, flags: { f: { state: 'ENABLED' as const, variants: { a: 1 }, targeting: { $ref: 'a' } } } };
    expect(evaluate(compileFlagd(cyclic), 'f', {}).errorCode).toBe('PARSE_ERROR');
    const nested = { $evaluators: { a: { $ref: 'b' }, b: { '==': [1, 1] } }, flags: { f: { state: 'ENABLED' as const, variants: { true: 1 }, targeting: { $ref: 'a' } } } };
    expect(evaluate(compileFlagd(nested), 'f', {}).variant).toBe('true');
  });
});
