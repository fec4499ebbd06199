/**
 * `npm run bench -w @switchyard/engine`: evaluations per second and ns per evaluation for four
 * scenarios, for Switchyard and equivalent configurations in @openfeature/flagd-core,
 * unleash-client (offline, bootstrapped) and @growthbook/growthbook. Every engine's answers are
 * checked before timing; timings are medians of interleaved rounds in one process.
 */
import { GrowthBookClient } from '@growthbook/growthbook';
import { FlagdCore } from '@openfeature/flagd-core';
import { InMemStorageProvider, Unleash } from 'unleash-client';
import { compile } from '../compile.js';
import { evaluate, evaluateAll } from '../evaluate.js';
import { compileFlagd } from '../flagd.js';
import { checksum, measure } from './harness.js';
import type { Contender, Measurement } from './harness.js';
import {
  BULK_FLAGS,
  bulkKey,
  bulkKind,
  ENV,
  flagdDocument,
  growthbookFeatures,
  growthbookUser,
  OUTSIDER,
  rolloutKeys,
  SUBJECT,
  switchyardConfig,
  unleashContext,
  unleashFeatures,
} from './scenarios.js';

const silent = { error: () => {}, warn: () => {}, info: () => {}, debug: () => {} };

function check(condition: boolean, message: string): void {
  if (!condition) throw new Error(`benchmark answer check failed: ${message}`);
}

async function main(): Promise<void> {
  const started = Date.now();
  // -- engines ---------------------------------------------------------------------------------
  const snapshot = compile(switchyardConfig(), { environment: ENV });
  const docText = JSON.stringify(flagdDocument());
  const ourFlagd = compileFlagd(docText);
  const core = new FlagdCore(undefined, silent);
  core.setConfigurations(docText);
  const unleash = new Unleash({
    appName: 'switchyard-bench',
    url: 'http://127.0.0.1:9/api/',
    refreshInterval: 0,
    disableMetrics: true,
    skipInstanceCountWarning: true,
    storageProvider: new InMemStorageProvider(),
    bootstrap: { data: unleashFeatures() as never },
  });
  unleash.on('error', () => {});
  unleash.on('warn', () => {});
  await new Promise<void>((resolve) => unleash.once('ready', () => resolve()));
  const growthbook = new GrowthBookClient();
  growthbook.initSync({ payload: { features: growthbookFeatures() as never } });

  const ctx = { ...SUBJECT };
  const outsider = { ...OUTSIDER };
  const uCtx = unleashContext(SUBJECT);
  const uOut = unleashContext(OUTSIDER);
  const gUser = growthbookUser(SUBJECT);
  const gOut = growthbookUser(OUTSIDER);
  const keys = rolloutKeys;
  const rolloutCtx = keys.map((targetingKey) => ({ targetingKey }));
  const rolloutUnleash = keys.map((userId) => ({ userId }));
  const rolloutGb = keys.map((id) => ({ attributes: { id } }));

  // -- answers, checked before timing -----------------------------------------------------------
  check(evaluate(snapshot, 'bool-static', ctx).value === true, 'switchyard (1)');
  check(evaluate(ourFlagd, 'bool-static', ctx).value === true, 'switchyard flagd (1)');
  check(core.resolveBooleanEvaluation('bool-static', false, ctx).value === true, 'flagd-core (1)');
  check(unleash.isEnabled('bool-static', uCtx), 'unleash (1)');
  check(growthbook.evalFeature('bool-static', gUser).value === true, 'growthbook (1)');

  check(evaluate(snapshot, 'three-rules', ctx).variant === 'r3' && evaluate(snapshot, 'three-rules', outsider).variant === 'none', 'switchyard (2)');
  check(evaluate(ourFlagd, 'three-rules', ctx).variant === 'r3' && evaluate(ourFlagd, 'three-rules', outsider).variant === 'none', 'switchyard flagd (2)');
  check(core.resolveStringEvaluation('three-rules', '', ctx).value === 'r3' && core.resolveStringEvaluation('three-rules', '', outsider).value === 'none', 'flagd-core (2)');
  check(unleash.isEnabled('three-rules', uCtx) && !unleash.isEnabled('three-rules', uOut), 'unleash (2)');
  check(growthbook.evalFeature('three-rules', gUser).value === 'r3' && growthbook.evalFeature('three-rules', gOut).value === 'none', 'growthbook (2)');

  let ourB = 0;
  let unB = 0;
  let gbB = 0;
  for (let i = 0; i < keys.length; i++) {
    const ours = evaluate(snapshot, 'split', rolloutCtx[i]!).variant;
    check(ours === core.resolveStringEvaluation('split', '', rolloutCtx[i]!).value, `switchyard and flagd-core bucket ${keys[i]} alike (3)`);
    check(ours === evaluate(ourFlagd, 'split', rolloutCtx[i]!).variant, `switchyard native and flagd buckets agree (3)`);
    if (ours === 'b') ourB++;
    if (unleash.isEnabled('split', rolloutUnleash[i]!)) unB++;
    if (growthbook.evalFeature('split', rolloutGb[i]!).value === 'b') gbB++;
  }
  for (const [name, n] of [['switchyard', ourB], ['unleash', unB], ['growthbook', gbB]] as const) {
    check(Math.abs(n / keys.length - 0.5) < 0.05, `${name} splits 50/50 (3): ${n}/${keys.length}`);
  }

  const all = evaluateAll(snapshot, ctx);
  const allFlagd = core.resolveAll(ctx);
  const flagdByKey = new Map(allFlagd.map((r) => [r.flagKey, r.value]));
  check(all.length === BULK_FLAGS + 3 && allFlagd.length === BULK_FLAGS + 3, 'bulk sizes (4)');
  for (let i = 0; i < BULK_FLAGS; i++) {
    const key = bulkKey(i);
    const r = all[i + 3]!;
    const kind = bulkKind(i);
    const expected = kind === 'static' || kind === 'one-rule' ? true : kind === 'three-rules' ? 'r3' : flagdByKey.get(key);
    check(r.flagKey === key && r.value === expected, `switchyard ${key} (4)`);
    check(flagdByKey.get(key) === expected, `flagd-core ${key} (4)`);
    check(kind === 'split' || unleash.isEnabled(key, uCtx), `unleash ${key} (4)`);
    const g = growthbook.evalFeature(key, gUser).value;
    check(kind === 'split' ? g === 'a' || g === 'b' : g === expected, `growthbook ${key} (4)`);
  }
  const bulkKeys = Array.from({ length: BULK_FLAGS }, (_, i) => bulkKey(i));

  // -- scenarios -------------------------------------------------------------------------------
  // Each batch is its own loop (no shared wrapper calling back into a closure), so the loop's
  // call into the engine is monomorphic and the harness adds the same ~nothing to every engine.
  const N = 1000;
  const K = keys.length;
  const scenarios: Array<{ title: string; contenders: Contender[] }> = [
    {
      title: '(1) boolean flag, no targeting',
      contenders: [
        { name: 'Switchyard', evaluationsPerBatch: N, batch: () => { let a = 0; for (let i = 0; i < N; i++) if (evaluate(snapshot, 'bool-static', ctx).value === true) a++; return a; } },
        { name: 'Switchyard (flagd doc)', evaluationsPerBatch: N, batch: () => { let a = 0; for (let i = 0; i < N; i++) if (evaluate(ourFlagd, 'bool-static', ctx).value === true) a++; return a; } },
        { name: 'flagd-core', evaluationsPerBatch: N, batch: () => { let a = 0; for (let i = 0; i < N; i++) if (core.resolveBooleanEvaluation('bool-static', false, ctx).value) a++; return a; } },
        { name: 'unleash-client', evaluationsPerBatch: N, batch: () => { let a = 0; for (let i = 0; i < N; i++) if (unleash.isEnabled('bool-static', uCtx)) a++; return a; } },
        { name: 'GrowthBook', evaluationsPerBatch: N, batch: () => { let a = 0; for (let i = 0; i < N; i++) if (growthbook.evalFeature('bool-static', gUser).value === true) a++; return a; } },
      ],
    },
    {
      title: '(2) three rules × two conditions, third matches',
      contenders: [
        { name: 'Switchyard', evaluationsPerBatch: N, batch: () => { let a = 0; for (let i = 0; i < N; i++) if (evaluate(snapshot, 'three-rules', ctx).variant === 'r3') a++; return a; } },
        { name: 'Switchyard (flagd doc)', evaluationsPerBatch: N, batch: () => { let a = 0; for (let i = 0; i < N; i++) if (evaluate(ourFlagd, 'three-rules', ctx).variant === 'r3') a++; return a; } },
        { name: 'flagd-core', evaluationsPerBatch: N, batch: () => { let a = 0; for (let i = 0; i < N; i++) if (core.resolveStringEvaluation('three-rules', '', ctx).value === 'r3') a++; return a; } },
        { name: 'unleash-client', evaluationsPerBatch: N, batch: () => { let a = 0; for (let i = 0; i < N; i++) if (unleash.isEnabled('three-rules', uCtx)) a++; return a; } },
        { name: 'GrowthBook', evaluationsPerBatch: N, batch: () => { let a = 0; for (let i = 0; i < N; i++) if (growthbook.evalFeature('three-rules', gUser).value === 'r3') a++; return a; } },
      ],
    },
    {
      title: '(3) 50/50 rollout, varying targeting keys',
      contenders: [
        { name: 'Switchyard', evaluationsPerBatch: K, batch: () => { let a = 0; for (let i = 0; i < K; i++) if (evaluate(snapshot, 'split', rolloutCtx[i]!).variant === 'b') a++; return a; } },
        { name: 'Switchyard (flagd doc)', evaluationsPerBatch: K, batch: () => { let a = 0; for (let i = 0; i < K; i++) if (evaluate(ourFlagd, 'split', rolloutCtx[i]!).variant === 'b') a++; return a; } },
        { name: 'flagd-core', evaluationsPerBatch: K, batch: () => { let a = 0; for (let i = 0; i < K; i++) if (core.resolveStringEvaluation('split', '', rolloutCtx[i]!).value === 'b') a++; return a; } },
        { name: 'unleash-client', evaluationsPerBatch: K, batch: () => { let a = 0; for (let i = 0; i < K; i++) if (unleash.isEnabled('split', rolloutUnleash[i]!)) a++; return a; } },
        { name: 'GrowthBook', evaluationsPerBatch: K, batch: () => { let a = 0; for (let i = 0; i < K; i++) if (growthbook.evalFeature('split', rolloutGb[i]!).value === 'b') a++; return a; } },
      ],
    },
    {
      title: '(4) all of 1,000 flags for one context (per flag)',
      contenders: [
        { name: 'Switchyard', evaluationsPerBatch: BULK_FLAGS + 3, batch: () => evaluateAll(snapshot, ctx).length },
        { name: 'Switchyard (flagd doc)', evaluationsPerBatch: BULK_FLAGS + 3, batch: () => evaluateAll(ourFlagd, ctx).length },
        { name: 'flagd-core', evaluationsPerBatch: BULK_FLAGS + 3, batch: () => core.resolveAll(ctx).length },
        {
          name: 'unleash-client',
          evaluationsPerBatch: BULK_FLAGS,
          batch: () => {
            let acc = 0;
            for (let i = 0; i < bulkKeys.length; i++) if (unleash.isEnabled(bulkKeys[i]!, uCtx)) acc++;
            return acc;
          },
        },
        {
          name: 'GrowthBook',
          evaluationsPerBatch: BULK_FLAGS,
          batch: () => {
            let acc = 0;
            for (let i = 0; i < bulkKeys.length; i++) if (growthbook.evalFeature(bulkKeys[i]!, gUser).on) acc++;
            return acc;
          },
        },
      ],
    },
  ];

  const fmtRate = (r: number): string => (r >= 1e6 ? `${(r / 1e6).toFixed(2)} M` : `${(r / 1e3).toFixed(0)} k`);
  const lines: string[] = [];
  lines.push(`Node ${process.version}, ${process.platform}/${process.arch}; median of 9 interleaved rounds, each after a young-generation GC`);
  lines.push('');
  lines.push('| scenario | engine | evaluations/s | ns/eval | Switchyard is … faster |');
  lines.push('|---|---|---:|---:|---:|');
  const verdicts: string[] = [];
  for (const s of scenarios) {
    const results: Measurement[] = measure(s.contenders);
    const ours = results[0]!;
    results.forEach((m, i) => {
      const ratio = m.nsPerEval / ours.nsPerEval;
      lines.push(`| ${i === 0 ? s.title : ''} | ${m.name} | ${fmtRate(m.evalsPerSecond)} | ${m.nsPerEval.toFixed(1)} | ${i === 0 ? '—' : `${ratio.toFixed(1)}×`} |`);
    });
    const peers = results.filter((m) => !m.name.startsWith('Switchyard'));
    const fastest = peers.reduce((a, b) => (a.nsPerEval < b.nsPerEval ? a : b));
    const x = fastest.nsPerEval / ours.nsPerEval;
    verdicts.push(`${s.title}: ${x.toFixed(1)}× the fastest peer (${fastest.name}) — goal 5×: ${x >= 5 ? 'met' : 'NOT met'}`);
    console.error(`measured ${s.title}`);
  }
  console.log(lines.join('\n'));
  console.log('');
  console.log(verdicts.join('\n'));
  console.log(`\n(checksum ${checksum()}, ${((Date.now() - started) / 1000).toFixed(1)} s)`);
  unleash.destroy();
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
