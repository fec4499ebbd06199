import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { requireAuthentication } from './authenticated.js';
import { requireActor } from '../plugins/identify.js';
import { problems, bearer } from './access.schemas.js';
import { ApiKeyListQuery, ApiKeyListSchema, ApiKeyParams, ApiKeyProjectParams, ApiKeySchema, CreateApiKeyBody, CreatedApiKeySchema } from './api-keys.schemas.js';
import { environmentRefOf, toApiKeyBody } from './api-keys.mappers.js';
import { parseId } from './ids.js';
import { pageFromQuery, totalCountHeader } from './paging.js';

const tags = ['api-keys'];

/** `/api/v1/projects/{project_id}/api-keys`: environment-scoped keys for evaluate and stream. */
export const apiKeyRoutes: FastifyPluginAsync = async (root) => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  requireAuthentication(app);
  const { apiKeys } = app.services;

  app.get('/api/v1/projects/:project_id/api-keys', {
    schema: {
      operationId: 'listApiKeys',
      tags,
      summary: "The project's API keys, newest first (revoked ones too); never the key itself",
      security: bearer,
      params: ApiKeyProjectParams,
      querystring: ApiKeyListQuery,
      response: { 200: ApiKeyListSchema, ...problems(401, 403, 404) },
    },
  }, async (request, reply) => {
    const actor = requireActor(request);
    const q = request.query;
    const page = await apiKeys.list(actor, request.params.project_id, {
      ...pageFromQuery(q),
      ...(q.environment !== undefined ? { environment: environmentRefOf(q.environment) } : {}),
    });
    reply.header(totalCountHeader, String(page.total));
    return page.items.map(toApiKeyBody);
  });

  app.post('/api/v1/projects/:project_id/api-keys', {
    schema: {
      operationId: 'createApiKey',
      tags,
      summary: 'Create an API key for one environment; the answer carries the key, shown this once',
      security: bearer,
      params: ApiKeyProjectParams,
      body: CreateApiKeyBody,
      response: { 200: CreatedApiKeySchema, ...problems(401, 403, 404, 422) },
    },
  }, async (request, reply) => {
    const actor = requireActor(request);
    const b = request.body;
    const { key, secret } = await apiKeys.create(actor, request.params.project_id, {
      name: b.name,
      environment: environmentRefOf(b.environment),
      scope: b.scope,
      expiresAt: b.expiresAt ?? null,
      ...(b.format !== undefined ? { format: b.format } : {}),
    });
    reply.header('Cache-Control', 'no-store');
    return { ...toApiKeyBody(key), key: secret };
  });

  app.get('/api/v1/projects/:project_id/api-keys/:key_id', {
    schema: {
      operationId: 'getApiKey',
      tags,
      summary: 'One API key (without the key itself)',
      security: bearer,
      params: ApiKeyParams,
      response: { 200: ApiKeySchema, ...problems(401, 403, 404) },
    },
  }, async (request) => {
    const actor = requireActor(request);
    return toApiKeyBody(await apiKeys.get(actor, request.params.project_id, parseId('apiKey', request.params.key_id)));
  });

  const revokeSchema = (operationId: string, summary: string) => ({
    operationId,
    tags,
    summary,
    security: bearer,
    params: ApiKeyParams,
    response: { 200: ApiKeySchema, ...problems(401, 403, 404) },
  });

  app.delete('/api/v1/projects/:project_id/api-keys/:key_id', {
    schema: revokeSchema('revokeApiKey', 'Revoke an API key: refused from the next request on; the key stays listed with revokedAt'),
  }, async (request) => {
    const actor = requireActor(request);
    return toApiKeyBody(await apiKeys.revoke(actor, request.params.project_id, parseId('apiKey', request.params.key_id)));
  });

  app.post('/api/v1/projects/:project_id/api-keys/:key_id/revoke', {
    schema: revokeSchema('revokeApiKeyByPost', 'Revoke an API key (the same as DELETE, for clients that cannot send DELETE)'),
  }, async (request) => {
    const actor = requireActor(request);
    return toApiKeyBody(await apiKeys.revoke(actor, request.params.project_id, parseId('apiKey', request.params.key_id)));
  });
};
