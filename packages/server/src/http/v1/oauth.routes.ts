import type { FastifyError, FastifyPluginAsync, FastifyReply } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { DomainError, RateLimitedError } from '../../domain/errors.js';
import type { OAuthClient } from '../../features/oauth-clients/oauth-client-store.js';
import { requireActor } from '../plugins/identify.js';
import { bearer, problems } from './access.schemas.js';
import { requireAuthentication } from './authenticated.js';
import { formatId, parseId } from './ids.js';
import {
  CreatedOAuthClientSchema,
  CreateOAuthClientBody,
  OAuthClientListSchema,
  OAuthClientParams,
  OAuthErrorSchema,
  TenantHeaders,
  TokenRequestBody,
  TokenSchema,
} from './oauth.schemas.js';
import { pageFromQuery, PageQuery, totalCountHeader } from './paging.js';
import { ProblemSchema, v1ErrorHandler } from './problem.js';
import { requireTenantHeader } from './tenant-context.js';
import { NoContentSchema } from './tenant-flags.schemas.js';
import { Type } from 'typebox';

const tags = ['oauth'];

/** The v1 body of an OAuth client (never its secret or hash). */
export function toOAuthClientBody(c: OAuthClient) {
  return {
    clientId: formatId('oauthClient', c.id),
    name: c.name,
    scopes: c.scopes,
    createdAt: c.createdAt,
    lastUsedAt: c.lastUsedAt,
    revokedAt: c.revokedAt,
  };
}

/**
 * `/api/v1/oauth/clients`: OAuth2 clients of the tenant (create with the secret shown once, list,
 * revoke). IntelliToggle documents `X-Tenant-ID` as required on create (400 `tenant_required`);
 * list and revoke act in `X-Tenant-ID` when sent and otherwise in the token's tenant. A tenant
 * the caller does not act in is 404 either way.
 */
export const oauthClientRoutes: FastifyPluginAsync = async (root) => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  requireAuthentication(app);
  requireTenantHeader(app, { optional: ['GET /api/v1/oauth/clients', 'DELETE /api/v1/oauth/clients/:clientId'] });
  const { oauthClients } = app.services;

  app.post('/api/v1/oauth/clients', {
    schema: {
      operationId: 'createOAuthClient',
      tags,
      summary: 'Create an OAuth client (client-credentials grant); the answer carries clientSecret, shown this once',
      security: bearer,
      headers: TenantHeaders,
      body: CreateOAuthClientBody,
      response: { 201: CreatedOAuthClientSchema, ...problems(401, 403, 404, 422) },
    },
  }, async (request, reply) => {
    const actor = requireActor(request);
    const { client, secret } = await oauthClients.create(actor, actor.organizationId, { name: request.body.name, scopes: request.body.scopes });
    reply.header('Cache-Control', 'no-store');
    return reply.status(201).send({ ...toOAuthClientBody(client), clientSecret: secret });
  });

  app.get('/api/v1/oauth/clients', {
    schema: {
      operationId: 'listOAuthClients',
      tags,
      summary: "The tenant's OAuth clients, newest first (revoked ones too); never the secret. Total in X-Total-Count",
      security: bearer,
      headers: TenantHeaders,
      querystring: Type.Object(PageQuery),
      response: { 200: OAuthClientListSchema, ...problems(401, 403, 404) },
    },
  }, async (request, reply) => {
    const actor = requireActor(request);
    const page = await oauthClients.list(actor, actor.organizationId, pageFromQuery(request.query));
    reply.header(totalCountHeader, String(page.total));
    return page.items.map(toOAuthClientBody);
  });

  app.delete('/api/v1/oauth/clients/:clientId', {
    schema: {
      operationId: 'revokeOAuthClient',
      tags,
      summary: 'Revoke an OAuth client (204): no new tokens, and its tokens are refused from the next request on; it stays listed with revokedAt',
      security: bearer,
      headers: TenantHeaders,
      params: OAuthClientParams,
      response: { 204: NoContentSchema, ...problems(401, 403, 404) },
    },
  }, async (request, reply) => {
    const actor = requireActor(request);
    await oauthClients.revoke(actor, actor.organizationId, parseId('oauthClient', request.params.clientId));
    return reply.code(204).send(null);
  });
};

/** RFC 6749 §5.2 error codes. */
type OAuthErrorCode = 'invalid_request' | 'invalid_client' | 'invalid_grant' | 'unauthorized_client' | 'unsupported_grant_type' | 'invalid_scope';

const oauthCodes = new Set<string>(['invalid_request', 'invalid_client', 'invalid_grant', 'unauthorized_client', 'unsupported_grant_type', 'invalid_scope']);

/** An RFC 6749 error to answer, thrown inside the token route. */
class OAuthProtocolError extends Error {
  constructor(readonly error: OAuthErrorCode, description: string) {
    super(description);
  }
}

/** Sends an RFC 6749 §5.2 error: `application/json` (not problem+json), 401 for invalid_client. */
function sendOAuthError(reply: FastifyReply, error: OAuthErrorCode, description: string): FastifyReply {
  const status = error === 'invalid_client' ? 401 : 400;
  // RFC 9110 §15.5.2: a 401 carries a challenge; RFC 6749 §5.2 requires the Basic one when the
  // client tried Basic, and it is the scheme this endpoint accepts either way.
  if (status === 401) reply.header('WWW-Authenticate', 'Basic realm="switchyard", charset="UTF-8"');
  return reply.status(status).type('application/json; charset=utf-8').send({ error, error_description: description });
}

/** Client credentials from `Authorization: Basic` (RFC 6749 §2.3.1: each part form-urlencoded, then base64). */
function basicCredentials(header: string | undefined): { id: string; secret: string } | 'malformed' | null {
  if (header === undefined) return null;
  const m = /^Basic[ ]+([A-Za-z0-9+/]+=*)\s*$/i.exec(header);
  if (!m) return /^Basic\b/i.test(header) ? 'malformed' : null;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return 'malformed';
  try {
    const unform = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
    return { id: unform(decoded.slice(0, colon)), secret: unform(decoded.slice(colon + 1)) };
  } catch {
    return 'malformed';
  }
}

/** Parses a form body, refusing repeated parameters (RFC 6749 §3.2: each at most once). */
function parseForm(body: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(body)) {
    if (Object.hasOwn(out, key)) throw new OAuthProtocolError('invalid_request', `The parameter ${key} is repeated`);
    out[key] = value;
  }
  return out;
}

/**
 * `POST /api/v1/oauth/token`: the client-credentials grant. Its own encapsulated plugin, because
 * it speaks OAuth rather than v1: a form-encoded body, RFC 6749 error bodies (`application/json`,
 * `{error, error_description}`), and `Cache-Control: no-store` on every answer.
 */
export const oauthTokenRoutes: FastifyPluginAsync = async (root) => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const { oauthClients } = app.services;

  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 16 * 1024 }, (_request, body, done) => {
    try {
      done(null, parseForm(body as string));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
  app.addHook('onSend', async (_request, reply) => {
    reply.header('Cache-Control', 'no-store').header('Pragma', 'no-cache');
  });
  app.setErrorHandler((error: unknown, request, reply) => {
    if (error instanceof OAuthProtocolError) return sendOAuthError(reply, error.error, error.message);
    if (error instanceof DomainError && oauthCodes.has(error.code)) return sendOAuthError(reply, error.code as OAuthErrorCode, error.message);
    // Rate limits and our own failures keep the v1 problem body: RFC 6749 has no code for them.
    const status = (error as FastifyError).statusCode;
    if (error instanceof RateLimitedError || error instanceof DomainError || typeof status !== 'number' || status >= 500) {
      return v1ErrorHandler(error, request, reply);
    }
    const fe = error as FastifyError;
    if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      return sendOAuthError(reply, 'invalid_request', 'Send the parameters as application/x-www-form-urlencoded');
    }
    if (Array.isArray(fe.validation)) {
      const field = fe.validation[0]?.instancePath.replace(/^\//, '') || 'body';
      return sendOAuthError(reply, 'invalid_request', `The request is malformed: ${field} must be a string`);
    }
    return sendOAuthError(reply, 'invalid_request', fe.message || 'The request is malformed');
  });

  app.post('/api/v1/oauth/token', {
    schema: {
      operationId: 'issueOAuthToken',
      tags,
      summary: 'Exchange client credentials for a machine access token (RFC 6749 client-credentials grant)',
      consumes: ['application/x-www-form-urlencoded'],
      security: [{}, { basicAuth: [] }],
      body: TokenRequestBody,
      response: { 200: TokenSchema, 400: OAuthErrorSchema, 401: OAuthErrorSchema, 429: ProblemSchema },
    },
  }, async (request) => {
    const body = request.body ?? {};
    if (!body.grant_type) throw new OAuthProtocolError('invalid_request', 'grant_type is required (client_credentials)');
    if (body.grant_type !== 'client_credentials') {
      throw new OAuthProtocolError('unsupported_grant_type', `grant_type "${body.grant_type}" is not supported; use client_credentials`);
    }
    const basic = basicCredentials(request.headers.authorization);
    if (basic === 'malformed') throw new OAuthProtocolError('invalid_client', 'The Authorization header is not valid HTTP Basic client authentication');
    let id: string | undefined;
    let secret: string | undefined;
    if (basic) {
      if (body.client_secret !== undefined) throw new OAuthProtocolError('invalid_request', 'Authenticate the client one way only: HTTP Basic or client_secret in the body');
      if (body.client_id !== undefined && body.client_id !== basic.id) throw new OAuthProtocolError('invalid_request', 'client_id differs from the one in the Authorization header');
      ({ id, secret } = basic);
    } else {
      id = body.client_id;
      secret = body.client_secret;
    }
    if (!id || !secret) throw new OAuthProtocolError('invalid_client', 'Client authentication is required: client_id and client_secret, in the body or as HTTP Basic');
    const issued = await oauthClients.issueToken({ clientId: parseId('oauthClient', id), clientSecret: secret, scope: body.scope ?? null });
    return { access_token: issued.accessToken, token_type: 'Bearer' as const, expires_in: issued.expiresIn, scope: issued.scopes.join(' ') };
  });
};
