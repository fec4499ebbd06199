import { Type } from 'typebox';
import { EvaluationContextSchema, EvaluationResultSchema } from './evaluate.schemas.js';

const keyPattern = '^[A-Za-z0-9._-]{1,200}$';
const FlagKey = Type.String({ pattern: keyPattern, description: 'A flag key' });
const nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

export const EnvironmentEvaluateParams = Type.Object({
  project_id: Type.String({ maxLength: 200, description: 'proj_…, the number, or the project key' }),
  environment_key: Type.String({ pattern: keyPattern, description: 'The environment key (`production`, `staging`, …)' }),
});

export const EnvironmentEvaluateBody = Type.Object(
  {
    context: Type.Optional(EvaluationContextSchema),
    flagKeys: Type.Optional(Type.Array(FlagKey, { maxItems: 1000, description: 'Flags to evaluate, in this order (at most 1,000); absent: every flag of the environment' })),
    explain: Type.Optional(Type.String({ pattern: keyPattern, description: 'A flag (of the environment, and of flagKeys when given) whose result carries `explanation`' })),
  },
  { additionalProperties: false, description: 'A context to try, the flags to evaluate, and the one flag to explain' },
);

const SegmentMembershipSchema = Type.Object({
  segment: Type.String({ description: 'Segment key' }),
  member: Type.Boolean({ description: 'Whether the subject is in it (included, or not excluded and matching its conditions)' }),
});

const RolloutExplanationSchema = Type.Object(
  {
    bucket: nullable(Type.Integer({ description: 'The bucket in [0, totalWeight)' })),
    totalWeight: Type.Integer(),
    variation: nullable(Type.String({ description: 'The variation the bucket falls in' })),
  },
  { description: 'Where a rollout put the subject; bucket and variation null when the bucketing attribute is missing (the default serve then applies)' },
);

const ConditionExplanationSchema = Type.Object({
  index: Type.Integer({ description: "Index in the rule's conditions, as configured (matches `conditions.N` of the rule)" }),
  held: nullable(Type.Boolean({ description: 'Whether the condition held' })),
  segments: Type.Optional(Type.Array(SegmentMembershipSchema, { description: 'For IN_SEGMENT/NOT_IN_SEGMENT: each named segment and membership' })),
});

const RuleExplanationSchema = Type.Object({
  index: Type.Integer({ description: '0-based position in priority order' }),
  ruleId: Type.String({ description: 'rule_…' }),
  status: Type.Union([Type.Literal('MATCHED'), Type.Literal('NOT_MATCHED'), Type.Literal('NOT_EVALUATED')], {
    description: 'NOT_EVALUATED: an earlier rule decided. A MATCHED rule whose rollout had no bucketing value falls to the default serve',
  }),
  conditions: Type.Array(ConditionExplanationSchema, { description: 'Every condition of an evaluated rule, each checked (not only up to the first that failed); held null: could not be read' }),
  segments: Type.Array(SegmentMembershipSchema, { description: "The rule's segments (all required)" }),
  rollout: Type.Optional(RolloutExplanationSchema),
});

export const ExplanationSchema = Type.Object(
  {
    decidedBy: Type.Union(
      [Type.Literal('ERROR'), Type.Literal('OFF'), Type.Literal('PREREQUISITE'), Type.Literal('TARGET'), Type.Literal('EXPRESSION'), Type.Literal('RULE'), Type.Literal('DEFAULT')],
      { description: 'The step that decided: OFF (disabled), PREREQUISITE (one failed), TARGET (individual target), EXPRESSION (JSONLogic/flagd targeting), RULE, DEFAULT (default serve), ERROR' },
    ),
    enabled: Type.Boolean({ description: 'Whether the flag is on in this environment' }),
    prerequisites: Type.Array(
      Type.Object({
        flagKey: Type.String(),
        requiredVariation: Type.String(),
        enabled: Type.Boolean({ description: 'Whether the prerequisite flag is on (a disabled one fails)' }),
        variation: nullable(Type.String({ description: 'The variation it resolved to' })),
        passed: Type.Boolean(),
      }),
      { description: 'In order, up to the first that failed (evaluation stops there)' },
    ),
    target: nullable(
      Type.Object({
        targetingKey: nullable(Type.String()),
        matched: Type.Boolean({ description: 'Whether the targeting key is an individual target' }),
      }, { description: 'Individual targets; null when the flag has none or evaluation did not get there' }),
    ),
    expression: Type.Boolean({ description: 'True when a JSONLogic/flagd targeting expression decided (no per-rule breakdown)' }),
    rules: Type.Array(RuleExplanationSchema, { description: 'Every rule in priority order' }),
    defaultServe: Type.Object({ served: Type.Boolean(), rollout: Type.Optional(RolloutExplanationSchema) }, { description: 'Whether the default serve (or default variation) served' }),
  },
  { description: "How the engine reached the flag's result" },
);

export const EnvironmentEvaluationSchema = Type.Object(
  { ...EvaluationResultSchema.properties, explanation: Type.Optional(ExplanationSchema) },
  { description: 'One flag’s result, as POST /api/v1/evaluate gives it; the explained flag’s carries `explanation`' },
);

export const EnvironmentEvaluateResponse = Type.Object({
  environment: Type.String({ description: 'The environment key evaluated' }),
  results: Type.Array(EnvironmentEvaluationSchema, { description: 'In flagKeys order, or every flag of the environment' }),
});
