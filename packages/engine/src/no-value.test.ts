import { describe, expect, it } from 'vitest';
import { compile, compileFlagd, evaluate } from './index.js';
import type { SnapshotConfig } from './types.js';

const doc = {
  flags: {
    off: { state: 'DISABLED', variants: { on: true, off: false }, defaultVariant: 'on' },
    none: { state: 'ENABLED', variants: { a: 'A', b: 'B' }, defaultVariant: null, targeting: { if: [{ '==': [{ var: 'plan' }, 'pro'] }, 'b', null] } },
    bare: { state: 'ENABLED', variants: { a: 'A' } },
  },
} as const;

// What a server stores for the same flags: the flag's own default plus per-environment nulls.
const native: SnapshotConfig = {
  flags: {
    off: { type: 'boolean', variations: { on: true, off: false }, defaultVariation: 'on', environments: { prod: { enabled: false, offVariation: null } } },
    none: {
      type: 'string',
      variations: { a: 'A', b: 'B' },
      defaultVariation: 'a',
      environments: { prod: { enabled: true, defaultVariation: null, targeting: doc.flags.none.targeting as never } },
    },
    bare: { type: 'string', variations: { a: 'A' }, defaultVariation: 'a', environments: { prod: { enabled: true, defaultVariation: null } } },
  },
};

describe('value-less results in native configurations', () => {
  const flagd = compileFlagd(doc as never);
  const snap = compile(native, { environment: 'prod' });
  for (const ctx of [{}, { plan: 'pro' }, { plan: 'free', targetingKey: 'u' }]) {
    for (const key of ['off', 'none', 'bare']) {
      it(`${key} ${JSON.stringify(ctx)} resolves as flagd does`, () => {
        const a = evaluate(flagd, key, ctx);
        const b = evaluate(snap, key, ctx);
        expect({ value: b.value, variant: b.variant, reason: b.reason }).toEqual({ value: a.value, variant: a.variant, reason: a.reason });
      });
    }
  }

  it('offVariation null serves nothing when disabled; defaultVariation overrides per environment', () => {
    expect(evaluate(snap, 'off').reason).toBe('DISABLED');
    expect(evaluate(snap, 'off').variant).toBeUndefined();
    const withDefault = compile(
      { flags: { f: { type: 'string', variations: { a: 'A', b: 'B' }, defaultVariation: 'a', environments: { prod: { enabled: true, defaultVariation: 'b' } } } } },
      { environment: 'prod' },
    );
    expect(evaluate(withDefault, 'f')).toMatchObject({ value: 'B', reason: 'STATIC' });
  });
});
