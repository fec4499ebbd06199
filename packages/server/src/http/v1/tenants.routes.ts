import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { NotFoundError } from '../../domain/errors.js';
import type { AddedOrInvited } from '../../features/organizations/invitation-service.js';
import type { OrganizationWithRole } from '../../features/organizations/organization-service.js';
import type { MemberWithUser } from '../../features/organizations/organization-store.js';
import { requireActor, requireUser } from '../plugins/identify.js';
import { bearer, problems } from './access.schemas.js';
import { requireAuthentication } from './authenticated.js';
import { formatId, parseId } from './ids.js';
import { pageFromQuery, totalCountHeader } from './paging.js';
import { requireTenantHeader } from './tenant-context.js';
import { NoContentSchema } from './tenant-flags.schemas.js';
import {
  AddedTenantUserSchema,
  AddEnvironmentBody,
  AddTenantUserBody,
  CreateTenantBody,
  EnvironmentNamesSchema,
  TenantEnvironmentParams,
  TenantHeaders,
  TenantListSchema,
  TenantParams,
  TenantSchema,
  TenantUsageSchema,
  TenantUserListQuery,
  TenantUserListSchema,
  TenantUserParams,
  UpdateTenantBody,
} from './tenants.schemas.js';

const tags = ['tenants'];
const base = '/api/v1/tenants';

/** The organisation id of `{tenantId}`; one that cannot be an id is a tenant that does not exist. */
function tenantIdOf(raw: string): number {
  const id = parseId('organization', raw);
  if (id === null) throw new NotFoundError('Tenant');
  return id;
}

function userIdOf(raw: string): number {
  const id = parseId('user', raw);
  if (id === null) throw new NotFoundError('Member');
  return id;
}

/** A self-hosted server bills nobody: every tenant's subscription is its plan, active. */
export function toTenantBody({ organization: o, role }: OrganizationWithRole) {
  return {
    id: formatId('organization', o.id),
    name: o.name,
    primaryEmail: o.primaryEmail,
    contactName: o.contactName,
    isSandbox: o.isSandbox,
    sandboxExpiresAt: o.sandboxExpiresAt,
    subscription: { plan: o.plan, status: 'active' },
    role,
    createdAt: o.createdAt,
    updatedAt: o.updatedAt,
  };
}

function toTenantUserBody(m: MemberWithUser) {
  return { userId: formatId('user', m.userId), email: m.email, displayName: m.name, role: m.role, lastAccessedAt: m.lastAccessedAt, createdAt: m.createdAt };
}

function toAddedTenantUserBody(a: AddedOrInvited) {
  if (a.kind === 'member') return { ...toTenantUserBody(a.member), status: 'active' as const, invitationId: null, invitationExpiresAt: null };
  const i = a.invitation;
  return {
    userId: null,
    email: i.email,
    displayName: null,
    role: i.role,
    status: 'invited' as const,
    invitationId: formatId('invitation', i.id),
    invitationExpiresAt: i.expiresAt,
    lastAccessedAt: null,
    createdAt: i.createdAt,
  };
}

/**
 * IntelliToggle's `/api/v1/tenants…` over the organisation, member, invitation, tenant-environment
 * and usage services. `{tenantId}` names the tenant; `X-Tenant-ID` is required on `GET
 * /tenants/{tenantId}` (as documented) and, wherever given, must be yours and agree with the path.
 * Creates answer 201, deletes 204.
 */
export const tenantRoutes: FastifyPluginAsync = async (root) => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  requireAuthentication(app);
  const one = `${base}/:tenantId`;
  // The document requires X-Tenant-ID on GET /tenants/{tenantId} only; elsewhere the path names the tenant.
  const optional = [`PATCH ${one}`, `DELETE ${one}`, `${one}/usage`, `${one}/environments`, `${one}/environments/:environment`, `${one}/users`, `${one}/users/:userId`];
  requireTenantHeader(app, { exempt: [base], optional, pathParam: 'tenantId' });
  const { organizations, members, invitations, tenantEnvironments, tenantUsage } = app.services;

  app.get(base, {
    schema: {
      operationId: 'listTenants',
      tags,
      summary: 'The tenants you belong to (oldest first), each with subscription {plan, status} and your role',
      security: bearer,
      response: { 200: TenantListSchema, ...problems(401) },
    },
  }, async (request) => (await organizations.listMine(requireActor(request))).map(toTenantBody));

  app.post(base, {
    schema: {
      operationId: 'createTenant',
      tags,
      summary: 'Create a tenant; you become its admin. It gets the development, staging and production environments and a default project',
      security: bearer,
      body: CreateTenantBody,
      response: { 201: TenantSchema, ...problems(401, 403, 422) },
    },
  }, async (request, reply) => {
    const b = request.body;
    const created = await organizations.create(requireUser(request), {
      name: b.name,
      primaryEmail: b.primaryEmail ?? null,
      contactName: b.contactName ?? null,
      ...(b.isSandbox !== undefined ? { isSandbox: b.isSandbox } : {}),
    });
    reply.code(201);
    return toTenantBody(created);
  });

  app.get(one, {
    schema: {
      operationId: 'getTenant',
      tags,
      summary: 'One tenant you belong to; X-Tenant-ID is required and must name it',
      security: bearer,
      headers: TenantHeaders,
      params: TenantParams,
      response: { 200: TenantSchema, ...problems(401, 403, 404) },
    },
  }, async (request) => toTenantBody(await organizations.get(requireActor(request), tenantIdOf(request.params.tenantId))));

  app.patch(one, {
    schema: {
      operationId: 'updateTenant',
      tags,
      summary: 'Change name, primaryEmail, contactName (absent = unchanged, null = cleared); organization:write',
      security: bearer,
      headers: TenantHeaders,
      params: TenantParams,
      body: UpdateTenantBody,
      response: { 200: TenantSchema, ...problems(401, 403, 404, 422) },
    },
  }, async (request) => toTenantBody(await organizations.update(requireActor(request), tenantIdOf(request.params.tenantId), request.body)));

  app.delete(one, {
    schema: {
      operationId: 'deleteTenant',
      tags,
      summary: 'Delete the tenant and everything in it (204); organization:delete (admins)',
      security: bearer,
      headers: TenantHeaders,
      params: TenantParams,
      response: { 204: NoContentSchema, ...problems(401, 403, 404) },
    },
  }, async (request, reply) => {
    await organizations.delete(requireActor(request), tenantIdOf(request.params.tenantId));
    return reply.code(204).send(null);
  });

  app.get(`${one}/usage`, {
    schema: {
      operationId: 'getTenantUsage',
      tags,
      summary: 'Flags (not archived), evaluations this UTC calendar month, and users; usage:read',
      security: bearer,
      headers: TenantHeaders,
      params: TenantParams,
      response: { 200: TenantUsageSchema, ...problems(401, 403, 404) },
    },
  }, async (request) => tenantUsage.usage(requireActor(request), tenantIdOf(request.params.tenantId)));

  app.get(`${one}/environments`, {
    schema: {
      operationId: 'listTenantEnvironments',
      tags,
      summary: "The tenant's environment names in order (what every new project gets)",
      security: bearer,
      headers: TenantHeaders,
      params: TenantParams,
      response: { 200: EnvironmentNamesSchema, ...problems(401, 403, 404) },
    },
  }, async (request) => (await tenantEnvironments.list(requireActor(request), tenantIdOf(request.params.tenantId))).map((e) => e.key));

  app.post(`${one}/environments`, {
    schema: {
      operationId: 'addTenantEnvironment',
      tags,
      summary: 'Add an environment to the tenant and to every project that lacks it (201: the new list); 409 environment_exists',
      security: bearer,
      headers: TenantHeaders,
      params: TenantParams,
      body: AddEnvironmentBody,
      response: { 201: EnvironmentNamesSchema, ...problems(401, 403, 404, 409, 422) },
    },
  }, async (request, reply) => {
    const actor = requireActor(request);
    const id = tenantIdOf(request.params.tenantId);
    await tenantEnvironments.add(actor, id, request.body.environment);
    reply.code(201);
    return (await tenantEnvironments.list(actor, id)).map((e) => e.key);
  });

  app.delete(`${one}/environments/:environment`, {
    schema: {
      operationId: 'removeTenantEnvironment',
      tags,
      summary: 'Remove an environment from the tenant and every project (204); 409 last_environment naming the projects it would leave empty',
      security: bearer,
      headers: TenantHeaders,
      params: TenantEnvironmentParams,
      response: { 204: NoContentSchema, ...problems(401, 403, 404, 409) },
    },
  }, async (request, reply) => {
    await tenantEnvironments.remove(requireActor(request), tenantIdOf(request.params.tenantId), request.params.environment);
    return reply.code(204).send(null);
  });

  app.get(`${one}/users`, {
    schema: {
      operationId: 'listTenantUsers',
      tags,
      summary: 'Users of the tenant, oldest first: {userId, email, displayName, role, lastAccessedAt, createdAt}; total in X-Total-Count',
      security: bearer,
      headers: TenantHeaders,
      params: TenantParams,
      querystring: TenantUserListQuery,
      response: { 200: TenantUserListSchema, ...problems(401, 403, 404) },
    },
  }, async (request, reply) => {
    const page = await members.list(requireActor(request), tenantIdOf(request.params.tenantId), pageFromQuery(request.query));
    reply.header(totalCountHeader, String(page.total));
    return page.items.map(toTenantUserBody);
  });

  app.post(`${one}/users`, {
    schema: {
      operationId: 'addTenantUser',
      tags,
      summary: 'Add a user by email as admin, developer or viewer (201): an existing account joins at once; an unknown email is invited by mail',
      security: bearer,
      headers: TenantHeaders,
      params: TenantParams,
      body: AddTenantUserBody,
      response: { 201: AddedTenantUserSchema, ...problems(401, 403, 404, 409, 422) },
    },
  }, async (request, reply) => {
    const added = await invitations.addOrInvite(requireActor(request), tenantIdOf(request.params.tenantId), request.body);
    reply.code(201);
    return toAddedTenantUserBody(added);
  });

  app.delete(`${one}/users/:userId`, {
    schema: {
      operationId: 'removeTenantUser',
      tags,
      summary: 'Remove a user from the tenant (204), or leave it with your own id; 409 last_admin for its last admin',
      security: bearer,
      headers: TenantHeaders,
      params: TenantUserParams,
      response: { 204: NoContentSchema, ...problems(401, 403, 404, 409) },
    },
  }, async (request, reply) => {
    await members.remove(requireActor(request), tenantIdOf(request.params.tenantId), userIdOf(request.params.userId));
    return reply.code(204).send(null);
  });
};
