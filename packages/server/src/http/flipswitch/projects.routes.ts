import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { requireUser } from '../plugins/identify.js';
import { pathId } from './ids.js';
import { toEnvironmentBody, toProjectBody } from './mappers.js';
import { listPage, totalCountHeader } from './paging.js';
import { problems } from './problem.js';
import {
  bearer,
  CreateEnvironmentBody,
  CreateProjectBody,
  EnvironmentListSchema,
  EnvironmentSchema,
  ListQuery,
  ProjectListSchema,
  ProjectParams,
  ProjectSchema,
  UpdateProjectBody,
} from './schemas.js';

/** Projects and their environments. */
export const projectRoutes: FastifyPluginAsync = async (root) => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const { projects, environments } = app.services;

  app.get('/projects', {
    schema: {
      operationId: 'flipswitchListProjects',
      tags: ['flipswitch-projects'],
      summary: 'Projects you have access to (organisation members see all of the organisation’s), oldest first',
      security: bearer,
      querystring: ListQuery,
      response: { 200: ProjectListSchema, ...problems(401, 404) },
    },
  }, async (request, reply) => {
    const page = await projects.list(requireUser(request), listPage(request.query));
    reply.header(totalCountHeader, String(page.total));
    return page.items.map(toProjectBody);
  });

  app.post('/projects', {
    schema: {
      operationId: 'flipswitchCreateProject',
      tags: ['flipswitch-projects'],
      summary: 'Create a project (kebab-case key) with the organisation’s default environments; organisation admin',
      security: bearer,
      body: CreateProjectBody,
      response: { 201: ProjectSchema, ...problems(401, 403, 404, 409, 422) },
    },
  }, async (request, reply) => {
    const b = request.body;
    const created = await projects.create(requireUser(request), { key: b.key, name: b.name, ...(b.description !== undefined ? { description: b.description } : {}) });
    return reply.status(201).send(toProjectBody(created));
  });

  app.get('/projects/:projectId', {
    schema: {
      operationId: 'flipswitchGetProject',
      tags: ['flipswitch-projects'],
      summary: 'One project; project member',
      security: bearer,
      params: ProjectParams,
      response: { 200: ProjectSchema, ...problems(401, 403, 404) },
    },
  }, async (request) => toProjectBody(await projects.get(requireUser(request), pathId(request.params.projectId, 'Project'))));

  app.put('/projects/:projectId', {
    schema: {
      operationId: 'flipswitchUpdateProject',
      tags: ['flipswitch-projects'],
      summary: 'Change name and description (absent = unchanged, description null = cleared); project admin',
      security: bearer,
      params: ProjectParams,
      body: UpdateProjectBody,
      response: { 200: ProjectSchema, ...problems(401, 403, 404, 422) },
    },
  }, async (request) => toProjectBody(await projects.update(requireUser(request), pathId(request.params.projectId, 'Project'), request.body)));

  app.get('/projects/:projectId/environments', {
    schema: {
      operationId: 'flipswitchListEnvironments',
      tags: ['flipswitch-environments'],
      summary: 'The project’s environments in order; project member',
      security: bearer,
      params: ProjectParams,
      querystring: ListQuery,
      response: { 200: EnvironmentListSchema, ...problems(401, 403, 404) },
    },
  }, async (request, reply) => {
    const page = await environments.list(requireUser(request), pathId(request.params.projectId, 'Project'), listPage(request.query));
    reply.header(totalCountHeader, String(page.total));
    return page.items.map(toEnvironmentBody);
  });

  app.post('/projects/:projectId/environments', {
    schema: {
      operationId: 'flipswitchCreateEnvironment',
      tags: ['flipswitch-environments'],
      summary: 'Add an environment (every flag starts disabled there); project admin',
      security: bearer,
      params: ProjectParams,
      body: CreateEnvironmentBody,
      response: { 201: EnvironmentSchema, ...problems(401, 403, 404, 409, 422) },
    },
  }, async (request, reply) => {
    const created = await environments.create(requireUser(request), pathId(request.params.projectId, 'Project'), request.body);
    return reply.status(201).send(toEnvironmentBody(created));
  });
};
