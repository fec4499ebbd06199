import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { NotFoundError } from '../../domain/errors.js';
import { requireActor } from '../plugins/identify.js';
import { bearer, DeletedSchema, PageQuerySchema, problems } from './access.schemas.js';
import { requireAuthentication } from './authenticated.js';
import { toEnvironmentBody, toProjectBody, toProjectMemberBody } from './catalog.mappers.js';
import {
  AddProjectMemberBody,
  ChangeProjectRoleBody,
  CreateEnvironmentBody,
  CreateProjectBody,
  EnvironmentListSchema,
  EnvironmentParams,
  EnvironmentSchema,
  ProjectListSchema,
  ProjectMemberListSchema,
  ProjectMemberParams,
  ProjectMemberSchema,
  ProjectParams,
  ProjectSchema,
  UpdateEnvironmentBody,
  UpdateProjectBody,
} from './catalog.schemas.js';
import { formatId, parseId } from './ids.js';
import { pageFromQuery, totalCountHeader } from './paging.js';

function userIdOf(raw: string): number {
  const id = parseId('user', raw);
  if (id === null) throw new NotFoundError('Project member');
  return id;
}

/** `/api/v1/projects`, their members and environments, in the organisation the request acts in. */
export const projectRoutes: FastifyPluginAsync = async (root) => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  requireAuthentication(app);
  const { projects, projectMembers, environments } = app.services;

  app.get('/api/v1/projects', {
    schema: {
      operationId: 'listProjects',
      tags: ['projects'],
      summary: 'Projects you may read, oldest first, each with flagCount (flags not archived); total in X-Total-Count',
      security: bearer,
      querystring: PageQuerySchema,
      response: { 200: ProjectListSchema, ...problems(401, 403, 404) },
    },
  }, async (request, reply) => {
    const page = await projects.list(requireActor(request), pageFromQuery(request.query));
    reply.header(totalCountHeader, String(page.total));
    return page.items.map(toProjectBody);
  });

  app.post('/api/v1/projects', {
    schema: {
      operationId: 'createProject',
      tags: ['projects'],
      summary: "Create a project with the organisation's default environments; key defaults to the name in kebab-case (409 project_key_taken)",
      security: bearer,
      body: CreateProjectBody,
      response: { 201: ProjectSchema, ...problems(401, 403, 404, 409, 422) },
    },
  }, async (request, reply) => {
    const b = request.body;
    const created = await projects.create(requireActor(request), {
      name: b.name,
      ...(b.key !== undefined ? { key: b.key } : {}),
      ...(b.description !== undefined ? { description: b.description } : {}),
      ...(b.color !== undefined ? { color: b.color } : {}),
    });
    reply.status(201);
    return toProjectBody(created);
  });

  app.get('/api/v1/projects/:project_id', {
    schema: {
      operationId: 'getProject',
      tags: ['projects'],
      summary: 'One project, by proj_… id or key',
      security: bearer,
      params: ProjectParams,
      response: { 200: ProjectSchema, ...problems(401, 403, 404) },
    },
  }, async (request) => toProjectBody(await projects.get(requireActor(request), request.params.project_id)));

  app.patch('/api/v1/projects/:project_id', {
    schema: {
      operationId: 'updateProject',
      tags: ['projects'],
      summary: 'Change name, description or color (absent = unchanged, null = cleared)',
      security: bearer,
      params: ProjectParams,
      body: UpdateProjectBody,
      response: { 200: ProjectSchema, ...problems(401, 403, 404, 422) },
    },
  }, async (request) => toProjectBody(await projects.update(requireActor(request), request.params.project_id, request.body)));

  app.delete('/api/v1/projects/:project_id', {
    schema: {
      operationId: 'deleteProject',
      tags: ['projects'],
      summary: "Delete a project with its environments, flags, segments and API keys; the organisation's default project is refused (409 default_project)",
      security: bearer,
      params: ProjectParams,
      response: { 200: DeletedSchema, ...problems(401, 403, 404, 409) },
    },
  }, async (request) => {
    const id = await projects.delete(requireActor(request), request.params.project_id);
    return { success: true, id: formatId('project', id) };
  });

  // Project members.

  app.get('/api/v1/projects/:project_id/members', {
    schema: {
      operationId: 'listProjectMembers',
      tags: ['project-members'],
      summary: 'Users with a project role, oldest first (organisation admins are admin everywhere without being listed); total in X-Total-Count',
      security: bearer,
      params: ProjectParams,
      querystring: PageQuerySchema,
      response: { 200: ProjectMemberListSchema, ...problems(401, 403, 404) },
    },
  }, async (request, reply) => {
    const page = await projectMembers.list(requireActor(request), request.params.project_id, pageFromQuery(request.query));
    reply.header(totalCountHeader, String(page.total));
    return page.items.map(toProjectMemberBody);
  });

  app.post('/api/v1/projects/:project_id/members', {
    schema: {
      operationId: 'addProjectMember',
      tags: ['project-members'],
      summary: 'Give an organisation member (userId or email) a project role, admin or member (409 already_project_member)',
      security: bearer,
      params: ProjectParams,
      body: AddProjectMemberBody,
      response: { 200: ProjectMemberSchema, ...problems(401, 403, 404, 409, 422) },
    },
  }, async (request) => {
    const b = request.body;
    const added = await projectMembers.add(requireActor(request), request.params.project_id, {
      role: b.role,
      ...(b.userId !== undefined ? { userId: parseId('user', b.userId)! } : {}),
      ...(b.email !== undefined ? { email: b.email } : {}),
    });
    return toProjectMemberBody(added);
  });

  app.get('/api/v1/projects/:project_id/members/:user_id', {
    schema: {
      operationId: 'getProjectMember',
      tags: ['project-members'],
      summary: 'One project member',
      security: bearer,
      params: ProjectMemberParams,
      response: { 200: ProjectMemberSchema, ...problems(401, 403, 404) },
    },
  }, async (request) => toProjectMemberBody(await projectMembers.get(requireActor(request), request.params.project_id, userIdOf(request.params.user_id))));

  app.patch('/api/v1/projects/:project_id/members/:user_id', {
    schema: {
      operationId: 'changeProjectMemberRole',
      tags: ['project-members'],
      summary: "Change a member's project role",
      security: bearer,
      params: ProjectMemberParams,
      body: ChangeProjectRoleBody,
      response: { 200: ProjectMemberSchema, ...problems(401, 403, 404, 422) },
    },
  }, async (request) =>
    toProjectMemberBody(await projectMembers.changeRole(requireActor(request), request.params.project_id, userIdOf(request.params.user_id), request.body.role)));

  app.delete('/api/v1/projects/:project_id/members/:user_id', {
    schema: {
      operationId: 'removeProjectMember',
      tags: ['project-members'],
      summary: "Remove a member's project role (their organisation role stays)",
      security: bearer,
      params: ProjectMemberParams,
      response: { 200: DeletedSchema, ...problems(401, 403, 404) },
    },
  }, async (request) => {
    const userId = userIdOf(request.params.user_id);
    await projectMembers.remove(requireActor(request), request.params.project_id, userId);
    return { success: true, id: formatId('user', userId) };
  });

  // Environments.

  app.get('/api/v1/projects/:project_id/environments', {
    schema: {
      operationId: 'listEnvironments',
      tags: ['environments'],
      summary: "The project's environments in order; total in X-Total-Count",
      security: bearer,
      params: ProjectParams,
      querystring: PageQuerySchema,
      response: { 200: EnvironmentListSchema, ...problems(401, 403, 404) },
    },
  }, async (request, reply) => {
    const page = await environments.list(requireActor(request), request.params.project_id, pageFromQuery(request.query));
    reply.header(totalCountHeader, String(page.total));
    return page.items.map(toEnvironmentBody);
  });

  app.post('/api/v1/projects/:project_id/environments', {
    schema: {
      operationId: 'createEnvironment',
      tags: ['environments'],
      summary: 'Add an environment (every flag starts disabled there); 409 environment_key_taken',
      security: bearer,
      params: ProjectParams,
      body: CreateEnvironmentBody,
      response: { 200: EnvironmentSchema, ...problems(401, 403, 404, 409, 422) },
    },
  }, async (request) => {
    const b = request.body;
    const env = await environments.create(requireActor(request), request.params.project_id, {
      key: b.key,
      ...(b.name !== undefined ? { name: b.name } : {}),
      ...(b.color !== undefined ? { color: b.color } : {}),
    });
    return toEnvironmentBody(env);
  });

  app.get('/api/v1/projects/:project_id/environments/:environment_id', {
    schema: {
      operationId: 'getEnvironment',
      tags: ['environments'],
      summary: 'One environment, by env_… id or key',
      security: bearer,
      params: EnvironmentParams,
      response: { 200: EnvironmentSchema, ...problems(401, 403, 404) },
    },
  }, async (request) => toEnvironmentBody(await environments.get(requireActor(request), request.params.project_id, request.params.environment_id)));

  app.patch('/api/v1/projects/:project_id/environments/:environment_id', {
    schema: {
      operationId: 'updateEnvironment',
      tags: ['environments'],
      summary: 'Change name or color (absent = unchanged, null = cleared); the key never changes',
      security: bearer,
      params: EnvironmentParams,
      body: UpdateEnvironmentBody,
      response: { 200: EnvironmentSchema, ...problems(401, 403, 404, 422) },
    },
  }, async (request) =>
    toEnvironmentBody(await environments.update(requireActor(request), request.params.project_id, request.params.environment_id, request.body)));

  app.delete('/api/v1/projects/:project_id/environments/:environment_id', {
    schema: {
      operationId: 'deleteEnvironment',
      tags: ['environments'],
      summary: "Delete an environment with its flag configuration, rules and API keys; the project's last one is refused (409 last_environment)",
      security: bearer,
      params: EnvironmentParams,
      response: { 200: DeletedSchema, ...problems(401, 403, 404, 409) },
    },
  }, async (request) => {
    const id = await environments.delete(requireActor(request), request.params.project_id, request.params.environment_id);
    return { success: true, id: formatId('environment', id) };
  });
};
