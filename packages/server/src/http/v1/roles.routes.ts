import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { RoleRef } from '../../features/access/role-service.js';
import { requireAuthentication } from './authenticated.js';
import { requireActor } from '../plugins/identify.js';
import { toRoleBody } from './access.mappers.js';
import { bearer, CreateRoleBody, DeletedSchema, problems, RoleListSchema, RoleParams, RoleSchema, UpdateRoleBody } from './access.schemas.js';
import { formatId, parseId } from './ids.js';

const tags = ['roles'];

/** `role_123` (or `123`) names a custom role by id; anything else is a key (`admin`, `release-manager`). */
function roleRefOf(raw: string): RoleRef {
  const id = parseId('role', raw);
  return id === null ? { key: raw } : { id };
}

/** `/api/v1/roles`: built-in and custom roles of the organisation the request acts in. */
export const roleRoutes: FastifyPluginAsync = async (root) => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  requireAuthentication(app);
  const { roles } = app.services;

  app.get('/api/v1/roles', {
    schema: {
      operationId: 'listRoles',
      tags,
      summary: 'Built-in roles (admin, developer, viewer), then custom roles, with their permissions',
      security: bearer,
      response: { 200: RoleListSchema, ...problems(401, 403, 404) },
    },
  }, async (request) => {
    const actor = requireActor(request);
    return (await roles.list(actor, actor.organizationId)).map(toRoleBody);
  });

  app.post('/api/v1/roles', {
    schema: {
      operationId: 'createRole',
      tags,
      summary: 'Create a custom role with chosen permissions (never more than you hold)',
      security: bearer,
      body: CreateRoleBody,
      response: { 200: RoleSchema, ...problems(401, 403, 404, 409, 422) },
    },
  }, async (request) => {
    const actor = requireActor(request);
    const b = request.body;
    return toRoleBody(await roles.create(actor, actor.organizationId, { key: b.key, name: b.name, description: b.description ?? null, permissions: b.permissions }));
  });

  app.get('/api/v1/roles/:role', {
    schema: {
      operationId: 'getRole',
      tags,
      summary: 'One role, by id (role_…) or key',
      security: bearer,
      params: RoleParams,
      response: { 200: RoleSchema, ...problems(401, 403, 404) },
    },
  }, async (request) => {
    const actor = requireActor(request);
    return toRoleBody(await roles.get(actor, actor.organizationId, roleRefOf(request.params.role)));
  });

  app.patch('/api/v1/roles/:role', {
    schema: {
      operationId: 'updateRole',
      tags,
      summary: 'Change a custom role (absent fields stay, null clears the description); built-in roles are fixed (409)',
      security: bearer,
      params: RoleParams,
      body: UpdateRoleBody,
      response: { 200: RoleSchema, ...problems(401, 403, 404, 409, 422) },
    },
  }, async (request) => {
    const actor = requireActor(request);
    return toRoleBody(await roles.update(actor, actor.organizationId, roleRefOf(request.params.role), request.body));
  });

  app.delete('/api/v1/roles/:role', {
    schema: {
      operationId: 'deleteRole',
      tags,
      summary: 'Delete a custom role; refused while a member or pending invitation holds it (409 role_in_use)',
      security: bearer,
      params: RoleParams,
      response: { 200: DeletedSchema, ...problems(401, 403, 404, 409) },
    },
  }, async (request) => {
    const actor = requireActor(request);
    const role = await roles.delete(actor, actor.organizationId, roleRefOf(request.params.role));
    return { success: true, id: formatId('role', role.id) };
  });
};
