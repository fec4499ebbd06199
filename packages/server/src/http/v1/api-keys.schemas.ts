import { Type } from 'typebox';
import { PageQuery } from './paging.js';

const nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const timestamp = Type.String({ format: 'date-time' });
const Scope = Type.Union([Type.Literal('server'), Type.Literal('sdk'), Type.Literal('stream')], {
  description: 'server and sdk keys evaluate; sdk and stream keys stream',
});

/** An API key as lists and detail views show it: never the secret or its hash. */
export const ApiKeySchema = Type.Object({
  id: Type.String({ description: 'key_…' }),
  name: Type.String(),
  environment: Type.String({ description: 'The environment key' }),
  environmentId: Type.String({ description: 'env_…' }),
  projectId: Type.String({ description: 'proj_…' }),
  scope: Scope,
  prefix: Type.String({ description: 'The first characters of the key, to recognise it' }),
  createdAt: timestamp,
  lastUsedAt: nullable(timestamp),
  expiresAt: nullable(timestamp),
  revokedAt: nullable(timestamp),
});

export const ApiKeyListSchema = Type.Array(ApiKeySchema);

/** The answer to a create: the key's view plus the secret, shown this once. */
export const CreatedApiKeySchema = Type.Object({
  ...ApiKeySchema.properties,
  key: Type.String({ description: 'The secret (`sy_<scope>_…`, or `akey-…` with format togglesmartly). Shown only now: store it safely.' }),
});

export const CreateApiKeyBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    environment: Type.String({ minLength: 1, maxLength: 200, description: 'The environment key, or its id (env_… or the number)' }),
    scope: Scope,
    expiresAt: Type.Optional(nullable(Type.String({ format: 'date-time', description: 'A future instant; absent or null: never expires' }))),
    format: Type.Optional(
      Type.Union([Type.Literal('switchyard'), Type.Literal('togglesmartly')], {
        description: "The key's shape: switchyard (default, sy_<scope>_…) or togglesmartly (akey-<uuid>-<12 alphanumerics>, ToggleSmartly's documented form)",
      }),
    ),
  },
  { additionalProperties: false },
);

export const ApiKeyProjectParams = Type.Object({ project_id: Type.String({ maxLength: 200, description: 'proj_…, the number, or the project key' }) });
export const ApiKeyParams = Type.Object({
  project_id: Type.String({ maxLength: 200, description: 'proj_…, the number, or the project key' }),
  key_id: Type.String({ maxLength: 64, description: 'key_… or the number' }),
});

export const ApiKeyListQuery = Type.Object(
  {
    ...PageQuery,
    environment: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Only keys of this environment (key or id)' })),
  },
);
