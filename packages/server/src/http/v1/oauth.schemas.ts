import { Type } from 'typebox';
import { oauthScopes } from '../../features/oauth-clients/oauth-client-service.js';
import { tenantIdHeader } from './tenant-context.js';

const nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const timestamp = Type.String({ format: 'date-time' });

/** An OAuth client as lists show it: never the secret or its hash. */
export const OAuthClientSchema = Type.Object({
  clientId: Type.String({ description: 'client_…: the client_id of the token endpoint' }),
  name: Type.String(),
  scopes: Type.Array(Type.String(), { description: `Granted scopes, of ${oauthScopes.join(', ')}` }),
  createdAt: timestamp,
  lastUsedAt: nullable(Type.String({ format: 'date-time', description: 'When a token was last issued to it' })),
  revokedAt: nullable(timestamp),
});

export const OAuthClientListSchema = Type.Array(OAuthClientSchema);

/** The answer to a create: the client plus its secret, shown this once. */
export const CreatedOAuthClientSchema = Type.Object({
  ...OAuthClientSchema.properties,
  clientSecret: Type.String({ description: 'sycs_…: shown only now; only its SHA-256 is stored. Store it securely.' }),
});

/** Unknown scopes are named by the service (422), so the schema only bounds the list. */
export const CreateOAuthClientBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    scopes: Type.Array(Type.String({ maxLength: 64 }), { maxItems: 20, description: `Any of ${oauthScopes.join(', ')}` }),
  },
  { additionalProperties: false },
);

export const OAuthClientParams = Type.Object({ clientId: Type.String({ maxLength: 64, description: 'client_… or the number' }) });

/** `X-Tenant-ID`, documented here; `requireTenantHeader` enforces it before validation. */
export const TenantHeaders = Type.Object({ 'x-tenant-id': Type.Optional(tenantIdHeader) });

/**
 * The token request (RFC 6749 §4.4.2), form-encoded. Client credentials go here or in HTTP
 * Basic (§2.3.1); every check is the route's, so that each failure gets its RFC error code.
 */
export const TokenRequestBody = Type.Object({
  grant_type: Type.Optional(Type.String({ description: 'client_credentials' })),
  client_id: Type.Optional(Type.String()),
  client_secret: Type.Optional(Type.String()),
  scope: Type.Optional(Type.String({ description: "Space-separated; absent: every scope of the client" })),
});

/** RFC 6749 §5.1. */
export const TokenSchema = Type.Object({
  access_token: Type.String(),
  token_type: Type.Literal('Bearer'),
  expires_in: Type.Integer(),
  scope: Type.String({ description: 'The granted scopes, space-separated' }),
});

/** RFC 6749 §5.2 (`application/json`). */
export const OAuthErrorSchema = Type.Object({
  error: Type.Union(
    ['invalid_request', 'invalid_client', 'invalid_grant', 'unauthorized_client', 'unsupported_grant_type', 'invalid_scope'].map((c) => Type.Literal(c)),
  ),
  error_description: Type.String(),
});
