import { Type } from 'typebox';
import { PageQuery } from './paging.js';

const nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const timestamp = Type.String({ format: 'date-time' });
const keyPattern = '^[A-Za-z0-9._-]{1,200}$';

/** A flag, segment or variation key: `[A-Za-z0-9._-]{1,200}`. */
export const KeySchema = Type.String({ pattern: keyPattern, description: '1 to 200 of A-Z a-z 0-9 . _ -' });

/** The largest number of conditions one rule or segment may have. */
export const maxConditions = 500;

/**
 * One condition. Only its shape is checked here; the engine (the one evaluator) judges operators,
 * operands, patterns and attribute paths, and its findings come back as 422 naming the field.
 */
export const ConditionSchema = Type.Object({
  attribute: Type.Optional(Type.String({ maxLength: 1000, description: 'Dotted attribute path (`email`, `user.plan`); not used by IN_SEGMENT/NOT_IN_SEGMENT' })),
  operator: Type.String({
    minLength: 1,
    maxLength: 64,
    description:
      'EQUALS, NOT_EQUALS, IN, NOT_IN, CONTAINS, NOT_CONTAINS, STARTS_WITH, ENDS_WITH, MATCHES, GREATER_THAN(_OR_EQUAL), LESS_THAN(_OR_EQUAL), SEMVER_EQUAL, SEMVER_GREATER_THAN(_OR_EQUAL), SEMVER_LESS_THAN(_OR_EQUAL), BEFORE, AFTER, EXISTS, NOT_EXISTS, IN_SEGMENT, NOT_IN_SEGMENT',
  }),
  value: Type.Optional(Type.Unknown({ description: 'A scalar, a list, a pattern, a version, a date, or segment key(s)' })),
  ignoreCase: Type.Optional(Type.Boolean({ description: 'Compare strings case-insensitively (string operators)' })),
});

export const ConditionsSchema = Type.Array(ConditionSchema, { maxItems: maxConditions, description: `All must hold; at most ${maxConditions}` });

export const RolloutSchema = Type.Object({
  variations: Type.Array(
    Type.Object({ variation: Type.String({ maxLength: 200 }), weight: Type.Integer({ minimum: 0 }) }),
    { minItems: 1, maxItems: 1000, description: 'Variations and their integer weights (any total from 1 to 2^31-1; 100 reads as percent)' },
  ),
  bucketBy: Type.Optional(Type.String({ maxLength: 1000, description: 'Attribute hashed for bucketing; default targetingKey' })),
  salt: Type.Optional(Type.String({ maxLength: 1000, description: 'Hash prefix; default the flag key' })),
});

/** What is served: exactly one of `variation` and `rollout`. */
export const ServeSchema = Type.Object(
  {
    variation: Type.Optional(Type.String({ description: 'Key of the variation served' })),
    rollout: Type.Optional(RolloutSchema),
  },
  { description: 'Exactly one of `variation` (a variation key) and `rollout` (a weighted split)' },
);

/** As callers may give a serve: a variation key, `{variation}`, `{rollout}`, or a bare rollout. */
export const ServeInputSchema = Type.Union([Type.String({ minLength: 1, maxLength: 200, description: 'A variation key' }), ServeSchema, RolloutSchema], {
  description: 'A variation key (`"on"`), `{"variation": "on"}`, `{"rollout": {"variations": [{"variation": "on", "weight": 50}, …], "bucketBy"?}}`, or the rollout itself',
});

export const TargetSchema = Type.Object({
  variation: Type.String({ maxLength: 200 }),
  values: Type.Array(Type.String({ maxLength: 1000 }), { maxItems: 10000, description: 'Targeting keys served this variation' }),
});

export const PrerequisiteSchema = Type.Object({
  flag: Type.String({ maxLength: 200, description: 'Key of a flag of the same project' }),
  variation: Type.String({ maxLength: 200, description: 'Variation that flag must resolve to in this environment' }),
});

/** A rule as v1 shows it. */
export const RuleSchema = Type.Object({
  id: Type.String({ description: 'rule_…; also the `ruleId` evaluation reports' }),
  flagKey: Type.String(),
  environment: Type.String({ description: 'Environment key' }),
  priority: Type.Integer({ description: '1-based position; the first matching rule serves' }),
  conditions: Type.Array(ConditionSchema),
  segments: Type.Array(Type.String(), { description: 'Keys of segments the subject must all be in' }),
  serve: ServeSchema,
  description: nullable(Type.String()),
  createdAt: timestamp,
  updatedAt: timestamp,
});

export const RuleListSchema = Type.Array(RuleSchema);

/** A flag's configuration in one environment. */
export const FlagEnvironmentSchema = Type.Object({
  flagId: Type.String({ description: 'flag_…' }),
  flagKey: Type.String(),
  projectId: Type.String({ description: 'proj_…' }),
  environmentId: Type.String({ description: 'env_…' }),
  environment: Type.String({ description: 'Environment key' }),
  enabled: Type.Boolean(),
  offVariation: nullable(Type.String({ description: 'Served when disabled or a prerequisite fails; null: the default variation' })),
  defaultServe: nullable(ServeSchema),
  targets: Type.Array(TargetSchema),
  prerequisites: Type.Array(PrerequisiteSchema),
  rules: RuleListSchema,
  version: Type.Integer({ description: '0 until first written; also the ETag' }),
  updatedAt: nullable(timestamp),
});

/** PUT and PATCH of a flag's environment configuration: absent = unchanged, null = cleared. */
export const UpdateFlagEnvironmentBody = Type.Object(
  {
    enabled: Type.Optional(Type.Boolean()),
    offVariation: Type.Optional(nullable(Type.String({ maxLength: 200 }))),
    defaultServe: Type.Optional(nullable(ServeInputSchema)),
    targets: Type.Optional(nullable(Type.Array(TargetSchema, { maxItems: 1000 }))),
    prerequisites: Type.Optional(nullable(Type.Array(PrerequisiteSchema, { maxItems: 100 }))),
  },
  { additionalProperties: false },
);

export const FlagEnvironmentParams = Type.Object({
  project_id: Type.String({ maxLength: 200, description: 'proj_…, the number, or the project key' }),
  flag_key: Type.String({ maxLength: 200 }),
  environment: Type.String({ maxLength: 200, description: 'env_…, the number, or the environment key' }),
});

export const ProjectParams = Type.Object({ project_id: Type.String({ maxLength: 200, description: 'proj_…, the number, or the project key' }) });

export const RuleParams = Type.Object({
  project_id: Type.String({ maxLength: 200, description: 'proj_…, the number, or the project key' }),
  rule_id: Type.String({ maxLength: 64, description: 'rule_… or the number' }),
});

export const RuleListQuery = Type.Object({
  flag: Type.Optional(Type.String({ pattern: keyPattern, description: 'Only rules of the flag with this key' })),
  environment: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Only rules in this environment (env_…, number or key)' })),
  ...PageQuery,
});

export const CreateRuleBody = Type.Object(
  {
    flag: KeySchema,
    environment: Type.String({ minLength: 1, maxLength: 200, description: 'env_…, the number, or the environment key' }),
    conditions: Type.Optional(ConditionsSchema),
    segments: Type.Optional(Type.Array(Type.String({ maxLength: 200 }), { maxItems: 100 })),
    serve: ServeInputSchema,
    description: Type.Optional(nullable(Type.String({ maxLength: 2000 }))),
    priority: Type.Optional(Type.Integer({ minimum: 1, description: '1-based position; default last' })),
  },
  { additionalProperties: false },
);

export const UpdateRuleBody = Type.Object(
  {
    conditions: Type.Optional(ConditionsSchema),
    segments: Type.Optional(Type.Array(Type.String({ maxLength: 200 }), { maxItems: 100 })),
    serve: Type.Optional(ServeInputSchema),
    description: Type.Optional(nullable(Type.String({ maxLength: 2000 }))),
    priority: Type.Optional(Type.Integer({ minimum: 1, description: 'Move the rule to this 1-based position' })),
  },
  { additionalProperties: false },
);

export const ReorderRulesBody = Type.Object(
  {
    flag: KeySchema,
    environment: Type.String({ minLength: 1, maxLength: 200 }),
    ruleIds: Type.Array(Type.String({ maxLength: 64 }), { maxItems: 10000, description: 'Every rule of the flag in the environment, exactly once, in the new order' }),
  },
  { additionalProperties: false },
);

/** A segment as v1 shows it. */
export const SegmentSchema = Type.Object({
  id: Type.String({ description: 'seg_…' }),
  key: Type.String(),
  name: Type.String(),
  description: nullable(Type.String()),
  projectId: Type.String({ description: 'proj_…' }),
  conditions: Type.Array(ConditionSchema),
  included: Type.Array(Type.String(), { description: 'Targeting keys always in the segment' }),
  excluded: Type.Array(Type.String(), { description: 'Targeting keys never in the segment (unless included)' }),
  version: Type.Integer({ description: 'Also the ETag' }),
  createdAt: timestamp,
  updatedAt: timestamp,
});

export const SegmentListSchema = Type.Array(SegmentSchema);

const keyList = Type.Array(Type.String({ maxLength: 1000 }), { maxItems: 10000 });

export const CreateSegmentBody = Type.Object(
  {
    key: KeySchema,
    name: Type.String({ minLength: 1, maxLength: 200 }),
    description: Type.Optional(nullable(Type.String({ maxLength: 2000 }))),
    conditions: Type.Optional(ConditionsSchema),
    included: Type.Optional(keyList),
    excluded: Type.Optional(keyList),
  },
  { additionalProperties: false },
);

/** PATCH: absent = unchanged, null = cleared. The key cannot change. */
export const UpdateSegmentBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    description: Type.Optional(nullable(Type.String({ maxLength: 2000 }))),
    conditions: Type.Optional(nullable(ConditionsSchema)),
    included: Type.Optional(nullable(keyList)),
    excluded: Type.Optional(nullable(keyList)),
  },
  { additionalProperties: false },
);

export const SegmentParams = Type.Object({
  project_id: Type.String({ maxLength: 200, description: 'proj_…, the number, or the project key' }),
  segment: Type.String({ maxLength: 200, description: 'seg_…, the number, or the segment key' }),
});

/** `If-Match: "<version>"` on writes (412 when stale); absent: the write still never loses a concurrent one. */
export const IfMatchHeaders = Type.Object({
  'if-match': Type.Optional(Type.String({ pattern: '^(\\*|(W/)?"?[0-9]{1,15}"?)$', description: 'The ETag (version) read; 412 precondition_failed when it is stale' })),
});

/** A 200 response schema that also documents the `ETag` header (the version to send back in If-Match). */
export function withEtagHeader<T extends object>(schema: T): T {
  return { ...schema, headers: { ETag: { type: 'string', description: 'The version, quoted; send it back in If-Match' } } };
}
