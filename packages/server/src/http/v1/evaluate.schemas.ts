import { Type } from 'typebox';

const FlagKey = Type.String({ pattern: '^[A-Za-z0-9._-]{1,200}$', description: 'A flag key' });

/** The evaluation context: `targetingKey` plus any attributes (nested at most 10 levels). */
export const EvaluationContextSchema = Type.Object(
  {
    targetingKey: Type.Optional(
      Type.Union([Type.String({ maxLength: 1024 }), Type.Null()], { description: 'Identifies the subject; what rollouts bucket by. `null` is the same as absent (as the engine treats it)' }),
    ),
  },
  { additionalProperties: true, description: 'targetingKey plus any attributes, addressable by dotted path; at most 10 levels deep' },
);

export const EvaluateBody = Type.Object(
  {
    flagKey: Type.Optional(FlagKey),
    flagKeys: Type.Optional(Type.Array(FlagKey, { maxItems: 1000, description: 'Flags to evaluate (at most 1,000); absent with flagKey absent: every flag' })),
    context: Type.Optional(EvaluationContextSchema),
  },
  { additionalProperties: false, description: '`{flagKey, context}` evaluates one flag; `{flagKeys?, context}` several (all when absent)' },
);

/** One flag's result. */
export const EvaluationResultSchema = Type.Object({
  flagKey: Type.String(),
  value: Type.Unknown({ description: 'The served value (null when none was served)' }),
  variation: Type.Union([Type.String(), Type.Null()], { description: 'The served variation key' }),
  reason: Type.String({ description: 'OpenFeature reason: STATIC, DEFAULT, TARGETING_MATCH, SPLIT, DISABLED or ERROR' }),
  kind: Type.String({ description: 'Which step decided: OFF, PREREQUISITE_FAILED, TARGET_MATCH, RULE_MATCH, FALLTHROUGH or ERROR' }),
  enabled: Type.Boolean({ description: "Whether the flag is enabled in the key's environment" }),
  ruleId: Type.Optional(Type.String({ description: 'rule_… that served, when a rule served' })),
  errorCode: Type.Optional(Type.String({ description: 'FLAG_NOT_FOUND, PARSE_ERROR, TYPE_MISMATCH, INVALID_CONTEXT, GENERAL, …' })),
  errorMessage: Type.Optional(Type.String()),
});

export const BulkEvaluationSchema = Type.Object({ results: Type.Array(EvaluationResultSchema) });

/** A single result for `{flagKey}`, `{results}` otherwise. */
export const EvaluateResponse = Type.Union([EvaluationResultSchema, BulkEvaluationSchema]);
