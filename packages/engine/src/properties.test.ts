// Property tests of percentage rollouts: accuracy, stability and monotonicity.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compile } from './compile.js';
import { evaluate } from './evaluate.js';
import type { FlagConfig, SnapshotConfig } from './types.js';

const ENV = 'production';

/** Deterministic key generator (xorshift32), so 100k keys cost no fast-check shrinking. */
function keys(seed: number, n: number): string[] {
  let x = seed | 1;
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out.push(`user-${(x >>> 0).toString(36)}-${i}`);
  }
  return out;
}

function rolloutFlag(weights: number[], extra: Partial<FlagConfig['environments'][string]> = {}): FlagConfig {
  const variations = Object.fromEntries(weights.map((_, i) => [`v${i}`, `value-${i}`]));
  return {
    type: 'string',
    variations,
    defaultVariation: 'v0',
    environments: {
      [ENV]: {
        enabled: true,
        defaultServe: { rollout: { variations: weights.map((weight, i) => ({ variation: `v${i}`, weight })) } },
        ...extra,
      },
    },
  };
}

describe('rollouts', () => {
  it('serve each variation within ±1 percentage point of its weight over 100,000 keys', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 100 }), { minLength: 2, maxLength: 5 }), fc.integer(), (weights, seed) => {
        fc.pre(weights.some((w) => w > 0));
        const snapshot = compile({ flags: { exp: rolloutFlag(weights) } }, { environment: ENV });
        const counts = new Map<string, number>();
        const all = keys(seed, 100_000);
        for (const tk of all) {
          const v = evaluate(snapshot, 'exp', { targetingKey: tk }).variant!;
          counts.set(v, (counts.get(v) ?? 0) + 1);
        }
        const total = weights.reduce((a, b) => a + b, 0);
        weights.forEach((w, i) => {
          const share = (counts.get(`v${i}`) ?? 0) / all.length;
          expect(Math.abs(share - w / total)).toBeLessThanOrEqual(0.01);
        });
      }),
      { numRuns: 12 },
    );
  });

  it('keep assignments when unrelated flags, rules and segments change', () => {
    const population = keys(7, 2000);
    const base: SnapshotConfig = { flags: { exp: rolloutFlag([30, 70]) } };
    const before = compile(base, { environment: ENV });
    const expected = population.map((tk) => evaluate(before, 'exp', { targetingKey: tk }).variant);
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 3 }), { maxLength: 4 }),
        fc.array(fc.string({ minLength: 1, maxLength: 6 }), { maxLength: 3 }),
        fc.boolean(),
        (otherFlags, segmentKeys, addRule) => {
          const config: SnapshotConfig = {
            flags: {
              ...Object.fromEntries(otherFlags.map((w, i) => [`other-${i}`, rolloutFlag(w)])),
              exp: rolloutFlag([30, 70], {
                rules: addRule
                  ? [{ id: 'never', conditions: [{ attribute: 'country', operator: 'EQUALS', value: 'atlantis' }], serve: { variation: 'v1' } }]
                  : [],
              }),
            },
            segments: Object.fromEntries(segmentKeys.map((k) => [k, { included: [k] }])),
          };
          const after = compile(config, { environment: ENV });
          population.forEach((tk, i) => expect(evaluate(after, 'exp', { targetingKey: tk }).variant).toBe(expected[i]));
        },
      ),
      { numRuns: 40 },
    );
  });

  it('never move a subject out of a variation whose weight is raised', () => {
    const population = keys(11, 3000);
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 100 }), { minLength: 2, maxLength: 4 }),
        fc.nat(),
        fc.integer({ min: 1, max: 1000 }),
        (weights, which, raise) => {
          fc.pre(weights.some((w) => w > 0));
          const i = which % weights.length;
          const raised = weights.map((w, j) => (j === i ? w + raise : w));
          const a = compile({ flags: { exp: rolloutFlag(weights) } }, { environment: ENV });
          const b = compile({ flags: { exp: rolloutFlag(raised) } }, { environment: ENV });
          for (const tk of population) {
            if (evaluate(a, 'exp', { targetingKey: tk }).variant === `v${i}`) {
              expect(evaluate(b, 'exp', { targetingKey: tk }).variant).toBe(`v${i}`);
            }
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
