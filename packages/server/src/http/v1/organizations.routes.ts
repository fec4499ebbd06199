import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { NotFoundError } from '../../domain/errors.js';
import { requireAuthentication } from './authenticated.js';
import { requireActor, requireUser } from '../plugins/identify.js';
import { toOrganizationBody } from './access.mappers.js';
import {
  bearer,
  CreateOrganizationBody,
  DeletedSchema,
  OrganizationListSchema,
  OrganizationParams,
  OrganizationSchema,
  problems,
  UpdateOrganizationBody,
} from './access.schemas.js';
import { formatId, parseId } from './ids.js';

const tags = ['organizations'];

function organizationIdOf(raw: string): number {
  const id = parseId('organization', raw);
  if (id === null) throw new NotFoundError('Organization');
  return id;
}

/** `/api/v1/organizations`: the caller's organisations; create, read, change, delete one. */
export const organizationRoutes: FastifyPluginAsync = async (root) => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  requireAuthentication(app);
  const { organizations } = app.services;

  app.get('/api/v1/organizations', {
    schema: {
      operationId: 'listOrganizations',
      tags,
      summary: 'The organisations you belong to, with your role in each (oldest first)',
      security: bearer,
      response: { 200: OrganizationListSchema, ...problems(401) },
    },
  }, async (request) => (await organizations.listMine(requireActor(request))).map(toOrganizationBody));

  app.post('/api/v1/organizations', {
    schema: {
      operationId: 'createOrganization',
      tags,
      summary: 'Create an organisation; you become its admin. It starts with the development, staging and production environments and a default project',
      security: bearer,
      body: CreateOrganizationBody,
      response: { 200: OrganizationSchema, ...problems(401, 403, 422) },
    },
  }, async (request) => {
    const b = request.body;
    return toOrganizationBody(await organizations.create(requireUser(request), { name: b.name, primaryEmail: b.primaryEmail ?? null, contactName: b.contactName ?? null }));
  });

  app.get('/api/v1/organizations/:organizationId', {
    schema: {
      operationId: 'getOrganization',
      tags,
      summary: 'One organisation you belong to',
      security: bearer,
      params: OrganizationParams,
      response: { 200: OrganizationSchema, ...problems(401, 403, 404) },
    },
  }, async (request) => toOrganizationBody(await organizations.get(requireActor(request), organizationIdOf(request.params.organizationId))));

  app.patch('/api/v1/organizations/:organizationId', {
    schema: {
      operationId: 'updateOrganization',
      tags,
      summary: 'Change an organisation (absent fields stay, null clears); needs organization:write',
      security: bearer,
      params: OrganizationParams,
      body: UpdateOrganizationBody,
      response: { 200: OrganizationSchema, ...problems(401, 403, 404, 422) },
    },
  }, async (request) =>
    toOrganizationBody(await organizations.update(requireActor(request), organizationIdOf(request.params.organizationId), request.body)));

  app.delete('/api/v1/organizations/:organizationId', {
    schema: {
      operationId: 'deleteOrganization',
      tags,
      summary: 'Delete an organisation and everything in it; needs organization:delete (admins)',
      security: bearer,
      params: OrganizationParams,
      response: { 200: DeletedSchema, ...problems(401, 403, 404) },
    },
  }, async (request) => {
    const id = organizationIdOf(request.params.organizationId);
    await organizations.delete(requireActor(request), id);
    return { success: true, id: formatId('organization', id) };
  });
};
