import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { NewFlag } from '../../features/flags/flag-service.js';
import { requireUser } from '../plugins/identify.js';
import { pathId } from './ids.js';
import { toDomainFlagType, toFlagBody } from './mappers.js';
import { listPage, totalCountHeader } from './paging.js';
import { problems } from './problem.js';
import { bearer, CreateFlagBody, FlagListSchema, FlagParams, FlagSchema, ListQuery, ProjectParams, UpdateFlagBody } from './schemas.js';

/** A project's flags. */
export const flagRoutes: FastifyPluginAsync = async (root) => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const { flags } = app.services;

  app.get('/projects/:projectId/flags', {
    schema: {
      operationId: 'flipswitchListFlags',
      tags: ['flipswitch-flags'],
      summary: 'The project’s flags, oldest first; project member',
      security: bearer,
      params: ProjectParams,
      querystring: ListQuery,
      response: { 200: FlagListSchema, ...problems(401, 403, 404) },
    },
  }, async (request, reply) => {
    const page = await flags.list(requireUser(request), pathId(request.params.projectId, 'Project'), listPage(request.query));
    reply.header(totalCountHeader, String(page.total));
    return page.items.map(toFlagBody);
  });

  app.post('/projects/:projectId/flags', {
    schema: {
      operationId: 'flipswitchCreateFlag',
      tags: ['flipswitch-flags'],
      summary: 'Create a flag of type boolean, string, number or object; project admin',
      security: bearer,
      params: ProjectParams,
      body: CreateFlagBody,
      response: { 201: FlagSchema, ...problems(401, 403, 404, 409, 422) },
    },
  }, async (request, reply) => {
    const b = request.body;
    const input: NewFlag = {
      key: b.key,
      type: toDomainFlagType(b.type),
      ...(b.name !== undefined ? { name: b.name } : {}),
      ...(b.defaultValue !== undefined ? { defaultValue: b.defaultValue } : {}),
      ...(b.description !== undefined ? { description: b.description } : {}),
      ...(b.variants !== undefined ? { variations: b.variants.map((v) => ({ value: v.value, ...(v.key !== undefined ? { key: v.key } : {}), ...(v.name !== undefined ? { name: v.name } : {}) })) } : {}),
    };
    const created = await flags.create(requireUser(request), pathId(request.params.projectId, 'Project'), input);
    return reply.status(201).send(toFlagBody(created));
  });

  app.put('/projects/:projectId/flags/:flagId', {
    schema: {
      operationId: 'flipswitchUpdateFlag',
      tags: ['flipswitch-flags'],
      summary: 'Change name, description, defaultValue (absent = unchanged); project admin',
      security: bearer,
      params: FlagParams,
      body: UpdateFlagBody,
      response: { 200: FlagSchema, ...problems(401, 403, 404, 409, 422) },
    },
  }, async (request) => {
    const { projectId, flagId } = request.params;
    const b = request.body;
    const updated = await flags.update(
      requireUser(request),
      { projectRef: pathId(projectId, 'Project'), flagId: pathId(flagId, 'Flag') },
      {
        ...(b.name !== undefined ? { name: b.name } : {}),
        ...(b.description !== undefined ? { description: b.description } : {}),
        ...(b.defaultValue !== undefined ? { defaultValue: b.defaultValue } : {}),
      },
    );
    return toFlagBody(updated);
  });
};
