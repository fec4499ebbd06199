// Runs the language-agnostic case file spec/cases.json against this implementation.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bucketOf } from './bucketing.js';
import { compile, CompileError } from './compile.js';
import { evaluate } from './evaluate.js';
import { compileFlagd } from './flagd.js';
import { murmur3 } from './murmur3.js';
import type { Snapshot } from './snapshot.js';
import type { EvaluationResult, SnapshotConfig } from './types.js';
import type { FlagdDocument } from './flagd.js';

interface Expected {
  value?: unknown;
  variant?: string;
  noValue?: boolean;
  reason: string;
  errorCode?: string;
  ruleId?: string | null;
  kind?: string;
  metadata?: Record<string, unknown>;
}
interface Case {
  name: string;
  flag: string;
  context?: unknown;
  expected: Expected;
}
interface Suite {
  name: string;
  format: 'native' | 'flagd';
  environment?: string;
  config: unknown;
  cases: Case[];
}
interface Invalid {
  name: string;
  format: 'native' | 'flagd';
  environment?: string;
  config: unknown;
  path: string;
  messageIncludes?: string;
}
interface CaseFile {
  bucketing: { vectors: Array<{ value: string; utf8Hex: string; hash: number; buckets: Record<string, number> }> };
  suites: Suite[];
  invalid: Invalid[];
}

const file = JSON.parse(readFileSync(new URL('../spec/cases.json', import.meta.url), 'utf8')) as CaseFile;

function build(format: 'native' | 'flagd', config: unknown, environment?: string): Snapshot {
  return format === 'flagd'
    ? compileFlagd(config as FlagdDocument)
    : compile(config as SnapshotConfig, { environment: environment ?? 'production' });
}

function check(actual: EvaluationResult, expected: Expected): void {
  expect(actual.reason).toBe(expected.reason);
  if (expected.noValue === true) {
    expect(actual.value).toBeUndefined();
    expect(actual.variant).toBeUndefined();
  }
  if ('value' in expected) expect(actual.value).toEqual(expected.value);
  if ('variant' in expected) expect(actual.variant).toBe(expected.variant);
  expect(actual.errorCode).toBe(expected.errorCode);
  if (expected.errorCode !== undefined) expect(typeof actual.errorMessage).toBe('string');
  if ('ruleId' in expected) expect(actual.ruleId).toBe(expected.ruleId ?? undefined);
  if ('kind' in expected) expect(actual.kind).toBe(expected.kind);
  if ('metadata' in expected) expect(actual.metadata).toEqual(expected.metadata);
}

describe('spec/cases.json bucketing vectors', () => {
  it.each(file.bucketing.vectors)('$value', (v) => {
    expect(Buffer.from(v.value, 'utf8').toString('hex')).toBe(v.utf8Hex);
    expect(murmur3(v.value)).toBe(v.hash);
    for (const [total, bucket] of Object.entries(v.buckets)) expect(bucketOf(v.hash, Number(total))).toBe(bucket);
  });
});

for (const suite of file.suites) {
  describe(`spec/cases.json suite ${suite.name}`, () => {
    const snapshot = build(suite.format, suite.config, suite.environment);
    it.each(suite.cases)('$name', (c) => {
      check(evaluate(snapshot, c.flag, 'context' in c ? c.context : undefined), c.expected);
    });
  });
}

describe('spec/cases.json invalid configurations', () => {
  it.each(file.invalid)('$name', (c) => {
    let error: unknown;
    try {
      build(c.format, c.config, c.environment);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CompileError);
    const issues = (error as CompileError).issues;
    const hit = issues.find((i) => i.path === c.path);
    expect(hit, `expected an issue at ${c.path}, got ${JSON.stringify(issues)}`).toBeDefined();
    if (c.messageIncludes !== undefined) expect(hit!.message).toContain(c.messageIncludes);
  });
});
