import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ConditionConfig } from '@switchyard/engine';
import { requireUser } from '../plugins/identify.js';
import { pathId } from './ids.js';
import { toSegmentBody } from './mappers.js';
import { listPage, totalCountHeader } from './paging.js';
import { problems } from './problem.js';
import { bearer, CreateSegmentBody, ListQuery, ProjectParams, SegmentListSchema, SegmentSchema } from './schemas.js';

/** A project's segments. */
export const segmentRoutes: FastifyPluginAsync = async (root) => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const { segments } = app.services;

  app.get('/projects/:projectId/segments', {
    schema: {
      operationId: 'flipswitchListSegments',
      tags: ['flipswitch-segments'],
      summary: 'The project’s segments by key; project member',
      security: bearer,
      params: ProjectParams,
      querystring: ListQuery,
      response: { 200: SegmentListSchema, ...problems(401, 403, 404) },
    },
  }, async (request, reply) => {
    const page = await segments.list(requireUser(request), pathId(request.params.projectId, 'Project'), listPage(request.query));
    reply.header(totalCountHeader, String(page.total));
    return page.items.map(toSegmentBody);
  });

  app.post('/projects/:projectId/segments', {
    schema: {
      operationId: 'flipswitchCreateSegment',
      tags: ['flipswitch-segments'],
      summary: 'Create a segment (key, name, conditions judged by the engine); project admin',
      security: bearer,
      params: ProjectParams,
      body: CreateSegmentBody,
      response: { 201: SegmentSchema, ...problems(401, 403, 404, 409, 422) },
    },
  }, async (request, reply) => {
    const b = request.body;
    const created = await segments.create(requireUser(request), pathId(request.params.projectId, 'Project'), {
      key: b.key,
      name: b.name,
      ...(b.description !== undefined ? { description: b.description } : {}),
      ...(b.conditions !== undefined ? { conditions: b.conditions as ConditionConfig[] } : {}),
    });
    return reply.status(201).send(toSegmentBody(created));
  });
};
