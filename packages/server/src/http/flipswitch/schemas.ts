import { Type } from 'typebox';
import { PathId } from './ids.js';

const nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const timestamp = Type.String({ format: 'date-time' });
const json = (description: string) => Type.Unknown({ description });

/** Every Flipswitch route takes a user bearer token. */
export const bearer = [{ bearerAuth: [] }];

// ---- paths and queries ----------------------------------------------------------------------

export const ProjectParams = Type.Object({ projectId: PathId('Project id') });
export const EnvironmentParams = Type.Object({ ...ProjectParams.properties, envId: PathId('Environment id') });
export const FlagParams = Type.Object({ ...ProjectParams.properties, flagId: PathId('Flag id') });
export const FlagEnvironmentParams = Type.Object({ ...FlagParams.properties, envId: PathId('Environment id') });

/** Lists answer every item up to `limit` (default 1000); the total is in X-Total-Count. */
export const ListQuery = Type.Object(
  {
    limit: Type.Optional(Type.String({ pattern: '^([1-9][0-9]{0,2}|1000)$', description: 'Page size, 1 to 1000 (default 1000)' })),
    offset: Type.Optional(Type.String({ pattern: '^(0|[1-9][0-9]{0,14})$', description: 'Items to skip (default 0)' })),
  },
  { additionalProperties: false },
);

export const AuditLogQuery = Type.Object(
  {
    limit: Type.Optional(Type.String({ pattern: '^([1-9][0-9]{0,2}|1000)$', description: 'Max entries to return, 1 to 1000 (default 50)' })),
    offset: Type.Optional(Type.String({ pattern: '^(0|[1-9][0-9]{0,14})$', description: 'Pagination offset (default 0)' })),
    flagId: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,15}$', description: 'Filter by flag (its id; works for deleted flags too)' })),
    userId: Type.Optional(Type.String({ pattern: '^(user-)?[1-9][0-9]{0,15}$', description: 'Filter by user: user-123 (or 123)' })),
  },
  { additionalProperties: false },
);

// ---- account --------------------------------------------------------------------------------

export const MeSchema = Type.Object({
  id: Type.String({ description: 'user-<n>' }),
  email: Type.String(),
  name: nullable(Type.String()),
  organizationId: nullable(Type.String({ description: 'org-<n>: the organisation this request acts in (token or X-Tenant-ID)' })),
});

// ---- projects and environments --------------------------------------------------------------

export const ProjectSchema = Type.Object({
  id: Type.Integer(),
  key: Type.String({ description: 'kebab-case, unique in the organisation' }),
  name: Type.String(),
  description: nullable(Type.String()),
  organizationId: Type.String({ description: 'org-<n>' }),
});
export const ProjectListSchema = Type.Array(ProjectSchema);

export const CreateProjectBody = Type.Object(
  {
    key: Type.String({ maxLength: 1000, description: 'Kebab-case (e.g. my-app, feature-flags): a-z, 0-9 and single dashes, at most 100, not only digits' }),
    name: Type.String({ minLength: 1, maxLength: 200 }),
    description: Type.Optional(nullable(Type.String({ maxLength: 2000 }))),
  },
  { additionalProperties: false },
);

export const UpdateProjectBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    description: Type.Optional(nullable(Type.String({ maxLength: 2000 }))),
  },
  { additionalProperties: false, description: 'Absent = unchanged, null = cleared (description); the key never changes' },
);

export const EnvironmentSchema = Type.Object({
  id: Type.Integer(),
  key: Type.String(),
  name: Type.String(),
  projectId: Type.Integer(),
});
export const EnvironmentListSchema = Type.Array(EnvironmentSchema);

export const CreateEnvironmentBody = Type.Object(
  {
    key: Type.String({ maxLength: 1000, description: '[A-Za-z0-9._-]{1,200}; never changes' }),
    name: Type.String({ minLength: 1, maxLength: 200 }),
  },
  { additionalProperties: false },
);

// ---- flags ----------------------------------------------------------------------------------

export const FlagTypeSchema = Type.Union([Type.Literal('boolean'), Type.Literal('string'), Type.Literal('number'), Type.Literal('object')], {
  description: 'boolean, string, number or object (any JSON value)',
});

export const VariantSchema = Type.Object({ key: Type.String(), name: Type.String(), value: json('A value of the flag’s type') });

export const FlagSchema = Type.Object({
  id: Type.Integer(),
  key: Type.String(),
  name: Type.String(),
  type: FlagTypeSchema,
  defaultValue: json('The value served when nothing else applies'),
  description: nullable(Type.String()),
  variants: Type.Array(VariantSchema, { description: 'What rules and rollouts can serve, by key (boolean flags: on, off)' }),
});
export const FlagListSchema = Type.Array(FlagSchema);

export const CreateFlagBody = Type.Object(
  {
    key: Type.String({ maxLength: 1000, description: '[A-Za-z0-9._-]{1,200}, unique in the project' }),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Default: the key' })),
    type: FlagTypeSchema,
    defaultValue: Type.Optional(json('Boolean flags default to false; other types need it unless variants are given (then it picks one by value)')),
    description: Type.Optional(nullable(Type.String({ maxLength: 2000 }))),
    variants: Type.Optional(
      Type.Array(
        Type.Object(
          { key: Type.Optional(Type.String({ maxLength: 1000 })), name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })), value: json('A value of the flag’s type') },
          { additionalProperties: false },
        ),
        { maxItems: 1000, description: 'Default: boolean on/off; otherwise one variant `default` holding defaultValue' },
      ),
    ),
  },
  { additionalProperties: false },
);

export const UpdateFlagBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    description: Type.Optional(nullable(Type.String({ maxLength: 2000 }))),
    defaultValue: Type.Optional(json('Must be the value of one of the flag’s variants; that variant becomes the default')),
  },
  { additionalProperties: false, description: 'Absent = unchanged, null = cleared (description); key and type never change' },
);

// ---- rules ----------------------------------------------------------------------------------

export const ConditionSchema = Type.Object(
  {
    attribute: Type.Optional(Type.String({ maxLength: 1000, description: 'Context attribute (`email`, `user.plan`); not used by IN_SEGMENT/NOT_IN_SEGMENT' })),
    operator: Type.String({ minLength: 1, maxLength: 64, description: 'EQUALS, NOT_EQUALS, IN, NOT_IN, CONTAINS, STARTS_WITH, ENDS_WITH, MATCHES, GREATER_THAN, LESS_THAN, SEMVER_*, BEFORE, AFTER, EXISTS, IN_SEGMENT, … (the engine’s operators)' }),
    value: Type.Optional(json('A scalar, a list, a pattern, a version, a date, or segment key(s)')),
    ignoreCase: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
const ConditionsSchema = Type.Array(ConditionSchema, { maxItems: 500, description: 'All must hold; at most 500' });

export const PercentageRolloutSchema = Type.Object(
  {
    variants: Type.Array(Type.Object({ variant: Type.String({ maxLength: 200 }), weight: Type.Integer({ minimum: 0 }) }, { additionalProperties: false }), {
      minItems: 1,
      maxItems: 1000,
      description: 'Variants and integer weights (percentages when they total 100; any total from 1 to 2^31-1 works)',
    }),
    bucketBy: Type.Optional(Type.String({ maxLength: 1000, description: 'Context attribute hashed to pick the bucket (default targetingKey)' })),
  },
  { additionalProperties: false },
);

export const RuleSchema = Type.Object({
  id: Type.Integer(),
  priority: Type.Integer({ description: '1-based; the first matching rule serves' }),
  conditions: Type.Array(ConditionSchema),
  variant: nullable(Type.String({ description: 'Variant served; null when the rule serves a percentageRollout' })),
  percentageRollout: nullable(PercentageRolloutSchema),
  segments: Type.Array(Type.String(), { description: 'Segment keys the subject must all be in' }),
  description: nullable(Type.String()),
});

export const FlagRulesSchema = Type.Object({
  enabled: Type.Boolean(),
  defaultVariant: Type.String({ description: 'Served when no rule matches (and, with percentageRollout, when the subject lacks bucketBy)' }),
  rules: Type.Array(RuleSchema),
  percentageRollout: nullable(PercentageRolloutSchema),
});

export const PutRuleSchema = Type.Object(
  {
    id: Type.Optional(Type.Integer({ description: 'A current rule’s id keeps that id' })),
    priority: Type.Optional(Type.Integer({ minimum: 1, description: 'Order (ascending; ties keep array order); default: the array position' })),
    conditions: Type.Optional(ConditionsSchema),
    variant: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    percentageRollout: Type.Optional(PercentageRolloutSchema),
    segments: Type.Optional(Type.Array(Type.String({ maxLength: 200 }), { maxItems: 100 })),
    description: Type.Optional(nullable(Type.String({ maxLength: 2000 }))),
  },
  { additionalProperties: false, description: 'Exactly one of variant and percentageRollout' },
);

export const PutFlagRulesBody = Type.Object(
  {
    enabled: Type.Boolean(),
    defaultVariant: Type.Optional(nullable(Type.String({ minLength: 1, maxLength: 200, description: 'Default: the flag’s default variant' }))),
    rules: Type.Array(PutRuleSchema, { maxItems: 1000 }),
    percentageRollout: Type.Optional(nullable(PercentageRolloutSchema)),
  },
  { additionalProperties: false },
);

// ---- segments -------------------------------------------------------------------------------

export const SegmentSchema = Type.Object({
  id: Type.Integer(),
  key: Type.String(),
  name: Type.String(),
  description: nullable(Type.String()),
  conditions: Type.Array(ConditionSchema),
});
export const SegmentListSchema = Type.Array(SegmentSchema);

export const CreateSegmentBody = Type.Object(
  {
    key: Type.String({ maxLength: 1000, description: '[A-Za-z0-9._-]{1,200}, unique in the project' }),
    name: Type.String({ maxLength: 1000 }),
    description: Type.Optional(nullable(Type.String({ maxLength: 2000 }))),
    conditions: Type.Optional(ConditionsSchema),
  },
  { additionalProperties: false },
);

// ---- API keys -------------------------------------------------------------------------------

export const ApiKeySchema = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  prefix: Type.String({ description: 'The first characters of the key (the key itself is never shown again)' }),
  createdAt: timestamp,
});
export const ApiKeyListSchema = Type.Array(ApiKeySchema);

export const CreateApiKeyBody = Type.Object({ name: Type.String({ maxLength: 1000 }) }, { additionalProperties: false });

export const CreatedApiKeySchema = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  key: Type.String({ description: 'The full key: shown this once, store it securely' }),
  createdAt: timestamp,
});

// ---- audit log ------------------------------------------------------------------------------

export const AuditEntrySchema = Type.Object({
  id: Type.Integer(),
  action: Type.String({ description: 'FLAG_UPDATED, FLAG_RULES_REPLACED, PROJECT_CREATED, API_KEY_CREATED, …' }),
  userId: nullable(Type.String({ description: 'user-<n>; null for API keys, clients and the system' })),
  userName: nullable(Type.String()),
  resourceType: Type.String({ description: 'flag, project, environment, segment, api_key, …' }),
  resourceId: nullable(Type.String()),
  details: Type.Object({
    flagKey: nullable(Type.String()),
    environment: Type.Optional(Type.String({ description: 'For per-environment flag changes (rules, enabled): the environment key' })),
    changes: Type.Array(Type.String(), { description: '"field: before -> after"' }),
  }),
  timestamp,
});
export const AuditLogSchema = Type.Array(AuditEntrySchema);
