import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { requireUser } from '../plugins/identify.js';
import { pathId } from './ids.js';
import { toApiKeyBody } from './mappers.js';
import { listPage, totalCountHeader } from './paging.js';
import { problems } from './problem.js';
import { ApiKeyListSchema, bearer, CreateApiKeyBody, CreatedApiKeySchema, EnvironmentParams, ListQuery } from './schemas.js';

/** API keys of one environment. */
export const apiKeyRoutes: FastifyPluginAsync = async (root) => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const { apiKeys } = app.services;

  app.get('/projects/:projectId/environments/:envId/api-keys', {
    schema: {
      operationId: 'flipswitchListApiKeys',
      tags: ['flipswitch-api-keys'],
      summary: 'The environment’s keys (name and prefix; never the key), newest first; project member',
      security: bearer,
      params: EnvironmentParams,
      querystring: ListQuery,
      response: { 200: ApiKeyListSchema, ...problems(401, 403, 404) },
    },
  }, async (request, reply) => {
    const p = request.params;
    const page = await apiKeys.listInEnvironment(requireUser(request), pathId(p.projectId, 'Project'), pathId(p.envId, 'Environment'), listPage(request.query));
    reply.header(totalCountHeader, String(page.total));
    return page.items.map(toApiKeyBody);
  });

  app.post('/projects/:projectId/environments/:envId/api-keys', {
    schema: {
      operationId: 'flipswitchCreateApiKey',
      tags: ['flipswitch-api-keys'],
      summary: 'Create an SDK key for the environment; the full key is in this response only; admin',
      security: bearer,
      params: EnvironmentParams,
      body: CreateApiKeyBody,
      response: { 201: CreatedApiKeySchema, ...problems(401, 403, 404, 422) },
    },
  }, async (request, reply) => {
    const p = request.params;
    // `sdk` keys evaluate and stream: what Flipswitch's SDK keys are for.
    const { key, secret } = await apiKeys.createInEnvironment(requireUser(request), pathId(p.projectId, 'Project'), pathId(p.envId, 'Environment'), { name: request.body.name, scope: 'sdk', expiresAt: null });
    return reply.status(201).header('Cache-Control', 'no-store').send({ id: key.id, name: key.name, key: secret, createdAt: key.createdAt });
  });
};
