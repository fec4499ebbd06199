// For every case of the engine's spec/cases.json: the SDK evaluating locally (the engine on the
// configuration as received from /api/v1/sdk/config and the stream) and the server evaluating
// remotely (POST /api/v1/evaluate over HTTP) agree. Each suite's configuration is loaded into its
// own project through the public API: native suites through the v1 flag, targeting, rule and
// segment endpoints; the flagd suite through the flagd import endpoint.
import { readFileSync } from 'node:fs';
import { compileFlagd, CompileError, type EvaluationResult, type FlagConfig, type FlagdDocument, type SnapshotConfig } from '@switchyard/engine';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from '../../server/src/testing/test-database.js';
import { createClient, type SwitchyardClient } from './client.js';
import { startLiveServer, type LiveServer } from './testing/live-server.js';

interface Case {
  name: string;
  flag: string;
  context?: unknown;
  expected: { reason: string; errorCode?: string; value?: unknown; variant?: string; kind?: string };
}
interface Suite {
  name: string;
  format: 'native' | 'flagd';
  environment?: string;
  config: unknown;
  cases: Case[];
}

const file = JSON.parse(readFileSync(new URL('../../engine/spec/cases.json', import.meta.url), 'utf8')) as { suites: Suite[] };

/** What of a case's configuration the v1 API cannot express, by suite (reported, and checked to be only this). */
const notExpressible: Record<string, string[]> = {
  // Snapshot-wide metadata has no home in the data model: flags carry their own metadata only.
  flow: ['metadata (snapshot-wide)'],
  // flagd loads a flag whose targeting does not compile as a PARSE_ERROR flag; the import refuses
  // such a document whole (naming the paths), so these flags, and their cases, cannot be loaded.
  flagd: ['flag parse-error', 'flag unresolved-ref'],
};

/** The flags of a flagd document that the import refuses (targeting that does not compile strictly). */
function unloadableFlagdFlags(doc: FlagdDocument): string[] {
  try {
    compileFlagd(doc, { strict: true });
    return [];
  } catch (error) {
    if (!(error instanceof CompileError)) throw error;
    const keys = Object.keys(doc.flags).sort((a, b) => b.length - a.length);
    return [...new Set(error.issues.map((i) => keys.find((k) => i.path === `flags.${k}` || i.path.startsWith(`flags.${k}.`))).filter((k): k is string => k !== undefined))].sort();
  }
}

/** Flags of each suite left out of the load, by suite. */
const leftOut = new Map<string, string[]>();

interface RemoteResult {
  flagKey: string;
  value: unknown;
  variation: string | null;
  reason: string;
  kind: string;
  ruleId?: string;
  errorCode?: string;
}

/** Writes a native suite's configuration into `project` through the v1 API. */
async function loadNative(s: LiveServer, project: string, config: SnapshotConfig): Promise<void> {
  const base = `/api/v1/projects/${project}`;
  for (const [key, segment] of Object.entries(config.segments ?? {})) {
    await s.api('POST', `${base}/segments`, { key, name: key, ...segment });
  }
  const flagd: Record<string, unknown> = {};
  for (const [key, flag] of Object.entries(config.flags)) {
    if (Object.values(flag.environments).some((e) => e.targeting !== undefined)) {
      // JSONLogic targeting is written through the flagd import, the one surface that takes it.
      flagd[key] = toFlagd(flag);
      continue;
    }
    await s.api('POST', `${base}/flags`, {
      key,
      type: flag.type,
      variations: Object.entries(flag.variations).map(([k, value]) => ({ key: k, name: k, value })),
      defaultVariation: flag.defaultVariation,
      ...(flag.metadata ? { metadata: flag.metadata } : {}),
    });
  }
  if (Object.keys(flagd).length > 0) await s.api('POST', `${base}/environments/production/flagd`, { flags: flagd });
  // Every flag exists before any prerequisite names one.
  for (const [key, flag] of Object.entries(config.flags)) {
    if (key in flagd) continue;
    for (const [environment, env] of Object.entries(flag.environments)) {
      await s.api('PUT', `${base}/flags/${key}/environments/${environment}`, {
        enabled: env.enabled,
        ...(env.offVariation !== undefined ? { offVariation: env.offVariation } : {}),
        ...(env.defaultServe !== undefined ? { defaultServe: env.defaultServe } : {}),
        ...(env.targets !== undefined ? { targets: env.targets } : {}),
        ...(env.prerequisites !== undefined ? { prerequisites: env.prerequisites } : {}),
      });
      for (const rule of env.rules ?? []) {
        await s.api('POST', `${base}/rules`, {
          flag: key,
          environment,
          serve: rule.serve,
          ...(rule.conditions ? { conditions: rule.conditions } : {}),
          ...(rule.segments ? { segments: rule.segments } : {}),
          ...(rule.description ? { description: rule.description } : {}),
        });
      }
    }
  }
}

function toFlagd(flag: FlagConfig): unknown {
  const env = flag.environments['production'];
  return {
    state: env?.enabled ? 'ENABLED' : 'DISABLED',
    variants: flag.variations,
    defaultVariant: flag.defaultVariation,
    ...(env?.targeting !== undefined ? { targeting: env.targeting } : {}),
    ...(flag.metadata ? { metadata: flag.metadata } : {}),
  };
}

/** A result as the remote one renders it, to compare field by field. */
function asRemote(r: EvaluationResult): Omit<RemoteResult, 'flagKey'> {
  return {
    value: r.variant === undefined ? null : r.value,
    variation: r.variant ?? null,
    reason: r.reason,
    kind: r.kind,
    ...(r.ruleId !== undefined ? { ruleId: r.ruleId } : {}),
    ...(r.errorCode !== undefined ? { errorCode: r.errorCode } : {}),
  };
}

describe.each(testDialects())('spec/cases.json: SDK-local and server-remote evaluation agree on %s', (dialect) => {
  let s: LiveServer;
  const clients = new Map<string, SwitchyardClient>();
  const keys = new Map<string, string>();

  beforeAll(async () => {
    s = await startLiveServer(dialect);
    for (const suite of file.suites) {
      const project = `cases-${suite.name}`;
      await s.api('POST', '/api/v1/projects', { name: project, key: project });
      if (suite.format === 'flagd') {
        const doc = suite.config as FlagdDocument;
        const skip = unloadableFlagdFlags(doc);
        leftOut.set(suite.name, skip);
        const flags = Object.fromEntries(Object.entries(doc.flags).filter(([k]) => !skip.includes(k)));
        await s.api('POST', `/api/v1/projects/${project}/environments/production/flagd`, { ...doc, flags });
      }
      else await loadNative(s, project, suite.config as SnapshotConfig);
      const key = await s.key(project, suite.environment ?? 'production', 'sdk');
      keys.set(suite.name, key);
      const client = createClient({ baseUrl: s.baseUrl, apiKey: key });
      clients.set(suite.name, client);
      await client.ready(10_000);
    }
  }, 240_000);
  afterAll(async () => {
    for (const c of clients.values()) c.close();
    await s?.close();
  });

  for (const suite of file.suites) {
    it(`${suite.name}: every case (${suite.cases.length})`, async () => {
      const client = clients.get(suite.name)!;
      const config = client.configuration!;
      const skipped = leftOut.get(suite.name) ?? [];
      expect(skipped.map((k) => `flag ${k}`)).toEqual((notExpressible[suite.name] ?? []).filter((n) => n.startsWith('flag ')));
      // Every other flag of the suite reached the SDK (and nothing else).
      const expectedKeys = Object.keys((suite.config as SnapshotConfig).flags).filter((k) => !skipped.includes(k));
      expect(Object.keys(config.flags).sort()).toEqual(expectedKeys.sort());
      if (suite.format === 'native' && (suite.config as SnapshotConfig).metadata !== undefined) {
        expect(notExpressible[suite.name]).toContain('metadata (snapshot-wide)');
      }
      let compared = 0;
      const refused: string[] = [];
      for (const c of suite.cases) {
        if (skipped.includes(c.flag)) {
          refused.push(c.name);
          continue;
        }
        const local = client.evaluate(c.flag, 'context' in c ? c.context : undefined);
        const res = await fetch(`${s.baseUrl}/api/v1/evaluate`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-api-key': keys.get(suite.name)! },
          body: JSON.stringify({ flagKeys: [c.flag], ...('context' in c ? { context: c.context } : {}) }),
        });
        if (res.status === 422) {
          // A context the API refuses (not an object, a targetingKey neither a string nor null) is
          // exactly one the engine calls INVALID_CONTEXT; nothing it evaluates is refused.
          expect(local.errorCode, `${c.name} was refused by the API`).toBe('INVALID_CONTEXT');
          refused.push(c.name);
          continue;
        }
        expect(res.status, c.name).toBe(200);
        const remote = ((await res.json()) as { results: RemoteResult[] }).results[0]!;
        const { flagKey, ...rest } = remote;
        expect(flagKey).toBe(c.flag);
        const { errorMessage: _m, enabled: _e, ...comparable } = rest as RemoteResult & { errorMessage?: string; enabled?: boolean };
        expect(comparable, c.name).toEqual(asRemote(local));
        // And both are what the case file says (rule ids are the server's own, metadata is not compared).
        const e = c.expected;
        expect(local.reason, c.name).toBe(e.reason);
        expect(local.errorCode, c.name).toBe(e.errorCode);
        if ('value' in e) expect(local.value, c.name).toEqual(e.value);
        if ('variant' in e) expect(local.variant, c.name).toBe(e.variant);
        if ('kind' in e) expect(local.kind, c.name).toBe(e.kind);
        compared++;
      }
      expect(compared + refused.length).toBe(suite.cases.length);
      // Only invalid contexts and left-out flags are not compared; most cases really are.
      expect(compared).toBeGreaterThan(suite.cases.length * 0.85);
    }, 120_000);
  }
});
