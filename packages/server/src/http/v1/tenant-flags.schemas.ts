import { Type } from 'typebox';
import { CreateFlagBody } from './catalog.schemas.js';
import { environmentHeader, tenantIdHeader } from './tenant-context.js';

const nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

const flagKey = Type.String({ minLength: 1, maxLength: 1000, description: 'The flag key' });
const projectId = Type.String({ minLength: 1, maxLength: 200, description: 'proj_…, the number, or the project key' });

/** Headers of IntelliToggle's tenant flag routes. */
export const TenantFlagHeaders = Type.Object({
  'x-tenant-id': Type.Optional(tenantIdHeader),
  'x-environment': Type.Optional(environmentHeader),
  'if-match': Type.Optional(Type.String({ maxLength: 200, description: 'The ETag (flag version) last read; a stale one answers 412' })),
});

export const TenantFlagParams = Type.Object({ flagKey });
export const TenantVariationParams = Type.Object({ flagKey, variationId: Type.String({ minLength: 1, maxLength: 1000, description: 'var_…, the number, or the variation key' }) });
export const ProjectFlagsParams = Type.Object({ projectId });
export const ProjectFlagParams = Type.Object({ projectId, flagKey });

/** `POST /flags`: the project flag body plus where it goes. */
export const CreateTenantFlagBody = Type.Object(
  {
    ...CreateFlagBody.properties,
    projectId: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: "proj_…, the number or the project key; default: the tenant's default project" })),
  },
  { additionalProperties: false, description: "Boolean flags get `on` (true) and `off` (false) unless variations are given. Without `projectId` the flag goes to the tenant's default project." },
);

export const SuccessSchema = Type.Object({ success: Type.Boolean() });
export const NoContentSchema = Type.Null({ description: 'No Content' });

export const EvaluateFlagBody = Type.Object(
  {
    targetingKey: Type.Optional(Type.String({ maxLength: 1024, description: 'Identifies the subject; what rollouts bucket by' })),
    attributes: Type.Optional(Type.Object({}, { additionalProperties: true, description: 'Context attributes, addressable by dotted path; at most 10 levels deep' })),
    environment: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Environment key; also X-Environment (they must agree); default production' })),
  },
  { additionalProperties: false },
);

export const EvaluateFlagResponse = Type.Object({
  enabled: Type.Boolean({ description: 'Whether the flag is switched on in the environment' }),
  value: Type.Unknown({ description: 'The served value (null when none could be served)' }),
  reason: Type.Union(
    [Type.Literal('RULE_MATCH'), Type.Literal('TARGET_MATCH'), Type.Literal('FALLTHROUGH'), Type.Literal('OFF'), Type.Literal('PREREQUISITE_FAILED'), Type.Literal('ERROR')],
    { description: "Which step decided, the engine's `kind`" },
  ),
  flagKey: Type.String(),
  variation: nullable(Type.String({ description: 'The served variation key' })),
  environment: Type.String({ description: 'The environment evaluated in' }),
  ruleId: Type.Optional(Type.String({ description: 'rule_… that served, when a rule served' })),
  errorCode: Type.Optional(Type.String({ description: 'PARSE_ERROR, INVALID_CONTEXT, GENERAL, … when reason is ERROR' })),
  errorMessage: Type.Optional(Type.String()),
});
