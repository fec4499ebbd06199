// Differential test: generated flagd documents and contexts, evaluated by this engine and by
// @openfeature/flagd-core (the reference JavaScript implementation). ASCII keys only, because
// flagd-core hashes UTF-16 code units where flagd (Go) and this engine hash UTF-8 bytes.
import { FlagdCore } from '@openfeature/flagd-core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluate } from './evaluate.js';
import { compileFlagd } from './flagd.js';

type J = unknown;
const silent = { error: () => {}, warn: () => {}, info: () => {}, debug: () => {} };

const plans = ['free', 'pro', 'team', 'enterprise'];
const versions = ['1.0.0', '1.2.3', 'v2.0.0', '2.1', '3', '1.2.3-rc.1', '10.0.0', 'not-a-version'];
const variantNames = ['a', 'b', 'c', 'true', 'false'];

const plan = fc.constantFrom(...plans);
const num = fc.integer({ min: 1, max: 99 }); // json-logic-engine treats null == 0 specially; avoid 0
const variant = fc.constantFrom(...variantNames);

const condition: fc.Arbitrary<J> = fc.letrec<{ cond: J }>((tie) => ({
  cond: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.tuple(fc.constantFrom('==', '!=', '===', '!=='), plan).map(([op, p]) => ({ [op]: [{ var: 'plan' }, p] })),
    fc.tuple(fc.constantFrom('<', '<=', '>', '>='), num).map(([op, n]) => ({ [op]: [{ var: 'age' }, n] })),
    fc.tuple(num, num).map(([a, b]) => ({ '<': [Math.min(a, b), { var: 'age' }, Math.max(a, b)] })),
    fc.subarray(plans, { minLength: 1 }).map((ps) => ({ in: [{ var: 'plan' }, ps] })),
    fc.constantFrom('@example.com', 'ann', '.org', '@').map((s) => ({ in: [s, { var: 'email' }] })),
    fc.constantFrom('ann', 'bob', 'x').map((s) => ({ starts_with: [{ var: 'email' }, s] })),
    fc.constantFrom('.com', '.org', 'y').map((s) => ({ ends_with: [{ var: 'email' }, s] })),
    fc
      .tuple(fc.constantFrom('=', '!=', '<', '<=', '>', '>=', '^', '~'), fc.constantFrom('1.0.0', '1.2.0', '2.0.0', 'v1.2.3'))
      .map(([op, v]) => ({ sem_ver: [{ var: 'version' }, op, v] })),
    fc.constant({ '==': [{ var: '$flagd.flagKey' }, 'f0'] }),
    fc.constant({ missing: ['email'] }),
    tie('cond').map((c) => ({ '!': [c] })),
    fc.tuple(fc.constantFrom('and', 'or'), tie('cond'), tie('cond')).map(([op, a, b]) => ({ [op]: [a, b] })),
  ),
})).cond;

const fractional: fc.Arbitrary<J> = fc
  .tuple(
    fc.constantFrom('default', 'email', 'cat'),
    fc.array(fc.tuple(variant, fc.integer({ min: 0, max: 100 })), { minLength: 1, maxLength: 4 }),
  )
  .map(([by, buckets]) => {
    const list = buckets.map(([v, w]) => [v, w]);
    if (by === 'email') return { fractional: [{ var: 'email' }, ...list] };
    // `cat` of a missing attribute: json-logic-engine's compiled mode (used by flagd-core) writes
    // "null", its interpreter, json-logic-js and flagd (Go) write "". We follow the latter, so the
    // generated expression supplies a default instead.
    if (by === 'cat') return { fractional: [{ cat: [{ var: '$flagd.flagKey' }, { var: ['email', ''] }] }, ...list] };
    return { fractional: list };
  });

const outcome: fc.Arbitrary<J> = fc.oneof(variant, fc.constant(null), fractional, fc.constant('missing-variant'));

const targeting: fc.Arbitrary<J> = fc.oneof(
  fc.array(fc.tuple(condition, outcome), { minLength: 1, maxLength: 3 }).chain((pairs) =>
    fc.option(outcome).map((otherwise) => ({ if: [...pairs.flat(), ...(otherwise === null ? [] : [otherwise])] })),
  ),
  condition,
  fractional,
  fc.constant({}),
  fc.constant({ if: [{ unknown_op: [1] }, 'a', 'b'] }),
);

const flag: fc.Arbitrary<J> = fc.record({
  state: fc.constantFrom('ENABLED', 'ENABLED', 'ENABLED', 'DISABLED'),
  variants: fc.constant(Object.fromEntries(variantNames.map((v) => [v, `value-${v}`]))),
  defaultVariant: fc.option(variant, { nil: null }),
  targeting,
});

const context: fc.Arbitrary<Record<string, J>> = fc.record(
  {
    targetingKey: fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 12 }),
    plan,
    age: num,
    email: fc.tuple(fc.constantFrom('ann', 'bob', 'carol'), fc.constantFrom('@example.com', '@x.org', '@y')).map(([a, b]) => a + b),
    version: fc.constantFrom(...versions),
  },
  { requiredKeys: [] },
);

interface Outcome {
  reason: string;
  variant?: string;
  value?: unknown;
  errorCode?: string;
}

function reference(core: FlagdCore, key: string, ctx: Record<string, J>): Outcome {
  const f = core.getFlag(key)!;
  if (f.state === 'DISABLED') return { reason: 'DISABLED' };
  const r = f.evaluate(ctx as never, silent);
  const out: Outcome = { reason: r.reason };
  if (r.variant !== undefined) out.variant = r.variant;
  if (r.value !== undefined) out.value = r.value;
  if (r.errorCode !== undefined) out.errorCode = r.errorCode;
  return out;
}

describe('differential against @openfeature/flagd-core', () => {
  it('agrees on value, variant, reason and error code', () => {
    fc.assert(
      fc.property(fc.array(flag, { minLength: 1, maxLength: 4 }), fc.array(context, { minLength: 1, maxLength: 15 }), (flags, contexts) => {
        const doc = { flags: Object.fromEntries(flags.map((f, i) => [`f${i}`, f])) };
        const text = JSON.stringify(doc);
        const core = new FlagdCore(undefined, silent);
        core.setConfigurations(text);
        const ours = compileFlagd(text);
        for (const key of Object.keys(doc.flags)) {
          for (const ctx of contexts) {
            const r = evaluate(ours, key, ctx);
            const mine: Outcome = { reason: r.reason };
            if (r.variant !== undefined) mine.variant = r.variant;
            if (r.value !== undefined) mine.value = r.value;
            if (r.errorCode !== undefined) mine.errorCode = r.errorCode;
            expect(mine, `${key} ${JSON.stringify(doc.flags[key])} ${JSON.stringify(ctx)}`).toEqual(reference(core, key, ctx));
          }
        }
      }),
      { numRuns: 400 },
    );
  });
});
